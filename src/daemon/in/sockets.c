// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What readyd can tell about a service's declared sockets beyond their
 * level: who holds its address if not the service (before a spawn, and for
 * readyctl sockets), stale unix socket files, addresses bound elsewhere than
 * declared, and accept queues nobody drains (accept_queue.c) — from the
 * node's sock_diag table and /proc, with no probe traffic.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "os/proc_parse.h"
#include "os/sock_scan.h"
#include "base/clock.h"
#include "base/util.h"

#define MATCH_MAX 8

/* A declared listener against the node's sockets. */
struct match {
	const struct listener *l;
	const struct scan_sock *own[MATCH_MAX]; /* the service's sockets that serve it */
	size_t n_own;
	const struct sock_entry *foreign[MATCH_MAX]; /* others' sockets on its address */
	size_t n_foreign;
	const struct scan_sock *elsewhere[MATCH_MAX]; /* the service's, same port, other address */
	size_t n_elsewhere;
	uint32_t depth, backlog;
	bool stale_file;
};

static bool is_stream(const struct listener *l)
{
	return l->spec && l->spec->proto != LISTEN_UDP;
}

/* Does socket e serve spec: a listener there, or bound there for connectionless ones? */
static bool serves(const struct listen_spec *spec, const struct sock_entry *e)
{
	if (!listen_spec_matches(spec, &e->addr))
		return false;
	return spec->proto == LISTEN_UDP || e->state == SOCK_STATE_LISTEN ||
	       e->state == SOCK_STATE_BOUND;
}

/* Same protocol and port (or path), another address: 0.0.0.0 vs 127.0.0.1, v4 vs v6. */
static bool near_miss(const struct listen_spec *spec, const struct sock_entry *e)
{
	int type = spec->proto == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (spec->proto == LISTEN_UNIX || e->addr.family == AF_UNIX || e->addr.sock_type != type)
		return false;
	return e->addr.port == spec->port && !listen_spec_matches(spec, &e->addr);
}

/* A path that is a socket file (never following a symlink). */
static bool socket_file(const char *path)
{
	struct stat st;

	return path[0] == '/' && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void match_listener(const struct listener *l, const struct sock_table *t,
			   const struct scan *sc, struct match *m)
{
	memset(m, 0, sizeof(*m));
	m->l = l;
	for (size_t i = 0; sc && i < sc->n; i++) {
		const struct scan_sock *k = &sc->socks[i];
		if (serves(l->spec, &k->e) && m->n_own < MATCH_MAX) {
			m->own[m->n_own++] = k;
			if (k->e.state == SOCK_STATE_LISTEN) {
				m->depth += k->e.rqueue;
				m->backlog = k->e.wqueue > m->backlog ? k->e.wqueue : m->backlog;
			}
		} else if (near_miss(l->spec, &k->e) && m->n_elsewhere < MATCH_MAX) {
			m->elsewhere[m->n_elsewhere++] = k;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		if (serves(l->spec, &t->v[i]) && !(sc && scan_find(sc, t->v[i].inode)) &&
		    m->n_foreign < MATCH_MAX)
			m->foreign[m->n_foreign++] = &t->v[i];
	m->stale_file = l->spec->proto == LISTEN_UNIX && !m->n_own && !m->n_foreign &&
			socket_file(l->spec->path);
}

/* ---- who holds it ---- */

/* "pid 812 (nginx), running for 3m05s" or why nobody can be named. */
static void describe_owner(uint32_t inode, char *buf, size_t size)
{
	char comm[32], path[64], text[512], age[32];
	struct proc_stat st;
	uint64_t up_ms = 0;
	double uptime;
	pid_t pid;

	if (sockets_inode_owner(inode, &pid, comm, sizeof(comm)) < 0) {
		snprintf(buf, size, "socket inode %u, which no process of this namespace holds",
			 inode);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read_text(AT_FDCWD, path, text, sizeof(text)) > 0 &&
	    proc_parse_stat(text, &st) == 0 &&
	    file_read_text(AT_FDCWD, "/proc/uptime", path, sizeof(path)) > 0 &&
	    sscanf(path, "%lf", &uptime) == 1)
		up_ms = (uint64_t)(uptime * 1000) -
			st.start_ticks * 1000 / (uint64_t)sysconf(_SC_CLK_TCK);
	fmt_duration(age, sizeof(age), up_ms * NSEC_PER_MSEC);
	snprintf(buf, size, "pid %d (%s)%s%s", (int)pid, comm, up_ms ? ", running for " : "",
		 up_ms ? age : "");
}

/* ---- before a spawn ---- */

/* Remove a stale socket file: only a socket, never through a symlink, never a listened-on one. */
static void remove_stale(struct unit *u, const char *path)
{
	char dir[sizeof(((struct listen_spec *)0)->path)];
	const char *base = strrchr(path, '/') + 1;
	struct stat st;
	int dfd;

	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	dfd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_RDONLY);
	if (dfd < 0)
		return;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
		if (unlinkat(dfd, base, 0) == 0)
			log_info(
			    "service=%s msg=\"removed a stale unix socket file: nothing listened "
			    "on it\" path=%s",
			    u->cfg->name, path);
		else
			log_warn("service=%s msg=\"cannot remove stale unix socket file\" path=%s "
				 "err=\"%m\"",
				 u->cfg->name, path);
	}
	close(dfd);
}

int unit_sockets_before_spawn(struct unit *u, char *why, size_t size)
{
	const struct sock_table *t;
	char owner[256];
	struct match m;

	/*
	 * Not starting is a verdict on what the kernel holds now: a shared dump
	 * from moments ago still shows the listener of the instance that just
	 * exited (every other `readyctl restart` failed on it in the scans bench).
	 */
	daemon_sock_table_forget(u->d);
	t = daemon_sock_table(u->d, now_mono_ns(), true);
	if (!t)
		return 0; /* cannot look: the bind will tell */
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		struct listener *l = &u->svc.listeners[i];
		match_listener(l, t, NULL, &m); /* nothing of it runs: every holder is foreign */
		if (m.n_foreign) {
			char text[sizeof(l->conflict)];
			describe_owner(m.foreign[0]->inode, owner, sizeof(owner));
			snprintf(text, sizeof(text), "port conflict: %s is held by %s", l->label,
				 owner);
			str_copy(l->conflict, text, sizeof(l->conflict));
			snprintf(why, size, "%s; not started while it is", text);
			return -EADDRINUSE;
		}
		if (!m.stale_file)
			continue;
		if (u->cfg->remove_stale)
			remove_stale(u, l->spec->path);
		else
			log_warn(
			    "service=%s msg=\"stale unix socket file: nothing listens on it; the "
			    "service may fail to bind (remove_stale = yes removes it)\" path=%s",
			    u->cfg->name, l->spec->path);
	}
	return 0;
}

/* ---- while it runs ---- */

bool unit_sockets_watched(const struct unit *u)
{
	return u->svc.pid && u->svc.n_listeners &&
	       (u->svc.state == SVC_RUNNING || u->svc.state == SVC_UNHEALTHY);
}

/*
 * The node's ListenOverflows counter (the kernel keeps no per-socket count),
 * read at most once per moment like the socket table. 0 if unreadable.
 */
static uint64_t node_listen_overflows(struct daemon *d, uint64_t now)
{
	static char text[16384];
	uint64_t v;

	if (d->listen_overflows_at && now - d->listen_overflows_at < 20 * NSEC_PER_MSEC)
		return d->listen_overflows;
	if (file_read_text(AT_FDCWD, "/proc/net/netstat", text, sizeof(text)) > 0 &&
	    proc_parse_netstat(text, "TcpExt", "ListenOverflows", &v) == 0)
		d->listen_overflows = v;
	d->listen_overflows_at = now;
	return d->listen_overflows;
}

/* Drops counted by the node while this queue was full are, as best we know, its own. */
static void count_overflows(struct daemon *d, struct listener *l, uint64_t now)
{
	uint64_t node = node_listen_overflows(d, now);

	if (l->queue.verdict == QUEUE_FULL && l->overflow_mark && node > l->overflow_mark)
		l->queue.overflows += node - l->overflow_mark;
	l->overflow_mark = node;
}

static uint32_t findings_of(const struct match *m, const struct svc *s)
{
	uint32_t f = 0;

	if (m->stale_file)
		f |= 1U << FINDING_STALE_FILE;
	if (m->n_foreign)
		f |= 1U << FINDING_FOREIGN_OWNER;
	if (!m->n_own && s->pid && s->state != SVC_STARTING)
		f |= 1U << FINDING_ABSENT;
	if (m->n_elsewhere && !m->n_own)
		f |= 1U << FINDING_OTHER_ADDRESS;
	if (m->l->queue.verdict == QUEUE_STALLED)
		f |= 1U << FINDING_STALLED;
	if (m->l->queue.verdict == QUEUE_FULL)
		f |= 1U << FINDING_OVERFLOW;
	return f;
}

/* A stall began or ended: the listener is not ready meanwhile. */
static void stall_changed(struct unit *u, struct listener *l, uint64_t now)
{
	char text[sizeof(l->stall)], esc[2 * sizeof(l->stall)];
	struct svc_input in = {.why = l->label};

	if (l->queue.verdict == QUEUE_OK) {
		l->stall[0] = '\0';
		log_info("service=%s listener=\"%s\" msg=\"accept queue moving again\"",
			 u->cfg->name, l->label);
		unit_handle(u, SVC_EV_PROGRESS, &in);
		return;
	}
	accept_queue_describe(&l->queue, now, text, sizeof(text));
	snprintf(l->stall, sizeof(l->stall), "listener %s: %s", l->label, text);
	log_warn("service=%s listener=\"%s\" msg=\"%s\"", u->cfg->name, l->label,
		 log_escape(esc, sizeof(esc), text));
	in.cause = l->stall;
	if (u->svc.state == SVC_RUNNING)
		unit_handle(u, SVC_EV_LISTENER_LOST, &in);
}

bool unit_sockets_known(const struct unit *u, const struct sock_table *t, struct scan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		size_t own = 0;
		for (size_t j = 0; j < t->n; j++) {
			if (!serves(l->spec, &t->v[j]))
				continue;
			/* Someone the events did not name is there: only /proc can say who. */
			if (!svc_sock_by_ino(&u->svc, t->v[j].inode) ||
			    scan_add(out, &(struct scan_sock){.e = t->v[j]}) < 0)
				goto unknown;
			own++;
		}
		if (!own) /* gone, elsewhere, a stale file: the full scan describes it */
			goto unknown;
	}
	return true;
unknown:
	scan_free(out);
	return false;
}

void unit_sockets_check(struct unit *u, const struct sock_table *t, const struct scan *sc,
			uint64_t now)
{
	struct match m;

	if (!unit_sockets_watched(u))
		return;
	for (size_t i = 0; i < u->svc.n_listeners && u->svc.pid; i++) {
		struct listener *l = &u->svc.listeners[i];
		enum queue_verdict before = l->queue.verdict;
		uint32_t depth_before = l->queue.depth;

		match_listener(l, t, sc, &m);
		if (is_stream(l) && m.backlog) {
			accept_queue_sample(&l->queue, m.depth, m.backlog, now,
					    u->cfg->accept_stall_ns);
			count_overflows(u->d, l, now);
			log_debug(
			    "service=%s listener=\"%s\" accept_queue=%u backlog=%u verdict=%d",
			    u->cfg->name, l->label, m.depth, m.backlog, l->queue.verdict);
		} else {
			l->queue.verdict = QUEUE_OK;
			l->queue.depth = l->queue.backlog = 0;
			l->queue.waiting_since = 0;
		}
		if (l->findings != findings_of(&m, &u->svc) || l->queue.depth != depth_before)
			daemon_mark_counters(u->d);
		l->findings = findings_of(&m, &u->svc);
		if ((before == QUEUE_OK) != (l->queue.verdict == QUEUE_OK))
			stall_changed(u, l, now);
	}
}

/* ---- readyctl sockets ---- */

static void add_finding(cJSON *arr, enum sock_finding kind, const char *text)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "kind", sock_finding_name(kind));
	cJSON_AddStringToObject(f, "text", text);
	cJSON_AddItemToArray(arr, f);
}

static void add_findings(cJSON *o, const struct unit *u, const struct match *m)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "findings");
	char text[512], owner[256], addr[SOCK_ADDR_TEXT_MAX];
	const struct listener *l = m->l;

	if (m->stale_file)
		add_finding(
		    arr, FINDING_STALE_FILE,
		    u->cfg->remove_stale
			? "the socket file exists but nothing listens on it; it is removed "
			  "before the next start (remove_stale = yes)"
			: "the socket file exists but nothing listens on it (left by a crashed "
			  "instance?); remove_stale = yes removes it before a start");
	for (size_t i = 0; i < m->n_foreign; i++) {
		describe_owner(m->foreign[i]->inode, owner, sizeof(owner));
		snprintf(text, sizeof(text), "held by %s, which is not part of this service",
			 owner);
		add_finding(arr, FINDING_FOREIGN_OWNER, text);
	}
	if (!m->n_own && u->svc.pid && u->svc.state != SVC_STARTING)
		add_finding(arr, FINDING_ABSENT, "declared, but no process of the service has it");
	for (size_t i = 0; !m->n_own && i < m->n_elsewhere; i++) {
		sock_addr_format(addr, sizeof(addr), &m->elsewhere[i]->e.addr);
		snprintf(text, sizeof(text), "bound to %s, not to %s as declared", addr, l->label);
		add_finding(arr, FINDING_OTHER_ADDRESS, text);
	}
	if (l->queue.verdict != QUEUE_OK) {
		accept_queue_describe(&l->queue, now_mono_ns(), text, sizeof(text));
		add_finding(
		    arr, l->queue.verdict == QUEUE_FULL ? FINDING_OVERFLOW : FINDING_STALLED, text);
	}
}

static cJSON *listener_json(const struct unit *u, const struct match *m)
{
	cJSON *o = cJSON_CreateObject(), *owners = cJSON_CreateArray();
	char addr[SOCK_ADDR_TEXT_MAX];

	cJSON_AddStringToObject(o, "service", u->cfg->name);
	cJSON_AddStringToObject(o, "listen", m->l->label);
	cJSON_AddStringToObject(o, "level", level_name(m->l->level));
	for (size_t i = 0; i < m->n_own; i++) {
		cJSON *w = cJSON_CreateObject();
		sock_addr_format(addr, sizeof(addr), &m->own[i]->e.addr);
		cJSON_AddNumberToObject(w, "pid", m->own[i]->pid);
		cJSON_AddStringToObject(w, "comm", m->own[i]->comm);
		cJSON_AddStringToObject(w, "bound", addr);
		cJSON_AddNumberToObject(w, "inode", m->own[i]->e.inode);
		cJSON_AddItemToArray(owners, w);
	}
	cJSON_AddItemToObject(o, "owners", owners);
	if (is_stream(m->l) && m->backlog) {
		cJSON_AddNumberToObject(o, "accept_queue", m->depth);
		cJSON_AddNumberToObject(o, "backlog", m->backlog);
	}
	cJSON_AddNumberToObject(o, "overflows", (double)m->l->queue.overflows);
	add_findings(o, u, m);
	return o;
}

static void unit_sockets_json(struct unit *u, const struct sock_table *t, cJSON *arr)
{
	static pid_t pids[4096];
	struct scan sc = {0};
	size_t n = u->svc.pid ? unit_tree_pids(u, pids, ARRAY_SIZE(pids)) : 0;
	struct match m;

	if (n)
		sock_scan(pids, n, t, true, &sc);
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		match_listener(&u->svc.listeners[i], t, n ? &sc : NULL, &m);
		cJSON_AddItemToArray(arr, listener_json(u, &m));
	}
	scan_free(&sc);
}

/* --all: every listening TCP/UNIX socket of the node, and socket files nobody listens on. */
static void node_sockets_json(struct daemon *d, const struct sock_table *t, cJSON *o)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "node"),
	      *stale = cJSON_AddArrayToObject(o, "stale_files");
	char addr[SOCK_ADDR_TEXT_MAX], owner[256], path[4096];

	for (size_t i = 0; i < t->n; i++) {
		const struct sock_entry *e = &t->v[i];
		cJSON *s;
		if (e->state != SOCK_STATE_LISTEN)
			continue;
		s = cJSON_CreateObject();
		sock_addr_format(addr, sizeof(addr), &e->addr);
		cJSON_AddStringToObject(s, "address", addr);
		cJSON_AddNumberToObject(s, "accept_queue", e->rqueue);
		cJSON_AddNumberToObject(s, "backlog", e->wqueue);
		describe_owner(e->inode, owner, sizeof(owner));
		cJSON_AddStringToObject(s, "owner", owner);
		cJSON_AddBoolToObject(s, "orphaned", strncmp(owner, "socket inode", 12) == 0);
		cJSON_AddItemToArray(arr, s);
	}
	for (size_t i = 0; i < d->cfg->n_socket_dirs; i++) {
		DIR *dir = opendir(d->cfg->socket_dirs[i]);
		struct dirent *de;
		while (dir && (de = readdir(dir))) {
			struct listen_spec spec = {.proto = LISTEN_UNIX, .family = AF_UNIX};
			bool held = false;
			snprintf(path, sizeof(path), "%s/%s", d->cfg->socket_dirs[i], de->d_name);
			if (!socket_file(path) || strlen(path) >= sizeof(spec.path))
				continue;
			str_copy(spec.path, path, sizeof(spec.path));
			for (size_t j = 0; j < t->n && !held; j++)
				held = serves(&spec, &t->v[j]);
			if (!held)
				cJSON_AddItemToArray(stale, cJSON_CreateString(path));
		}
		if (dir)
			closedir(dir);
	}
}

cJSON *daemon_sockets_json(struct daemon *d, struct unit *only, bool all)
{
	const struct sock_table *t = daemon_sock_table(d, now_mono_ns(), true);
	cJSON *o = cJSON_CreateObject(), *arr;

	if (!t) {
		cJSON_AddStringToObject(o, "error", "cannot read the node's sockets (sock_diag)");
		return o;
	}
	arr = cJSON_AddArrayToObject(o, "listeners");
	for (size_t i = 0; i < d->n_units; i++)
		if ((!only && !d->units[i]->removed) || d->units[i] == only)
			unit_sockets_json(d->units[i], t, arr);
	if (all)
		node_sockets_json(d, t, o);
	return o;
}
