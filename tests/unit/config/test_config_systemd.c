// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A unit file's keys written in readyd.conf: each gets readyd's name, or why there is none. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_test_errors.h"

/* Someone who knows systemd writes its unit keys: each gets readyd's name, or why there is none. */
static void systemd_keys_get_readyds_names(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "ExecStart = /bin/true", "did you mean \"command\"? (readyd's name for systemd's "
					   "ExecStart=" },
		{ "WorkingDirectory = /tmp", "did you mean \"working_directory\"?" },
		{ "User = root", "did you mean \"user\"?" },
		{ "Group = root", "did you mean \"group\"?" },
		{ "Restart = always", "did you mean \"restart\"?" },
		{ "RestartSec = 5", "did you mean \"restart_delay\"?" },
		{ "Environment = A=b", "did you mean \"environment\"?" },
		{ "TimeoutStartSec = 5", "did you mean \"ready_timeout\"?" },
		{ "TimeoutStopSec = 5", "did you mean \"stop_timeout\"?" },
		{ "TimeoutSec = 5", "did you mean \"ready_timeout\"? (readyd's name for systemd's "
				    "TimeoutSec=; and stop_timeout)" },
		{ "WatchdogSec = 5", "did you mean \"watchdog\"?" },
		{ "StartLimitBurst = 5", "did you mean \"start_limit_burst\"?" },
		{ "StartLimitIntervalSec = 5", "did you mean \"start_limit_interval\"?" },
		{ "Type = notify", "did you mean \"ready\"?" },
		{ "ListenStream = 8080", "did you mean \"listen\"?" },
		{ "execstart = /bin/true", "did you mean \"command\"?" }, /* any case */
		{ "KillSignal = SIGINT",
		  "readyd has no equivalent of systemd's KillSignal= (readyd "
		  "stops a service with SIGTERM, then SIGKILL after "
		  "stop_timeout)" },
		{ "EnvironmentFile = /etc/x", "no equivalent of systemd's EnvironmentFile=" },
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[service \"a\"]\ncommand = /bin/true\n%s\n",
			 cases[i].line);
		expect_error(text, "t.conf:3: unknown key", cases[i].want);
	}
	/* A typo of readyd's own keys still gets the closest one. */
	expect_error("[service \"a\"]\ncommand = /bin/true\nrestrt = always\n",
		     "t.conf:3:", "did you mean \"restart\"?\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(systemd_keys_get_readyds_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
