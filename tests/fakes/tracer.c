// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel side, played by the test: os/tracer.h with no BPF, and events on demand. */
#include "os/tracer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/util.h"
#include "fakes/fakes.h"

#define WATCHED_MAX 64

struct tracer {
	struct tracer_opts opts;
	struct {
		pid_t pid;
		uint32_t kid;
	} watched[WATCHED_MAX];
	size_t n_watched;
	bool syscalls;
	unsigned int attaches;
	unsigned int queue_ports, queue_rearms; /* watched now; rearmed so far */
	uint64_t events, dropped;
};

static struct tracer *the; /* one daemon per test */

int tracer_open(const struct tracer_opts *opts, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	t->syscalls = true; /* tracer_open leaves them attached, as the real one does */
	the = *out = t;
	return 0;
}

void tracer_close(struct tracer *t)
{
	if (t == the)
		the = NULL;
	free(t);
}

enum tracer_mode tracer_mode(const struct tracer *t)
{
	(void)t;
	return TRACER_TRACEPOINT;
}

const char *tracer_mode_name(enum tracer_mode m)
{
	return m == TRACER_POLL ? "poll" : m == TRACER_FENTRY ? "fentry" : "tracepoint";
}

int tracer_mode_parse(const char *s, enum tracer_mode *m)
{
	(void)s;
	*m = TRACER_TRACEPOINT;
	return 0;
}

int tracer_fd(const struct tracer *t)
{
	(void)t;
	return -1; /* no ring buffer: events come from fake_tracer_emit */
}

int tracer_consume(struct tracer *t)
{
	(void)t;
	return 0;
}

int tracer_watch(struct tracer *t, pid_t tgid, uint32_t kid)
{
	for (size_t i = 0; i < t->n_watched; i++)
		if (t->watched[i].pid == tgid) {
			t->watched[i].kid = kid;
			return 0;
		}
	if (t->n_watched == WATCHED_MAX)
		return -ENOSPC;
	t->watched[t->n_watched].pid = tgid;
	t->watched[t->n_watched++].kid = kid;
	return 0;
}

int tracer_kid_of(struct tracer *t, pid_t tgid, uint32_t *kid)
{
	for (size_t i = 0; i < t->n_watched; i++)
		if (t->watched[i].pid == tgid) {
			*kid = t->watched[i].kid;
			return 0;
		}
	return -ENOENT;
}

int tracer_tree(struct tracer *t, uint32_t kid, bool whole_unit, pid_t *pids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_watched && n < max; i++)
		if (t->watched[i].kid == kid ||
		    (whole_unit && RD_KID_UNIT(t->watched[i].kid) == RD_KID_UNIT(kid)))
			pids[n++] = t->watched[i].pid;
	return (int)n;
}

void tracer_forget_sock(struct tracer *t, uint64_t sk)
{
	(void)t, (void)sk;
}

void tracer_forget_unit(struct tracer *t, uint32_t unit)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n_watched; i++)
		if (RD_KID_UNIT(t->watched[i].kid) != unit)
			t->watched[k++] = t->watched[i];
	t->n_watched = k;
}

int tracer_set_syscalls(struct tracer *t, bool on)
{
	t->attaches += on && !t->syscalls;
	t->syscalls = on;
	return 0;
}

bool tracer_syscalls_on(const struct tracer *t)
{
	return t->syscalls;
}

uint64_t tracer_events(const struct tracer *t)
{
	return t ? t->events : 0;
}

uint64_t tracer_dropped(struct tracer *t)
{
	return t->dropped;
}

bool tracer_queue_events(const struct tracer *t)
{
	return t != NULL;
}

int tracer_queue_watch(struct tracer *t, uint16_t port, uint32_t kid)
{
	(void)port;
	(void)kid;
	t->queue_ports++;
	return 0;
}

void tracer_queue_unwatch(struct tracer *t, uint16_t port)
{
	(void)port;
	if (t->queue_ports)
		t->queue_ports--;
}

int tracer_queue_rearm(struct tracer *t, uint16_t port)
{
	(void)port;
	t->queue_rearms++;
	return 0;
}

unsigned int fake_tracer_queue_ports(void)
{
	return the->queue_ports;
}

void fake_tracer_emit(struct rd_event e)
{
	if (!e.ts_ns)
		e.ts_ns = now_mono_ns();
	the->events++;
	the->opts.on_event(&e, the->opts.ctx);
}

uint32_t fake_tracer_kid(pid_t pid)
{
	uint32_t kid = 0;

	tracer_kid_of(the, pid, &kid);
	return kid;
}

bool fake_tracer_syscalls(void)
{
	return the->syscalls;
}

unsigned int fake_tracer_attaches(void)
{
	return the->attaches;
}

void fake_tracer_set_dropped(uint64_t n)
{
	the->dropped = n;
}

int tracer_watch_map_fd(const struct tracer *t)
{
	(void)t;
	return -1; /* no kernel: the hook watches (tracer_watch) */
}
