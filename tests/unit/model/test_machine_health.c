// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine with a fake clock: probes, the start limit, operators, self-reports, watchdog.
 */
#include "machine_fixture.h"

static void probes_wait_for_the_kernel_gate(void **state)
{
	struct fixture *f = *state;

	add_probe(&f->cfg, "http://127.0.0.1:8080/health");
	init(f);
	start(f);
	assert_false(svc_probing(&f->svc)); /* starting: no probe traffic yet */
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	assert_false(svc_probing(&f->svc));
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_true(svc_probing(&f->svc));
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED); /* unhealthy: paused until accepting again */
	assert_false(svc_probing(&f->svc));
	probe_spec_free(&f->cfg.probes[0]);
}

static void failure_threshold_then_success_threshold(void **state)
{
	struct fixture *f = *state;

	add_probe(&f->cfg, "http://127.0.0.1:8080/health");
	f->cfg.success_threshold = 2;
	init(f);
	running(f);
	probe(f, 0, false, "HTTP 500 Internal Server Error");
	probe(f, 0, false, "HTTP 500 Internal Server Error");
	assert_int_equal(f->svc.state, SVC_RUNNING); /* 2 of 3 */
	probe(f, 0, true, "HTTP 200 OK");	     /* the streak is broken */
	probe(f, 0, false, "HTTP 500 Internal Server Error");
	probe(f, 0, false, "HTTP 500 Internal Server Error");
	probe(f, 0, false, "HTTP 503 Service Unavailable");
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_string_equal(f->svc.cause, "probe http://127.0.0.1:8080/health failed 3 times in a "
					  "row: HTTP 503 Service Unavailable");
	assert_int_equal(f->act.signal, 0); /* on_unhealthy = none */
	probe(f, 0, true, "HTTP 200 OK");
	assert_int_equal(f->svc.state, SVC_UNHEALTHY); /* 1 of 2 */
	probe(f, 0, true, "HTTP 200 OK");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_int_equal(f->svc.probes[0].runs, 8);
	assert_int_equal(f->svc.probes[0].failures, 5);
	probe_spec_free(&f->cfg.probes[0]);
}

static void ready_probe_gates_a_service_without_listeners(void **state)
{
	struct fixture *f = *state;

	f->cfg.n_listen = 0;
	f->cfg.ready = READY_PROBE;
	add_probe(&f->cfg, "exec:/usr/bin/true");
	init(f);
	start(f);
	assert_true(svc_probing(&f->svc)); /* the probe is the gate: it runs while starting */
	probe(f, 0, false, "not yet");
	assert_int_equal(f->svc.state, SVC_STARTING);
	probe(f, 0, true, "exit status 0");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_non_null(strstr(f->svc.cause, "every probe passed"));
	probe_spec_free(&f->cfg.probes[0]);
}

static void accept_and_probe_gates_in_order(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_ACCEPT | READY_PROBE;
	add_probe(&f->cfg, "tcp:127.0.0.1:8080");
	init(f);
	start(f);
	assert_false(svc_probing(&f->svc)); /* the kernel first: a probe is not an accept */
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_STARTING);
	assert_true(svc_probing(&f->svc));
	probe(f, 0, true, "connected");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	probe_spec_free(&f->cfg.probes[0]);
}

/* serve = SPEC: accepting is not enough; the check's first pass is, and then it stops. */
static void a_serving_check_gates_once_after_accept(void **state)
{
	struct fixture *f = *state;

	add_probe(&f->cfg, "postgres://127.0.0.1:8080");
	f->cfg.probes[0].until_ready = true;
	init(f);
	start(f);
	assert_false(svc_probing(&f->svc)); /* the kernel first */
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_STARTING); /* accepting, not yet serving */
	assert_true(svc_probe_for_readiness(&f->svc, 0));
	probe(f, 0, false, "the database system is starting up");
	probe(f, 0, false, "the database system is starting up");
	probe(f, 0, false, "the database system is starting up");
	assert_int_equal(f->svc.state, SVC_STARTING); /* not a health failure: not yet */
	probe(f, 0, true, "serving: authenticated");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_non_null(strstr(f->svc.cause, "served (postgres://127.0.0.1:8080)"));
	assert_false(svc_probing(&f->svc)); /* running: a serving check is done */
	probe_spec_free(&f->cfg.probes[0]);
}

static void ready_timeout_names_the_failing_probe(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_ACCEPT | READY_PROBE;
	add_probe(&f->cfg, "tcp:127.0.0.1:9090");
	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	probe(f, 0, false, "connect: Connection refused");
	deadline(f);
	assert_string_equal(f->svc.cause, "not ready after 30.00s (tcp:127.0.0.1:8080 accepting; "
					  "probe tcp:127.0.0.1:9090: connect: Connection refused)");
	probe_spec_free(&f->cfg.probes[0]);
}

static void on_unhealthy_restart_is_liveness(void **state)
{
	struct fixture *f = *state;

	f->cfg.on_unhealthy = ON_UNHEALTHY_RESTART;
	f->cfg.failure_threshold = 1;
	add_probe(&f->cfg, "tcp:127.0.0.1:8080");
	init(f);
	running(f);
	probe(f, 0, false, "timed out after 2.00s connecting");
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_int_equal(f->act.signal, SIGTERM);
	assert_non_null(strstr(f->svc.cause, "restarting it (on_unhealthy = restart)"));
	assert_false(svc_probing(&f->svc));
	exit_with(f, -1, SIGTERM);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY); /* until the restart */
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
	assert_int_equal(f->svc.deadline - f->now, 1 * SEC); /* backoff applies */
	deadline(f);
	assert_true(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_STARTING);
	assert_int_equal(f->svc.restarts, 1);
	probe_spec_free(&f->cfg.probes[0]);
}

static void start_limit_stops_a_crash_loop(void **state)
{
	struct fixture *f = *state;

	f->cfg.start_limit_burst = 3;
	f->cfg.start_limit_interval_ns = 60 * SEC;
	init(f);
	start(f);		      /* start 1 */
	for (int i = 0; i < 2; i++) { /* starts 2 and 3 */
		exit_with(f, 1, 0);
		deadline(f);
		assert_true(f->act.spawn);
		svc_spawned(&f->svc, 100 + i, f->now);
	}
	/* A 4th start within 60 s would be refused: said at the exit, no restart announced. */
	exit_with(f, 1, 0);
	assert_false(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	assert_string_equal(f->svc.cause,
			    "exited with status 1 before it was ready; start limit hit: 3 starts "
			    "within 1m00s; not restarting until `readyctl reset web` or a start");
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	/* An operator reset lets the policy resume at once; the cause no longer says to reset. */
	ev(f, SVC_EV_RESET, &(struct svc_input){ .why = "reset by operator (uid 0)" });
	assert_false(f->svc.start_limit_hit);
	assert_false(f->act.changed);
	assert_string_equal(f->svc.cause,
			    "reset by operator (uid 0); was: exited with status 1 before it was "
			    "ready; start limit hit: 3 starts within 1m00s");
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
	deadline(f);
	assert_true(f->act.spawn);
}

static void starts_outside_the_window_do_not_count(void **state)
{
	struct fixture *f = *state;

	f->cfg.start_limit_burst = 2;
	f->cfg.start_limit_interval_ns = 10 * SEC;
	init(f);
	start(f);
	for (int i = 0; i < 5; i++) { /* one failure every ~30 s: never two within 10 s */
		f->now += 30 * SEC;
		exit_with(f, 1, 0);
		deadline(f);
		assert_true(f->act.spawn);
		svc_spawned(&f->svc, 200 + i, f->now);
	}
}

static void operator_restart_goes_through_stopping(void **state)
{
	struct fixture *f = *state;

	init(f);
	running(f);
	ev(f, SVC_EV_RESTART, &(struct svc_input){ .why = "restarted by operator (uid 0)" });
	assert_int_equal(f->svc.state, SVC_STOPPING);
	assert_int_equal(f->act.signal, SIGTERM);
	exit_with(f, -1, SIGTERM);
	assert_true(f->act.spawn);
	assert_int_equal(f->act.from, SVC_STOPPING);
	assert_int_equal(f->act.to, SVC_STARTING);
	assert_string_equal(f->svc.cause, "restarted by operator");
	assert_int_equal(f->svc.restarts, 1);
}

/* A restart for a required service's sake says so in the start too, not "by operator". */
static void a_restart_for_a_dependency_keeps_its_reason(void **state)
{
	struct fixture *f = *state;
	const char *why = "restarted: db, which it requires, left running (failed: exit 1)";

	init(f);
	running(f);
	ev(f, SVC_EV_RESTART, &(struct svc_input){ .why = why });
	exit_with(f, -1, SIGTERM);
	assert_int_equal(f->act.to, SVC_STARTING);
	assert_string_equal(f->svc.cause, why);
}

static void operator_start_clears_the_start_limit(void **state)
{
	struct fixture *f = *state;

	f->cfg.start_limit_burst = 1;
	init(f);
	start(f);
	exit_with(f, 1, 0); /* the limit refuses the restart: no deadline */
	assert_true(f->svc.start_limit_hit);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	ev(f, SVC_EV_START, &(struct svc_input){ .why = "started by operator" });
	assert_true(f->act.spawn);
	assert_false(f->svc.start_limit_hit);
}

static void stop_during_an_operator_restart_stays_down(void **state)
{
	struct fixture *f = *state;

	init(f);
	running(f);
	ev(f, SVC_EV_RESTART, &(struct svc_input){ .why = "restarted by operator (uid 0)" });
	assert_int_equal(f->svc.state, SVC_STOPPING);
	ev(f, SVC_EV_STOP, &(struct svc_input){ .why = "stopped by operator (uid 0)" });
	exit_with(f, -1, SIGTERM);
	assert_false(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
}

static void a_crash_while_being_restarted_for_liveness_counts_as_a_crash(void **state)
{
	struct fixture *f = *state;

	f->cfg.on_unhealthy = ON_UNHEALTHY_RESTART;
	f->cfg.restart = RESTART_NO;
	f->cfg.failure_threshold = 1;
	add_probe(&f->cfg, "tcp:127.0.0.1:8080");
	init(f);
	running(f);
	probe(f, 0, false, "connect: Connection refused");
	assert_int_equal(f->act.signal, SIGTERM);
	exit_with(f, 139 - 128, SIGSEGV); /* it crashed on its own before our SIGTERM landed */
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_false(f->svc.liveness_restart);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE); /* restart = no */
	probe_spec_free(&f->cfg.probes[0]);
}

/* ---- self-reports ---- */

static void ready_notify_gates_and_keeps_the_status(void **state)
{
	struct fixture *f = *state;

	f->cfg.n_listen = 0;
	f->cfg.ready = READY_NOTIFY;
	init(f);
	start(f);
	notify(f, "STATUS=loading");
	assert_int_equal(f->svc.state, SVC_STARTING);
	assert_string_equal(f->svc.status_text, "loading");
	f->now += 2 * SEC;
	notify(f, "READY=1\nSTATUS=serving");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_string_equal(f->svc.cause, "READY=1, 2.00s after spawn");
	assert_false(f->svc.ready_mismatch);
}

static void crosscheck(struct fixture *f)
{
	assert_true(f->svc.crosscheck_at > 0);
	f->now = f->svc.crosscheck_at;
	ev(f, SVC_EV_CROSSCHECK, NULL);
}

static void notify_and_accept_both_gate(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_NOTIFY | READY_ACCEPT;
	init(f);
	start(f);
	notify(f, "READY=1");
	assert_int_equal(f->svc.state, SVC_STARTING); /* the kernel has not seen it accepting */
	assert_int_equal(f->svc.crosscheck_at, f->now + CROSSCHECK_GRACE_NS); /* judged then */
	f->now += 3 * MS; /* mariadb accepts a few ms after its READY=1: an honest race */
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_non_null(strstr(f->svc.cause, "accepting on tcp:127.0.0.1:8080"));
	assert_non_null(strstr(f->svc.cause, "READY=1"));
	crosscheck(f);
	assert_false(f->act.mismatch);
	assert_false(f->svc.ready_mismatch);
	assert_int_equal(f->svc.ready_mismatches, 0);
}

/* gunicorn says READY=1 ~76 ms before any worker accepts: late, and said so. */
static void an_early_ready_is_flagged_once_its_grace_is_over(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_NOTIFY | READY_ACCEPT;
	init(f);
	start(f);
	notify(f, "READY=1");
	f->now += 76 * MS;
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	crosscheck(f);
	assert_true(f->act.mismatch);
	assert_int_equal(f->svc.ready_mismatches, 1);
	assert_false(f->svc.ready_mismatch); /* the kernel has caught up by now */
}

/* The datagram's kernel timestamp is when it was said, not when readyd read it. */
static void a_report_is_judged_from_when_it_was_sent(void **state)
{
	struct fixture *f = *state;
	struct notify_msg m;
	const char *why;

	f->cfg.ready = READY_NOTIFY | READY_ACCEPT;
	init(f);
	start(f);
	assert_int_equal(notify_parse("READY=1", 7, &m, &why), 0);
	f->now += 10 * MS;
	ev(f, SVC_EV_NOTIFY, &(struct svc_input){ .notify = &m, .at = f->now - 9 * MS });
	assert_int_equal(f->svc.crosscheck_at, f->now - 9 * MS + CROSSCHECK_GRACE_NS);
}

static void a_liar_is_flagged_even_when_trusted(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_NOTIFY; /* trusts it; readyd still checks */
	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	notify(f, "READY=1");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_false(f->svc.ready_mismatch); /* not yet: it has its grace */
	crosscheck(f);
	assert_true(f->act.mismatch);
	assert_true(f->svc.ready_mismatch);
	assert_int_equal(f->svc.ready_mismatches, 1);
	/* Running, yet the accept it has not shown must still be seen: keep watching syscalls. */
	assert_true(svc_needs_syscalls(&f->svc));
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_false(f->svc.ready_mismatch);
	assert_false(svc_needs_syscalls(&f->svc));
}

static void marker_appears_and_goes(void **state)
{
	struct fixture *f = *state;

	f->cfg.n_listen = 0;
	f->cfg.ready = READY_FILE;
	f->cfg.ready_file = "/run/app/ready";
	init(f);
	start(f);
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true });
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_non_null(strstr(f->svc.cause, "marker /run/app/ready"));
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = false });
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_string_equal(f->svc.cause, "ready marker /run/app/ready was removed");
	ev(f, SVC_EV_MARKER, &(struct svc_input){ .ok = true });
	assert_int_equal(f->svc.state, SVC_RUNNING);
	f->cfg.ready_file = NULL;
}

static void watchdog_silence_makes_unhealthy_and_pings_recover(void **state)
{
	struct fixture *f = *state;

	f->cfg.watchdog_ns = 2 * SEC;
	init(f);
	running(f);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_WATCHDOG);
	assert_int_equal(f->svc.deadline - f->now, 2 * SEC);
	f->now += 1 * SEC;
	notify(f, "WATCHDOG=1");
	assert_int_equal(f->svc.deadline - f->now, 2 * SEC); /* pushed back */
	deadline(f);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_string_equal(f->svc.cause, "watchdog: no WATCHDOG=1 within 2.00s");
	notify(f, "WATCHDOG=1");
	assert_int_equal(f->svc.state, SVC_RUNNING);
	notify(f, "WATCHDOG=trigger");
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_string_equal(f->svc.cause, "watchdog: the service sent WATCHDOG=trigger");
}

static void watchdog_with_restart_is_liveness(void **state)
{
	struct fixture *f = *state;

	f->cfg.watchdog_ns = 1 * SEC;
	f->cfg.on_unhealthy = ON_UNHEALTHY_RESTART;
	init(f);
	running(f);
	notify(f, "WATCHDOG_USEC=500000"); /* the service's own value wins */
	notify(f, "WATCHDOG=1");
	assert_int_equal(f->svc.deadline - f->now, 500 * MS);
	deadline(f);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_int_equal(f->act.signal, SIGTERM);
}

static void extend_timeout_buys_time_to_start(void **state)
{
	struct fixture *f = *state;
	uint64_t before;

	init(f);
	start(f);
	before = f->svc.deadline;
	f->now += 25 * SEC;
	notify(f, "EXTEND_TIMEOUT_USEC=20000000"); /* 20 s from now: later than the 30 s timeout */
	assert_int_equal(f->svc.deadline, f->now + 20 * SEC);
	assert_true(f->svc.deadline > before);
	notify(f, "EXTEND_TIMEOUT_USEC=1000000"); /* never shortens it */
	assert_int_equal(f->svc.deadline, f->now + 20 * SEC);
}

static void listener_levels_only_rise_and_fill_phases(void **state)
{
	struct listener l;

	(void)state;
	listener_init(&l, NULL, "x");
	assert_true(listener_note(&l, 1, LEVEL_ACCEPTING, 50));
	assert_int_equal(l.at[LEVEL_BOUND], 50); /* implied lower levels */
	assert_int_equal(l.at[LEVEL_LISTENING], 50);
	assert_false(listener_note(&l, 1, LEVEL_LISTENING, 60));
	assert_int_equal(l.level, LEVEL_ACCEPTING);
	assert_false(listener_note(&l, 99, LEVEL_CLOSED, 70)); /* unknown socket */
	assert_true(listener_note(&l, 1, LEVEL_CLOSED, 80));
	assert_int_equal(l.at[LEVEL_CLOSED], 80);
	assert_false(listener_ready(&l));
}

static void exits_are_described_by_who_and_how(void **state)
{
	static const struct {
		struct svc_exit e;
		const char *text;
	} cases[] = {
		{ { .code = 3 }, "exited with status 3" },
		{ { .code = -1, .signal = SIGKILL, .process = "ui" },
		  "process ui killed by signal 9 (SIGKILL)" },
		{ { .code = -1, .unknown = true },
		  "exited (not readyd's child: its status is unknown)" },
		{ { .code = -1, .detached = true }, "no longer watched; it still runs" },
		{ { .spawn_error = "exec /bin/nope: No such file or directory" },
		  "exec /bin/nope: No such file or directory" },
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		svc_exit_describe(&cases[i].e, text, sizeof(text));
		if (!strstr(text, cases[i].text))
			fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].text, text);
	}
}

static void a_ready_timeout_is_remembered_for_this_instance(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	deadline(f);
	assert_true(f->svc.ready_timed_out); /* readyd exec exits 124 on this */
	exit_with(f, -1, SIGTERM);
	deadline(f); /* the restart */
	assert_true(f->act.spawn);
	assert_false(f->svc.ready_timed_out);
}

static void adopted_ready_says_since_attach(void **state)
{
	struct fixture *f = *state;

	f->cfg.adopted = true;
	f->cfg.ready_timeout_ns = 0;
	init(f);
	start(f);
	assert_int_equal(f->svc.deadline, 0); /* no ready timeout for what readyd did not start */
	f->now += 3 * SEC / 1000;
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_non_null(strstr(f->svc.cause, "after readyd attached"));
}

static void backoff_jitter_stays_in_bounds(void **state)
{
	struct backoff_params p = backoff_default;

	(void)state;
	p.jitter_pct = 20;
	for (uint32_t r = 0; r < 1000; r++) {
		uint64_t d = backoff_delay(&p, 2, r * 4294967u);
		assert_true(d <= 4 * SEC && d >= 4 * SEC * 80 / 100);
	}
	assert_int_equal(backoff_delay(&p, 2, 0), 4 * SEC);
	assert_int_equal(backoff_delay(&p, 2, UINT32_MAX), 4 * SEC * 80 / 100);
	assert_int_equal(backoff_delay(&backoff_default, 40, 0), 30 * SEC); /* no overflow */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(probes_wait_for_the_kernel_gate),
		T(failure_threshold_then_success_threshold),
		T(ready_probe_gates_a_service_without_listeners),
		T(accept_and_probe_gates_in_order),
		T(ready_timeout_names_the_failing_probe),
		T(on_unhealthy_restart_is_liveness),
		T(start_limit_stops_a_crash_loop),
		T(starts_outside_the_window_do_not_count),
		T(operator_restart_goes_through_stopping),
		T(a_restart_for_a_dependency_keeps_its_reason),
		T(operator_start_clears_the_start_limit),
		T(stop_during_an_operator_restart_stays_down),
		T(a_crash_while_being_restarted_for_liveness_counts_as_a_crash),
		T(a_serving_check_gates_once_after_accept),
		T(ready_notify_gates_and_keeps_the_status),
		T(notify_and_accept_both_gate),
		T(an_early_ready_is_flagged_once_its_grace_is_over),
		T(a_report_is_judged_from_when_it_was_sent),
		T(a_liar_is_flagged_even_when_trusted),
		T(marker_appears_and_goes),
		T(watchdog_silence_makes_unhealthy_and_pings_recover),
		T(watchdog_with_restart_is_liveness),
		T(extend_timeout_buys_time_to_start),
		cmocka_unit_test(listener_levels_only_rise_and_fill_phases),
		cmocka_unit_test(backoff_jitter_stays_in_bounds),
		T(exits_are_described_by_who_and_how),
		T(a_ready_timeout_is_remembered_for_this_instance),
		T(adopted_ready_says_since_attach),
	};
	return cmocka_run_group_tests_name("machine_health", tests, NULL, NULL);
}
