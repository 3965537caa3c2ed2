// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start order's verdicts (model/deps.c) and the start limit's cool-down, with
 * the fake clock: one more try after start_limit_cooldown, half-open.
 */
#include "machine_fixture.h"

#include "model/deps.h"

static void verdict(void **state)
{
	struct dep_view v[] = {
		{ .name = "db", .present = true, .state = SVC_RUNNING, .cause = "accepting" },
		{ .name = "cache",
		  .present = true,
		  .state = SVC_STARTING,
		  .cause = "tcp:127.0.0.1:6379 listening" },
	};
	char why[SVC_CAUSE_MAX];

	(void)state;
	assert_false(deps_verdict(v, 2, why, sizeof(why)));
	assert_string_equal(why, "waiting for cache (starting: tcp:127.0.0.1:6379 listening)");
	v[1].state = SVC_RUNNING;
	assert_true(deps_verdict(v, 2, why, sizeof(why)));
	assert_string_equal(why, "");
	v[0].state = SVC_UNHEALTHY; /* running means running: unhealthy is not ready to lean on */
	assert_false(deps_verdict(v, 2, why, sizeof(why)));
	v[0].present = false;
	assert_false(deps_verdict(v, 2, why, sizeof(why)));
	assert_string_equal(why, "waiting for db (not in the running configuration)");
	assert_true(deps_verdict(v, 0, why, sizeof(why))); /* none: at once */
}

static void left_running(void **state)
{
	(void)state;
	assert_true(deps_left_running(SVC_RUNNING, SVC_FAILED));
	assert_true(deps_left_running(SVC_RUNNING, SVC_STOPPING));
	assert_true(deps_left_running(SVC_UNHEALTHY, SVC_STOPPING)); /* on_unhealthy = restart */
	assert_true(deps_left_running(SVC_UNHEALTHY, SVC_STARTING));
	assert_false(deps_left_running(SVC_RUNNING, SVC_UNHEALTHY)); /* it still serves */
	assert_false(deps_left_running(SVC_STARTING, SVC_FAILED));   /* it never was running */
	assert_true(deps_alive(SVC_STARTING));
	assert_false(deps_alive(SVC_STOPPED));
	assert_false(deps_alive(SVC_FAILED));
}

/* Start, fail at once, until the limit holds it: failed with the cool-down armed. */
static void hit_limit(struct fixture *f)
{
	start(f);
	exit_with(f, 1, 0);
	while (!f->svc.start_limit_hit) {
		deadline(f);
		assert_int_equal(f->svc.state, SVC_STARTING);
		svc_spawned(&f->svc, 4242, f->now);
		exit_with(f, 1, 0);
	}
	assert_int_equal(f->svc.state, SVC_FAILED);
}

static void cooldown_half_open(void **state)
{
	struct fixture *f = *state;
	uint64_t left;

	f->cfg.start_limit_burst = 3;
	f->cfg.start_limit_interval_ns = 60 * SEC;
	f->cfg.start_limit_cooldown_ns = 2 * SEC;
	init(f);
	hit_limit(f);
	assert_non_null(strstr(f->svc.cause, "start limit hit: 3 starts within 1m"));
	assert_non_null(strstr(f->svc.cause, "next try in 2.00s (start_limit_cooldown)"));
	assert_true(svc_next_try(&f->svc, f->now + 500 * MS, &left));
	assert_int_equal(left, 1500 * MS);
	/* the cool-down passes: one start, though the window still holds 3 */
	deadline(f);
	assert_int_equal(f->svc.state, SVC_STARTING);
	assert_true(f->act.spawn);
	assert_true(f->svc.trial);
	assert_false(svc_next_try(&f->svc, f->now, &left));
	svc_spawned(&f->svc, 4242, f->now);
	/* it fails: no backoff restarts, the cool-down again */
	f->now += 100 * MS;
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_true(f->svc.start_limit_hit);
	assert_non_null(strstr(f->svc.cause, "its one more try after the cool-down failed"));
	assert_int_equal(f->svc.deadline, f->now + 2 * SEC);
	/* the next try works: running clears the limit */
	deadline(f);
	svc_spawned(&f->svc, 4242, f->now);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_false(f->svc.start_limit_hit);
	assert_false(f->svc.trial);
	assert_int_equal(f->svc.n_starts, 0);
	assert_int_equal(f->svc.attempt, 0);
}

static void cooldown_off(void **state)
{
	struct fixture *f = *state;
	uint64_t left;

	f->cfg.start_limit_burst = 2;
	f->cfg.start_limit_cooldown_ns = 0;
	init(f);
	hit_limit(f);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE); /* failed, as before the cool-down */
	assert_false(svc_next_try(&f->svc, f->now, &left));
	assert_non_null(strstr(f->svc.cause, "not restarting until `readyctl reset web`"));
}

/* An operator's reset in the cool-down: the limit and the armed try are forgotten. */
static void cooldown_reset(void **state)
{
	struct fixture *f = *state;
	uint64_t left;

	f->cfg.start_limit_burst = 2;
	f->cfg.start_limit_cooldown_ns = 300 * SEC;
	init(f);
	hit_limit(f);
	ev(f, SVC_EV_RESET, &(struct svc_input){ .why = "reset by operator" });
	assert_false(svc_next_try(&f->svc, f->now, &left));
	assert_null(strstr(f->svc.cause, "next try in"));
	deadline(f); /* the restart policy resumes now */
	assert_int_equal(f->svc.state, SVC_STARTING);
	assert_false(f->svc.trial);
}

static void held_cause(void **state)
{
	struct fixture *f = *state;

	init(f);
	assert_true(svc_set_held(&f->svc, "waiting for db (starting: -)"));
	assert_false(svc_set_held(&f->svc, "waiting for db (starting: -)")); /* no news */
	assert_string_equal(f->svc.cause, "waiting for db (starting: -)");
	assert_int_equal(f->svc.state, SVC_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdict),
		cmocka_unit_test(left_running),
		cmocka_unit_test_setup_teardown(cooldown_half_open, setup, teardown),
		cmocka_unit_test_setup_teardown(cooldown_off, setup, teardown),
		cmocka_unit_test_setup_teardown(cooldown_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(held_cause, setup, teardown),
	};
	return cmocka_run_group_tests_name("deps", tests, NULL, NULL);
}
