// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine: the table at the bottom, and the cells it names. */
#include "model/service.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

typedef void (*svc_fn)(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);

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

static const char *why_or(const struct svc_input *in, const char *fallback)
{
	return in->why ? in->why : fallback;
}

/* ---- actions shared by several cells of the table ---- */

static void spawn(struct svc *s, bool is_restart, const char *why, uint64_t now,
		  struct svc_actions *out)
{
	out->spawn = true;
	s->started_once = true;
	s->restarts += is_restart;
	s->pid = 0;
	s->spawned_at = now;
	s->ready_at = 0;
	s->start_pending = s->pending_restart = s->liveness_restart = false;
	for (size_t i = 0; i < s->n_listeners; i++)
		listener_reset(&s->listeners[i]);
	s->n_observed = 0;
	for (size_t i = 0; i < s->cfg->n_probes; i++)
		probe_health_restart(&s->probes[i]);
	s->notified_ready = s->reloading = s->stopping_notified = s->marker_present = false;
	s->status_text[0] = '\0';
	s->notify_errno = 0;
	s->watchdog_ns = s->cfg->watchdog_ns;
	s->watchdog_expired = s->ready_mismatch = s->ready_timed_out = false;
	if (s->n_starts == START_LIMIT_BURST_MAX + 1) /* keep the newest */
		memmove(s->starts, s->starts + 1, sizeof(s->starts[0]) * --s->n_starts);
	s->starts[s->n_starts++] = now;
	set_deadline(s, DEADLINE_NONE, 0); /* the ready timeout starts at the fork: svc_spawned */
	set_state(s, SVC_STARTING, now, out, "%s", why);
}

/* Starts within the start-limit window before now. */
static size_t recent_starts(const struct svc *s, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_starts; i++)
		n += now - s->starts[i] < s->cfg->start_limit_interval_ns;
	return n;
}

static void forget_failures(struct svc *s)
{
	s->start_limit_hit = false;
	s->n_starts = 0;
	s->attempt = 0;
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

/* Restart after the backoff delay; say so at the end of the cause. */
static void schedule_restart(struct svc *s, const struct svc_input *in, uint64_t now)
{
	const struct backoff_params *b = &s->cfg->backoff;
	uint64_t delay;
	char text[32];

	if (s->ready_at && now - s->ready_at >= b->reset_after_ns)
		s->attempt = 0; /* it ran long enough: earlier failures are history */
	delay = backoff_delay(b, s->attempt++, in->random);
	set_deadline(s, DEADLINE_RESTART, now + delay);
	fmt_duration(text, sizeof(text), delay);
	str_append(s->cause, sizeof(s->cause), "; restart in %s", text);
}

static void maybe_schedule_restart(struct svc *s, bool clean, const struct svc_input *in,
				   uint64_t now)
{
	if (wants_restart(s, clean))
		schedule_restart(s, in, now);
	else
		set_deadline(s, DEADLINE_NONE, 0);
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

/* Entering unhealthy: with on_unhealthy = restart, also stop it for a restart. */
static void go_unhealthy(struct svc *s, uint64_t now, struct svc_actions *out, const char *why)
{
	bool restart = s->cfg->on_unhealthy == ON_UNHEALTHY_RESTART && s->pid;

	set_state(s, SVC_UNHEALTHY, now, out, "%s%s", why,
		  restart ? "; restarting it (on_unhealthy = restart)" : "");
	if (restart) {
		s->liveness_restart = true;
		terminate(s, now, out);
	}
}

/* ---- the cells of the table ---- */

static void on_start(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	s->want_up = true;
	forget_failures(s); /* an operator acting clears the start limit */
	if (s->pid)
		s->start_pending = true; /* the old process is still being stopped */
	else
		spawn(s, false, why_or(in, "started"), now, out);
}

static void on_start_pending(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = true;
	s->start_pending = true;
	forget_failures(s);
}

static void on_restart_pending(struct svc *s, const struct svc_input *in, uint64_t now,
			       struct svc_actions *out)
{
	on_start_pending(s, in, now, out);
	s->pending_restart = true;
}

/* Stop while stopping: it stays down, even if a restart was under way. */
static void on_stop_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = false;
	s->start_pending = s->pending_restart = s->liveness_restart = false;
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
	s->start_pending = s->liveness_restart = false;
	if (!s->pid) { /* the fork was still queued, or a restart was pending */
		set_deadline(s, DEADLINE_NONE, 0);
		set_state(s, SVC_STOPPED, now, out, "%s%s", why_or(in, "stop requested"),
			  s->state == SVC_STARTING ? " before it was spawned" : "");
		return;
	}
	terminate(s, now, out);
	set_state(s, SVC_STOPPING, now, out, "%s", why_or(in, "stop requested"));
}

/* Stop while failed: keep killing a process that is still there, drop a pending restart. */
static void on_stop_failed(struct svc *s, const struct svc_input *in, uint64_t now,
			   struct svc_actions *out)
{
	s->want_up = false;
	s->start_pending = false;
	if (s->pid) {
		set_state(s, SVC_STOPPING, now, out, "%s", why_or(in, "stop requested"));
		return;
	}
	set_deadline(s, DEADLINE_NONE, 0);
	set_state(s, SVC_STOPPED, now, out, "%s", why_or(in, "stop requested"));
}

static void on_stop_stopped(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = false;
	s->start_pending = false;
	set_deadline(s, DEADLINE_NONE, 0); /* cancels a restart=always restart */
}

static void on_restart(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	if (!s->pid) { /* a fork still queued, or dead and waiting to restart */
		on_start(s, in, now, out);
		return;
	}
	s->want_up = true;
	forget_failures(s);
	s->start_pending = s->pending_restart = true;
	s->liveness_restart = false;
	terminate(s, now, out);
	set_state(s, SVC_STOPPING, now, out, "%s", why_or(in, "restart requested"));
}

static void on_reset(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	bool was_limited = s->start_limit_hit;

	(void)in, (void)out;
	forget_failures(s);
	/* Held back only by the limit: the restart policy resumes now. */
	if (was_limited && s->state == SVC_FAILED && !s->pid && s->want_up)
		set_deadline(s, DEADLINE_RESTART, now);
}

/* What completed readiness, for the cause: "READY=1 ...", "accepting on ...". */
static void describe_reports(struct svc *s, char *buf, size_t size)
{
	if (s->cfg->ready & READY_NOTIFY)
		str_append(buf, size, "%sREADY=1", buf[0] ? "; " : "");
	if (s->cfg->ready & READY_FILE)
		str_append(buf, size, "%smarker %s", buf[0] ? "; " : "", s->cfg->ready_file);
	if (s->cfg->ready & READY_PROBE)
		str_append(buf, size, "%severy probe passed", buf[0] ? "; " : "");
}

static void describe_ready(struct svc *s, char *buf, size_t size)
{
	const struct listener *why = NULL;
	char took[48];
	char span[24];

	/* An adopted process was not spawned by readyd: time runs from the attach. */
	fmt_duration(span, sizeof(span), s->ready_at - s->spawned_at);
	snprintf(took, sizeof(took), "%s after %s", span, s->cfg->adopted ? "readyd attached" : "spawn");
	if (!(s->cfg->ready & READY_ACCEPT)) {
		buf[0] = '\0';
		describe_reports(s, buf, size);
		str_append(buf, size, ", %s", took);
		return;
	}
	/* Name the listener that completed readiness: the latest to get there. */
	for (size_t i = 0; i < s->n_listeners; i++)
		if (!why || s->listeners[i].at[LEVEL_ACCEPTING] > why->at[LEVEL_ACCEPTING])
			why = &s->listeners[i];
	for (size_t i = 0; !why && i < s->n_observed; i++)
		if (listener_ready(&s->observed[i]))
			why = &s->observed[i];
	if (!why)
		snprintf(buf, size, "ready %s", took);
	else if (why->connectionless)
		snprintf(buf, size, "%s bound, %s", why->label, took);
	else
		snprintf(buf, size, "accepting on %s (%s by pid %d), %s", why->label,
			 accept_via_name(why->via), (int)why->pid, took);
	describe_reports(s, buf, size);
}

/* While running, the watchdog (if any) is the one deadline. */
static void arm_watchdog(struct svc *s, uint64_t now)
{
	if (s->watchdog_ns)
		set_deadline(s, DEADLINE_WATCHDOG, now + s->watchdog_ns);
	else
		set_deadline(s, DEADLINE_NONE, 0);
}

/* Starting or unhealthy, and maybe every condition holds now. */
static void check_ready(struct svc *s, uint64_t now, struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	if (!svc_ready(s))
		return;
	arm_watchdog(s, now);
	if (s->state == SVC_UNHEALTHY) {
		set_state(s, SVC_RUNNING, now, out, "every listener accepting and every probe passing again");
		return;
	}
	s->ready_at = now;
	describe_ready(s, text, sizeof(text));
	set_state(s, SVC_RUNNING, now, out, "%s", text);
}

/* It says it is ready: does the kernel agree? A self-report that lies is what nobody sees. */
static void check_mismatch(struct svc *s)
{
	bool contradicted = s->n_listeners && !svc_listeners_ready(s);

	if (contradicted && !s->ready_mismatch)
		s->ready_mismatches++;
	s->ready_mismatch = contradicted;
}

static void on_progress(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	(void)in;
	if (s->ready_mismatch && svc_listeners_ready(s))
		s->ready_mismatch = false; /* the kernel caught up */
	if (!s->liveness_restart && (s->state == SVC_STARTING || s->state == SVC_UNHEALTHY))
		check_ready(s, now, out);
}

/* ---- self-reports ---- */

/* Record what an sd_notify message says; true if it said READY=1. */
static bool record_notify(struct svc *s, const struct notify_msg *m, uint64_t now)
{
	if (m->has_status)
		str_copy(s->status_text, m->status, sizeof(s->status_text));
	if (m->err_no)
		s->notify_errno = m->err_no;
	s->reloading = (s->reloading || m->reloading) && !m->ready;
	s->stopping_notified |= m->stopping;
	if (m->watchdog_usec)
		s->watchdog_ns = m->watchdog_usec * 1000;
	/* EXTEND_TIMEOUT_USEC: the start (or stop) may take longer than configured. */
	if (m->extend_usec && (s->deadline_kind == DEADLINE_READY || s->deadline_kind == DEADLINE_KILL) &&
	    now + m->extend_usec * 1000 > s->deadline)
		s->deadline = now + m->extend_usec * 1000;
	if (m->ready) {
		s->notified_ready = true;
		check_mismatch(s);
	}
	return m->ready;
}

static void watchdog_failed(struct svc *s, uint64_t now, struct svc_actions *out, bool triggered)
{
	char text[SVC_CAUSE_MAX], took[32];

	s->watchdog_expired = true;
	if (s->state != SVC_RUNNING)
		return;
	fmt_duration(took, sizeof(took), s->watchdog_ns);
	snprintf(text, sizeof(text), triggered ? "watchdog: the service sent WATCHDOG=trigger"
					       : "watchdog: no WATCHDOG=1 within %s", took);
	go_unhealthy(s, now, out, text);
}

static void on_notify(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	const struct notify_msg *m = in->notify;

	if (!m)
		return;
	record_notify(s, m, now);
	if (m->watchdog_trigger && (s->state == SVC_RUNNING || s->state == SVC_UNHEALTHY)) {
		watchdog_failed(s, now, out, true);
		return;
	}
	if (m->watchdog_ping && s->deadline_kind != DEADLINE_KILL && !s->liveness_restart &&
	    (s->state == SVC_RUNNING || s->state == SVC_UNHEALTHY)) {
		s->watchdog_expired = false;
		if (s->state == SVC_RUNNING)
			arm_watchdog(s, now);
	}
	if (!s->liveness_restart && (s->state == SVC_STARTING || s->state == SVC_UNHEALTHY))
		check_ready(s, now, out);
}

static void on_marker(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	s->marker_present = in->ok;
	if (in->ok)
		check_mismatch(s);
	if (!in->ok && s->state == SVC_RUNNING && (s->cfg->ready & READY_FILE)) {
		snprintf(text, sizeof(text), "ready marker %s was removed", s->cfg->ready_file);
		go_unhealthy(s, now, out, text);
	} else if (!s->liveness_restart && (s->state == SVC_STARTING || s->state == SVC_UNHEALTHY)) {
		check_ready(s, now, out);
	}
}

static void on_listener_lost(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	if (in->cause)
		snprintf(text, sizeof(text), "%s", in->cause);
	else
		snprintf(text, sizeof(text), "listener %s closed", why_or(in, "?"));
	go_unhealthy(s, now, out, text);
}

/* Record a probe result; true if it just turned failing. */
static bool record_probe(struct svc *s, const struct svc_input *in, uint64_t now)
{
	const struct service_config *c = s->cfg;

	if (in->probe >= c->n_probes)
		return false;
	return probe_health_record(&s->probes[in->probe], in->ok, in->why, in->duration_ns, now,
				   c->success_threshold, c->failure_threshold) &&
	       s->probes[in->probe].verdict == VERDICT_FAILING;
}

static void on_probe_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			      struct svc_actions *out)
{
	record_probe(s, in, now);
	check_ready(s, now, out); /* a failing probe just keeps it starting, up to ready_timeout */
}

static void on_probe_running(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	const struct probe_health *h = &s->probes[in->probe < CONFIG_MAX_PROBES ? in->probe : 0];
	char text[SVC_CAUSE_MAX];

	if (!record_probe(s, in, now))
		return;
	snprintf(text, sizeof(text), "probe %s failed %u time%s in a row: %s",
		 s->cfg->probes[in->probe].text, h->consecutive_fail,
		 h->consecutive_fail == 1 ? "" : "s", h->last_reason);
	go_unhealthy(s, now, out, text);
}

static void on_probe_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			       struct svc_actions *out)
{
	record_probe(s, in, now);
	if (!s->liveness_restart)
		check_ready(s, now, out);
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

/*
 * Unhealthy and stopped for on_unhealthy = restart: back after the backoff
 * delay. A process that ended otherwise than by the signals readyd sent
 * (a crash, an exit of its own) is judged by how it ended.
 */
static void on_exit_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			      struct svc_actions *out)
{
	bool ours = in->exit.signal == SIGTERM || in->exit.signal == SIGKILL;

	if (!s->liveness_restart || !ours) {
		s->liveness_restart = false;
		on_exit_alive(s, in, now, out);
		return;
	}
	record_exit(s, in, now);
	schedule_restart(s, in, now); /* a failure: it counts for backoff and start limit */
}

/* The process we were killing after a failure is gone: now the policy applies. */
static void on_exit_failed(struct svc *s, const struct svc_input *in, uint64_t now,
			   struct svc_actions *out)
{
	record_exit(s, in, now);
	if (s->start_pending)
		spawn(s, s->pending_restart, "started by operator", now, out);
	else
		maybe_schedule_restart(s, false, in, now);
}

static void on_exit_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	char text[160];

	record_exit(s, in, now);
	if (s->start_pending) { /* restart: straight from stopping to starting */
		spawn(s, s->pending_restart, s->pending_restart ? "restarted by operator"
								 : "started by operator", now, out);
		return;
	}
	svc_exit_describe(&in->exit, text, sizeof(text));
	set_deadline(s, DEADLINE_NONE, 0);
	set_state(s, SVC_STOPPED, now, out, "stopped (%s)", text);
}

/* "not ready after 30.00s (tcp:127.0.0.1:8080 listening; probe http://...: HTTP 503)" */
static void on_ready_timeout(struct svc *s, uint64_t now, struct svc_actions *out)
{
	char what[SVC_CAUSE_MAX - 40], probes[SVC_CAUSE_MAX / 2], took[32];

	what[0] = '\0';
	if ((s->cfg->ready & READY_ACCEPT) || s->n_listeners)
		svc_describe_listeners(s, what, sizeof(what));
	svc_describe_reports(s, probes, sizeof(probes));
	if (probes[0])
		str_append(what, sizeof(what), "%s%s", what[0] ? "; " : "", probes);
	svc_describe_probes(s, probes, sizeof(probes));
	if (probes[0])
		str_append(what, sizeof(what), "%s%s", what[0] ? "; " : "", probes);
	fmt_duration(took, sizeof(took), s->cfg->ready_timeout_ns);
	s->ready_timed_out = true;
	terminate(s, now, out);
	set_state(s, SVC_FAILED, now, out, "not ready after %s (%s)", took, what);
}

/* A restart is due: unless more than start_limit_burst starts fell in the window. */
static void restart_or_limit(struct svc *s, uint64_t now, struct svc_actions *out)
{
	const struct service_config *c = s->cfg;
	char window[32];

	if (c->start_limit_burst && recent_starts(s, now) >= c->start_limit_burst) {
		s->start_limit_hit = true;
		fmt_duration(window, sizeof(window), c->start_limit_interval_ns);
		set_state(s, SVC_FAILED, now, out,
			  "start limit hit: %u starts within %s; not restarting until "
			  "`readyctl reset %s` or a start",
			  c->start_limit_burst, window, c->name);
		return;
	}
	spawn(s, true, "restart", now, out);
}

static void on_deadline(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	enum svc_deadline kind = s->deadline_kind;

	(void)in;
	set_deadline(s, DEADLINE_NONE, 0);
	switch (kind) {
	case DEADLINE_READY:
		if (s->state == SVC_STARTING)
			on_ready_timeout(s, now, out);
		break;
	case DEADLINE_KILL:
		if (s->pid)
			out->signal = SIGKILL;
		break;
	case DEADLINE_RESTART:
		if (!s->pid)
			restart_or_limit(s, now, out);
		break;
	case DEADLINE_WATCHDOG:
		if (s->state == SVC_RUNNING)
			watchdog_failed(s, now, out, false);
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
	/*                 START             STOP             RESTART             RESET     PROGRESS     LISTENER_LOST     PROBE               NOTIFY     MARKER     EXIT               DEADLINE */
	[SVC_STOPPED]   = { on_start,         on_stop_stopped, on_start,           on_reset, NULL,        NULL,             NULL,               NULL,      NULL,      NULL,              on_deadline },
	[SVC_STARTING]  = { on_start_noop,    on_stop_alive,   on_restart,         on_reset, on_progress, NULL,             on_probe_starting,  on_notify, on_marker, on_exit_alive,     on_deadline },
	[SVC_RUNNING]   = { on_start_noop,    on_stop_alive,   on_restart,         on_reset, on_progress, on_listener_lost, on_probe_running,   on_notify, on_marker, on_exit_alive,     on_deadline },
	[SVC_UNHEALTHY] = { on_start_noop,    on_stop_alive,   on_restart,         on_reset, on_progress, NULL,             on_probe_unhealthy, on_notify, on_marker, on_exit_unhealthy, on_deadline },
	[SVC_FAILED]    = { on_start,         on_stop_failed,  on_start,           on_reset, NULL,        NULL,             NULL,               on_notify, NULL,      on_exit_failed,    on_deadline },
	[SVC_STOPPING]  = { on_start_pending, on_stop_stopping, on_restart_pending, on_reset, NULL,        NULL,             NULL,               on_notify, NULL,      on_exit_stopping,  on_deadline },
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
