// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "service.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "readyd_event.h"
#include "util.h"

typedef void (*svc_fn)(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);

static const char *const state_names[SVC_STATE_COUNT] = {
	[SVC_STOPPED] = "stopped", [SVC_STARTING] = "starting", [SVC_RUNNING] = "running",
	[SVC_UNHEALTHY] = "unhealthy", [SVC_FAILED] = "failed", [SVC_STOPPING] = "stopping",
};

const char *svc_state_name(enum svc_state st)
{
	return st < SVC_STATE_COUNT ? state_names[st] : "?";
}

const char *accept_via_name(unsigned int via)
{
	switch (via) {
	case RD_VIA_ACCEPT:
		return "accept";
	case RD_VIA_EPOLL:
		return "epoll";
	case RD_VIA_POLL:
		return "poll";
	case RD_VIA_SELECT:
		return "select";
	case RD_VIA_FENTRY:
		return "inet_csk_accept";
	}
	return "kernel state";
}

void svc_exit_describe(const struct svc_exit *e, char *buf, size_t size)
{
	if (e->spawn_error[0])
		snprintf(buf, size, "could not be started: %s", e->spawn_error);
	else if (e->signal)
		snprintf(buf, size, "killed by signal %d (SIG%s)", e->signal,
			 sigabbrev_np(e->signal) ? sigabbrev_np(e->signal) : "?");
	else
		snprintf(buf, size, "exited with status %d", e->code);
}

static void set_state(struct svc *s, enum svc_state to, uint64_t now, struct svc_actions *out,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_state(struct svc *s, enum svc_state to, uint64_t now, struct svc_actions *out,
		      const char *fmt, ...)
{
	va_list ap;

	out->changed = true;
	out->from = s->state;
	out->to = to;
	s->state = to;
	s->since = now;
	s->transitions[to]++;
	va_start(ap, fmt);
	vsnprintf(s->cause, sizeof(s->cause), fmt, ap);
	va_end(ap);
}

static void set_deadline(struct svc *s, enum svc_deadline kind, uint64_t at)
{
	s->deadline_kind = kind;
	s->deadline = kind == DEADLINE_NONE ? 0 : at;
}

/* ---- actions shared by several cells of the table ---- */

static void spawn(struct svc *s, const char *why, uint64_t now, struct svc_actions *out)
{
	out->spawn = true;
	s->started_once = true;
	s->pid = 0;
	s->spawned_at = now;
	s->ready_at = 0;
	s->start_pending = false;
	for (size_t i = 0; i < s->n_listeners; i++)
		listener_reset(&s->listeners[i]);
	s->n_observed = 0;
	set_deadline(s, DEADLINE_NONE, 0); /* the ready timeout starts at the fork: svc_spawned */
	set_state(s, SVC_STARTING, now, out, "%s", why);
}

static void terminate(struct svc *s, uint64_t now, struct svc_actions *out)
{
	out->signal = SIGTERM;
	set_deadline(s, DEADLINE_KILL, now + s->cfg->stop_timeout_ns);
}

static bool wants_restart(const struct svc *s, bool clean)
{
	if (!s->want_up)
		return false;
	switch (s->cfg->restart) {
	case RESTART_NO:
		return false;
	case RESTART_ON_FAILURE:
		return !clean;
	case RESTART_ALWAYS:
		return true;
	}
	return false;
}

/* Schedule a restart if the policy wants one; say so at the end of the cause. */
static void maybe_schedule_restart(struct svc *s, bool clean, const struct svc_input *in,
				   uint64_t now)
{
	const struct backoff_params *b = &s->cfg->backoff;
	uint64_t delay;
	char text[32];

	if (!wants_restart(s, clean)) {
		set_deadline(s, DEADLINE_NONE, 0);
		return;
	}
	if (s->ready_at && now - s->ready_at >= b->reset_after_ns)
		s->attempt = 0; /* it ran long enough: earlier failures are history */
	delay = backoff_delay(b, s->attempt++, in->random);
	set_deadline(s, DEADLINE_RESTART, now + delay);
	fmt_duration(text, sizeof(text), delay);
	str_append(s->cause, sizeof(s->cause), "; restart in %s", text);
}

/* A failed bind on a declared address explains an early exit: say who holds it. */
static void append_conflicts(struct svc *s)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].conflict[0])
			str_append(s->cause, sizeof(s->cause), "; %s", s->listeners[i].conflict);
}

/* The main process is gone; keep how it ended for status and the next cause. */
static void record_exit(struct svc *s, const struct svc_input *in, uint64_t now)
{
	s->pid = 0;
	s->has_exit = true;
	s->last_exit = in->exit;
	s->last_exit_at = now;
}

/* ---- the cells of the table ---- */

static void on_start(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	s->want_up = true;
	s->attempt = 0;
	if (s->pid)
		s->start_pending = true; /* the old process is still being stopped */
	else
		spawn(s, in->why ? in->why : "started", now, out);
}

static void on_start_pending(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = true;
	s->start_pending = true;
}

static void on_start_noop(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = true;
}

static void on_stop_alive(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out)
{
	s->want_up = false;
	s->start_pending = false;
	if (!s->pid) { /* the fork was still queued: nothing to stop */
		set_deadline(s, DEADLINE_NONE, 0);
		set_state(s, SVC_STOPPED, now, out, "%s before it was spawned",
			  in->why ? in->why : "stop requested");
		return;
	}
	terminate(s, now, out);
	set_state(s, SVC_STOPPING, now, out, "%s", in->why ? in->why : "stop requested");
}

/* Stop while failed: keep killing a process that is still there, drop a pending restart. */
static void on_stop_failed(struct svc *s, const struct svc_input *in, uint64_t now,
			   struct svc_actions *out)
{
	s->want_up = false;
	s->start_pending = false;
	if (s->pid) {
		set_state(s, SVC_STOPPING, now, out, "%s", in->why ? in->why : "stop requested");
		return;
	}
	set_deadline(s, DEADLINE_NONE, 0);
	set_state(s, SVC_STOPPED, now, out, "%s", in->why ? in->why : "stop requested");
}

static void on_stop_stopped(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = false;
	s->start_pending = false;
	set_deadline(s, DEADLINE_NONE, 0); /* cancels a restart=always restart */
}

static void describe_ready(struct svc *s, char *buf, size_t size)
{
	const struct listener *why = NULL;
	char took[32];

	/* Name the listener that completed readiness: the latest to get there. */
	for (size_t i = 0; i < s->n_listeners; i++)
		if (!why || s->listeners[i].at[LEVEL_ACCEPTING] > why->at[LEVEL_ACCEPTING])
			why = &s->listeners[i];
	for (size_t i = 0; !why && i < s->n_observed; i++)
		if (listener_ready(&s->observed[i]))
			why = &s->observed[i];
	fmt_duration(took, sizeof(took), s->ready_at - s->spawned_at);
	if (!why)
		snprintf(buf, size, "ready %s after spawn", took);
	else if (why->connectionless)
		snprintf(buf, size, "%s bound, %s after spawn", why->label, took);
	else
		snprintf(buf, size, "accepting on %s (%s by pid %d), %s after spawn", why->label,
			 accept_via_name(why->via), (int)why->pid, took);
}

static void on_progress(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	(void)in;
	if (!svc_ready(s))
		return;
	if (s->state == SVC_UNHEALTHY) {
		set_state(s, SVC_RUNNING, now, out, "every listener is accepting again");
		return;
	}
	s->ready_at = now;
	set_deadline(s, DEADLINE_NONE, 0);
	describe_ready(s, text, sizeof(text));
	set_state(s, SVC_RUNNING, now, out, "%s", text);
}

static void on_listener_lost(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	set_state(s, SVC_UNHEALTHY, now, out, "listener %s closed", in->why ? in->why : "?");
}

static void on_exit_alive(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out)
{
	bool clean = !in->exit.spawn_error[0] && !in->exit.signal && in->exit.code == 0;
	bool before_ready = s->state == SVC_STARTING;
	char text[160];

	record_exit(s, in, now);
	svc_exit_describe(&in->exit, text, sizeof(text));
	set_state(s, clean ? SVC_STOPPED : SVC_FAILED, now, out, "%s%s", text,
		  before_ready && !in->exit.spawn_error[0] ? " before it was ready" : "");
	append_conflicts(s);
	maybe_schedule_restart(s, clean, in, now);
}

/* The process we were killing after a failure is gone: now the policy applies. */
static void on_exit_failed(struct svc *s, const struct svc_input *in, uint64_t now,
			   struct svc_actions *out)
{
	(void)out;
	record_exit(s, in, now);
	if (s->start_pending) {
		set_deadline(s, DEADLINE_RESTART, now);
		return;
	}
	maybe_schedule_restart(s, false, in, now);
}

static void on_exit_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	char text[160];

	record_exit(s, in, now);
	svc_exit_describe(&in->exit, text, sizeof(text));
	set_deadline(s, s->start_pending ? DEADLINE_RESTART : DEADLINE_NONE, now);
	set_state(s, SVC_STOPPED, now, out, "stopped (%s)", text);
}

static void on_ready_timeout(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	char levels[SVC_CAUSE_MAX - 64], took[32];

	(void)in;
	svc_describe_listeners(s, levels, sizeof(levels));
	fmt_duration(took, sizeof(took), s->cfg->ready_timeout_ns);
	terminate(s, now, out);
	set_state(s, SVC_FAILED, now, out, "not ready after %s (%s)", took, levels);
}

static void on_deadline(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	enum svc_deadline kind = s->deadline_kind;

	set_deadline(s, DEADLINE_NONE, 0);
	switch (kind) {
	case DEADLINE_READY:
		if (s->state == SVC_STARTING)
			on_ready_timeout(s, in, now, out);
		break;
	case DEADLINE_KILL:
		if (s->pid)
			out->signal = SIGKILL;
		break;
	case DEADLINE_RESTART:
		if (!s->pid) {
			s->restarts++;
			spawn(s, "restart", now, out);
		}
		break;
	case DEADLINE_NONE:
		break;
	}
}

/*
 * Every transition at a glance. Empty cells: the event changes nothing in
 * that state (a late listener event for a stopped service, a second stop...).
 */
// clang-format off
static const svc_fn table[SVC_STATE_COUNT][SVC_EV_COUNT] = {
	/*                 START             STOP             PROGRESS     LISTENER_LOST     EXIT              DEADLINE */
	[SVC_STOPPED]   = { on_start,         on_stop_stopped, NULL,        NULL,             NULL,             on_deadline },
	[SVC_STARTING]  = { on_start_noop,    on_stop_alive,   on_progress, NULL,             on_exit_alive,    on_deadline },
	[SVC_RUNNING]   = { on_start_noop,    on_stop_alive,   NULL,        on_listener_lost, on_exit_alive,    on_deadline },
	[SVC_UNHEALTHY] = { on_start_noop,    on_stop_alive,   on_progress, NULL,             on_exit_alive,    on_deadline },
	[SVC_FAILED]    = { on_start,         on_stop_failed,  NULL,        NULL,             on_exit_failed,   on_deadline },
	[SVC_STOPPING]  = { on_start_pending, NULL,            NULL,        NULL,             on_exit_stopping, on_deadline },
};
// clang-format on

void svc_handle(struct svc *s, enum svc_event ev, const struct svc_input *in, uint64_t now,
		struct svc_actions *out)
{
	static const struct svc_input none;
	svc_fn fn;

	memset(out, 0, sizeof(*out));
	if (s->state >= SVC_STATE_COUNT || ev >= SVC_EV_COUNT)
		return;
	fn = table[s->state][ev];
	if (fn)
		fn(s, in ? in : &none, now, out);
}

void svc_init(struct svc *s, const struct service_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->state = SVC_STOPPED;
	str_copy(s->cause, "not started yet", sizeof(s->cause));
	s->n_listeners = cfg->n_listen;
	for (size_t i = 0; i < cfg->n_listen; i++)
		listener_init(&s->listeners[i], &cfg->listen[i], cfg->listen[i].text);
}

void svc_spawned(struct svc *s, pid_t pid, uint64_t now)
{
	s->pid = pid;
	s->spawned_at = now;
	set_deadline(s, DEADLINE_READY, now + s->cfg->ready_timeout_ns);
}

bool svc_ready(const struct svc *s)
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

bool svc_needs_syscalls(const struct svc *s)
{
	return s->state == SVC_STARTING || (s->state == SVC_UNHEALTHY && !svc_ready(s));
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
	buf[0] = '\0';
	if (!s->n_listeners) {
		str_append(buf, size, s->n_observed ? "" : "no listener seen");
		for (size_t i = 0; i < s->n_observed; i++)
			str_append(buf, size, "%s%s %s", i ? ", " : "", s->observed[i].label,
				   level_name(s->observed[i].level));
		return;
	}
	for (size_t i = 0; i < s->n_listeners; i++)
		str_append(buf, size, "%s%s %s", i ? ", " : "", s->listeners[i].label,
			   level_name(s->listeners[i].level));
}
