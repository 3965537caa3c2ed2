// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl_exit.h"
#include "cli/ctl_help.h"
#include "readyd_control.h"

static int exit_of(const char *cmd, const char *json)
{
	cJSON *reply = cJSON_Parse(json);
	int rc;

	assert_non_null(reply);
	rc = ctl_exit_of_reply(cmd, reply);
	cJSON_Delete(reply);
	return rc;
}

static void status_is_zero_only_when_running(void **state)
{
	static const char *const not_running[] = { "starting", "stopping", "stopped", "failed",
						   "unhealthy" };
	char json[128];

	(void)state;
	assert_int_equal(exit_of("status", "{\"ok\":true,\"service\":{\"state\":\"running\"}}"),
			 CTL_EXIT_OK);
	for (size_t i = 0; i < sizeof(not_running) / sizeof(not_running[0]); i++) {
		snprintf(json, sizeof(json), "{\"ok\":true,\"service\":{\"state\":\"%s\"}}",
			 not_running[i]);
		assert_int_equal(exit_of("status", json), CTL_EXIT_NOT_RUNNING);
	}
}

static void waits_that_end_not_running_exit_3(void **state)
{
	(void)state;
	assert_int_equal(exit_of("wait", "{\"ok\":true,\"service\":{\"state\":\"running\"}}"),
			 CTL_EXIT_OK);
	assert_int_equal(exit_of("wait", "{\"ok\":false,\"service\":{\"state\":\"failed\"}}"),
			 CTL_EXIT_NOT_RUNNING);
	assert_int_equal(exit_of("start", "{\"ok\":false,\"service\":{\"state\":\"stopped\"}}"),
			 CTL_EXIT_NOT_RUNNING);
	assert_int_equal(exit_of("stop", "{\"ok\":true,\"service\":{\"state\":\"stopped\"}}"),
			 CTL_EXIT_OK);
	assert_int_equal(exit_of("list", "{\"ok\":true,\"services\":[]}"), CTL_EXIT_OK);
}

static void errors_say_which(void **state)
{
	(void)state;
	assert_int_equal(
		exit_of("status", "{\"ok\":false,\"error\":\"no service named \\\"x\\\"\"}"),
		CTL_EXIT_NO_SERVICE);
	assert_int_equal(exit_of("stop", "{\"ok\":false,\"refused\":true,\"error\":\"permission "
					 "denied\"}"),
			 CTL_EXIT_REFUSED);
	assert_int_equal(exit_of("reload", "{\"ok\":false,\"error\":\"the new configuration has "
					   "errors\",\"config_errors\":[\"x:1: y\"]}"),
			 CTL_EXIT_ERROR);
	assert_int_equal(exit_of("stop", "{\"ok\":false,\"error\":\"postgres is a [watch]\"}"),
			 CTL_EXIT_ERROR);
	assert_int_equal(exit_of("wait", "{\"ok\":false,\"error\":\"the service was removed by a "
					 "reload\"}"),
			 CTL_EXIT_ERROR);
}

static void worst_of_several(void **state)
{
	(void)state;
	assert_int_equal(ctl_exit_worst(CTL_EXIT_OK, CTL_EXIT_NOT_RUNNING), CTL_EXIT_NOT_RUNNING);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_NOT_RUNNING, CTL_EXIT_OK), CTL_EXIT_NOT_RUNNING);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_NOT_RUNNING, CTL_EXIT_TIMEOUT), CTL_EXIT_TIMEOUT);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_TIMEOUT, CTL_EXIT_NO_SERVICE),
			 CTL_EXIT_NO_SERVICE);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_REFUSED, CTL_EXIT_NO_SERVICE), CTL_EXIT_REFUSED);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_ERROR, CTL_EXIT_REFUSED), CTL_EXIT_ERROR);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_OK, CTL_EXIT_OK), CTL_EXIT_OK);
	assert_int_equal(ctl_exit_worst(CTL_EXIT_OK, 77), 77); /* unknown: worst */
}

static void hint_names_the_other_ways(void **state)
{
	char buf[512];

	(void)state;
	ctl_unreachable_hint(buf, sizeof(buf), "/run/readyd/control.sock", "default");
	assert_non_null(strstr(buf, "--control PATH"));
	assert_non_null(strstr(buf, "READYD_CONTROL"));
	ctl_unreachable_hint(buf, sizeof(buf), "/tmp/x.sock", "--control");
	assert_non_null(strstr(buf, "/tmp/x.sock"));
	assert_non_null(strstr(buf, "READYD_CONTROL"));
	assert_non_null(strstr(buf, "/run/readyd/control.sock"));
	ctl_unreachable_hint(buf, sizeof(buf), "/tmp/y.sock", "READYD_CONTROL");
	assert_non_null(strstr(buf, "/tmp/y.sock"));
	assert_non_null(strstr(buf, "--control PATH"));
}

static void help_knows_every_command(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	for (int i = 0; i < CTL_COMMAND_COUNT; i++)
		assert_true(ctl_help_command(f, ctl_command((enum ctl_command_id)i)->name));
	assert_false(ctl_help_command(f, "nope"));
	fclose(f);
	assert_non_null(strstr(text, "readyctl wait NAME..."));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_is_zero_only_when_running),
		cmocka_unit_test(waits_that_end_not_running_exit_3),
		cmocka_unit_test(errors_say_which),
		cmocka_unit_test(worst_of_several),
		cmocka_unit_test(hint_names_the_other_ways),
		cmocka_unit_test(help_knows_every_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
