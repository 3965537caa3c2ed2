// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every cell of the transition table, reached the way the daemon reaches it,
 * and every state each cell says it may lead to. The last test fails naming
 * any cell or edge no test reached, and any transition a cell made that the
 * table does not declare: the table, its tests and the docs generated from
 * it (tools/transitions.c) cannot drift apart.
 */
#include "machine_fixture.h"

#include <stdio.h>

#define NO_CHANGE SVC_STATE_COUNT /* a cell ran and the state stayed */

static unsigned int reached[SVC_STATE_COUNT][SVC_EV_COUNT]; /* 1 << to, or 1 << NO_CHANGE */
static char stray[1024];

static void trace(enum svc_state st, enum svc_event ev, const struct svc_actions *out, void *ctx)
{
	const struct svc_cell *c = svc_cell(st, ev);

	(void)ctx;
	reached[st][ev] |= 1U << (out->changed ? out->to : NO_CHANGE);
	if (out->changed && !(c->to & (1U << out->to)))
		str_append(stray, sizeof(stray),
			   "%s in %s led to %s, which the table does not say; ", c->name,
			   svc_state_name(st), svc_state_name(out->to));
}

static int setup_traced(void **state)
{
	svc_set_trace(trace, NULL);
	return setup(state);
}

static int teardown_all(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->cfg.n_probes; i++)
		probe_spec_free(&f->cfg.probes[i]);
	return teardown(state);
}

/* ---- stopped ---- */

static void stopped_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	ev(f, SVC_EV_STOP, NULL);
	ev(f, SVC_EV_RESET, NULL);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING); /* a late event: recorded, nothing more */
	notify(f, "READY=1");
	assert_int_equal(f->svc.notify_accepted, 1);
	assert_false(f->svc.notified_ready);
	expect(f, SVC_STOPPED);
	ev(f, SVC_EV_START, NULL);
	expect(f, SVC_STARTING);
}

static void stopped_restart_starts(void **state)
{
	struct fixture *f = *state;

	init(f);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STARTING);
}

static void stopped_restart_due(void **state)
{
	struct fixture *f = *state;

	f->cfg.restart = RESTART_ALWAYS;
	init(f);
	running(f);
	exit_with(f, 0, 0);
	expect(f, SVC_STOPPED);
	deadline(f); /* restart = always: a clean exit restarts too */
	expect(f, SVC_STARTING);
	svc_spawned(&f->svc, 4243, f->now);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	exit_with(f, 0, 0);
	f->cfg.start_limit_burst = 2; /* a reload lowered the limit while it waited */
	deadline(f);
	expect(f, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	/* Known at the exit: failed then, no restart announced. */
	ev(f, SVC_EV_START, NULL);
	svc_spawned(&f->svc, 4244, f->now);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	ev(f, SVC_EV_START, NULL);
	f->cfg.start_limit_burst = 1;
	exit_with(f, 0, 0);
	expect(f, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	assert_null(strstr(f->svc.cause, "restart in"));
}

/* ---- starting ---- */

static void starting_operator_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	ev(f, SVC_EV_START, NULL); /* the fork is queued: pid 0 */
	ev(f, SVC_EV_START, NULL);
	ev(f, SVC_EV_RESET, NULL);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STARTING);
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPED);
	start(f);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STOPPING);
}

static void starting_stop_terminates(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPING);
	assert_int_equal(f->act.signal, SIGTERM);
}

static void starting_reports_make_it_running(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_NOTIFY;
	init(f);
	start(f);
	notify(f, "READY=1");
	expect(f, SVC_RUNNING);
}

static void starting_marker_makes_it_running(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_FILE;
	f->cfg.ready_file = "/run/web.ready";
	init(f);
	start(f);
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true });
	expect(f, SVC_RUNNING);
}

static void starting_probe_makes_it_running(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_PROBE;
	add_probe(&f->cfg, "tcp:127.0.0.1:9090");
	init(f);
	start(f);
	probe(f, 0, true, NULL);
	expect(f, SVC_RUNNING);
}

static void starting_exits(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	exit_with(f, 0, 0);
	expect(f, SVC_STOPPED);
	start(f);
	exit_with(f, 2, 0);
	expect(f, SVC_FAILED);
}

static void starting_ready_timeout(void **state)
{
	struct fixture *f = *state;

	init(f);
	failed_killing(f);
}

/* ---- running ---- */

static void running_operator_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	running(f);
	ev(f, SVC_EV_START, NULL);
	ev(f, SVC_EV_RESET, NULL);
	expect(f, SVC_RUNNING);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STOPPING);
	init(f);
	running(f);
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPING);
}

static void running_queue_stall(void **state)
{
	struct fixture *f = *state;
	struct svc_queue q = { .listener = 0, .sampled = true, .depth = 3, .backlog = 128 };

	f->cfg.accept_stall_ns = 5 * SEC;
	init(f);
	running(f);
	q.at = f->now;
	ev(f, SVC_EV_QUEUE, &(struct svc_input){ .queue = &q });
	expect(f, SVC_RUNNING); /* waiting, not for long yet */
	q.at = f->now += 6 * SEC;
	ev(f, SVC_EV_QUEUE, &(struct svc_input){ .queue = &q });
	expect(f, SVC_UNHEALTHY);
	assert_true(f->act.queue_changed);
	assert_non_null(strstr(f->svc.cause, "accept queue stalled: 3 connections waiting"));
	q.depth = 0; /* accepted at last */
	q.at = f->now += SEC;
	ev(f, SVC_EV_QUEUE, &(struct svc_input){ .queue = &q });
	expect(f, SVC_RUNNING);
}

static void running_probe_fails(void **state)
{
	struct fixture *f = *state;

	f->cfg.failure_threshold = 1;
	add_probe(&f->cfg, "tcp:127.0.0.1:9090");
	init(f);
	running(f);
	probe(f, 0, false, "connect: Connection refused");
	expect(f, SVC_UNHEALTHY);
	probe(f, 0, true, NULL);
	expect(f, SVC_RUNNING);
}

static void running_watchdog(void **state)
{
	struct fixture *f = *state;

	f->cfg.watchdog_ns = 5 * SEC;
	init(f);
	running(f);
	notify(f, "WATCHDOG=trigger");
	expect(f, SVC_UNHEALTHY);
	notify(f, "WATCHDOG=1"); /* alive again: the kernel's view stands */
	expect(f, SVC_RUNNING);
	notify(f, "WATCHDOG=1");
	deadline(f);
	expect(f, SVC_UNHEALTHY);
}

static void running_marker_removed(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_ACCEPT | READY_FILE;
	f->cfg.ready_file = "/run/web.ready";
	init(f);
	start(f);
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true });
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	expect(f, SVC_RUNNING);
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true }); /* still there */
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = false });
	expect(f, SVC_UNHEALTHY);
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true });
	expect(f, SVC_RUNNING);
}

static void running_exits(void **state)
{
	struct fixture *f = *state;

	init(f);
	running(f);
	exit_with(f, 0, 0);
	expect(f, SVC_STOPPED);
	running(f);
	exit_with(f, -1, SIGSEGV);
	expect(f, SVC_FAILED);
}

/* ---- unhealthy ---- */

static void unhealthy_operator_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	unhealthy(f);
	ev(f, SVC_EV_START, NULL);
	ev(f, SVC_EV_RESET, NULL);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STOPPING);
	init(f);
	unhealthy(f);
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPING);
}

static void unhealthy_waiting_for_restart(void **state)
{
	struct fixture *f = *state;

	init(f);
	unhealthy_waiting(f);
	ev(f, SVC_EV_STOP, NULL); /* nothing runs: stopped at once */
	expect(f, SVC_STOPPED);
	init(f);
	unhealthy_waiting(f);
	ev(f, SVC_EV_RESTART, NULL); /* nothing runs: started at once */
	expect(f, SVC_STARTING);
}

static void unhealthy_back_when_the_listener_is(void **state)
{
	struct fixture *f = *state;

	init(f);
	unhealthy(f);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	expect(f, SVC_RUNNING);
}

static void unhealthy_exits(void **state)
{
	struct fixture *f = *state;

	init(f);
	unhealthy(f);
	exit_with(f, 0, 0);
	expect(f, SVC_STOPPED);
	init(f);
	unhealthy(f);
	exit_with(f, 3, 0);
	expect(f, SVC_FAILED);
}

static void unhealthy_liveness_restart(void **state)
{
	struct fixture *f = *state;

	f->cfg.start_limit_burst = 2;
	init(f);
	unhealthy_restarting(f);
	deadline(f); /* it ignored SIGTERM */
	assert_int_equal(f->act.signal, SIGKILL);
	exit_with(f, -1, SIGKILL);
	deadline(f);
	expect(f, SVC_STARTING);
	svc_spawned(&f->svc, 4243, f->now);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	level(f, 0xb, "127.0.0.1", LEVEL_CLOSED);
	exit_with(f, -1, SIGTERM); /* a third start within the window: refused now */
	expect(f, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	assert_non_null(strstr(f->svc.cause, "; start limit hit: 2 starts within"));
	assert_null(strstr(f->svc.cause, "restarting it"));
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	ev(f, SVC_EV_START, NULL);
	svc_spawned(&f->svc, 4244, f->now);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	level(f, 0xb, "127.0.0.1", LEVEL_CLOSED);
	f->cfg.start_limit_burst = 0;
	exit_with(f, -1, SIGTERM);
	f->cfg.start_limit_burst = 1; /* a reload lowered the limit while it waited */
	deadline(f);
	expect(f, SVC_FAILED);
}

/* ---- the readiness line on a notification fd, and the cross-check of reports ---- */

static void fd_ready(struct fixture *f)
{
	ev(f, SVC_EV_FD_READY, &(struct svc_input){ .at = f->now });
}

static void crosscheck(struct fixture *f)
{
	assert_true(f->svc.crosscheck_at > 0);
	f->now = f->svc.crosscheck_at;
	ev(f, SVC_EV_CROSSCHECK, NULL);
}

static void the_fd_line_and_its_crosscheck(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_FD;
	f->cfg.ready_fd = 3;
	init(f);
	start(f);
	fd_ready(f); /* ready by its own word; the kernel has not shown it accepting */
	expect(f, SVC_RUNNING);
	crosscheck(f);
	assert_true(f->act.mismatch);
	fd_ready(f); /* a second line changes nothing */
	expect(f, SVC_RUNNING);
}

static void starting_crosscheck(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_ACCEPT | READY_FD;
	f->cfg.ready_fd = 3;
	init(f);
	start(f);
	fd_ready(f);
	crosscheck(f); /* still starting: accept is what it waits for */
	expect(f, SVC_STARTING);
	assert_true(f->svc.ready_mismatch);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	expect(f, SVC_RUNNING);
}

/* Unhealthy, a late line on the fd is recorded; a report's grace is judged there too. */
static void unhealthy_fd_line_and_crosscheck(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_ACCEPT | READY_FD;
	f->cfg.ready_fd = 3;
	f->cfg.watchdog_ns = 5 * SEC;
	init(f);
	start(f);
	fd_ready(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	notify(f, "WATCHDOG=trigger");
	expect(f, SVC_UNHEALTHY);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED); /* and its listener went */
	fd_ready(f);
	crosscheck(f);
	assert_true(f->act.mismatch);
	expect(f, SVC_UNHEALTHY);
}

/* ---- failed ---- */

static void failed_operator_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	failed(f);
	ev(f, SVC_EV_RESET, NULL);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	notify(f, "STATUS=gone");
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPED);
	init(f);
	failed(f);
	ev(f, SVC_EV_START, NULL);
	expect(f, SVC_STARTING);
	init(f);
	failed(f);
	ev(f, SVC_EV_RESTART, NULL);
	expect(f, SVC_STARTING);
}

static void failed_still_killing(void **state)
{
	struct fixture *f = *state;

	init(f);
	failed_killing(f);
	deadline(f);
	assert_int_equal(f->act.signal, SIGKILL);
	ev(f, SVC_EV_START, NULL); /* pending until it is gone */
	expect(f, SVC_FAILED);
	exit_with(f, -1, SIGKILL);
	expect(f, SVC_STARTING);
	init(f);
	failed_killing(f);
	ev(f, SVC_EV_STOP, NULL);
	expect(f, SVC_STOPPING);
}

static void failed_restart_due(void **state)
{
	struct fixture *f = *state;

	init(f);
	failed_killing(f);
	exit_with(f, -1, SIGTERM);
	f->cfg.start_limit_burst = 1; /* a reload lowered the limit while it waited */
	deadline(f);		      /* one start in the window already */
	expect(f, SVC_FAILED);
	ev(f, SVC_EV_RESET, NULL); /* the policy resumes now */
	deadline(f);
	expect(f, SVC_STARTING);
}

/* ---- stopping ---- */

static void stopping_cells(void **state)
{
	struct fixture *f = *state;

	init(f);
	stopping(f);
	ev(f, SVC_EV_STOP, NULL);
	ev(f, SVC_EV_RESET, NULL);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	notify(f, "STOPPING=1");
	deadline(f);
	assert_int_equal(f->act.signal, SIGKILL);
	exit_with(f, -1, SIGKILL);
	expect(f, SVC_STOPPED);
	init(f);
	stopping(f);
	ev(f, SVC_EV_START, NULL);
	exit_with(f, 0, 0);
	expect(f, SVC_STARTING);
	init(f);
	stopping(f);
	ev(f, SVC_EV_RESTART, NULL);
	exit_with(f, 0, 0);
	expect(f, SVC_STARTING);
	assert_string_equal(f->svc.cause, "restarted by operator");
}

/* ---- the check ---- */

static void every_cell_and_edge_is_reached(void **state)
{
	char missing[4096] = "";

	(void)state;
	for (int st = 0; st < SVC_STATE_COUNT; st++)
		for (int e = 0; e < SVC_EV_COUNT; e++) {
			const struct svc_cell *c = svc_cell(st, e);
			unsigned int want = c->to ? c->to : 1U << NO_CHANGE;
			if (!c->name)
				continue;
			if (!reached[st][e])
				str_append(missing, sizeof(missing), "%s (%s x %s) never ran; ",
					   c->name, svc_state_name(st), svc_event_name(e));
			for (int to = 0; to < SVC_STATE_COUNT; to++)
				if ((want & (1U << to)) && !(reached[st][e] & (1U << to)))
					str_append(missing, sizeof(missing),
						   "%s in %s never led to %s; ", c->name,
						   svc_state_name(st), svc_state_name(to));
		}
	if (missing[0])
		fail_msg("unreached: %s", missing);
	if (stray[0])
		fail_msg("undeclared: %s", stray);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_traced, teardown_all)
	const struct CMUnitTest tests[] = {
		T(stopped_cells),
		T(stopped_restart_starts),
		T(stopped_restart_due),
		T(starting_operator_cells),
		T(starting_stop_terminates),
		T(starting_reports_make_it_running),
		T(starting_marker_makes_it_running),
		T(starting_probe_makes_it_running),
		T(starting_exits),
		T(starting_ready_timeout),
		T(running_operator_cells),
		T(running_queue_stall),
		T(running_probe_fails),
		T(running_watchdog),
		T(running_marker_removed),
		T(running_exits),
		T(unhealthy_operator_cells),
		T(unhealthy_waiting_for_restart),
		T(unhealthy_back_when_the_listener_is),
		T(unhealthy_exits),
		T(unhealthy_liveness_restart),
		T(failed_operator_cells),
		T(failed_still_killing),
		T(failed_restart_due),
		T(stopping_cells),
		T(the_fd_line_and_its_crosscheck),
		T(starting_crosscheck),
		T(unhealthy_fd_line_and_crosscheck),
		cmocka_unit_test(every_cell_and_edge_is_reached),
	};
	return cmocka_run_group_tests_name("machine_cells", tests, NULL, NULL);
}
