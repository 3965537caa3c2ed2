// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* duration_parse and argv_split: the small parsers the config relies on. */
#include "cmocka_all.h"

#include <errno.h>
#include <string.h>

#include "base/argv.h"
#include "base/duration.h"
#include "base/clock.h"
#include "base/util.h"

static uint64_t dur(const char *s)
{
	uint64_t ns = 12345;

	assert_int_equal(duration_parse(s, &ns), 0);
	return ns;
}

static void durations_with_units(void **state)
{
	(void)state;
	assert_int_equal(dur("500ms"), 500 * NSEC_PER_MSEC);
	assert_int_equal(dur("30s"), 30 * NSEC_PER_SEC);
	assert_int_equal(dur("2m"), 120 * NSEC_PER_SEC);
	assert_int_equal(dur("1h"), 3600 * NSEC_PER_SEC);
	assert_int_equal(dur("250us"), 250000);
	assert_int_equal(dur("1m30s"), 90 * NSEC_PER_SEC);
	assert_int_equal(dur("1.5s"), 1500 * NSEC_PER_MSEC);
	assert_int_equal(dur("0.25m"), 15 * NSEC_PER_SEC);
}

static void bare_number_is_seconds(void **state)
{
	(void)state;
	assert_int_equal(dur("7"), 7 * NSEC_PER_SEC);
	assert_int_equal(dur("0.1"), 100 * NSEC_PER_MSEC);
}

static void bad_durations_rejected(void **state)
{
	static const char *const bad[] = { "",	  "s",	 "10x", "ten",	"-1s",
					   "1.s", "5 s", "1s2", "3mss", ".5s" };
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(duration_parse(bad[i], &ns), -EINVAL);
	assert_int_equal(duration_parse("9999999h", &ns), -ERANGE);
	/* Past a year, however written: no wrap-around to a short timeout. */
	assert_int_equal(duration_parse("18446744074", &ns), -ERANGE);
	assert_int_equal(duration_parse("31700000", &ns), -ERANGE);
	assert_int_equal(duration_parse("99999999999999999999999s", &ns), -ERANGE);
	assert_int_equal(duration_parse("1000000000000us", &ns), 0); /* 11.6 days: fine */
	assert_int_equal(ns, 1000000000000000ULL);
	assert_int_equal(duration_parse(NULL, &ns), -EINVAL);
}

static char **split_ok(const char *line, int want_argc)
{
	const char *why = NULL;
	char **argv = NULL;

	assert_int_equal(argv_split(line, &argv, &why), want_argc);
	assert_null(why);
	assert_null(argv[want_argc]);
	return argv;
}

static void argv_plain_words(void **state)
{
	char **a = split_ok("  /usr/bin/python3 -m   http.server\t8080 ", 4);

	(void)state;
	assert_string_equal(a[0], "/usr/bin/python3");
	assert_string_equal(a[3], "8080");
	argv_free(a);
}

static void argv_quotes_and_escapes(void **state)
{
	char **a = split_ok("/bin/sh -c 'echo \"$HOME\" ; exit 3' \"a \\\"b\\\" c\" d\\ e ''", 6);

	(void)state;
	assert_string_equal(a[2], "echo \"$HOME\" ; exit 3");
	assert_string_equal(a[3], "a \"b\" c");
	assert_string_equal(a[4], "d e");
	assert_string_equal(a[5], "");
	argv_free(a);
}

static void argv_adjacent_quotes_join(void **state)
{
	char **a = split_ok("--name='x y'\"z\"", 1);

	(void)state;
	assert_string_equal(a[0], "--name=x yz");
	argv_free(a);
}

static void argv_errors_say_why(void **state)
{
	const char *why;
	char **a;

	(void)state;
	assert_int_equal(argv_split("/bin/x 'open", &a, &why), -EINVAL);
	assert_string_equal(why, "unterminated single quote");
	assert_int_equal(argv_split("/bin/x \"open", &a, &why), -EINVAL);
	assert_string_equal(why, "unterminated double quote");
	assert_int_equal(argv_split("/bin/x \\", &a, &why), -EINVAL);
	assert_string_equal(why, "trailing backslash");
	assert_int_equal(argv_split("   ", &a, &why), -EINVAL);
	assert_string_equal(why, "empty command");
}

static void argv_format_round_trips(void **state)
{
	char *const words[] = { "/bin/sh", "-c", "echo hi", "", NULL };
	char buf[128];
	char **back;
	const char *why;

	(void)state;
	argv_format(buf, sizeof(buf), words);
	assert_string_equal(buf, "/bin/sh -c 'echo hi' ''");
	assert_int_equal(argv_split(buf, &back, &why), 4);
	assert_string_equal(back[2], "echo hi");
	argv_free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_with_units),
		cmocka_unit_test(bare_number_is_seconds),
		cmocka_unit_test(bad_durations_rejected),
		cmocka_unit_test(argv_plain_words),
		cmocka_unit_test(argv_quotes_and_escapes),
		cmocka_unit_test(argv_adjacent_quotes_join),
		cmocka_unit_test(argv_errors_say_why),
		cmocka_unit_test(argv_format_round_trips),
	};
	return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
