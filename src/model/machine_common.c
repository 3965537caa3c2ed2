// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The actions several cells of the table share (machine.c has the table). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/machine_internal.h"
#include "base/util.h"

void set_state(struct svc *s, enum svc_state to, uint64_t now, struct svc_actions *out,
	       const char *fmt, ...)
{
	va_list ap;

	out->changed = out->dirty = true;
	out->from = s->state;
	out->to = to;
	s->state = to;
	s->since = now;
	s->transitions[to]++;
	va_start(ap, fmt);
	vsnprintf(s->cause, sizeof(s->cause), fmt, ap);
	va_end(ap);
}

void set_deadline(struct svc *s, enum svc_deadline kind, uint64_t at)
{
	s->deadline_kind = kind;
	s->deadline = kind == DEADLINE_NONE ? 0 : at;
}

const char *why_or(const struct svc_input *in, const char *fallback)
{
	return in->why ? in->why : fallback;
}

/* ---- life and death ---- */

void spawn(struct svc *s, bool is_restart, const char *why, uint64_t now, struct svc_actions *out)
{
	out->spawn = true;
	s->restarts += is_restart;
	s->pid = 0;
	s->spawned_at = now;
	s->ready_at = 0;
	s->start_pending = s->pending_restart = s->liveness_restart = false;
	for (size_t i = 0; i < s->n_listeners; i++)
		listener_reset(&s->listeners[i]);
	s->n_observed = 0;
	s->undeclared[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_probes; i++)
		probe_health_restart(&s->probes[i]);
	s->notified_ready = s->reloading = s->stopping_notified = s->marker_present = false;
	s->fd_ready = false;
	s->crosscheck_at = s->report_at = 0;
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

void forget_failures(struct svc *s)
{
	s->start_limit_hit = false;
	s->n_starts = 0;
	s->attempt = 0;
	s->cooldown_at = 0;
	s->trial = false;
}

void terminate(struct svc *s, uint64_t now, struct svc_actions *out)
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

void maybe_schedule_restart(struct svc *s, bool clean, const struct svc_input *in, uint64_t now)
{
	if (wants_restart(s, clean))
		schedule_restart(s, in, now);
	else
		set_deadline(s, DEADLINE_NONE, 0);
}

/* Starts within the start-limit window before now. */
static size_t recent_starts(const struct svc *s, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_starts; i++)
		n += now - s->starts[i] < s->cfg->start_limit_interval_ns;
	return n;
}

static bool limit_refuses(const struct svc *s, uint64_t at)
{
	return s->cfg->start_limit_burst && recent_starts(s, at) >= s->cfg->start_limit_burst;
}

/*
 * The start limit refuses a start: failed until `readyctl reset` or a start;
 * with start_limit_cooldown, one more try then (a transient outage heals
 * without an operator). The cause says which, in buf.
 */
static void limit_hit(struct svc *s, uint64_t now, char *buf, size_t size)
{
	char window[32], wait[32], what[96];
	bool was_trial = s->trial;

	s->start_limit_hit = true;
	s->trial = false;
	fmt_duration(window, sizeof(window), s->cfg->start_limit_interval_ns);
	if (was_trial)
		snprintf(what, sizeof(what), "its one more try after the cool-down failed");
	else
		snprintf(what, sizeof(what), "%u starts within %s", s->cfg->start_limit_burst,
			 window);
	if (!s->cfg->start_limit_cooldown_ns) {
		s->cooldown_at = 0;
		set_deadline(s, DEADLINE_NONE, 0);
		snprintf(buf, size,
			 "start limit hit: %s; not restarting until `readyctl reset %s` or a start",
			 what, s->cfg->name);
		return;
	}
	s->cooldown_at = now + s->cfg->start_limit_cooldown_ns;
	set_deadline(s, DEADLINE_RESTART, s->cooldown_at);
	fmt_duration(wait, sizeof(wait), s->cfg->start_limit_cooldown_ns);
	snprintf(buf, size,
		 "start limit hit: %s; next try in %s (start_limit_cooldown), or `readyctl reset "
		 "%s`",
		 what, wait, s->cfg->name);
}

/*
 * After the backoff delay, or, when the start limit would refuse that start,
 * not at all: the cause says so now rather than announce a restart that
 * will not come. False then.
 */
bool schedule_restart(struct svc *s, const struct svc_input *in, uint64_t now)
{
	const struct backoff_params *b = &s->cfg->backoff;
	uint64_t delay;
	char text[SVC_CAUSE_MAX];

	if (s->ready_at && now - s->ready_at >= b->reset_after_ns)
		s->attempt = 0; /* it ran long enough: earlier failures are history */
	delay = backoff_delay(b, s->attempt++, in->random);
	if (s->trial || limit_refuses(s, now + delay)) { /* a failed try re-arms the cool-down */
		limit_hit(s, now, text, sizeof(text));
		str_append(s->cause, sizeof(s->cause), "; %s", text);
		return false;
	}
	set_deadline(s, DEADLINE_RESTART, now + delay);
	fmt_duration(text, sizeof(text), delay);
	str_append(s->cause, sizeof(s->cause), "; restart in %s", text);
	return true;
}

void restart_or_limit(struct svc *s, uint64_t now, struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	if (s->cooldown_at &&
	    now >= s->cooldown_at) { /* half-open: one start, whatever the limit */
		s->cooldown_at = 0;
		s->n_starts = 0;
		s->trial = true;
		spawn(s, true,
		      "the start limit's cool-down is over: one more try (running clears the "
		      "limit, a failure waits again)",
		      now, out);
		return;
	}
	if (limit_refuses(s, now)) {
		limit_hit(s, now, text, sizeof(text));
		set_state(s, SVC_FAILED, now, out, "%s", text);
		return;
	}
	spawn(s, true, "restart", now, out);
}

void record_exit(struct svc *s, const struct svc_input *in, uint64_t now)
{
	s->pid = 0;
	s->has_exit = true;
	s->last_exit = in->exit;
	s->last_exit_at = now;
}

void go_unhealthy(struct svc *s, uint64_t now, struct svc_actions *out, const char *why)
{
	bool restart = s->cfg->on_unhealthy == ON_UNHEALTHY_RESTART && s->pid;

	set_state(s, SVC_UNHEALTHY, now, out, "%s%s", why, restart ? RESTARTING_CLAUSE : "");
	if (restart) {
		s->liveness_restart = true;
		terminate(s, now, out);
	}
}

/* ---- readiness ---- */

/* What completed readiness, for the cause: "READY=1 ...", "accepting on ...". */
static void describe_reports(const struct svc *s, char *buf, size_t size)
{
	if (s->cfg->ready & READY_NOTIFY)
		str_append(buf, size, "%sREADY=1", buf[0] ? "; " : "");
	if (s->cfg->ready & READY_FILE)
		str_append(buf, size, "%smarker %s", buf[0] ? "; " : "", s->cfg->ready_file);
	if (s->cfg->ready & READY_FD)
		str_append(buf, size, "%sthe line on fd %d", buf[0] ? "; " : "", s->cfg->ready_fd);
	if (s->cfg->ready & READY_PROBE)
		str_append(buf, size, "%severy probe passed", buf[0] ? "; " : "");
	for (size_t i = 0; i < s->cfg->n_probes; i++)
		if (s->cfg->probes[i].until_ready)
			str_append(buf, size, "%sserved (%s)", buf[0] ? "; " : "",
				   s->cfg->probes[i].text);
}

static void describe_ready(const struct svc *s, char *buf, size_t size)
{
	const struct listener *why = NULL;
	char took[48];
	char span[24];

	/* An adopted process was not spawned by readyd: time runs from the attach. */
	fmt_duration(span, sizeof(span), s->ready_at - s->spawned_at);
	snprintf(took, sizeof(took), "%s after %s", span,
		 s->cfg->adopted ? "readyd attached" : "spawn");
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

void arm_watchdog(struct svc *s, uint64_t now)
{
	if (s->watchdog_ns)
		set_deadline(s, DEADLINE_WATCHDOG, now + s->watchdog_ns);
	else
		set_deadline(s, DEADLINE_NONE, 0);
}

void ready_from_starting(struct svc *s, uint64_t now, struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	if (!svc_ready(s))
		return;
	arm_watchdog(s, now); /* while running, the watchdog (if any) is the one deadline */
	s->ready_at = now;
	if (s->trial) /* the one more try after the cool-down worked: the limit starts afresh */
		forget_failures(s);
	describe_ready(s, text, sizeof(text));
	set_state(s, SVC_RUNNING, now, out, "%s", text);
}

void ready_from_unhealthy(struct svc *s, uint64_t now, struct svc_actions *out)
{
	if (s->liveness_restart || !svc_ready(s))
		return; /* being restarted: it comes back through starting */
	arm_watchdog(s, now);
	set_state(s, SVC_RUNNING, now, out,
		  "every listener accepting and every probe passing again");
}

void watchdog_failed(struct svc *s, uint64_t now, struct svc_actions *out, bool triggered)
{
	char text[SVC_CAUSE_MAX], took[32];

	s->watchdog_expired = true;
	fmt_duration(took, sizeof(took), s->watchdog_ns);
	snprintf(text, sizeof(text),
		 triggered ? "watchdog: the service sent WATCHDOG=trigger"
			   : "watchdog: no WATCHDOG=1 within %s",
		 took);
	go_unhealthy(s, now, out, text);
}

/* ---- self-reports ---- */

void report_ready(struct svc *s, uint64_t at)
{
	/* Nothing to judge: no declared listener, the kernel agrees, or judged already. */
	if (!s->n_listeners || svc_listeners_ready(s) || s->ready_mismatch || s->crosscheck_at)
		return;
	s->report_at = at;
	s->crosscheck_at = at + CROSSCHECK_GRACE_NS;
}

void judge_report(struct svc *s, struct svc_actions *out)
{
	uint64_t accepted = svc_phase_at(s, LEVEL_ACCEPTING);
	bool ready = svc_listeners_ready(s);

	if (ready && accepted && accepted <= s->report_at + CROSSCHECK_GRACE_NS)
		return; /* the kernel showed it accepting in time */
	s->ready_mismatches++;
	s->ready_mismatch = !ready; /* while the kernel has not caught up */
	out->mismatch = out->dirty = true;
}

void kernel_caught_up(struct svc *s)
{
	if (s->ready_mismatch && svc_listeners_ready(s))
		s->ready_mismatch = false;
}

void count_notify(struct svc *s, struct svc_actions *out)
{
	s->notify_accepted++;
	out->dirty = true;
}

void record_notify(struct svc *s, const struct notify_msg *m, uint64_t now, uint64_t at,
		   struct svc_actions *out)
{
	count_notify(s, out);
	if (m->has_status)
		str_copy(s->status_text, m->status, sizeof(s->status_text));
	if (m->err_no)
		s->notify_errno = m->err_no;
	s->reloading = (s->reloading || m->reloading) && !m->ready;
	s->stopping_notified |= m->stopping;
	if (m->watchdog_usec)
		s->watchdog_ns = m->watchdog_usec * 1000;
	/* EXTEND_TIMEOUT_USEC: the start (or stop) may take longer than configured. */
	if (m->extend_usec &&
	    (s->deadline_kind == DEADLINE_READY || s->deadline_kind == DEADLINE_KILL) &&
	    now + m->extend_usec * 1000 > s->deadline)
		s->deadline = now + m->extend_usec * 1000;
	if (m->ready) {
		s->notified_ready = true;
		report_ready(s, at);
	}
}

bool record_probe(struct svc *s, const struct svc_input *in, uint64_t now, struct svc_actions *out)
{
	const struct service_config *c = s->cfg;
	struct probe_health *h;
	bool passed_before;

	if (in->probe >= c->n_probes)
		return false;
	h = &s->probes[in->probe];
	passed_before = h->has_result && h->last_ok;
	if (!probe_health_record(h, in->ok, in->why, in->duration_ns, now, c->success_threshold,
				 c->failure_threshold))
		h = NULL; /* the verdict stays */
	/* readyd_probe_success flips: export soon; else only counters moved. */
	out->dirty |= in->ok != passed_before;
	out->counters = true;
	return h && h->verdict == VERDICT_FAILING;
}
