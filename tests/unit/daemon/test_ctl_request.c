// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A control request line, read (daemon/ctl_request.c): every field a
 * command's handler uses, and what a malformed line leaves unset.
 */
#include "cmocka_all.h"

#include "daemon/ctl_request.h"

static void fields_of_each_command(void **state)
{
	struct ctl_request r;

	(void)state;
	ctl_request_parse("{\"cmd\":\"reexec\",\"binary\":\"/usr/sbin/readyd.new\"}", &r);
	assert_int_equal(r.id, CTL_reexec);
	assert_string_equal(r.binary, "/usr/sbin/readyd.new");
	assert_false(r.keep_services);
	ctl_request_free(&r);

	ctl_request_parse("{\"cmd\":\"exit\",\"keep_services\":true}", &r);
	assert_int_equal(r.id, CTL_exit);
	assert_true(r.keep_services);
	assert_null(r.binary);
	ctl_request_free(&r);

	ctl_request_parse("{\"cmd\":\"sockets\",\"service\":\"web\",\"all\":true}", &r);
	assert_int_equal(r.id, CTL_sockets);
	assert_string_equal(r.service, "web");
	assert_true(r.all);
	ctl_request_free(&r);

	ctl_request_parse("{\"cmd\":\"start\",\"service\":\"db\",\"wait\":false}", &r);
	assert_int_equal(r.id, CTL_start);
	assert_true(r.has_wait);
	assert_false(r.wait);
	ctl_request_free(&r);
}

static void wrong_types_are_unset(void **state)
{
	struct ctl_request r;

	(void)state;
	/* Each of the wrong type: as if absent, as the handlers read them before. */
	ctl_request_parse("{\"cmd\":\"exit\",\"keep_services\":1,\"binary\":7,\"service\":[],"
			  "\"wait\":\"no\",\"all\":\"yes\"}",
			  &r);
	assert_int_equal(r.id, CTL_exit);
	assert_false(r.keep_services);
	assert_null(r.binary);
	assert_null(r.service);
	assert_false(r.has_wait);
	assert_false(r.all);
	ctl_request_free(&r);

	ctl_request_parse("{\"cmd\":\"frobnicate\"}", &r);
	assert_int_equal(r.id, CTL_COMMAND_COUNT);
	assert_string_equal(r.cmd, "frobnicate"); /* quoted back as unknown */
	ctl_request_free(&r);

	ctl_request_parse("{\"cmd\":42}", &r);
	assert_int_equal(r.id, CTL_COMMAND_COUNT);
	assert_null(r.cmd); /* malformed */
	ctl_request_free(&r);

	ctl_request_parse("not json", &r);
	assert_null(r.json);
	assert_int_equal(r.id, CTL_COMMAND_COUNT);
	ctl_request_free(&r);

	ctl_request_parse("[\"cmd\",\"list\"]", &r);
	assert_int_equal(r.id, CTL_COMMAND_COUNT);
	ctl_request_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_of_each_command),
		cmocka_unit_test(wrong_types_are_unset),
	};
	return cmocka_run_group_tests_name("ctl_request", tests, NULL, NULL);
}
