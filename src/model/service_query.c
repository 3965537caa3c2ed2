// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Questions about a service, and its set-up: everything but the transitions. */
#include <stdio.h>
#include <string.h>

#include "model/service.h"
#include "base/util.h"

static const char *const state_names[SVC_STATE_COUNT] = {
	[SVC_STOPPED] = "stopped", [SVC_STARTING] = "starting", [SVC_RUNNING] = "running",
	[SVC_UNHEALTHY] = "unhealthy", [SVC_FAILED] = "failed", [SVC_STOPPING] = "stopping",
};

const char *svc_state_name(enum svc_state st)
{
	return st < SVC_STATE_COUNT ? state_names[st] : "?";
}

const char *notify_reject_name(enum notify_reject r)
{
	static const char *const names[REJECT_COUNT] = {
		[REJECT_MALFORMED] = "malformed",
		[REJECT_OVERSIZED] = "oversized",
		[REJECT_FOREIGN] = "foreign_sender",
		[REJECT_NO_CREDENTIALS] = "no_credentials",
	};

	return r < REJECT_COUNT ? names[r] : "?";
}

const char *accept_via_name(unsigned int via)
{
	switch (via) {
	case VIA_ACCEPT:
		return "accept";
	case VIA_EPOLL:
		return "epoll";
	case VIA_POLL:
		return "poll";
	case VIA_SELECT:
		return "select";
	case VIA_FENTRY:
		return "inet_csk_accept";
	}
	return "kernel state";
}

void svc_exit_describe(const struct svc_exit *e, char *buf, size_t size)
{
	char who[SERVICE_NAME_MAX + 16] = "";

	if (e->process[0]) /* one process of several: name it */
		snprintf(who, sizeof(who), "process %s ", e->process);
	if (e->detached)
		snprintf(buf, size, "no longer watched; it still runs");
	else if (e->spawn_error[0])
		snprintf(buf, size, "%scould not be started: %s", who, e->spawn_error);
	else if (e->unknown)
		snprintf(buf, size, "%sexited (not readyd's child: its status is unknown)", who);
	else {
		char how[64];
		fmt_exit_status(how, sizeof(how), e->code, e->signal);
		snprintf(buf, size, "%s%s", who, how);
	}
}

void svc_main_changed(struct svc *s, pid_t pid)
{
	if (s->pid)
		s->pid = pid;
}

void svc_init(struct svc *s, const struct service_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->state = SVC_STOPPED;
	str_copy(s->cause, "not started yet", sizeof(s->cause));
	svc_set_config(s, cfg);
}

void svc_set_config(struct svc *s, const struct service_config *cfg)
{
	memset(s->listeners, 0, sizeof(s->listeners));
	memset(s->probes, 0, sizeof(s->probes));
	s->n_observed = 0;
	svc_rebind(s, cfg);
	for (size_t i = 0; i < cfg->n_listen; i++)
		listener_init(&s->listeners[i], &cfg->listen[i], cfg->listen[i].text);
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
static bool probes_ready(const struct svc *s)
{
	bool gate = s->state == SVC_STARTING && (s->cfg->ready & READY_PROBE);

	for (size_t i = 0; i < s->cfg->n_probes; i++) {
		enum probe_verdict v = s->probes[i].verdict;
		if (v == VERDICT_FAILING || (gate && v != VERDICT_OK))
			return false;
	}
	return true;
}

/* A listener that served this instance is closed now. */
static bool listener_lost(const struct svc *s)
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
						 : s->state == SVC_STARTING || !listener_lost(s);

	return listeners && probes_ready(s) && (!(gates & READY_NOTIFY) || s->notified_ready) &&
	       (!(gates & READY_FILE) || s->marker_present) && !s->watchdog_expired;
}

bool svc_needs_syscalls(const struct svc *s)
{
	/*
	 * Starting; or unhealthy, alive, and waiting for a lost listener to come
	 * back; or it said READY=1 and the kernel has yet to see it accept.
	 */
	return s->state == SVC_STARTING || (s->ready_mismatch && s->pid) ||
	       (s->state == SVC_UNHEALTHY && s->pid && !s->liveness_restart && listener_lost(s));
}

bool svc_probing(const struct svc *s)
{
	bool gate_first = s->cfg->ready & READY_ACCEPT;

	/* (STARTING: with both gates, the kernel first: probe traffic cannot cause readiness.) */
	if (!s->cfg->n_probes || !s->pid)
		return false;
	switch (s->state) {
	case SVC_STARTING:
		return (s->cfg->ready & READY_PROBE) && (!gate_first || svc_listeners_ready(s));
	case SVC_RUNNING:
		return true;
	case SVC_UNHEALTHY: /* paused while being restarted, or until a lost listener is back */
		if (s->liveness_restart)
			return false;
		return gate_first ? svc_listeners_ready(s) : !listener_lost(s);
	default:
		return false;
	}
}

static struct listener *find_by_sock(struct listener *ls, size_t n, uint64_t sk)
{
	for (size_t i = 0; sk && i < n; i++)
		if (listener_has_sock(&ls[i], sk))
			return &ls[i];
	return NULL;
}

struct listener *svc_listener_for(struct svc *s, uint64_t sk, const struct sock_addr *a,
				  bool create)
{
	struct listener *l;
	char label[SOCK_ADDR_TEXT_MAX];

	if (s->n_listeners) {
		l = find_by_sock(s->listeners, s->n_listeners, sk);
		for (size_t i = 0; !l && a && i < s->n_listeners; i++)
			if (listen_spec_matches(s->listeners[i].spec, a))
				l = &s->listeners[i];
		return l;
	}
	l = find_by_sock(s->observed, s->n_observed, sk);
	if (l || !a || !create || s->n_observed == SVC_OBSERVED_MAX)
		return l;
	sock_addr_format(label, sizeof(label), a);
	for (size_t i = 0; i < s->n_observed; i++)
		if (strcmp(s->observed[i].label, label) == 0)
			return &s->observed[i];
	l = &s->observed[s->n_observed++];
	listener_init(l, NULL, label);
	return l;
}

const struct listener_sock *svc_sock_by_ino(const struct svc *s, uint64_t ino)
{
	const struct listener *sets[2] = { s->listeners, s->observed };
	size_t counts[2] = { s->n_listeners, s->n_observed };

	for (int k = 0; ino && k < 2; k++)
		for (size_t i = 0; i < counts[k]; i++)
			for (size_t j = 0; j < sets[k][i].n_socks; j++)
				if (sets[k][i].socks[j].ino == ino)
					return &sets[k][i].socks[j];
	return NULL;
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

void svc_describe_listeners(const struct svc *s, char *buf, size_t size)
{
	const struct listener *ls = s->n_listeners ? s->listeners : s->observed;
	size_t n = s->n_listeners ? s->n_listeners : s->n_observed;

	buf[0] = '\0';
	if (!n)
		str_append(buf, size, "no listener seen");
	for (size_t i = 0; i < n; i++)
		str_append(buf, size, "%s%s %s", i ? ", " : "", ls[i].label, level_name(ls[i].level));
}

void svc_describe_reports(const struct svc *s, char *buf, size_t size)
{
	buf[0] = '\0';
	if ((s->cfg->ready & READY_NOTIFY) && !s->notified_ready)
		str_append(buf, size, "no READY=1 yet%s%s%s", s->status_text[0] ? " (STATUS=" : "",
			   s->status_text, s->status_text[0] ? ")" : "");
	if ((s->cfg->ready & READY_FILE) && !s->marker_present)
		str_append(buf, size, "%sno marker %s", buf[0] ? ", " : "", s->cfg->ready_file);
}

void svc_describe_probes(const struct svc *s, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_probes; i++) {
		const struct probe_health *h = &s->probes[i];
		if (h->verdict == VERDICT_OK)
			continue;
		str_append(buf, size, "%sprobe %s: %s", buf[0] ? ", " : "", s->cfg->probes[i].text,
			   !h->has_result ? "no result yet"
			   : h->last_ok	  ? "passing, not yet enough in a row"
					  : h->last_reason);
	}
}
