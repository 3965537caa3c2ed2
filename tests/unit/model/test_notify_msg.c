// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sd_notify message parser. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "model/notify_msg.h"

static struct notify_msg parse_ok(const char *text)
{
	struct notify_msg m;
	const char *why = NULL;

	assert_int_equal(notify_parse(text, strlen(text), &m, &why), 0);
	return m;
}

static void parse_bad(const char *text, size_t len, const char *reason)
{
	struct notify_msg m;
	const char *why = NULL;

	assert_int_equal(notify_parse(text, len, &m, &why), -EINVAL);
	assert_string_equal(why, reason);
}

static void every_known_key(void **state)
{
	struct notify_msg m =
		parse_ok("READY=1\nSTATUS=Processing 42 requests\nERRNO=2\n"
			 "MAINPID=4321\nWATCHDOG=1\nWATCHDOG_USEC=5000000\n"
			 "EXTEND_TIMEOUT_USEC=30000000\nBARRIER=1\nX_FUTURE_KEY=ignored\n");

	(void)state;
	assert_true(m.ready);
	assert_true(m.has_status);
	assert_string_equal(m.status, "Processing 42 requests");
	assert_int_equal(m.err_no, 2);
	assert_int_equal(m.mainpid, 4321);
	assert_true(m.watchdog_ping);
	assert_int_equal(m.watchdog_usec, 5000000);
	assert_int_equal(m.extend_usec, 30000000);
	assert_true(m.barrier);
	assert_false(m.reloading);
}

static void flags_need_exactly_one(void **state)
{
	struct notify_msg m = parse_ok("READY=0\nRELOADING=1\nSTOPPING=yes\nWATCHDOG=trigger");

	(void)state;
	assert_false(m.ready);
	assert_true(m.reloading);
	assert_false(m.stopping);
	assert_true(m.watchdog_trigger);
	assert_false(m.watchdog_ping);
	m = parse_ok("");
	assert_false(m.ready);
	m = parse_ok("\n\nREADY=1"); /* no trailing newline, empty lines */
	assert_true(m.ready);
}

static void malformed_messages(void **state)
{
	(void)state;
	parse_bad("READY=1\0STATUS=x", 16, "a NUL byte");
	parse_bad("READY", 5, "a line that is not KEY=VALUE");
	parse_bad("ready=1", 7, "a line that is not KEY=VALUE");
	parse_bad("=1", 2, "a line that is not KEY=VALUE");
	parse_bad("MAINPID=abc", 11, "a value that should be a number is not one");
	parse_bad("MAINPID=0", 9, "a value that should be a number is not one");
	parse_bad("ERRNO=99999", 11, "a value that should be a number is not one");
	parse_bad("WATCHDOG_USEC=99999999999999999999", 34,
		  "a value that should be a number is not one");
	/* Fits in 64 bits, but wraps once in nanoseconds from now: a short time. */
	parse_bad("WATCHDOG_USEC=9223372036854776", 30, "a time too long to count in nanoseconds");
	parse_bad("EXTEND_TIMEOUT_USEC=9999999999999999999", 39,
		  "a time too long to count in nanoseconds");
	assert_int_equal(parse_ok("WATCHDOG_USEC=9223372036854775").watchdog_usec,
			 9223372036854775ULL);
}

static void status_is_made_safe(void **state)
{
	struct notify_msg m = parse_ok("STATUS=a \"quoted\"\tstatus");

	(void)state;
	assert_string_equal(m.status, "a ?quoted??status");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_known_key),
		cmocka_unit_test(flags_need_exactly_one),
		cmocka_unit_test(malformed_messages),
		cmocka_unit_test(status_is_made_safe),
	};
	return cmocka_run_group_tests_name("notify_msg", tests, NULL, NULL);
}
