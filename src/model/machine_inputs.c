// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cells of the table (machine.c) for what the world reports: the
 * kernel (sockets, accept queues), probes, the service itself (sd_notify,
 * its marker), and the end of its main process.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "model/machine_internal.h"
#include "base/util.h"

/* ---- what the kernel shows ---- */

void on_socket_record(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	(void)now;
	record_socket(s, in->sock, out);
}

/* When a self-report was made: the datagram's kernel timestamp, or now. */
static uint64_t said_at(const struct svc_input *in, uint64_t now)
{
	return in->at && in->at <= now ? in->at : now;
}

/* Record the socket; true if a listener's level rose (the kernel may have caught up). */
static bool socket_rose(struct svc *s, const struct svc_input *in, struct svc_actions *out)
{
	if (!record_socket(s, in->sock, out) || !out->level_changed ||
	    in->sock->level == LEVEL_CLOSED)
		return false;
	kernel_caught_up(s);
	return true;
}

/* A listener rose: maybe every condition holds now. */
void on_socket_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	if (socket_rose(s, in, out))
		ready_from_starting(s, now, out);
}

void on_socket_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	const struct listener *l = record_socket(s, in->sock, out);
	char text[SVC_CAUSE_MAX];

	if (!l || !out->level_changed)
		return;
	if (in->sock->level != LEVEL_CLOSED) {
		kernel_caught_up(s);
	} else if (socket_lost_listener(s, in->sock, out)) {
		snprintf(text, sizeof(text), "listener %s closed", l->label);
		go_unhealthy(s, now, out, text);
	}
}

void on_socket_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out)
{
	if (socket_rose(s, in, out))
		ready_from_unhealthy(s, now, out);
}

void on_queue_running(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	const struct listener *l = record_queue(s, in->queue, out);

	if (!l || !out->queue_changed)
		return;
	if (l->stall[0])
		go_unhealthy(s, now, out, l->stall);
	else
		kernel_caught_up(s);
}

void on_queue_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	const struct listener *l = record_queue(s, in->queue, out);

	if (!l || !out->queue_changed || l->stall[0])
		return;
	kernel_caught_up(s);
	ready_from_unhealthy(s, now, out);
}

/* ---- probes ---- */

/* A failing probe just keeps it starting, up to ready_timeout. */
void on_probe_starting(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	record_probe(s, in, now, out);
	ready_from_starting(s, now, out);
}

void on_probe_running(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	const struct probe_health *h;
	char text[SVC_CAUSE_MAX];

	if (!record_probe(s, in, now, out))
		return;
	h = &s->probes[in->probe];
	snprintf(text, sizeof(text), "probe %s failed %u time%s in a row: %s",
		 s->cfg->probes[in->probe].text, h->consecutive_fail,
		 h->consecutive_fail == 1 ? "" : "s", h->last_reason);
	go_unhealthy(s, now, out, text);
}

void on_probe_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	record_probe(s, in, now, out);
	ready_from_unhealthy(s, now, out);
}

/* ---- what the service says ---- */

void on_notify_record(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	if (in->notify)
		record_notify(s, in->notify, now, said_at(in, now), out);
}

/* Stopped: a late datagram (its sender may be gone already) is counted, not acted on. */
void on_notify_count(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	(void)now;
	if (in->notify)
		count_notify(s, out);
}

void on_notify_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	if (!in->notify)
		return;
	record_notify(s, in->notify, now, said_at(in, now), out);
	ready_from_starting(s, now, out);
}

void on_notify_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	const struct notify_msg *m = in->notify;

	if (!m)
		return;
	record_notify(s, m, now, said_at(in, now), out);
	if (m->watchdog_trigger) {
		watchdog_failed(s, now, out, true);
	} else if (m->watchdog_ping && s->deadline_kind != DEADLINE_KILL) {
		s->watchdog_expired = false;
		arm_watchdog(s, now);
	}
}

/* WATCHDOG=trigger while unhealthy only marks it: it is unhealthy already. */
void on_notify_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out)
{
	const struct notify_msg *m = in->notify;

	if (!m)
		return;
	record_notify(s, m, now, said_at(in, now), out);
	if (m->watchdog_trigger) {
		s->watchdog_expired = true;
		return;
	}
	if (m->watchdog_ping && s->deadline_kind != DEADLINE_KILL && !s->liveness_restart)
		s->watchdog_expired = false;
	ready_from_unhealthy(s, now, out);
}

/* The marker's presence; one that appears is the service's word, checked against the kernel. */
static void record_marker(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out)
{
	s->marker_present = in->ok;
	out->dirty = true;
	if (in->ok)
		report_ready(s, said_at(in, now));
}

void on_marker_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	record_marker(s, in, now, out);
	ready_from_starting(s, now, out);
}

void on_marker_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	char text[SVC_CAUSE_MAX];

	record_marker(s, in, now, out);
	if (!in->ok && (s->cfg->ready & READY_FILE)) {
		snprintf(text, sizeof(text), "ready marker %s was removed", s->cfg->ready_file);
		go_unhealthy(s, now, out, text);
	}
}

void on_marker_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out)
{
	record_marker(s, in, now, out);
	ready_from_unhealthy(s, now, out);
}

/*
 * The line on its notification fd (s6's readiness protocol): like READY=1.
 * Written once per instance, before it first runs; later ones change nothing.
 */
static void record_fd_ready(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	s->fd_ready = out->dirty = true;
	report_ready(s, said_at(in, now));
}

void on_fd_ready_record(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	record_fd_ready(s, in, now, out);
}

void on_fd_ready_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out)
{
	record_fd_ready(s, in, now, out);
	ready_from_starting(s, now, out);
}

/* A report's grace is over (svc_handle has cleared crosscheck_at). */
void on_crosscheck(struct svc *s, const struct svc_input *in, uint64_t now, struct svc_actions *out)
{
	(void)in, (void)now;
	judge_report(s, out);
}

/* ---- the main process ends ---- */

static bool exit_clean(const struct svc_input *in)
{
	return !in->exit.spawn_error[0] && !in->exit.signal && in->exit.code == 0;
}

/*
 * A failed bind on a declared address explains an early exit: say who holds
 * it, once (a start refused before the fork names it in its error already).
 */
static void append_conflicts(struct svc *s)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].conflict[0] && !strstr(s->cause, s->listeners[i].conflict))
			str_append(s->cause, sizeof(s->cause), "; %s", s->listeners[i].conflict);
}

static void exit_up(struct svc *s, const struct svc_input *in, uint64_t now,
		    struct svc_actions *out, bool before_ready)
{
	bool clean = exit_clean(in);
	char text[SVC_CAUSE_MAX];

	record_exit(s, in, now);
	svc_exit_describe(&in->exit, text, sizeof(text));
	set_state(s, clean ? SVC_STOPPED : SVC_FAILED, now, out, "%s%s", text,
		  before_ready && !in->exit.spawn_error[0] ? " before it was ready" : "");
	/* Its own words on why: "nginx: [emerg] unknown directive ..." */
	if (before_ready && !clean && in->exit.last_words[0])
		str_append(s->cause, sizeof(s->cause), ": %s", in->exit.last_words);
	append_conflicts(s);
	maybe_schedule_restart(s, clean, in, now);
	/* restart = always, and the start limit refuses: held back, it is failed */
	if (s->start_limit_hit && s->state == SVC_STOPPED) {
		enum svc_state from = out->from; /* one transition: from where it was */

		str_copy(text, s->cause, sizeof(text));
		set_state(s, SVC_FAILED, now, out, "%s", text);
		out->from = from;
	}
}

void on_exit_starting(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	exit_up(s, in, now, out, true);
}

void on_exit_running(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	exit_up(s, in, now, out, false);
}

static void drop_clause(char *text, const char *clause)
{
	char *at = strstr(text, clause);
	size_t len = strlen(clause);

	if (at)
		memmove(at, at + len, strlen(at + len) + 1);
}

/*
 * Unhealthy and stopped for on_unhealthy = restart: back after the backoff
 * delay. A process that ended otherwise than by the signals readyd sent
 * (a crash, an exit of its own) is judged by how it ended.
 */
void on_exit_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	bool ours = in->exit.signal == SIGTERM || in->exit.signal == SIGKILL;

	if (!s->liveness_restart || !ours) {
		s->liveness_restart = false;
		exit_up(s, in, now, out, false);
		return;
	}
	char text[SVC_CAUSE_MAX];

	record_exit(s, in, now);
	out->dirty = true;
	if (schedule_restart(s, in, now)) /* a failure: it counts for backoff and start limit */
		return;
	/* The start limit refuses the restart it was stopped for: it has failed, not restarting. */
	str_copy(text, s->cause, sizeof(text));
	drop_clause(text, RESTARTING_CLAUSE);
	set_state(s, SVC_FAILED, now, out, "%s", text);
}

/* The process we were killing after a failure is gone: now the policy applies. */
void on_exit_failed(struct svc *s, const struct svc_input *in, uint64_t now,
		    struct svc_actions *out)
{
	record_exit(s, in, now);
	out->dirty = true;
	if (s->start_pending)
		spawn(s, s->pending_restart, "started by operator", now, out);
	else
		maybe_schedule_restart(s, false, in, now);
}

void on_exit_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out)
{
	char text[160];

	record_exit(s, in, now);
	if (s->start_pending) { /* restart: straight from stopping to starting */
		/* A restart for a reason (a required service left running) keeps saying it. */
		bool why = s->pending_restart && strncmp(s->cause, "restarted: ", 11) == 0;
		char cause[SVC_CAUSE_MAX];

		str_copy(cause,
			 why		      ? s->cause
			 : s->pending_restart ? "restarted by operator"
					      : "started by operator",
			 sizeof(cause));
		spawn(s, s->pending_restart, cause, now, out);
		return;
	}
	svc_exit_describe(&in->exit, text, sizeof(text));
	set_deadline(s, DEADLINE_NONE, 0);
	/* The state says "stopped" already: the cause is how it ended, one level. */
	set_state(s, SVC_STOPPED, now, out, "%s", text);
}
