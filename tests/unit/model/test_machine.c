// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine, driven with a fake clock: starts, listeners, exits, restarts, stops. */
#include "machine_fixture.h"

static void starting_until_accepting_not_just_listening(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	f->now += 5 * MS;
	level(f, 0xa, "127.0.0.1", LEVEL_BOUND);
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	assert_int_equal(f->svc.state, SVC_STARTING); /* listen() alone is not ready */
	f->now += 2 * SEC;
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_true(f->act.changed);
	assert_int_equal(f->act.from, SVC_STARTING);
	assert_int_equal(f->svc.ready_at - f->svc.spawned_at, 2 * SEC + 5 * MS);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	assert_non_null(
		strstr(f->svc.cause, "accepting on tcp:127.0.0.1:8080 (epoll by pid 4242)"));
	assert_int_equal(svc_phase_at(&f->svc, LEVEL_LISTENING) - f->svc.spawned_at, 5 * MS);
}

static void every_declared_listener_must_accept(void **state)
{
	struct fixture *f = *state;
	struct sock_addr u = { .family = AF_UNIX, .sock_type = SOCK_STREAM };

	add_listen(&f->cfg, "unix:/run/web.sock");
	init(f);
	start(f);
	level(f, 0xa, "0.0.0.0", LEVEL_ACCEPTING); /* wildcard serves 127.0.0.1 */
	assert_int_equal(f->svc.state, SVC_STARTING);
	str_copy(u.path, "/run/web.sock", sizeof(u.path));
	assert_ptr_equal(svc_listener_for(&f->svc, 0xb, &u, false), &f->svc.listeners[1]);
	sock_event(f, 0xb, &u, LEVEL_ACCEPTING);
	assert_ptr_equal(f->act.listener, &f->svc.listeners[1]);
	assert_true(f->act.level_changed);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static void udp_is_ready_once_bound(void **state)
{
	struct fixture *f = *state;
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_DGRAM, .port = 5353 };

	f->cfg.n_listen = 0;
	add_listen(&f->cfg, "udp:5353");
	init(f);
	start(f);
	sock_event(f, 0xc, &a, LEVEL_BOUND);
	assert_true(f->act.level_changed);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static void undeclared_service_ready_on_first_accepting_listener(void **state)
{
	struct fixture *f = *state;

	f->cfg.n_listen = 0;
	init(f);
	start(f);
	level(f, 0x1, "10.0.0.1", LEVEL_LISTENING);
	assert_int_equal(f->svc.n_observed, 1);
	assert_string_equal(f->svc.observed[0].label, "tcp:10.0.0.1:8080");
	assert_int_equal(f->svc.state, SVC_STARTING);
	level(f, 0x1, "10.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static void crash_before_ready_fails_and_restarts_with_backoff(void **state)
{
	struct fixture *f = *state;
	uint64_t expected[] = { 1, 2, 4, 8, 16, 30, 30 };

	init(f);
	start(f);
	for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
		f->now += 100 * MS;
		exit_with(f, 3, 0);
		assert_int_equal(f->svc.state, SVC_FAILED);
		assert_int_equal(f->act.from, SVC_STARTING);
		assert_non_null(strstr(f->svc.cause, "exited with status 3 before it was ready"));
		assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
		assert_int_equal(f->svc.deadline - f->now, expected[i] * SEC);
		deadline(f);
		assert_true(f->act.spawn);
		assert_int_equal(f->svc.state, SVC_STARTING);
		assert_int_equal(f->svc.restarts, i + 1);
		svc_spawned(&f->svc, 5000 + (int)i, f->now);
	}
}

static void backoff_resets_after_running_a_while(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	exit_with(f, 1, 0);
	deadline(f);
	svc_spawned(&f->svc, 1, f->now);
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.deadline - f->now, 2 * SEC); /* second failure: 2s */
	deadline(f);
	svc_spawned(&f->svc, 2, f->now);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	f->now += 61 * SEC; /* ran longer than reset_after */
	exit_with(f, 0, SIGSEGV);
	assert_non_null(strstr(f->svc.cause, "killed by signal 11 (SIGSEGV)"));
	assert_int_equal(f->svc.deadline - f->now, 1 * SEC);
}

/* Declared one port, listening on another: the cause names both. */
static void ready_timeout_names_the_port_it_listens_on(void **state)
{
	struct fixture *f = *state;
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8081 };

	inet_pton(AF_INET, "127.0.0.1", a.addr);
	init(f);
	start(f);
	sock_event(f, 0xb, &a, LEVEL_BOUND); /* a bind alone says nothing: clients bind too */
	assert_string_equal(f->svc.undeclared, "");
	sock_event(f, 0xb, &a, LEVEL_LISTENING);
	deadline(f);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_non_null(strstr(f->svc.cause, "not ready after 30.00s (declared tcp:127.0.0.1:8080 "
					     "absent; the service listens on tcp:127.0.0.1:8081)"));
	/* The next instance starts with a clean slate. */
	exit_with(f, -1, SIGTERM);
	deadline(f); /* restart */
	assert_string_equal(f->svc.undeclared, "");
}

static void ready_timeout_kills_then_restarts(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	deadline(f); /* 30 s: never accepting */
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_int_equal(f->act.signal, SIGTERM);
	assert_non_null(
		strstr(f->svc.cause, "not ready after 30.00s (tcp:127.0.0.1:8080 listening)"));
	assert_int_equal(f->svc.deadline_kind, DEADLINE_KILL);
	deadline(f); /* stop_timeout: still alive */
	assert_int_equal(f->act.signal, SIGKILL);
	assert_false(f->act.changed);
	exit_with(f, -1, SIGKILL);
	assert_false(f->act.changed); /* already failed; now the restart is scheduled */
	assert_int_equal(f->svc.pid, 0);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
	deadline(f);
	assert_true(f->act.spawn);
}

static void closed_listener_makes_unhealthy_and_recovers(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_false(svc_needs_syscalls(&f->svc));
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_string_equal(f->svc.cause, "listener tcp:127.0.0.1:8080 closed");
	assert_true(svc_needs_syscalls(&f->svc)); /* watch for the new listener */
	level(f, 0xb, "127.0.0.1", LEVEL_LISTENING);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

/*
 * A crash closes the listener on the way out: the exit is the news, judged
 * as an exit. Taken as a lost listener, on_unhealthy = restart would turn
 * the crash into a liveness restart that no start limit sees as a crash.
 */
static void a_close_by_the_exiting_main_process_is_the_exit(void **state)
{
	struct fixture *f = *state;
	struct svc_sock k = { .sk = 0xa, .level = LEVEL_CLOSED, .main_exiting = true };

	f->cfg.on_unhealthy = ON_UNHEALTHY_RESTART;
	init(f);
	running(f);
	k.at = f->now;
	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
	assert_true(f->act.level_changed);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_int_equal(f->act.signal, 0);
	exit_with(f, -1, SIGSEGV);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_non_null(strstr(f->svc.cause, "killed by signal 11 (SIGSEGV)"));
}

static void one_of_two_reuseport_sockets_closing_is_fine(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	level(f, 0xb, "127.0.0.1", LEVEL_ACCEPTING);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	level(f, 0xb, "127.0.0.1", LEVEL_CLOSED);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
}

static void a_reused_socket_address_is_a_new_socket(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	/* The kernel hands the freed struct sock address to the new listener. */
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.listeners[0].level, LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static void stop_terms_then_kills_and_never_restarts(void **state)
{
	struct fixture *f = *state;
	struct svc_input in = { .why = "operator" };

	init(f);
	start(f);
	ev(f, SVC_EV_STOP, &in);
	assert_int_equal(f->svc.state, SVC_STOPPING);
	assert_int_equal(f->act.signal, SIGTERM);
	deadline(f);
	assert_int_equal(f->act.signal, SIGKILL);
	exit_with(f, -1, SIGKILL);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	assert_false(f->act.spawn);
}

static void clean_exit_stops_unless_restart_always(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	exit_with(f, 0, 0);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	f->cfg.restart = RESTART_ALWAYS;
	init(f);
	start(f);
	exit_with(f, 0, 0);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
	deadline(f);
	assert_true(f->act.spawn);
}

static void restart_no_stays_failed(void **state)
{
	struct fixture *f = *state;

	f->cfg.restart = RESTART_NO;
	init(f);
	start(f);
	exit_with(f, 2, 0);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_int_equal(f->svc.deadline, 0);
	ev(f, SVC_EV_START, &(struct svc_input){ .why = "operator" }); /* but can be started */
	assert_true(f->act.spawn);
}

static void stop_while_failed_cancels_restart(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
	ev(f, SVC_EV_STOP, &(struct svc_input){ .why = "shutdown" });
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->svc.deadline, 0);
}

static void spawn_failure_is_explained(void **state)
{
	struct fixture *f = *state;
	struct svc_input in = { .exit = { .code = 127 } };

	init(f);
	start(f);
	str_copy(in.exit.spawn_error, "exec /nope: No such file or directory",
		 sizeof(in.exit.spawn_error));
	ev(f, SVC_EV_EXIT, &in);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_string_equal(
		f->svc.cause,
		"could not be started: exec /nope: No such file or directory; restart in 1.00s");
}

static void port_conflict_is_named_in_the_cause(void **state)
{
	struct fixture *f = *state;

	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };
	struct svc_sock k = { .addr = &a,
			      .bind_errno = EADDRINUSE,
			      .holder = "tcp:127.0.0.1:8080 is held by pid 7 (nc)" };

	inet_pton(AF_INET, "127.0.0.1", a.addr);
	init(f);
	start(f);
	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
	assert_ptr_equal(f->act.listener, &f->svc.listeners[0]);
	assert_true(f->act.dirty);
	assert_int_equal(f->svc.listeners[0].bind_errno, EADDRINUSE);
	k.holder = "a second failure is not looked up again";
	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
	exit_with(f, 1, 0);
	assert_string_equal(f->svc.cause,
			    "exited with status 1 before it was ready; port conflict: "
			    "tcp:127.0.0.1:8080 is held by pid 7 (nc); restart in 1.00s");
}

/* Refused before the fork: the error names the conflict, the cause says it once. */
static void a_refused_start_names_the_conflict_once(void **state)
{
	struct fixture *f = *state;
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };
	struct svc_sock k = { .addr = &a,
			      .bind_errno = EADDRINUSE,
			      .holder = "tcp:127.0.0.1:8080 is held by pid 7 (nc)" };
	struct svc_input in = { .exit = { .code = 127 } };

	inet_pton(AF_INET, "127.0.0.1", a.addr);
	init(f);
	start(f);
	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
	str_copy(in.exit.spawn_error,
		 "port conflict: tcp:127.0.0.1:8080 is held by pid 7 (nc); not started while it is",
		 sizeof(in.exit.spawn_error));
	ev(f, SVC_EV_EXIT, &in);
	assert_string_equal(f->svc.cause,
			    "could not be started: port conflict: tcp:127.0.0.1:8080 is held by "
			    "pid 7 (nc); not started while it is; restart in 1.00s");
}

/* The state says stopped: the cause is how it ended, not "stopped (...)" again. */
static void a_stop_says_how_it_ended_once(void **state)
{
	struct fixture *f = *state;

	init(f);
	running(f);
	ev(f, SVC_EV_STOP, &(struct svc_input){ .why = "stopped by operator (uid 0)" });
	exit_with(f, -1, SIGTERM);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_string_equal(f->svc.cause, "killed by signal 15 (SIGTERM)");
}

static void stop_before_the_fork_needs_no_signal(void **state)
{
	struct fixture *f = *state;

	init(f);
	ev(f, SVC_EV_START, &(struct svc_input){ .why = "boot" });
	assert_true(f->act.spawn);
	assert_int_equal(f->svc.deadline, 0); /* ready timeout starts at the fork */
	ev(f, SVC_EV_STOP, &(struct svc_input){ .why = "shutdown" });
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_int_equal(f->act.signal, 0);
	assert_string_equal(f->svc.cause, "shutdown before it was spawned");
}

static void late_events_for_stopped_service_change_nothing(void **state)
{
	struct fixture *f = *state;

	init(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_false(f->act.changed);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_false(f->act.changed);
}

/* ---- probes, start limit, operator commands ---- */

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(starting_until_accepting_not_just_listening),
		T(every_declared_listener_must_accept),
		T(udp_is_ready_once_bound),
		T(undeclared_service_ready_on_first_accepting_listener),
		T(crash_before_ready_fails_and_restarts_with_backoff),
		T(backoff_resets_after_running_a_while),
		T(ready_timeout_kills_then_restarts),
		T(ready_timeout_names_the_port_it_listens_on),
		T(closed_listener_makes_unhealthy_and_recovers),
		T(a_close_by_the_exiting_main_process_is_the_exit),
		T(one_of_two_reuseport_sockets_closing_is_fine),
		T(a_reused_socket_address_is_a_new_socket),
		T(stop_terms_then_kills_and_never_restarts),
		T(clean_exit_stops_unless_restart_always),
		T(restart_no_stays_failed),
		T(stop_while_failed_cancels_restart),
		T(spawn_failure_is_explained),
		T(port_conflict_is_named_in_the_cause),
		T(a_refused_start_names_the_conflict_once),
		T(a_stop_says_how_it_ended_once),
		T(stop_before_the_fork_needs_no_signal),
		T(late_events_for_stopped_service_change_nothing),
	};
	return cmocka_run_group_tests_name("machine", tests, NULL, NULL);
}
