// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What readyd tells its own service manager: the summary, the datagrams, the watchdog's period. */
#include "cmocka_all.h"

#include <errno.h>
#include <string.h>

#include "model/manager_msg.h"

static const char *summary(const enum svc_state *st, size_t n, char *buf, size_t size)
{
	struct manager_counts c = { 0 };

	for (size_t i = 0; i < n; i++)
		manager_count(&c, st[i]);
	return manager_status(buf, size, &c);
}

static void status_names_each_state_once(void **state)
{
	enum svc_state st[12];
	char buf[MANAGER_STATUS_MAX];

	(void)state;
	for (size_t i = 0; i < 10; i++)
		st[i] = SVC_RUNNING;
	st[10] = SVC_FAILED;
	st[11] = SVC_STARTING;
	assert_string_equal(summary(st, 12, buf, sizeof(buf)),
			    "12 services: 10 running, 1 starting, 1 failed");
	st[0] = SVC_UNHEALTHY;
	st[1] = SVC_STOPPING;
	st[2] = SVC_STOPPED;
	assert_string_equal(
		summary(st, 12, buf, sizeof(buf)),
		"12 services: 7 running, 1 starting, 1 unhealthy, 1 stopping, 1 stopped, "
		"1 failed");
	assert_string_equal(summary(st + 11, 1, buf, sizeof(buf)), "1 service: 1 starting");
	assert_string_equal(summary(st, 0, buf, sizeof(buf)), "no services");
}

static void status_is_cut_to_the_buffer(void **state)
{
	enum svc_state st[3] = { SVC_RUNNING, SVC_STARTING, SVC_FAILED };
	char buf[16];

	(void)state;
	summary(st, 3, buf, sizeof(buf));
	assert_string_equal(buf, "3 services: 1 r");
}

static void datagrams(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(manager_msg_ready(buf, sizeof(buf), "1 service: 1 running"), 35);
	assert_string_equal(buf, "READY=1\nSTATUS=1 service: 1 running");
	assert_true(manager_msg_reloading(buf, sizeof(buf), 123456789012ULL) > 0);
	assert_string_equal(buf, "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading");
	assert_true(manager_msg_stopping(buf, sizeof(buf), "2 services: 2 running") > 0);
	assert_string_equal(buf, "STOPPING=1\nSTATUS=stopping: 2 services: 2 running");
	assert_true(manager_msg_status(buf, sizeof(buf), "no services") > 0);
	assert_string_equal(buf, "STATUS=no services");
	assert_int_equal(manager_msg_ready(buf, 10, "1 service: 1 running"), -ENOSPC);
}

static void watchdog_period(void **state)
{
	const char *why = NULL;
	uint64_t ns = 0;

	(void)state;
	assert_int_equal(manager_watchdog_period(NULL, NULL, 42, &ns, &why), 0);
	assert_int_equal(manager_watchdog_period("200000", NULL, 42, &ns, &why), 1);
	assert_int_equal(ns, 100000000ULL); /* half of 200 ms */
	ns = 0;
	assert_int_equal(manager_watchdog_period("200000", "42", 42, &ns, &why), 1);
	assert_int_equal(ns, 100000000ULL);
	ns = 0;
	assert_int_equal(manager_watchdog_period("200000", "43", 42, &ns, &why), 0);
	assert_int_equal(ns, 0); /* another process's watchdog */
	assert_int_equal(manager_watchdog_period("20x", NULL, 42, &ns, &why), -EINVAL);
	assert_string_equal(why, "WATCHDOG_USEC is not a positive number of microseconds");
	assert_int_equal(manager_watchdog_period("0", NULL, 42, &ns, &why), -EINVAL);
	assert_int_equal(manager_watchdog_period("", NULL, 42, &ns, &why), -EINVAL);
	assert_int_equal(manager_watchdog_period("99999999999999999999", NULL, 42, &ns, &why),
			 -EINVAL);
	assert_int_equal(manager_watchdog_period("200000", "-1", 42, &ns, &why), -EINVAL);
	assert_string_equal(why, "WATCHDOG_PID is not a pid");
	assert_int_equal(manager_watchdog_period("200000", "", 42, &ns, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_names_each_state_once),
		cmocka_unit_test(status_is_cut_to_the_buffer),
		cmocka_unit_test(datagrams),
		cmocka_unit_test(watchdog_period),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
