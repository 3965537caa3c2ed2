// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyctl sockets: each declared listener against the node's sockets, with
 * who holds it, its accept queue and what is wrong (stale files, foreign
 * owners, addresses bound elsewhere, stalls); --all adds every listening
 * socket of the node and socket files nobody listens on.
 */
#include "daemon/out/sockets.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/sock_table.h"
#include "daemon/unit.h"
#include "model/findings.h"
#include "os/sock_scan.h"
#include "os/sockets.h"
#include "base/clock.h"
#include "base/util.h"

static void add_finding(cJSON *arr, enum sock_finding kind, const char *text)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "kind", sock_finding_name(kind));
	cJSON_AddStringToObject(f, "text", text);
	cJSON_AddItemToArray(arr, f);
}

/* The service's listening sockets that no declared listener names. */
struct undeclared {
	const struct scan_sock *v[MATCH_MAX];
	size_t n;
};

static void add_findings(cJSON *o, const struct unit *u, const struct sock_match *m,
			 const struct undeclared *other)
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
				: "the socket file exists but nothing listens on it (left by a "
				  "crashed "
				  "instance?); remove_stale = yes removes it before a start");
	for (size_t i = 0; i < m->n_foreign; i++) {
		sockets_describe_owner(m->foreign[i]->inode, owner, sizeof(owner));
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
	/* Nothing at its port at all, while the service listens elsewhere: a wrong port? */
	for (size_t i = 0; !m->n_own && !m->n_elsewhere && i < other->n; i++) {
		sock_addr_format(addr, sizeof(addr), &other->v[i]->e.addr);
		snprintf(text, sizeof(text), "declared %s absent; the service listens on %s",
			 l->label, addr);
		add_finding(arr, FINDING_OTHER_ADDRESS, text);
	}
	if (l->queue.verdict != QUEUE_OK) {
		accept_queue_describe(&l->queue, now_mono_ns(), text, sizeof(text));
		add_finding(arr,
			    l->queue.verdict == QUEUE_FULL ? FINDING_OVERFLOW : FINDING_STALLED,
			    text);
	}
}

static cJSON *listener_json(const struct unit *u, const struct sock_match *m,
			    const struct undeclared *other)
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
	if (listener_is_stream(m->l) && m->backlog) {
		cJSON_AddNumberToObject(o, "accept_queue", m->depth);
		cJSON_AddNumberToObject(o, "backlog", m->backlog);
	}
	cJSON_AddNumberToObject(o, "overflows", (double)m->l->queue.overflows);
	add_findings(o, u, m, other);
	return o;
}

static void unit_sockets_json(struct unit *u, const struct sock_table *t, cJSON *arr)
{
	static pid_t pids[4096];
	struct scan sc = { 0 };
	size_t n = u->svc.pid ? unit_tree_pids(u, pids, ARRAY_SIZE(pids)) : 0;
	struct sock_match m;
	struct undeclared other = { .n = 0 };

	if (n) {
		sock_scan(pids, n, t, true, &sc);
		other.n = sock_undeclared(u->svc.listeners, u->svc.n_listeners, &sc, other.v,
					  ARRAY_SIZE(other.v));
	}
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		sock_match(&u->svc.listeners[i], t, n ? &sc : NULL, sockets_is_socket_file, &m);
		cJSON_AddItemToArray(arr, listener_json(u, &m, &other));
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
		sockets_describe_owner(e->inode, owner, sizeof(owner));
		cJSON_AddStringToObject(s, "owner", owner);
		cJSON_AddBoolToObject(s, "orphaned", strncmp(owner, "socket inode", 12) == 0);
		cJSON_AddItemToArray(arr, s);
	}
	for (size_t i = 0; i < d->cfg->n_socket_dirs; i++) {
		DIR *dir = opendir(d->cfg->socket_dirs[i]);
		struct dirent *de;
		while (dir && (de = readdir(dir))) {
			struct listen_spec spec = { .proto = LISTEN_UNIX, .family = AF_UNIX };
			bool held = false;
			snprintf(path, sizeof(path), "%s/%s", d->cfg->socket_dirs[i], de->d_name);
			if (!sockets_is_socket_file(path) || strlen(path) >= sizeof(spec.path))
				continue;
			str_copy(spec.path, path, sizeof(spec.path));
			for (size_t j = 0; j < t->n && !held; j++)
				held = sock_serves(&spec, &t->v[j]);
			if (!held)
				cJSON_AddItemToArray(stale, cJSON_CreateString(path));
		}
		if (dir)
			closedir(dir);
	}
}

cJSON *sockets_report(struct daemon *d, const struct unit *only, bool all)
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
