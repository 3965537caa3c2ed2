// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The state machine: the table at the bottom, and the cells it names. Each
 * cell is the whole of what one event does in one state (skarnet's
 * s6-supervise has the same shape); the actions cells share are in
 * machine_common.c. A cell's entry in the table also says which states it
 * may lead to: the unit tests check each one is reached, and nothing else,
 * and docs/architecture.md's transition list is generated from it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "model/machine_internal.h"
#include "base/util.h"

typedef void (*svc_fn)(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);

/* ---- operator and boot ---- */

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

/* Already up or coming up: it stays wanted. */
static void on_start_up(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = true;
}

static void on_start_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
			      struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = true;
	s->start_pending = true;
	forget_failures(s);
}

static void on_restart_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
				struct svc_actions *out)
{
	on_start_stopping(s, in, now, out);
	s->pending_restart = true;
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

static void on_stop_stopped(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = false;
	s->start_pending = false;
	set_deadline(s, DEADLINE_NONE, 0); /* cancels a restart=always restart */
}

/* Alive, or about to be: SIGTERM what runs; nothing runs yet means stopped at once. */
static void stop_up(struct svc *s, const struct svc_input *in, uint64_t now,
		    struct svc_actions *out, const char *if_unspawned)
{
	s->want_up = false;
	s->start_pending = s->liveness_restart = false;
	if (!s->pid) { /* the fork was still queued, or a liveness restart was pending */
		set_deadline(s, DEADLINE_NONE, 0);
		set_state(s, SVC_STOPPED, now, out, "%s%s", why_or(in, "stop requested"),
			  if_unspawned);
		return;
	}
	terminate(s, now, out);
	set_state(s, SVC_STOPPING, now, out, "%s", why_or(in, "stop requested"));
}

static void on_stop_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	stop_up(s, in, now, out, " before it was spawned");
}

static void on_stop_up(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out)
{
	stop_up(s, in, now, out, "");
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

/* Stop while stopping: it stays down, even if a restart was under way. */
static void on_stop_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	(void)in, (void)now, (void)out;
	s->want_up = false;
	s->start_pending = s->pending_restart = s->liveness_restart = false;
}

static void on_reset(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out)
{
	(void)in, (void)now;
	forget_failures(s);
	out->dirty = true;
}

/*
 * Held back only by the start limit: the restart policy resumes now, and the
 * cause says it was reset (the old one's advice to reset is done with).
 */
static void on_reset_failed(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	bool was_limited = s->start_limit_hit;
	char was[SVC_CAUSE_MAX], *advice;

	on_reset(s, in, now, out);
	if (!was_limited)
		return;
	str_copy(was, s->cause, sizeof(was));
	advice = strstr(was, "; not restarting until");
	if (!advice)
		advice = strstr(was, "; next try in");
	if (advice)
		*advice = '\0';
	snprintf(s->cause, sizeof(s->cause), "%s; was: %s", why_or(in, "reset"), was);
	if (!s->pid && s->want_up)
		set_deadline(s, DEADLINE_RESTART, now);
}

/* ---- deadlines (svc_handle has cleared the one that passed) ---- */

/* "not ready after 30.00s (tcp:127.0.0.1:8080 listening; probe http://...: HTTP 503)" */
static void on_ready_timeout(struct svc *s, const struct svc_input *in, uint64_t now,
			     struct svc_actions *out)
{
	char what[SVC_CAUSE_MAX - 40], probes[SVC_CAUSE_MAX / 2], took[32];

	(void)in;
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

static void on_kill_timeout(struct svc *s, const struct svc_input *in, uint64_t now,
			    struct svc_actions *out)
{
	(void)in, (void)now;
	if (s->pid)
		out->signal = SIGKILL;
}

static void on_restart_due(struct svc *s, const struct svc_input *in, uint64_t now,
			   struct svc_actions *out)
{
	(void)in;
	if (!s->pid)
		restart_or_limit(s, now, out);
}

static void on_watchdog(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out)
{
	(void)in;
	watchdog_failed(s, now, out, false);
}

/*
 * Every transition at a glance. An empty cell: the event changes nothing in
 * that state (a late probe result for a stopped service, a second stop...).
 * After each function: the states it may lead to.
 */
struct cell {
	svc_fn fn;
	struct svc_cell info;
};

#define TO(st) (1U << SVC_##st)
#define C(fn, to)                                                                                  \
	{                                                                                          \
		fn,                                                                                \
		{                                                                                  \
#fn, to                                                                    \
		}                                                                                  \
	}
#define NONE 0U
// clang-format off
static const struct cell cells[SVC_STATE_COUNT][SVC_EV_COUNT] = {
	[SVC_STOPPED] = {
		[SVC_EV_START]         = C(on_start,            TO(STARTING)),
		[SVC_EV_STOP]          = C(on_stop_stopped,     NONE),
		[SVC_EV_RESTART]       = C(on_start,            TO(STARTING)),
		[SVC_EV_RESET]         = C(on_reset,            NONE),
		[SVC_EV_SOCKET]        = C(on_socket_record,    NONE),
		[SVC_EV_NOTIFY]        = C(on_notify_count,     NONE),
		[SVC_EV_RESTART_DUE]   = C(on_restart_due,      TO(STARTING) | TO(FAILED)),
	},
	[SVC_STARTING] = {
		[SVC_EV_START]         = C(on_start_up,         NONE),
		[SVC_EV_STOP]          = C(on_stop_starting,    TO(STOPPING) | TO(STOPPED)),
		[SVC_EV_RESTART]       = C(on_restart,          TO(STOPPING) | TO(STARTING)),
		[SVC_EV_RESET]         = C(on_reset,            NONE),
		[SVC_EV_SOCKET]        = C(on_socket_starting,  TO(RUNNING)),
		[SVC_EV_PROBE]         = C(on_probe_starting,   TO(RUNNING)),
		[SVC_EV_NOTIFY]        = C(on_notify_starting,  TO(RUNNING)),
		[SVC_EV_MARKER]        = C(on_marker_starting,  TO(RUNNING)),
		[SVC_EV_FD_READY]      = C(on_fd_ready_starting, TO(RUNNING)),
		[SVC_EV_EXIT]          = C(on_exit_starting,    TO(FAILED) | TO(STOPPED)),
		[SVC_EV_READY_TIMEOUT] = C(on_ready_timeout,    TO(FAILED)),
		[SVC_EV_CROSSCHECK]    = C(on_crosscheck,       NONE),
	},
	[SVC_RUNNING] = {
		[SVC_EV_START]         = C(on_start_up,         NONE),
		[SVC_EV_STOP]          = C(on_stop_up,          TO(STOPPING)),
		[SVC_EV_RESTART]       = C(on_restart,          TO(STOPPING)),
		[SVC_EV_RESET]         = C(on_reset,            NONE),
		[SVC_EV_SOCKET]        = C(on_socket_running,   TO(UNHEALTHY)),
		[SVC_EV_QUEUE]         = C(on_queue_running,    TO(UNHEALTHY)),
		[SVC_EV_PROBE]         = C(on_probe_running,    TO(UNHEALTHY)),
		[SVC_EV_NOTIFY]        = C(on_notify_running,   TO(UNHEALTHY)),
		[SVC_EV_MARKER]        = C(on_marker_running,   TO(UNHEALTHY)),
		[SVC_EV_FD_READY]      = C(on_fd_ready_record,  NONE),
		[SVC_EV_EXIT]          = C(on_exit_running,     TO(FAILED) | TO(STOPPED)),
		[SVC_EV_WATCHDOG]      = C(on_watchdog,         TO(UNHEALTHY)),
		[SVC_EV_CROSSCHECK]    = C(on_crosscheck,       NONE),
	},
	[SVC_UNHEALTHY] = {
		[SVC_EV_START]         = C(on_start_up,         NONE),
		[SVC_EV_STOP]          = C(on_stop_up,          TO(STOPPING) | TO(STOPPED)),
		[SVC_EV_RESTART]       = C(on_restart,          TO(STOPPING) | TO(STARTING)),
		[SVC_EV_RESET]         = C(on_reset,            NONE),
		[SVC_EV_SOCKET]        = C(on_socket_unhealthy, TO(RUNNING)),
		[SVC_EV_QUEUE]         = C(on_queue_unhealthy,  TO(RUNNING)),
		[SVC_EV_PROBE]         = C(on_probe_unhealthy,  TO(RUNNING)),
		[SVC_EV_NOTIFY]        = C(on_notify_unhealthy, TO(RUNNING)),
		[SVC_EV_MARKER]        = C(on_marker_unhealthy, TO(RUNNING)),
		[SVC_EV_FD_READY]      = C(on_fd_ready_record,  NONE),
		[SVC_EV_EXIT]          = C(on_exit_unhealthy,   TO(FAILED) | TO(STOPPED)),
		[SVC_EV_KILL_TIMEOUT]  = C(on_kill_timeout,     NONE),
		[SVC_EV_RESTART_DUE]   = C(on_restart_due,      TO(STARTING) | TO(FAILED)),
		[SVC_EV_CROSSCHECK]    = C(on_crosscheck,       NONE),
	},
	[SVC_FAILED] = {
		[SVC_EV_START]         = C(on_start,            TO(STARTING)),
		[SVC_EV_STOP]          = C(on_stop_failed,      TO(STOPPING) | TO(STOPPED)),
		[SVC_EV_RESTART]       = C(on_start,            TO(STARTING)),
		[SVC_EV_RESET]         = C(on_reset_failed,     NONE),
		[SVC_EV_SOCKET]        = C(on_socket_record,    NONE),
		[SVC_EV_NOTIFY]        = C(on_notify_record,    NONE),
		[SVC_EV_EXIT]          = C(on_exit_failed,      TO(STARTING)),
		[SVC_EV_KILL_TIMEOUT]  = C(on_kill_timeout,     NONE),
		[SVC_EV_RESTART_DUE]   = C(on_restart_due,      TO(STARTING) | TO(FAILED)),
	},
	[SVC_STOPPING] = {
		[SVC_EV_START]         = C(on_start_stopping,   NONE),
		[SVC_EV_STOP]          = C(on_stop_stopping,    NONE),
		[SVC_EV_RESTART]       = C(on_restart_stopping, NONE),
		[SVC_EV_RESET]         = C(on_reset,            NONE),
		[SVC_EV_SOCKET]        = C(on_socket_record,    NONE),
		[SVC_EV_NOTIFY]        = C(on_notify_record,    NONE),
		[SVC_EV_EXIT]          = C(on_exit_stopping,    TO(STARTING) | TO(STOPPED)),
		[SVC_EV_KILL_TIMEOUT]  = C(on_kill_timeout,     NONE),
	},
};
// clang-format on

static svc_trace_fn trace_fn;
static void *trace_ctx;

void svc_set_trace(svc_trace_fn fn, void *ctx)
{
	trace_fn = fn;
	trace_ctx = ctx;
}

const struct svc_cell *svc_cell(enum svc_state st, enum svc_event ev)
{
	static const struct svc_cell empty;

	if (st >= SVC_STATE_COUNT || ev >= SVC_EV_COUNT || !cells[st][ev].fn)
		return &empty;
	return &cells[st][ev].info;
}

enum svc_event svc_deadline_event(const struct svc *s)
{
	switch (s->deadline_kind) {
	case DEADLINE_READY:
		return SVC_EV_READY_TIMEOUT;
	case DEADLINE_KILL:
		return SVC_EV_KILL_TIMEOUT;
	case DEADLINE_RESTART:
		return SVC_EV_RESTART_DUE;
	case DEADLINE_WATCHDOG:
		return SVC_EV_WATCHDOG;
	case DEADLINE_NONE:
		break;
	}
	return SVC_EV_COUNT;
}

void svc_handle(struct svc *s, enum svc_event ev, const struct svc_input *in, uint64_t now,
		struct svc_actions *out)
{
	static const struct svc_input none;
	enum svc_state st = s->state;
	const struct cell *c;

	memset(out, 0, sizeof(*out));
	if (st >= SVC_STATE_COUNT || ev >= SVC_EV_COUNT)
		return;
	/* A deadline event is the one armed, and passing consumes it, whatever the state. */
	if (ev == SVC_EV_READY_TIMEOUT || ev == SVC_EV_KILL_TIMEOUT || ev == SVC_EV_RESTART_DUE ||
	    ev == SVC_EV_WATCHDOG) {
		if (svc_deadline_event(s) != ev)
			return;
		set_deadline(s, DEADLINE_NONE, 0);
	}
	if (ev == SVC_EV_CROSSCHECK) { /* likewise the cross-check's moment */
		if (!s->crosscheck_at)
			return;
		s->crosscheck_at = 0;
	}
	c = &cells[st][ev];
	if (!c->fn)
		return;
	c->fn(s, in ? in : &none, now, out);
	if (trace_fn)
		trace_fn(st, ev, out, trace_ctx);
}
