// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Listener levels from what the kernel shows now (sock_scan.c), for what
 * events cannot tell: processes readyd adopted ([watch]) were listening,
 * and waiting in epoll or accept(), before readyd looked; a listener whose
 * socket BPF never saw open is never seen closing either. A scan raises
 * levels (never lowers them, as events do) and closes sockets that are gone.
 *
 * Scans of one moment share one sock_diag load (the node's socket table).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "os/sock_scan.h"
#include "base/clock.h"
#include "base/util.h"

#define SCAN_FAST_NS   (100 * NSEC_PER_MSEC) /* while starting */
#define SCAN_SLOW_NS   (1 * NSEC_PER_SEC)    /* afterwards: a close is seen within a second */
#define TABLE_FRESH_NS (20 * NSEC_PER_MSEC)
#define SCAN_TREE_MAX  4096

/* A socket known only from a scan: its inode stands in for the kernel address. */
#define SCAN_SK(ino) ((1ULL << 63) | (ino))

void daemon_sock_table_forget(struct daemon *d)
{
	d->table_at = 0;
}

const struct sock_table *daemon_sock_table(struct daemon *d, uint64_t now, bool with_bound)
{
	if (d->table_at && now - d->table_at < TABLE_FRESH_NS && (d->table.bound || !with_bound))
		return &d->table;
	sock_table_free(&d->table);
	d->table_at = 0;
	if (sock_table_load(&d->table, with_bound) < 0)
		return NULL;
	d->table_at = now;
	return &d->table;
}

/* The sk under which a socket with this inode is already known, else a scan key. */
static uint64_t known_sk(const struct svc *s, uint64_t ino)
{
	const struct listener_sock *k = svc_sock_by_ino(s, ino);

	return k ? k->sk : SCAN_SK(ino);
}

static void log_scan_level(struct unit *u, const struct listener *l, const struct scan_sock *k)
{
	char label[2 * SOCK_ADDR_TEXT_MAX];

	log_escape(label, sizeof(label), l->label);
	log_info("service=%s listener=\"%s\" level=%s%s%s pid=%d comm=%s seen_by=scan",
		 u->cfg->name, label, level_name(l->level),
		 l->level == LEVEL_ACCEPTING ? " via=" : "",
		 l->level == LEVEL_ACCEPTING ? accept_via_name(l->via) : "",
		 k ? (int)(k->accepting ? k->accept_pid : k->pid) : 0, k ? k->comm : "-");
}

static void apply_sock(struct unit *u, const struct scan_sock *k, uint64_t now)
{
	bool connectionless = k->e.addr.sock_type == SOCK_DGRAM;
	bool only_bound = connectionless || k->e.state == SOCK_STATE_BOUND;
	enum level lv = only_bound			  ? LEVEL_BOUND
			: k->e.state != SOCK_STATE_LISTEN ? LEVEL_ABSENT
			: k->accepting			  ? LEVEL_ACCEPTING
							  : LEVEL_LISTENING;
	uint64_t sk = known_sk(&u->svc, k->e.inode);
	struct listener *l;

	if (lv == LEVEL_ABSENT)
		return;
	/* Bound-only sockets make no observed listener: clients have them too. */
	l = svc_listener_for(&u->svc, sk, &k->e.addr, !only_bound);
	if (!l || (only_bound && !l->spec))
		return;
	if (!l->has_bound) {
		l->bound = k->e.addr;
		l->has_bound = true;
	}
	if (connectionless)
		l->connectionless = true;
	if (lv == LEVEL_ACCEPTING && l->level != LEVEL_ACCEPTING) {
		l->pid = k->accept_pid;
		l->via = k->via;
		str_copy(l->comm, k->comm, sizeof(l->comm));
	}
	if (!listener_note(l, sk, lv, now)) {
		listener_set_ino(l, sk, k->e.inode);
		return;
	}
	listener_set_ino(l, sk, k->e.inode);
	log_scan_level(u, l, k);
	daemon_mark_dirty(u->d);
	unit_handle(u, SVC_EV_PROGRESS, NULL);
}

/* Sockets that were up and are not in the scan are closed. */
static void close_missing(struct unit *u, struct listener *ls, size_t n, const struct scan *sc,
			  uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct listener *l = &ls[i];
		for (size_t j = 0; j < l->n_socks; j++) {
			struct listener_sock *s = &l->socks[j];
			bool up = l->connectionless ? s->level >= LEVEL_BOUND
						    : s->level >= LEVEL_LISTENING;
			if (!up || s->level == LEVEL_CLOSED || !s->ino || scan_find(sc, s->ino))
				continue;
			if (u->d->tracer)
				tracer_forget_sock(u->d->tracer, s->sk);
			if (!listener_note(l, s->sk, LEVEL_CLOSED, now))
				continue;
			log_scan_level(u, l, NULL);
			daemon_mark_dirty(u->d);
			if (l->level == LEVEL_CLOSED && !svc_listeners_ready(&u->svc)) {
				struct svc_input in = {.why = l->label};
				unit_handle(u, SVC_EV_LISTENER_LOST, &in);
			}
		}
	}
}

/*
 * Does this scan need the TCP sockets that are only bound? Only to raise a
 * declared TCP listener of a start to "bound"; once each one is, the dump of
 * listeners is enough (and 100x cheaper: see sock_table_load).
 */
static bool wants_bound(const struct unit *u, bool levels)
{
	if (!levels || u->svc.state != SVC_STARTING)
		return false;
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		if (l->spec->proto == LISTEN_TCP && l->level == LEVEL_ABSENT)
			return true;
	}
	return false;
}

int unit_scan(struct unit *u, bool levels)
{
	static pid_t pids[SCAN_TREE_MAX];
	uint64_t now = now_mono_ns();
	const struct sock_table *table;
	struct scan sc;
	size_t n = 0;
	int err;

	if (!u->svc.pid)
		return 0;
	table = daemon_sock_table(u->d, now, wants_bound(u, levels));
	if (!table)
		return -EIO;
	if (!levels && unit_sockets_known(u, table, &sc)) { /* the common 1 Hz check */
		unit_sockets_check(u, table, &sc, now);
		scan_free(&sc);
		return 0;
	}
	n = unit_tree_pids(u, pids, ARRAY_SIZE(pids));
	if (!n)
		return -ESRCH;
	err = sock_scan(pids, n, table, levels, &sc);
	if (err)
		return err;
	for (size_t i = 0; levels && i < sc.n && u->svc.pid; i++)
		apply_sock(u, &sc.socks[i], now);
	if (levels && u->svc.pid) {
		close_missing(u, u->svc.listeners, u->svc.n_listeners, &sc, now);
		close_missing(u, u->svc.observed, u->svc.n_observed, &sc, now);
	}
	if (u->svc.pid)
		unit_sockets_check(u, table, &sc, now);
	scan_free(&sc);
	return 0;
}

/* Are u's listener levels made by scans (no BPF events for it)? */
static bool levels_scanned(const struct unit *u)
{
	/*
	 * A service that said READY=1 while the kernel showed it not accepting
	 * may start accepting after the syscall tracepoints were detached: the
	 * scan is what sees it then.
	 */
	return u->cfg->adopted || tracer_mode(u->d->tracer) == TRACER_POLL || u->svc.ready_mismatch;
}

/* How often u's sockets are scanned now; 0: not at all. */
static uint64_t scan_interval(const struct unit *u)
{
	if (!u->svc.pid)
		return 0;
	if (levels_scanned(u))
		return u->svc.state == SVC_STARTING ? SCAN_FAST_NS : SCAN_SLOW_NS;
	/* With BPF, levels come from events; scans watch the accept queues of a running service. */
	return unit_sockets_watched(u) ? SCAN_SLOW_NS : 0;
}

static void on_scan_timer(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;
	int err;

	(void)loop;
	err = unit_scan(u, levels_scanned(u));
	if (err && err != -ESRCH)
		log_debug("service=%s msg=\"socket scan failed\" err=\"%s\"", u->cfg->name,
			  strerror(-err));
	unit_scan_sync(u);
}

void unit_scan_sync(struct unit *u)
{
	uint64_t every = scan_interval(u), at;

	if (!every) {
		loop_timer_cancel(u->d->loop, &u->scan_timer);
		return;
	}
	/* On the clock's multiples of `every`: one moment's scans share one socket dump. */
	at = (now_mono_ns() / every + 1) * every;
	if (!loop_timer_armed(&u->scan_timer) || u->scan_timer.deadline > at)
		loop_timer_arm(u->d->loop, &u->scan_timer, at);
}

void unit_scan_init(struct unit *u)
{
	u->scan_timer = (struct loop_timer){.fn = on_scan_timer, .data = u};
}
