// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A machine written for the next readyd and read back is the same machine. */
#include "model/machine_fixture.h"

#include <stdio.h>

#include "daemon/snapshot.h"

/* Its snapshot as text: two machines are the same when these are. */
static char *text_of(const struct svc *s)
{
	cJSON *o = snapshot_svc(s);
	char *t = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	assert_non_null(t);
	return t;
}

static void restored_equals(const struct svc *s, const struct service_config *cfg, struct svc *into)
{
	cJSON *o = snapshot_svc(s);
	char why[64], *a, *b;

	svc_init(into, cfg);
	assert_int_equal(snapshot_restore_svc(into, o, why, sizeof(why)), 0);
	cJSON_Delete(o);
	a = text_of(s);
	b = text_of(into);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void a_running_service_with_history_comes_back_whole(void **state)
{
	struct fixture *f = *state;
	struct svc back;
	const char *why;

	assert_int_equal(probe_spec_parse("http://127.0.0.1:8080/health",
					  &f->cfg.probes[f->cfg.n_probes++], &why),
			 0);
	f->cfg.start_limit_burst = 5;
	init(f);
	start(f);
	exit_with(f, 1, 0); /* a failure: attempt 1, a restart deadline */
	f->now = f->svc.deadline;
	ev(f, svc_deadline_event(&f->svc), NULL);
	svc_spawned(&f->svc, 4343, f->now);
	level(f, 0xffff888012345678ULL, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	f->now += 10 * SEC;
	ev(f, SVC_EV_PROBE,
	   &(struct svc_input){ .probe = 0, .ok = false, .why = "HTTP 503", .duration_ns = MS });
	restored_equals(&f->svc, &f->cfg, &back);
	assert_int_equal(back.state, SVC_RUNNING);
	assert_int_equal(back.pid, 4343);
	assert_int_equal(back.restarts, f->svc.restarts);
	assert_int_equal(back.n_starts, 2);
	assert_true(back.has_exit);
	assert_int_equal(back.last_exit.code, 1);
	/* The kernel's own name for its socket survives: its close event will match. */
	assert_true(listener_has_sock(&back.listeners[0], 0xffff888012345678ULL));
	assert_string_equal(back.probes[0].last_reason, "HTTP 503");
	assert_ptr_equal(back.listeners[0].spec,
			 &f->cfg.listen[0]); /* the config's, not the file's */
	svc_free(&back);
	svc_free(&f->svc); /* (before the probe it was made for goes) */
	probe_spec_free(&f->cfg.probes[0]);
}

static void a_starting_service_keeps_its_ready_deadline(void **state)
{
	struct fixture *f = *state;
	struct svc back;

	init(f);
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_LISTENING);
	restored_equals(&f->svc, &f->cfg, &back);
	assert_int_equal(back.state, SVC_STARTING);
	assert_int_equal(back.deadline_kind, DEADLINE_READY);
	assert_true(back.deadline == f->now + 30 * SEC); /* from its spawn, not from now */
	assert_int_equal(back.listeners[0].level, LEVEL_LISTENING);
	svc_free(&back);
}

static void what_is_not_a_snapshot_is_refused_and_odd_values_ignored(void **state)
{
	struct fixture *f = *state;
	cJSON *o = cJSON_Parse("{\"state\":\"exploded\"}");
	char why[64];

	init(f);
	assert_int_equal(snapshot_restore_svc(&f->svc, o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no service state in it");
	assert_int_equal(f->svc.state, SVC_STOPPED);
	cJSON_Delete(o);
	assert_int_equal(snapshot_restore_svc(&f->svc, NULL, why, sizeof(why)), -EINVAL);
	/* Out-of-range values read as their defaults, never as what they say. */
	o = cJSON_Parse(
		"{\"state\":\"running\",\"pid\":-5,\"deadline_kind\":99,\"deadline\":\"12\","
		"\"restarts\":\"-1\",\"attempt\":1.5,\"starts\":[\"1\",\"2\",\"3\",\"4\","
		"\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
		"\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\",\"24\",\"25\","
		"\"26\",\"27\",\"28\",\"29\",\"30\",\"31\",\"32\",\"33\",\"34\"],"
		"\"listeners\":[{\"label\":\"tcp:127.0.0.1:8080\",\"level\":77}]}");
	assert_int_equal(snapshot_restore_svc(&f->svc, o, why, sizeof(why)), 0);
	assert_int_equal(f->svc.state, SVC_RUNNING);
	assert_int_equal(f->svc.pid, 0);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_NONE);
	assert_true(f->svc.deadline == 0);
	assert_true(f->svc.restarts == 0);
	assert_int_equal(f->svc.attempt, 0);
	assert_true(f->svc.n_starts <= START_LIMIT_BURST_MAX + 1);
	assert_int_equal(f->svc.listeners[0].level, LEVEL_ABSENT);
	cJSON_Delete(o);
}

static void u64_values_keep_every_bit(void **state)
{
	cJSON *o = cJSON_CreateObject();

	(void)state;
	assert_true(snapshot_put_u64(o, "big", UINT64_MAX));
	assert_true(snapshot_get_u64(o, "big", 0) == UINT64_MAX);
	assert_true(snapshot_get_u64(o, "missing", 7) == 7);
	cJSON_AddStringToObject(o, "bad", "12x");
	assert_true(snapshot_get_u64(o, "bad", 7) == 7);
	cJSON_Delete(o);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_running_service_with_history_comes_back_whole),
		T(a_starting_service_keeps_its_ready_deadline),
		T(what_is_not_a_snapshot_is_refused_and_odd_values_ignored),
		cmocka_unit_test(u64_values_keep_every_bit),
	};
	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
