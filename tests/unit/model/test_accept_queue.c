// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The stalled-acceptor verdict, with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/accept_queue.h"
#include "base/clock.h"
#include "base/util.h"

#define SEC   NSEC_PER_SEC
#define STALL (5 * SEC)

static void an_empty_queue_is_fine(void **state)
{
	struct accept_queue q = { 0 };

	(void)state;
	for (uint64_t t = 0; t < 20 * SEC; t += SEC)
		assert_int_equal(accept_queue_sample(&q, 0, 128, t, STALL), QUEUE_OK);
}

static void waiting_connections_nobody_accepts_stall_after_the_limit(void **state)
{
	struct accept_queue q = { 0 };
	char text[200];

	(void)state;
	accept_queue_sample(&q, 0, 16, 0, STALL);
	assert_int_equal(accept_queue_sample(&q, 3, 16, 1 * SEC, STALL), QUEUE_OK);
	assert_int_equal(accept_queue_sample(&q, 3, 16, 5 * SEC, STALL), QUEUE_OK);
	assert_int_equal(accept_queue_sample(&q, 4, 16, 6 * SEC, STALL), QUEUE_STALLED);
	accept_queue_describe(&q, 6 * SEC, text, sizeof(text));
	assert_string_equal(text,
			    "accept queue stalled: 4 connections waiting, none accepted for 5.00s");
	/* One accepted (the queue shrank): moving again. */
	assert_int_equal(accept_queue_sample(&q, 2, 16, 7 * SEC, STALL), QUEUE_OK);
	assert_int_equal(accept_queue_sample(&q, 0, 16, 8 * SEC, STALL), QUEUE_OK);
}

static void a_queue_that_shrinks_is_being_drained(void **state)
{
	struct accept_queue q = { 0 };
	uint32_t depths[] = { 5, 4, 6, 3, 5, 2, 4, 1, 3, 2 };

	(void)state;
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
		assert_int_equal(accept_queue_sample(&q, depths[i], 128, i * 2 * SEC, STALL),
				 QUEUE_OK);
}

static void a_full_queue_is_reported_at_once_and_stall_off_means_off(void **state)
{
	struct accept_queue q = { 0 };
	char text[200];

	(void)state;
	assert_int_equal(accept_queue_sample(&q, 129, 128, 0, STALL), QUEUE_FULL);
	accept_queue_describe(&q, 0, text, sizeof(text));
	assert_non_null(strstr(text, "overflowing: 129 connections waiting, backlog 128"));
	accept_queue_reset(&q);
	assert_int_equal(accept_queue_sample(&q, 3, 16, 0, 0), QUEUE_OK);
	assert_int_equal(accept_queue_sample(&q, 3, 16, 100 * SEC, 0), QUEUE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_empty_queue_is_fine),
		cmocka_unit_test(waiting_connections_nobody_accepts_stall_after_the_limit),
		cmocka_unit_test(a_queue_that_shrinks_is_being_drained),
		cmocka_unit_test(a_full_queue_is_reported_at_once_and_stall_off_means_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
