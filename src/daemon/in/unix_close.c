// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/unix_close.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/unit.h"
#include "os/sockets.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define UNIX_CHECK_NS (1 * NSEC_PER_SEC)

struct unix_close {
	struct loop_timer timer;
};

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

/* Close every live unix socket of `ls` missing from `set` (NULL: just look); true if any is live.
 */
static bool check_listeners(struct unit *u, struct listener *ls, size_t n,
			    const struct ino_set *set, uint64_t now)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct listener *l = &ls[i];
		for (size_t j = 0; j < l->n_socks; j++) {
			struct listener_sock *s = &l->socks[j];
			struct svc_sock obs = { .sk = s->sk,
						.level = LEVEL_CLOSED,
						.at = now,
						.seen_by = "sock_diag" };
			if (!is_live_unix(l, s))
				continue;
			if (!set || ino_in(set, s->ino)) {
				any = true;
				continue;
			}
			tracer_forget_sock(u->d->tracer, s->sk);
			unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &obs });
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

static void on_check(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	struct ino_set set = { 0 };
	uint64_t now = now_mono_ns();
	bool any = false;
	int err;

	err = sockets_dump(AF_UNIX, 0, 1U << SOCK_STATE_LISTEN, collect_ino, &set);
	if (err) {
		log_warn("msg=\"unix socket check failed\" err=\"%s\"",
			 strerror(err < 0 ? -err : ENOMEM));
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

/* A unix listener came up: make sure the periodic close check runs. */
static void observe(struct unit *u, const struct unit_news *n)
{
	struct loop_timer *t = &u->d->unix_close->timer;

	/* (Poll mode has no events to miss a close: its scans close what is gone.) */
	if (!n->a || !n->a->level_changed || !n->a->listener || !n->a->listener->has_bound ||
	    n->a->listener->bound.family != AF_UNIX || tracer_mode(u->d->tracer) == TRACER_POLL)
		return;
	if (!loop_timer_armed(t) && any_live_unix(u->d))
		loop_timer_arm(u->d->loop, t, now_mono_ns() + UNIX_CHECK_NS);
}

const struct unit_module unix_close_module = {
	.name = "unix_close",
	.observe = observe,
};

int unix_close_open(struct daemon *d)
{
	d->unix_close = calloc(1, sizeof(*d->unix_close));
	if (!d->unix_close)
		return -ENOMEM;
	d->unix_close->timer = (struct loop_timer){ .fn = on_check, .data = d };
	return 0;
}

void unix_close_close(struct daemon *d)
{
	if (!d->unix_close)
		return;
	loop_timer_cancel(d->loop, &d->unix_close->timer);
	free(d->unix_close);
	d->unix_close = NULL;
}
