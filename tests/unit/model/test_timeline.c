// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A service's timeline: the first boot is kept, the rest is a bounded ring. */
#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>

#include "model/timeline.h"

static struct timeline t;

static void the_first_boot_is_kept_and_the_rest_rings(void **state)
{
	char pid[16];

	(void)state;
	timeline_init(&t);
	timeline_add(&t, 10, TIMELINE_STATE, SVC_STARTING, "started");
	timeline_add(&t, 11, TIMELINE_SPAWN, 0, "pid 42");
	timeline_add(&t, 12, TIMELINE_LEVEL, LEVEL_ACCEPTING, "tcp:127.0.0.1:80");
	timeline_add(&t, 13, TIMELINE_STATE, SVC_RUNNING, "accepting");
	assert_int_equal(t.n_first, 4);
	assert_true(t.first_done);
	/* A week of restarts: 1,000 more entries. */
	for (unsigned int i = 0; i < 1000; i++) {
		snprintf(pid, sizeof(pid), "pid %u", i);
		timeline_add(&t, 100 + i, TIMELINE_SPAWN, 0, pid);
	}
	assert_int_equal(timeline_count(&t), 4 + TIMELINE_RING_MAX);
	assert_int_equal(t.dropped, 1000 - TIMELINE_RING_MAX);
	assert_string_equal(timeline_entry_name(timeline_get(&t, 0)), "starting");
	assert_string_equal(timeline_entry_name(timeline_get(&t, 2)), "accepting");
	assert_string_equal(timeline_entry_name(timeline_get(&t, 3)), "running");
	/* The ring, oldest first, up to the latest. */
	assert_int_equal(timeline_get(&t, 4)->at, 100 + 1000 - TIMELINE_RING_MAX);
	assert_int_equal(timeline_get(&t, 4 + TIMELINE_RING_MAX - 1)->at, 100 + 999);
	assert_string_equal(timeline_get(&t, 4 + TIMELINE_RING_MAX - 1)->detail, "pid 999");
	assert_null(timeline_get(&t, 4 + TIMELINE_RING_MAX));
	for (size_t i = 1; i < timeline_count(&t); i++)
		assert_true(timeline_get(&t, i - 1)->at < timeline_get(&t, i)->at);
}

static void a_boot_that_never_ends_keeps_only_its_first_entries(void **state)
{
	char long_detail[200];

	(void)state;
	timeline_init(&t);
	memset(long_detail, 'x', sizeof(long_detail) - 1);
	long_detail[sizeof(long_detail) - 1] = '\0';
	for (unsigned int i = 0; i < TIMELINE_FIRST_MAX + 3; i++)
		timeline_add(&t, i, TIMELINE_LEVEL, LEVEL_BOUND, long_detail);
	assert_int_equal(t.n_first, TIMELINE_FIRST_MAX);
	assert_int_equal(t.n_ring, 3);
	assert_int_equal(strlen(timeline_get(&t, 0)->detail), TIMELINE_DETAIL_MAX - 1);
	assert_string_equal(timeline_entry_name(timeline_get(&t, 0)), "bound");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_boot_is_kept_and_the_rest_rings),
		cmocka_unit_test(a_boot_that_never_ends_keeps_only_its_first_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
