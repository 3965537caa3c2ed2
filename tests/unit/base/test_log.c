// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The log's time stamp, and how it knows stderr is the journal's stream. */
#include "cmocka_all.h"

#include <string.h>

#include "base/log.h"

static void ts_is_rfc3339_utc_to_the_millisecond(void **state)
{
	struct timespec t = { .tv_sec = 1796204401, .tv_nsec = 123999999 };
	char buf[64];
	int n;

	(void)state;
	n = log_format_ts(buf, sizeof(buf), &t);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "ts=2026-12-02T09:40:01.123Z "); /* cut, not rounded */
	t = (struct timespec){ .tv_sec = 0, .tv_nsec = 0 };
	log_format_ts(buf, sizeof(buf), &t);
	assert_string_equal(buf, "ts=1970-01-01T00:00:00.000Z ");
}

static void journal_stream_must_name_stderr(void **state)
{
	(void)state;
	assert_true(log_journal_stream_is("8:1", 8, 1));
	assert_true(
		log_journal_stream_is("2049:18446744073709551615", 2049, 18446744073709551615ULL));
	assert_false(log_journal_stream_is("8:1", 8, 2)); /* inherited, stderr redirected */
	assert_false(log_journal_stream_is("9:1", 8, 1));
	assert_false(log_journal_stream_is(NULL, 8, 1));
	assert_false(log_journal_stream_is("", 8, 1));
	assert_false(log_journal_stream_is("8", 8, 1));
	assert_false(log_journal_stream_is("8:1x", 8, 1));
	assert_false(log_journal_stream_is("8:1:2", 8, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ts_is_rfc3339_utc_to_the_millisecond),
		cmocka_unit_test(journal_stream_must_name_stderr),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
