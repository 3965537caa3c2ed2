// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A service's probes: each runs every probe_interval (from the start of the
 * previous run) while svc_probing() says so, concurrently with the others,
 * and every result is a SVC_EV_PROBE for the state machine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

static void on_probe_due(struct loop *loop, struct loop_timer *t);

static void on_probe_done(struct probe_run *run, const struct probe_result *res)
{
	struct unit_probe *p = run->data;
	struct unit *u = p->u;
	struct svc_input in = { .probe = p->idx, .ok = res->ok, .why = res->reason,
				.duration_ns = res->duration_ns };
	const char *text = u->cfg->probes[p->idx].text;
	enum probe_verdict before = u->svc.probes[p->idx].verdict;
	bool passed_before = u->svc.probes[p->idx].has_result && u->svc.probes[p->idx].last_ok;
	char reason[2 * PROBE_REASON_MAX], took[32];
	uint64_t next_at;

	if (res->aborted) { /* reaped after an abort: maybe the unit can go, or probe again */
		unit_release_if_gone(u);
		unit_probes_sync(u);
		return;
	}
	if (log_level() >= LOG_DEBUG) {
		fmt_duration(took, sizeof(took), res->duration_ns);
		log_debug("service=%s probe=\"%s\" ok=%d took=%s reason=\"%s\"", u->cfg->name, text,
			  res->ok, took, log_escape(reason, sizeof(reason), res->reason));
	}
	/* The next run, on schedule: armed first, so the sync below keeps (or cancels) it. */
	next_at = run->started + u->cfg->probe_interval_ns;
	loop_timer_arm(u->d->loop, &p->next, next_at > now_mono_ns() ? next_at : now_mono_ns());
	unit_handle(u, SVC_EV_PROBE, &in);
	if (u->svc.probes[p->idx].verdict != before)
		log_info("service=%s probe=\"%s\" verdict=%s reason=\"%s\"", u->cfg->name, text,
			 probe_verdict_name(u->svc.probes[p->idx].verdict),
			 log_escape(reason, sizeof(reason), res->reason));
	if (res->ok != passed_before) /* readyd_probe_success flips: export soon */
		daemon_mark_dirty(u->d);
	else
		daemon_mark_counters(u->d);
}

static void on_probe_due(struct loop *loop, struct loop_timer *t)
{
	struct unit_probe *p = t->data;
	struct unit *u = p->u;
	struct probe_result res = { .ok = false };
	char reason[PROBE_REASON_MAX];
	int err;

	if (!svc_probing(&u->svc) || probe_busy(&p->run))
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

void unit_probes_init(struct unit *u)
{
	for (unsigned int i = 0; i < CONFIG_MAX_PROBES; i++) {
		struct unit_probe *p = &u->probes[i];
		p->u = u;
		p->idx = i;
		p->run.src.fd = p->run.pidfd.fd = -1;
		p->next = (struct loop_timer){ .fn = on_probe_due, .data = p };
	}
}

void unit_probes_sync(struct unit *u)
{
	bool on = svc_probing(&u->svc);

	for (size_t i = 0; i < u->cfg->n_probes; i++) {
		struct unit_probe *p = &u->probes[i];
		if (!on) {
			loop_timer_cancel(u->d->loop, &p->next);
			probe_abort(&p->run);
		} else if (!probe_busy(&p->run) && !loop_timer_armed(&p->next)) {
			loop_timer_arm(u->d->loop, &p->next, now_mono_ns()); /* start right away */
		}
	}
}

void unit_probes_stop(struct unit *u)
{
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++) {
		loop_timer_cancel(u->d->loop, &u->probes[i].next);
		probe_abort(&u->probes[i].run);
	}
}

bool unit_probes_busy(const struct unit *u)
{
	for (size_t i = 0; i < CONFIG_MAX_PROBES; i++)
		if (probe_busy(&u->probes[i].run))
			return true;
	return false;
}

bool daemon_probe_reap(struct daemon *d, pid_t pid)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t j = 0; j < CONFIG_MAX_PROBES; j++)
			if (probe_reap(&d->units[i]->probes[j].run, pid))
				return true;
	return false;
}
