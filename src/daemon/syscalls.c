// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/unit.h"
#include "base/clock.h"
#include "base/log.h"

#define SYSCALL_LINGER_NS (2 * NSEC_PER_SEC)
#define ATTACH_RETRY_NS	  (10 * NSEC_PER_MSEC) /* while a detach is still in the kernel */

struct syscall_window {
	struct loop_timer linger; /* detach the syscall tracepoints when it fires */
	struct loop_timer retry;  /* attach them, once the kernel is done detaching */
	size_t needing;		  /* units whose needs_syscalls is set */
};

/* u's need, as of now, counted: a sync is O(1), not a walk of every unit. */
static void count_need(struct daemon *d, struct unit *u, bool need)
{
	if (need == u->needs_syscalls)
		return;
	u->needs_syscalls = need;
	if (need)
		d->syscalls->needing++;
	else
		d->syscalls->needing--;
}

static void apply(struct daemon *d);

static void on_retry(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	apply(t->data);
}

/* Attach now, or (a detach in flight) soon: the loop never waits for the kernel. */
static int attach(struct daemon *d)
{
	int err = tracer_set_syscalls(d->tracer, true);

	if (err == -EBUSY && !loop_timer_armed(&d->syscalls->retry))
		loop_timer_arm(d->loop, &d->syscalls->retry, now_mono_ns() + ATTACH_RETRY_NS);
	return err;
}

static void on_linger(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;

	(void)loop;
	tracer_set_syscalls(d->tracer, false);
}

/* Attach while some unit needs them; detach SYSCALL_LINGER_NS after the last. */
static void apply(struct daemon *d)
{
	if (!d->tracer)
		return;
	if (d->syscalls->needing) {
		loop_timer_cancel(d->loop, &d->syscalls->linger);
		attach(d);
	} else if (tracer_syscalls_on(d->tracer) && !loop_timer_armed(&d->syscalls->linger)) {
		loop_timer_arm(d->loop, &d->syscalls->linger, now_mono_ns() + SYSCALL_LINGER_NS);
	}
}

void syscalls_sync(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		count_need(d, d->units[i], svc_needs_syscalls(&d->units[i]->svc));
	apply(d);
}

/*
 * Before the child can bind. A detach still in the kernel is not waited for
 * (it was up to 0.9 s of the loop): the start goes on, scans stand in for
 * the events it misses, and the tracepoints attach once the kernel is done.
 */
static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	int err = u->d->tracer ? attach(u->d) : 0;

	u->blind_start = err == -EBUSY;
	if (err == -EBUSY) {
		log_debug("service=%s msg=\"started while the syscall tracepoints detach: scanned "
			  "until it runs\"",
			  u->cfg->name);
		return 0;
	}
	if (err)
		snprintf(fail->spawn_error, sizeof(fail->spawn_error), "%s", strerror(-err));
	return err;
}

static void observe(struct unit *u, const struct unit_news *n)
{
	(void)n;
	count_need(u->d, u, svc_needs_syscalls(&u->svc));
	apply(u->d);
}

static void remove_unit(struct unit *u)
{
	count_need(u->d, u, false);
	apply(u->d);
}

const struct unit_module syscalls_module = {
	.name = "syscalls",
	.observe = observe,
	.before_spawn = before_spawn,
	.remove = remove_unit,
};

int syscalls_open(struct daemon *d)
{
	d->syscalls = calloc(1, sizeof(*d->syscalls));
	if (!d->syscalls)
		return -ENOMEM;
	d->syscalls->linger = (struct loop_timer){ .fn = on_linger, .data = d };
	d->syscalls->retry = (struct loop_timer){ .fn = on_retry, .data = d };
	return 0;
}

void syscalls_close(struct daemon *d)
{
	if (!d->syscalls)
		return;
	loop_timer_cancel(d->loop, &d->syscalls->linger);
	loop_timer_cancel(d->loop, &d->syscalls->retry);
	free(d->syscalls);
	d->syscalls = NULL;
}
