// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/unit.h"
#include "os/probe.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

/*
 * A probe that gates readiness and fails is run again soon, not a probe
 * interval later: 5 ms, doubling up to 100 ms (or the interval, if shorter).
 * A daemon that answers "not yet" (postgres starting up, redis loading) is
 * seen serving within a few ms of the truth, for a few probes a second.
 */
#define RETRY_FIRST_NS (5 * NSEC_PER_MSEC)
#define RETRY_MAX_NS   (100 * NSEC_PER_MSEC)

struct unit_probe {
	struct unit *u;
	unsigned int idx;
	struct probe_run run;
	struct loop_timer next;
	unsigned int retries; /* readiness runs that failed in a row */
};

static void on_probe_due(struct loop *loop, struct loop_timer *t);

/* Each made when its probe first runs: a probe run holds a 4 KiB reply buffer. */
struct unit_probes {
	struct unit_probe *v[CONFIG_MAX_PROBES];
};

/* Probe i's slot, made now if it has none (NULL: out of memory). */
static struct unit_probe *slot(struct unit *u, unsigned int i)
{
	struct unit_probe *p = u->probes->v[i];

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->u = u;
	p->idx = i;
	p->run.src.fd = p->run.pidfd.fd = -1;
	p->next = (struct loop_timer){ .fn = on_probe_due, .data = p };
	u->probes->v[i] = p;
	return p;
}

static void sync_probes(struct unit *u);

static uint64_t retry_delay(const struct unit *u, unsigned int retries)
{
	uint64_t cap = RETRY_MAX_NS, d = RETRY_FIRST_NS;

	if (u->cfg->probe_interval_ns && u->cfg->probe_interval_ns < cap)
		cap = u->cfg->probe_interval_ns;
	for (unsigned int i = 0; i < retries && d < cap; i++)
		d *= 2;
	return d > cap ? cap : d;
}

static void on_probe_done(struct probe_run *run, const struct probe_result *res)
{
	struct unit_probe *p = run->data;
	struct unit *u = p->u;
	struct svc_input in = {
		.probe = p->idx, .ok = res->ok, .why = res->reason, .duration_ns = res->duration_ns
	};
	const char *text = u->cfg->probes[p->idx].text;
	enum probe_verdict before = u->svc.probes[p->idx].verdict;
	char reason[2 * PROBE_REASON_MAX], took[32];
	uint64_t next_at;

	if (res->aborted) { /* reaped after an abort: maybe the unit can go, or probe again */
		unit_release_if_gone(u);
		sync_probes(u);
		return;
	}
	if (log_level() >= LOG_DEBUG) {
		fmt_duration(took, sizeof(took), res->duration_ns);
		log_debug("service=%s probe=\"%s\" ok=%d took=%s reason=\"%s\"", u->cfg->name, text,
			  res->ok, took, log_escape(reason, sizeof(reason), res->reason));
	}
	/* The next run, on schedule: armed first, so the sync after the event keeps or cancels it.
	 */
	next_at = run->started + u->cfg->probe_interval_ns;
	if (!res->ok && svc_probe_for_readiness(&u->svc, p->idx))
		next_at = now_mono_ns() + retry_delay(u, p->retries++);
	else if (res->ok)
		p->retries = 0;
	loop_timer_arm(u->d->loop, &p->next, next_at > now_mono_ns() ? next_at : now_mono_ns());
	unit_handle(u, SVC_EV_PROBE, &in);
	if (u->svc.probes[p->idx].verdict != before)
		log_info("service=%s probe=\"%s\" verdict=%s reason=\"%s\"", u->cfg->name, text,
			 probe_verdict_name(u->svc.probes[p->idx].verdict),
			 log_escape(reason, sizeof(reason), res->reason));
}

static void on_probe_due(struct loop *loop, struct loop_timer *t)
{
	struct unit_probe *p = t->data;
	struct unit *u = p->u;
	struct probe_result res = { .ok = false };
	char reason[PROBE_REASON_MAX];
	int err;

	if (!svc_probe_wanted(&u->svc, p->idx) || probe_busy(&p->run))
		return;
	p->run.done = on_probe_done;
	p->run.data = p;
	err = probe_start(&p->run, loop, &u->cfg->probes[p->idx], u->cfg, u->cfg->probe_timeout_ns);
	if (err) { /* e.g. out of fds: a failed probe, reported like any other */
		snprintf(reason, sizeof(reason), "cannot start the probe: %s", strerror(-err));
		res.reason = reason;
		p->run.started = now_mono_ns();
		on_probe_done(&p->run, &res);
	}
}

/* Start or stop the unit's probes to match svc_probing(). */
static void sync_probes(struct unit *u)
{
	for (unsigned int i = 0; i < u->cfg->n_probes; i++) {
		struct unit_probe *p = u->probes->v[i];
		if (!svc_probe_wanted(&u->svc, i)) {
			if (!p)
				continue;
			loop_timer_cancel(u->d->loop, &p->next);
			probe_abort(&p->run);
		} else if (!p && !(p = slot(u, i))) {
			log_err("service=%s msg=\"out of memory: a probe does not run\"",
				u->cfg->name);
		} else if (!probe_busy(&p->run) && !loop_timer_armed(&p->next)) {
			loop_timer_arm(u->d->loop, &p->next, now_mono_ns()); /* start right away */
		}
	}
}

static void stop_probes(struct unit *u)
{
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++) {
		struct unit_probe *p = u->probes->v[i];
		if (!p)
			continue;
		loop_timer_cancel(u->d->loop, &p->next);
		probe_abort(&p->run);
	}
}

/* It printed something while a readiness probe waits for its retry: try now. */
static void retry_now(struct unit *u)
{
	for (size_t i = 0; i < u->cfg->n_probes; i++) {
		struct unit_probe *p = u->probes->v[i];
		if (p && p->retries && loop_timer_armed(&p->next) &&
		    svc_probe_for_readiness(&u->svc, i))
			loop_timer_arm(u->d->loop, &p->next, now_mono_ns());
	}
}

static void observe(struct unit *u, const struct unit_news *n)
{
	if (n->spawned)
		for (size_t i = 0; i < CONFIG_MAX_PROBES; i++)
			if (u->probes->v[i])
				u->probes->v[i]->retries = 0;
	if (n->output)
		retry_now(u);
	sync_probes(u); /* ready = probe: probes start with the process */
}

/* A probe running now points into the old config, which may go right after. */
static void rebind(struct unit *u)
{
	for (size_t i = 0; i < u->cfg->n_probes; i++)
		if (u->probes->v[i])
			u->probes->v[i]->run.spec = &u->cfg->probes[i];
}

static bool busy(const struct unit *u)
{
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++)
		if (u->probes->v[i] && probe_busy(&u->probes->v[i]->run))
			return true;
	return false;
}

static bool reap(struct unit *u, pid_t pid)
{
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++)
		if (u->probes->v[i] && probe_reap(&u->probes->v[i]->run, pid))
			return true;
	return false;
}

static int add(struct unit *u)
{
	u->probes = calloc(1, sizeof(*u->probes));
	return u->probes ? 0 : -ENOMEM;
}

static void remove_unit(struct unit *u)
{
	if (!u->probes)
		return;
	stop_probes(u);
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++)
		free(u->probes->v[i]);
	free(u->probes);
	u->probes = NULL;
}

const struct unit_module probes_module = {
	.name = "probes",
	.add = add,
	.remove = remove_unit,
	.observe = observe,
	.rebind = rebind,
	.reconfigure = stop_probes, /* a running probe points into the old config */
	.busy = busy,
	.reap = reap,
};
