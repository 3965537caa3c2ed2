// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine, driven with a fake clock: every transition of the table. */
#include "cmocka_all.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "model/service.h"
#include "base/clock.h"
#include "base/util.h"

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
	f->cfg.start_limit_burst = 0; /* tests that want one set it */
	f->cfg.start_limit_interval_ns = 60 * SEC;
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

/* What a sensor saw of socket sk (as in/events.c reports it). */
static void sock_event(struct fixture *f, uint64_t sk, const struct sock_addr *a, enum level lv)
{
	struct svc_sock k = { .sk = sk, .addr = lv == LEVEL_CLOSED ? NULL : a, .level = lv,
			      .may_observe = lv == LEVEL_LISTENING || lv == LEVEL_ACCEPTING,
			      .pid = 4242, .comm = "web", .via = VIA_EPOLL, .at = f->now };

	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
}

/* A TCP socket of the service bound to addr:8080 reached `level`. */
static void level(struct fixture *f, uint64_t sk, const char *addr, enum level lv)
{
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };

	inet_pton(AF_INET, addr, a.addr);
	sock_event(f, sk, &a, lv);
}

static void deadline(struct fixture *f)
{
	assert_true(f->svc.deadline > 0);
	f->now = f->svc.deadline;
	ev(f, svc_deadline_event(&f->svc), NULL);
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

	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };
	struct svc_sock k = { .addr = &a, .bind_errno = EADDRINUSE,
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
	assert_string_equal(f->svc.cause, "exited with status 1 before it was ready; port conflict: "
					  "tcp:127.0.0.1:8080 is held by pid 7 (nc); restart in 1.00s");
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

static void add_probe(struct service_config *cfg, const char *text)
{
	const char *why;

	assert_int_equal(probe_spec_parse(text, &cfg->probes[cfg->n_probes++], &why), 0);
}

static void probe(struct fixture *f, unsigned int idx, bool ok, const char *why)
{
	struct svc_input in = { .probe = idx, .ok = ok, .why = why, .duration_ns = 3 * MS };

	f->now += 10 * SEC;
	ev(f, SVC_EV_PROBE, &in);
}

static void running(struct fixture *f)
{
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

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
	probe(f, 0, true, "HTTP 200 OK"); /* the streak is broken */
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
	start(f); /* start 1 */
	for (int i = 0; i < 2; i++) { /* starts 2 and 3 */
		exit_with(f, 1, 0);
		deadline(f);
		assert_true(f->act.spawn);
		svc_spawned(&f->svc, 100 + i, f->now);
	}
	exit_with(f, 1, 0);
	deadline(f); /* a 4th start within 60 s: refused */
	assert_false(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	assert_string_equal(f->svc.cause, "start limit hit: 3 starts within 1m00s; not restarting "
					  "until `readyctl reset web` or a start");
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	/* An operator reset lets the policy resume at once. */
	ev(f, SVC_EV_RESET, &(struct svc_input){ .why = "operator" });
	assert_false(f->svc.start_limit_hit);
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

static void operator_start_clears_the_start_limit(void **state)
{
	struct fixture *f = *state;

	f->cfg.start_limit_burst = 1;
	init(f);
	start(f);
	exit_with(f, 1, 0);
	deadline(f);
	assert_true(f->svc.start_limit_hit);
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

static void notify(struct fixture *f, const char *text)
{
	struct notify_msg m;
	const char *why;
	struct svc_input in = { .notify = &m };

	assert_int_equal(notify_parse(text, strlen(text), &m, &why), 0);
	ev(f, SVC_EV_NOTIFY, &in);
}

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

static void notify_and_accept_both_gate(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = READY_NOTIFY | READY_ACCEPT;
	init(f);
	start(f);
	notify(f, "READY=1");
	assert_int_equal(f->svc.state, SVC_STARTING); /* the kernel has not seen it accepting */
	assert_true(f->svc.ready_mismatch);	       /* ...though it says it is ready */
	assert_int_equal(f->svc.ready_mismatches, 1);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_false(f->svc.ready_mismatch); /* the kernel caught up */
	assert_non_null(strstr(f->svc.cause, "accepting on tcp:127.0.0.1:8080"));
	assert_non_null(strstr(f->svc.cause, "READY=1"));
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
	assert_true(f->svc.ready_mismatch);
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
		{ { .code = -1, .unknown = true }, "exited (not readyd's child: its status is unknown)" },
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
		T(probes_wait_for_the_kernel_gate),
		T(failure_threshold_then_success_threshold),
		T(ready_probe_gates_a_service_without_listeners),
		T(accept_and_probe_gates_in_order),
		T(ready_timeout_names_the_failing_probe),
		T(on_unhealthy_restart_is_liveness),
		T(start_limit_stops_a_crash_loop),
		T(starts_outside_the_window_do_not_count),
		T(operator_restart_goes_through_stopping),
		T(operator_start_clears_the_start_limit),
		T(stop_during_an_operator_restart_stays_down),
		T(a_crash_while_being_restarted_for_liveness_counts_as_a_crash),
		T(ready_notify_gates_and_keeps_the_status),
		T(notify_and_accept_both_gate),
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
	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
