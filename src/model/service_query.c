// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A service's set-up, and questions about it: everything but the transitions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/service.h"
#include "base/util.h"

void svc_main_changed(struct svc *s, pid_t pid)
{
	if (s->pid)
		s->pid = pid;
}

int svc_init(struct svc *s, const struct service_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->state = SVC_STOPPED;
	str_copy(s->cause, "not started yet", sizeof(s->cause));
	return svc_set_config(s, cfg);
}

void svc_free(struct svc *s)
{
	free(s->listeners);
	free(s->observed);
	free(s->probes);
	s->listeners = s->observed = NULL;
	s->probes = NULL;
	s->n_listeners = s->n_observed = 0;
}

int svc_set_config(struct svc *s, const struct service_config *cfg)
{
	struct listener *ls = cfg->n_listen ? calloc(cfg->n_listen, sizeof(*ls)) : NULL;
	struct probe_health *ps = cfg->n_probes ? calloc(cfg->n_probes, sizeof(*ps)) : NULL;

	if ((cfg->n_listen && !ls) || (cfg->n_probes && !ps)) {
		free(ls);
		free(ps);
		return -ENOMEM;
	}
	svc_free(s);
	s->listeners = ls;
	s->probes = ps;
	svc_rebind(s, cfg);
	for (size_t i = 0; i < cfg->n_listen; i++)
		listener_init(&s->listeners[i], &cfg->listen[i], cfg->listen[i].text);
	return 0;
}

void svc_rebind(struct svc *s, const struct service_config *cfg)
{
	s->cfg = cfg;
	s->n_listeners = cfg->n_listen;
	for (size_t i = 0; i < cfg->n_listen; i++)
		s->listeners[i].spec = &cfg->listen[i];
}

void svc_spawned(struct svc *s, pid_t pid, uint64_t now)
{
	s->pid = pid;
	s->spawned_at = now;
	s->deadline_kind = s->cfg->ready_timeout_ns ? DEADLINE_READY : DEADLINE_NONE;
	s->deadline = s->cfg->ready_timeout_ns ? now + s->cfg->ready_timeout_ns : 0;
}

bool svc_listeners_ready(const struct svc *s)
{
	if (s->n_listeners) {
		for (size_t i = 0; i < s->n_listeners; i++)
			if (!listener_ready(&s->listeners[i]))
				return false;
		return true;
	}
	for (size_t i = 0; i < s->n_observed; i++)
		if (listener_ready(&s->observed[i]))
			return true;
	return false;
}

/* No probe failing; during start with `ready = probe`, every probe passed. */
/*
 * No probe failing; while starting, every serving check passed, and with
 * ready = probe every probe did. A serving check says nothing once it runs.
 */
static bool probes_ready(const struct svc *s)
{
	bool starting = s->state == SVC_STARTING;
	bool gate = starting && (s->cfg->ready & READY_PROBE);

	for (size_t i = 0; i < s->cfg->n_probes; i++) {
		enum probe_verdict v = s->probes[i].verdict;
		if (s->cfg->probes[i].until_ready
			    ? starting && v != VERDICT_OK
			    : v == VERDICT_FAILING || (gate && v != VERDICT_OK))
			return false;
	}
	return true;
}

bool svc_listener_lost(const struct svc *s)
{
	const struct listener *ls = s->n_listeners ? s->listeners : s->observed;
	size_t n = s->n_listeners ? s->n_listeners : s->n_observed;

	for (size_t i = 0; i < n; i++)
		if (ls[i].level == LEVEL_CLOSED)
			return true;
	return false;
}

bool svc_ready(const struct svc *s)
{
	unsigned int gates = s->cfg->ready;
	/*
	 * With the accept gate, every declared listener must be accepting.
	 * Without it, listeners never gate the start; afterwards only one that
	 * was up and closed counts against it (it may never be seen accepting).
	 */
	bool listeners = gates & READY_ACCEPT ? svc_listeners_ready(s)
					      : s->state == SVC_STARTING || !svc_listener_lost(s);

	return listeners && probes_ready(s) && (!(gates & READY_NOTIFY) || s->notified_ready) &&
	       (!(gates & READY_FILE) || s->marker_present) &&
	       (!(gates & READY_FD) || s->fd_ready) && !s->watchdog_expired;
}

bool svc_needs_syscalls(const struct svc *s)
{
	/*
	 * Starting; or unhealthy, alive, and waiting for a lost listener to come
	 * back; or it said READY=1 and the kernel has yet to see it accept.
	 */
	return s->state == SVC_STARTING || (s->ready_mismatch && s->pid) ||
	       (s->state == SVC_UNHEALTHY && s->pid && !s->liveness_restart &&
		svc_listener_lost(s));
}

bool svc_probe_wanted(const struct svc *s, size_t i)
{
	bool gate_first = s->cfg->ready & READY_ACCEPT;

	/* (STARTING: with both gates, the kernel first: probe traffic cannot cause readiness.) */
	if (i >= s->cfg->n_probes || !s->pid)
		return false;
	if (s->cfg->probes[i].until_ready)
		return s->state == SVC_STARTING && s->probes[i].verdict != VERDICT_OK &&
		       (!gate_first || svc_listeners_ready(s));
	switch (s->state) {
	case SVC_STARTING:
		return (s->cfg->ready & READY_PROBE) && (!gate_first || svc_listeners_ready(s));
	case SVC_RUNNING:
		return true;
	case SVC_UNHEALTHY: /* paused while being restarted, or until a lost listener is back */
		if (s->liveness_restart)
			return false;
		return gate_first ? svc_listeners_ready(s) : !svc_listener_lost(s);
	default:
		return false;
	}
}

bool svc_probing(const struct svc *s)
{
	for (size_t i = 0; i < s->cfg->n_probes; i++)
		if (svc_probe_wanted(s, i))
			return true;
	return false;
}

bool svc_probe_for_readiness(const struct svc *s, size_t i)
{
	return s->state == SVC_STARTING && i < s->cfg->n_probes &&
	       (s->cfg->probes[i].until_ready || (s->cfg->ready & READY_PROBE));
}

uint64_t svc_phase_at(const struct svc *s, enum level level)
{
	uint64_t at = 0;

	if (s->n_listeners) { /* the phase ends when the last listener gets there */
		for (size_t i = 0; i < s->n_listeners; i++) {
			uint64_t t = s->listeners[i].at[level];
			if (!t)
				return 0;
			if (t > at)
				at = t;
		}
		return at;
	}
	for (size_t i = 0; i < s->n_observed; i++) { /* the first listener of the tree */
		uint64_t t = s->observed[i].at[level];
		if (t && (!at || t < at))
			at = t;
	}
	return at;
}

bool svc_queues_watched(const struct svc *s)
{
	return s->pid && s->n_listeners && (s->state == SVC_RUNNING || s->state == SVC_UNHEALTHY);
}

uint64_t svc_notify_rejected(struct svc *s, enum notify_reject why)
{
	uint64_t total = 0;

	if (why < REJECT_COUNT)
		s->notify_rejected[why]++;
	for (int r = 0; r < REJECT_COUNT; r++)
		total += s->notify_rejected[r];
	return total;
}

bool svc_next_try(const struct svc *s, uint64_t now, uint64_t *in_ns)
{
	if (!s->cooldown_at || s->deadline_kind != DEADLINE_RESTART)
		return false;
	*in_ns = s->cooldown_at > now ? s->cooldown_at - now : 0;
	return true;
}

bool svc_set_held(struct svc *s, const char *why)
{
	if (strcmp(s->cause, why) == 0)
		return false;
	str_copy(s->cause, why, sizeof(s->cause));
	return true;
}
