// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine, driven with a fake clock: every transition of the table. */
#include "cmocka_all.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "readyd_event.h"
#include "service.h"
#include "util.h"

#define SEC NSEC_PER_SEC
#define MS NSEC_PER_MSEC

struct fixture {
	struct service_config cfg;
	struct svc svc;
	struct svc_actions act;
	uint64_t now;
};

static void add_listen(struct service_config *cfg, const char *text)
{
	const char *why;

	assert_int_equal(listen_spec_parse(text, &cfg->listen[cfg->n_listen++], &why), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	str_copy(f->cfg.name, "web", sizeof(f->cfg.name));
	f->cfg.ready_timeout_ns = 30 * SEC;
	f->cfg.stop_timeout_ns = 10 * SEC;
	f->cfg.restart = RESTART_ON_FAILURE;
	f->cfg.backoff = backoff_default;
	f->cfg.ready = READY_ACCEPT;
	f->cfg.failure_threshold = 3;
	f->cfg.success_threshold = 1;
	f->cfg.probe_interval_ns = 10 * SEC;
	f->cfg.probe_timeout_ns = 1 * SEC;
	add_listen(&f->cfg, "tcp:127.0.0.1:8080");
	f->now = 1000 * SEC;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void init(struct fixture *f)
{
	svc_init(&f->svc, &f->cfg);
}

static void ev(struct fixture *f, enum svc_event e, const struct svc_input *in)
{
	svc_handle(&f->svc, e, in, f->now, &f->act);
}

static void start(struct fixture *f)
{
	struct svc_input in = { .why = "boot" };

	ev(f, SVC_EV_START, &in);
	assert_true(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_STARTING);
	svc_spawned(&f->svc, 4242, f->now);
}

static void exit_with(struct fixture *f, int code, int sig)
{
	struct svc_input in = { .exit = { .code = code, .signal = sig } };

	ev(f, SVC_EV_EXIT, &in);
}

/* A socket of the service reached `level` (as daemon_events.c reports it). */
static void level(struct fixture *f, uint64_t sk, const char *addr, enum level lv)
{
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };
	struct listener *l;

	inet_pton(AF_INET, addr, a.addr);
	l = svc_listener_for(&f->svc, sk, &a, lv != LEVEL_BOUND);
	assert_non_null(l);
	if (lv == LEVEL_ACCEPTING)
		l->via = RD_VIA_EPOLL, l->pid = 4242;
	if (listener_note(l, sk, lv, f->now))
		ev(f, lv == LEVEL_CLOSED ? SVC_EV_LISTENER_LOST : SVC_EV_PROGRESS,
		   &(struct svc_input){ .why = l->label });
}

static void deadline(struct fixture *f)
{
	assert_true(f->svc.deadline > 0);
	f->now = f->svc.deadline;
	ev(f, SVC_EV_DEADLINE, NULL);
}

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
	assert_non_null(strstr(f->svc.cause, "accepting on tcp:127.0.0.1:8080 (epoll by pid 4242)"));
	assert_int_equal(svc_phase_at(&f->svc, LEVEL_LISTENING) - f->svc.spawned_at, 5 * MS);
}

static void every_declared_listener_must_accept(void **state)
{
	struct fixture *f = *state;
	struct sock_addr u = { .family = AF_UNIX, .sock_type = SOCK_STREAM };
	struct listener *l;

	add_listen(&f->cfg, "unix:/run/web.sock");
	init(f);
	start(f);
	level(f, 0xa, "0.0.0.0", LEVEL_ACCEPTING); /* wildcard serves 127.0.0.1 */
	assert_int_equal(f->svc.state, SVC_STARTING);
	str_copy(u.path, "/run/web.sock", sizeof(u.path));
	l = svc_listener_for(&f->svc, 0xb, &u, false);
	assert_ptr_equal(l, &f->svc.listeners[1]);
	listener_note(l, 0xb, LEVEL_ACCEPTING, f->now);
	ev(f, SVC_EV_PROGRESS, NULL);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static void udp_is_ready_once_bound(void **state)
{
	struct fixture *f = *state;
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_DGRAM, .port = 5353 };
	struct listener *l;

	f->cfg.n_listen = 0;
	add_listen(&f->cfg, "udp:5353");
	init(f);
	start(f);
	l = svc_listener_for(&f->svc, 0xc, &a, false);
	assert_non_null(l);
	listener_note(l, 0xc, LEVEL_BOUND, f->now);
	ev(f, SVC_EV_PROGRESS, NULL);
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

static void ready_timeout_kills_then_restarts(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	deadline(f); /* 30 s: never accepting */
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_int_equal(f->act.signal, SIGTERM);
	assert_non_null(strstr(f->svc.cause, "not ready after 30.00s (tcp:127.0.0.1:8080 listening)"));
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
	assert_string_equal(f->svc.cause,
			    "could not be started: exec /nope: No such file or directory; restart in 1.00s");
}

static void port_conflict_is_named_in_the_cause(void **state)
{
	struct fixture *f = *state;

	init(f);
	start(f);
	str_copy(f->svc.listeners[0].conflict, "port conflict: tcp:127.0.0.1:8080 is held by pid 7 (nc)",
		 sizeof(f->svc.listeners[0].conflict));
	exit_with(f, 1, 0);
	assert_non_null(strstr(f->svc.cause, "held by pid 7 (nc)"));
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
	ev(f, SVC_EV_PROGRESS, NULL);
	ev(f, SVC_EV_LISTENER_LOST, NULL);
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.state, SVC_STOPPED);
	assert_false(f->act.changed);
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
		T(starting_until_accepting_not_just_listening),
		T(every_declared_listener_must_accept),
		T(udp_is_ready_once_bound),
		T(undeclared_service_ready_on_first_accepting_listener),
		T(crash_before_ready_fails_and_restarts_with_backoff),
		T(backoff_resets_after_running_a_while),
		T(ready_timeout_kills_then_restarts),
		T(closed_listener_makes_unhealthy_and_recovers),
		T(one_of_two_reuseport_sockets_closing_is_fine),
		T(a_reused_socket_address_is_a_new_socket),
		T(stop_terms_then_kills_and_never_restarts),
		T(clean_exit_stops_unless_restart_always),
		T(restart_no_stays_failed),
		T(stop_while_failed_cancels_restart),
		T(spawn_failure_is_explained),
		T(port_conflict_is_named_in_the_cause),
		T(stop_before_the_fork_needs_no_signal),
		T(late_events_for_stopped_service_change_nothing),
		cmocka_unit_test(listener_levels_only_rise_and_fill_phases),
		cmocka_unit_test(backoff_jitter_stays_in_bounds),
	};
	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
