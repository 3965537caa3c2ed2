// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/unit.h"
#include "base/clock.h"

#define SYSCALL_LINGER_NS (2 * NSEC_PER_SEC)

struct syscall_window {
	struct loop_timer linger; /* detach the syscall tracepoints when it fires */
};

static void on_linger(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;

	(void)loop;
	tracer_set_syscalls(d->tracer, false);
}

void syscalls_sync(struct daemon *d)
{
	bool need = false;

	if (!d->tracer)
		return;
	for (size_t i = 0; i < d->n_units && !need; i++)
		need = svc_needs_syscalls(&d->units[i]->svc);
	if (need) {
		loop_timer_cancel(d->loop, &d->syscalls->linger);
		tracer_set_syscalls(d->tracer, true);
	} else if (tracer_syscalls_on(d->tracer) && !loop_timer_armed(&d->syscalls->linger)) {
		loop_timer_arm(d->loop, &d->syscalls->linger, now_mono_ns() + SYSCALL_LINGER_NS);
	}
}

/* Before the child can bind. */
static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	int err = u->d->tracer ? tracer_set_syscalls(u->d->tracer, true) : 0;

	if (err)
		snprintf(fail->spawn_error, sizeof(fail->spawn_error), "%s", strerror(-err));
	return err;
}

static void observe(struct unit *u, const struct unit_news *n)
{
	(void)n;
	syscalls_sync(u->d);
}

const struct unit_module syscalls_module = {
	.name = "syscalls",
	.observe = observe,
	.before_spawn = before_spawn,
};

int syscalls_open(struct daemon *d)
{
	d->syscalls = calloc(1, sizeof(*d->syscalls));
	if (!d->syscalls)
		return -ENOMEM;
	d->syscalls->linger = (struct loop_timer){ .fn = on_linger, .data = d };
	return 0;
}

void syscalls_close(struct daemon *d)
{
	if (!d->syscalls)
		return;
	loop_timer_cancel(d->loop, &d->syscalls->linger);
	free(d->syscalls);
	d->syscalls = NULL;
}
