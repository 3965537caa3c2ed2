// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Checking the kernel's current socket table against what events told us.
 *
 * Unix listeners have no always-on kernel hook that fires when they close
 * (TCP has tcp_destroy_sock; fentry on unix_release_sock is not available
 * on every kernel), and the syscall tracepoints are detached once services
 * run. So while some unix listener is up, a sock_diag dump of listening unix
 * sockets runs every second and a listener whose inode is gone is closed.
 *
 * And when the ring buffer dropped events (readyd_events_dropped_total grew),
 * or after a reload, every running service's levels are rebuilt from
 * sock_diag and /proc — the scan poll mode uses — so a lost event never
 * leaves a service wrong for more than a second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "os/sockets.h"
#include "base/clock.h"
#include "base/util.h"

#define UNIX_CHECK_NS (1 * NSEC_PER_SEC)
#define DROP_CHECK_NS (1 * NSEC_PER_SEC)

struct ino_set {
	uint64_t *v;
	size_t n, cap;
};

static int collect_ino(const struct sock_entry *e, void *ctx)
{
	struct ino_set *set = ctx;

	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		uint64_t *grown = realloc(set->v, cap * sizeof(*grown));
		if (!grown)
			return -1;
		set->v = grown;
		set->cap = cap;
	}
	set->v[set->n++] = e->inode;
	return 0;
}

static bool ino_in(const struct ino_set *set, uint64_t ino)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i] == ino)
			return true;
	return false;
}

static bool is_live_unix(const struct listener *l, const struct listener_sock *s)
{
	return l->has_bound && l->bound.family == AF_UNIX && s->ino &&
	       (s->level == LEVEL_LISTENING || s->level == LEVEL_ACCEPTING);
}

/* Close every live unix socket of `ls` missing from `set`; true if any is live. */
static bool check_listeners(struct unit *u, struct listener *ls, size_t n,
			    const struct ino_set *set, uint64_t now)
{
	bool any = false;

	char label[2 * SOCK_ADDR_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		struct listener *l = &ls[i];
		for (size_t j = 0; j < l->n_socks; j++) {
			struct listener_sock *s = &l->socks[j];
			if (!is_live_unix(l, s))
				continue;
			if (!set || ino_in(set, s->ino)) {
				any = true;
				continue;
			}
			log_info("service=%s listener=\"%s\" level=closed seen_by=sock_diag",
				 u->cfg->name, log_escape(label, sizeof(label), l->label));
			tracer_forget_sock(u->d->tracer, s->sk);
			if (listener_note(l, s->sk, LEVEL_CLOSED, now) && l->level == LEVEL_CLOSED &&
			    !svc_listeners_ready(&u->svc)) {
				struct svc_input in = { .why = l->label };
				unit_handle(u, SVC_EV_LISTENER_LOST, &in);
			}
			daemon_mark_dirty(u->d);
		}
	}
	return any;
}

static bool any_live_unix(struct daemon *d)
{
	bool any = false;

	for (size_t i = 0; i < d->n_units && !any; i++) {
		struct svc *s = &d->units[i]->svc;
		any = check_listeners(d->units[i], s->listeners, s->n_listeners, NULL, 0) ||
		      check_listeners(d->units[i], s->observed, s->n_observed, NULL, 0);
	}
	return any;
}

static void on_unix_check(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	struct ino_set set = { 0 };
	uint64_t now = now_mono_ns();
	bool any = false;
	int err;

	err = sockets_dump(AF_UNIX, 0, 1U << SOCK_STATE_LISTEN, collect_ino, &set);
	if (err) {
		log_warn("msg=\"unix socket check failed\" err=\"%s\"", strerror(err < 0 ? -err : ENOMEM));
		any = true; /* try again later */
	}
	for (size_t i = 0; !err && i < d->n_units; i++) {
		struct unit *u = d->units[i];
		any |= check_listeners(u, u->svc.listeners, u->svc.n_listeners, &set, now);
		any |= check_listeners(u, u->svc.observed, u->svc.n_observed, &set, now);
	}
	free(set.v);
	if (any)
		loop_timer_arm(loop, t, now + UNIX_CHECK_NS);
}

void daemon_watch_unix(struct daemon *d)
{
	if (!loop_timer_armed(&d->unix_timer) && any_live_unix(d))
		loop_timer_arm(d->loop, &d->unix_timer, now_mono_ns() + UNIX_CHECK_NS);
}

void daemon_resync_all(struct daemon *d, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->svc.pid && !d->units[i]->removed) {
			unit_scan(d->units[i], true);
			n++;
		}
	if (n)
		log_info("msg=\"listener levels rebuilt from sock_diag and /proc\" why=%s services=%zu",
			 why, n);
}

static void on_drop_check(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	uint64_t dropped = tracer_dropped(d->tracer);

	if (dropped > d->dropped_seen) {
		log_warn("msg=\"the ring buffer was full: kernel events were lost\" lost=%llu "
			 "total=%llu",
			 (unsigned long long)(dropped - d->dropped_seen), (unsigned long long)dropped);
		d->dropped_seen = dropped;
		daemon_resync_all(d, "events_lost");
		daemon_mark_dirty(d);
	}
	loop_timer_arm(loop, t, now_mono_ns() + DROP_CHECK_NS);
}

void daemon_resync_init(struct daemon *d)
{
	d->unix_timer = (struct loop_timer){ .fn = on_unix_check, .data = d };
	d->drop_timer = (struct loop_timer){ .fn = on_drop_check, .data = d };
	if (tracer_mode(d->tracer) != TRACER_POLL)
		loop_timer_arm(d->loop, &d->drop_timer, now_mono_ns() + DROP_CHECK_NS);
}
