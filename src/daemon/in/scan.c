// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Listener levels from what the kernel shows now (scan.h). Scans of one
 * moment share one sock_diag load (sock_table.c): scan timers land on the
 * clock's multiples of their period.
 */
#include "daemon/in/scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/sock_table.h"
#include "daemon/unit.h"
#include "os/sock_scan.h"
#include "os/tracer.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define SCAN_FAST_NS  (100 * NSEC_PER_MSEC) /* while starting */
#define SCAN_SLOW_NS  (1 * NSEC_PER_SEC)    /* afterwards: a close is seen within a second */
#define DROP_CHECK_NS (100 * NSEC_PER_MSEC) /* after events were read */
#define SCAN_TREE_MAX 4096

/* A socket known only from a scan: its inode stands in for the kernel address. */
#define SCAN_SK(ino) ((1ULL << 63) | (ino))

struct unit_scan {
	struct loop_timer timer;
	/*
	 * Event-armed queue checks (BPF modes, TCP listeners only): the kernel
	 * says when a connection is queued on one of these ports, and the queues
	 * are sampled from then until there is nothing to see; an idle service
	 * costs no wakeup. Unix stream listeners have no such event: every second.
	 */
	uint16_t *ports;
	size_t n_ports;
	bool ports_on;	 /* watched in the kernel (queue_ports) */
	bool queue_busy; /* a sample is due: a connection came, or the last sample saw something */
	bool fired;	 /* an RD_EV_QUEUED disarmed the ports: arm them before the next sample */
};

struct scans {
	struct loop_timer drop_timer; /* lost events trigger a rebuild */
	uint64_t dropped_seen;
};

/* The sk under which a socket with this inode is already known, else a scan key. */
static uint64_t known_sk(const struct svc *s, uint64_t ino)
{
	const struct listener_sock *k = svc_sock_by_ino(s, ino);

	return k ? k->sk : SCAN_SK(ino);
}

static void apply_sock(struct unit *u, const struct scan_sock *k, uint64_t now)
{
	bool only_bound = k->e.addr.sock_type == SOCK_DGRAM || k->e.state == SOCK_STATE_BOUND;
	enum level lv = only_bound			  ? LEVEL_BOUND
			: k->e.state != SOCK_STATE_LISTEN ? LEVEL_ABSENT
			: k->accepting			  ? LEVEL_ACCEPTING
							  : LEVEL_LISTENING;
	struct svc_sock obs = {
		.sk = known_sk(&u->svc, k->e.inode),
		.ino = k->e.inode,
		.addr = &k->e.addr,
		.level = lv,
		.may_observe = !only_bound,
		.declared_only = only_bound,
		.pid = k->accepting ? k->accept_pid : k->pid,
		.comm = k->comm,
		.via = k->via,
		.at = now,
		.seen_by = "scan",
	};

	if (lv != LEVEL_ABSENT)
		unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &obs });
}

/* Sockets that were up and are not in the scan are closed. */
static void close_missing(struct unit *u, struct listener *ls, size_t n, const struct scan *sc,
			  uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct listener *l = &ls[i];
		for (size_t j = 0; j < l->n_socks && u->svc.pid; j++) {
			struct listener_sock *s = &l->socks[j];
			bool up = l->connectionless ? s->level >= LEVEL_BOUND
						    : s->level >= LEVEL_LISTENING;
			struct svc_sock obs = {
				.sk = s->sk, .level = LEVEL_CLOSED, .at = now, .seen_by = "scan"
			};

			if (!up || s->level == LEVEL_CLOSED || !s->ino || scan_find(sc, s->ino))
				continue;
			if (u->d->tracer)
				tracer_forget_sock(u->d->tracer, s->sk);
			unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &obs });
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

static bool all_accepting(const struct unit *u)
{
	for (size_t i = 0; i < u->svc.n_listeners; i++)
		if (u->svc.listeners[i].level != LEVEL_ACCEPTING)
			return false;
	return u->svc.n_listeners > 0;
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
	/*
	 * The common 1 Hz check: the dump alone, when every socket on u's declared
	 * addresses is one it knows. So too for levels once each declared listener
	 * is accepting (poll mode's running services): a level cannot rise further,
	 * and a closed one is a known socket missing, which sends it to the full scan.
	 */
	if ((!levels || all_accepting(u)) && scan_queue_known(u, table, &sc)) {
		u->scan->queue_busy = scan_queue_check(u, table, &sc, now);
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
		u->scan->queue_busy = scan_queue_check(u, table, &sc, now);
	scan_free(&sc);
	return 0;
}

void scan_all(struct daemon *d, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->svc.pid && !d->units[i]->removed) {
			unit_scan(d->units[i], true);
			n++;
		}
	if (n)
		log_info("msg=\"listener levels rebuilt from sock_diag and /proc\" why=%s "
			 "services=%zu",
			 why, n);
}

/* ---- when ---- */

/* Are u's listener levels made by scans (no BPF events for it)? */
static bool levels_scanned(const struct unit *u)
{
	/*
	 * A service that said READY=1 while the kernel showed it not accepting
	 * may start accepting after the syscall tracepoints were detached: the
	 * scan is what sees it then.
	 */
	return u->cfg->adopted || tracer_mode(u->d->tracer) == TRACER_POLL ||
	       u->svc.ready_mismatch || (u->blind_start && u->svc.state == SVC_STARTING);
}

/* Can the kernel tell when u's queues have something to look at (TCP stream listeners only)? */
static bool queue_armable(const struct unit *u)
{
	if (levels_scanned(u) || !svc_queues_watched(&u->svc) || !tracer_queue_events(u->d->tracer))
		return false;
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		if (!l->connectionless && l->spec->proto != LISTEN_TCP)
			return false;
	}
	return true;
}

static bool is_queue_port(const struct listener *l)
{
	return !l->connectionless && l->spec->proto == LISTEN_TCP && l->spec->port;
}

static void ports_off(struct unit *u)
{
	struct unit_scan *us = u->scan;

	for (size_t i = 0; us->ports_on && i < us->n_ports; i++)
		tracer_queue_unwatch(u->d->tracer, us->ports[i]);
	free(us->ports);
	us->ports = NULL;
	us->n_ports = 0;
	us->ports_on = false;
}

/* Watch u's TCP ports in the kernel while it runs under BPF; else sample every second. */
static void ports_sync(struct unit *u)
{
	struct unit_scan *us = u->scan;
	bool want = queue_armable(u);

	if (want == us->ports_on)
		return;
	if (!want) {
		ports_off(u);
		return;
	}
	us->ports = calloc(u->svc.n_listeners ? u->svc.n_listeners : 1, sizeof(*us->ports));
	if (!us->ports)
		return; /* sampled every second instead */
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		int err;

		if (!is_queue_port(l))
			continue;
		err = tracer_queue_watch(u->d->tracer, l->spec->port, RD_KID(u->id, 0));
		if (err) {
			log_warn("service=%s msg=\"accept queue sampled every second: the kernel "
				 "cannot watch its port\" port=%u err=\"%s\"",
				 u->cfg->name, l->spec->port, strerror(-err));
			us->ports_on = true; /* so that ports_off unwatches the ones taken */
			ports_off(u);
			return;
		}
		us->ports[us->n_ports++] = l->spec->port;
	}
	us->ports_on = true;
	/* Connections may have queued before it ran: the first sample looks. */
	us->queue_busy = true;
	us->fired = false;
}

/* How often u's sockets are scanned now; 0: not at all. */
static uint64_t scan_interval(const struct unit *u)
{
	if (!u->svc.pid)
		return 0;
	if (levels_scanned(u))
		return u->svc.state == SVC_STARTING ? SCAN_FAST_NS : SCAN_SLOW_NS;
	/* With BPF, levels come from events; scans watch the accept queues of a running service. */
	if (!svc_queues_watched(&u->svc))
		return 0;
	if (u->scan->ports_on) /* armed by the kernel: only while there is something to see */
		return u->scan->queue_busy ? SCAN_SLOW_NS : 0;
	return SCAN_SLOW_NS;
}

static void scan_sync(struct unit *u)
{
	uint64_t every, at;
	struct loop_timer *t = &u->scan->timer;

	ports_sync(u);
	every = scan_interval(u);
	if (!every) {
		loop_timer_cancel(u->d->loop, t);
		return;
	}
	/* On the clock's multiples of `every`: one moment's scans share one socket dump. */
	at = (now_mono_ns() / every + 1) * every;
	if (!loop_timer_armed(t) || t->deadline > at)
		loop_timer_arm(u->d->loop, t, at);
}

static void on_scan_timer(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;
	int err;

	(void)loop;
	/*
	 * Armed again before the sample, not after: a connection queued between
	 * an empty sample and the arming would otherwise go unseen until the next.
	 */
	for (size_t i = 0; u->scan->fired && i < u->scan->n_ports; i++)
		tracer_queue_rearm(u->d->tracer, u->scan->ports[i]);
	u->scan->fired = false;
	err = unit_scan(u, levels_scanned(u));
	if (err && err != -ESRCH)
		log_debug("service=%s msg=\"socket scan failed\" err=\"%s\"", u->cfg->name,
			  strerror(-err));
	scan_sync(u);
}

/* ---- the unit's life ---- */

static int add(struct unit *u)
{
	u->scan = calloc(1, sizeof(*u->scan));
	if (!u->scan)
		return -ENOMEM;
	u->scan->timer = (struct loop_timer){ .fn = on_scan_timer, .data = u };
	return 0;
}

static void remove_unit(struct unit *u)
{
	if (!u->scan)
		return;
	loop_timer_cancel(u->d->loop, &u->scan->timer);
	ports_off(u);
	free(u->scan);
	u->scan = NULL;
}

/* An adopted service (or one taken back) was listening before readyd looked: what the kernel
 * shows counts. */
static void observe(struct unit *u, const struct unit_news *n)
{
	if ((n->spawned && u->cfg->adopted) || n->resumed) {
		int err = unit_scan(u, true);
		if (err)
			log_warn("service=%s msg=\"cannot see its sockets\" err=\"%s\"",
				 u->cfg->name, strerror(-err));
	}
	scan_sync(u);
}

const struct unit_module scan_module = {
	.name = "scan",
	.add = add,
	.remove = remove_unit,
	.observe = observe,
};

static bool has_port(const struct unit_scan *us, uint16_t port)
{
	for (size_t i = 0; i < us->n_ports; i++)
		if (us->ports[i] == port)
			return true;
	return false;
}

static void queue_due(struct unit *u)
{
	u->scan->fired = true;
	u->scan->queue_busy = true; /* the sample is due */
	scan_sync(u);
}

void scan_queue_arrived(struct daemon *d, uint32_t kid, uint16_t port)
{
	struct unit *u;

	if (kid != RD_KID_SHARED) {
		u = daemon_unit(d, RD_KID_UNIT(kid));
		if (u && u->scan && u->scan->ports_on)
			queue_due(u);
		return;
	}
	for (size_t i = 0; i < d->n_units; i++) {
		u = d->units[i];
		if (u->scan && u->scan->ports_on && has_port(u->scan, port))
			queue_due(u);
	}
}

/* ---- lost events ---- */

static void on_drop_check(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	uint64_t dropped = tracer_dropped(d->tracer);

	if (dropped > d->scans->dropped_seen) {
		log_warn("msg=\"the ring buffer was full: kernel events were lost\" lost=%llu "
			 "total=%llu",
			 (unsigned long long)(dropped - d->scans->dropped_seen),
			 (unsigned long long)dropped);
		d->scans->dropped_seen = dropped;
		scan_all(d, "events_lost");
		daemon_observe(d, &(struct unit_news){ .dirty = true });
	}
	(void)loop;
}

void scan_after_events(struct daemon *d)
{
	if (d->scans && !loop_timer_armed(&d->scans->drop_timer))
		loop_timer_arm(d->loop, &d->scans->drop_timer, now_mono_ns() + DROP_CHECK_NS);
}

int scan_open(struct daemon *d)
{
	d->scans = calloc(1, sizeof(*d->scans));
	if (!d->scans)
		return -ENOMEM;
	d->scans->drop_timer = (struct loop_timer){ .fn = on_drop_check, .data = d };
	return 0;
}

void scan_close(struct daemon *d)
{
	if (!d->scans)
		return;
	loop_timer_cancel(d->loop, &d->scans->drop_timer);
	free(d->scans);
	d->scans = NULL;
}
