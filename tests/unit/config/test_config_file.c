// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading the config file (config_file.c): what it must be, said before anything is parsed. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

static const char good[] = "[service \"web\"]\ncommand = /usr/bin/python3 -m http.server\n";

static void load_reports_missing_file(void **state)
{
	struct config_diag diag;
	struct config cfg;

	(void)state;
	assert_int_equal(config_load("/nonexistent/readyd.conf", NULL, &cfg, &diag), -ENOENT);
	assert_int_equal(diag.n, 0);
	assert_int_equal(config_load("/tmp", NULL, &cfg, &diag), -EINVAL);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag.lines[0],
			    "/tmp: a directory, not a regular file: readyd reads its "
			    "config from a file (a symlink to one is fine)");
	config_diag_free(&diag);
}

/* A FIFO where the config should be: said at once, without waiting for a writer. */
static void load_refuses_a_fifo_without_blocking(void **state)
{
	char dir[] = "/tmp/readyd-test-config-XXXXXX", fifo[64], link[64];
	struct config_diag diag;
	struct config cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/readyd.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(fifo, link), 0);
	alarm(10); /* blocked in open(): the default action ends the test, failed */
	assert_int_equal(config_load(link, NULL, &cfg, &diag), -EINVAL);
	alarm(0);
	assert_int_equal(diag.n, 1);
	assert_non_null(strstr(diag.lines[0], "readyd.conf: a FIFO, not a regular file"));
	config_diag_free(&diag);
	unlink(link);
	unlink(fifo);
	rmdir(dir);
}

/* Read whole and parsed on the loop: a size limit, said with the numbers. */
static void load_refuses_a_config_over_1_mib(void **state)
{
	char path[] = "/tmp/readyd-test-config-XXXXXX";
	struct config_diag diag;
	struct config cfg;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	close(fd);
	assert_int_equal(config_load(path, NULL, &cfg, &diag), -EFBIG);
	assert_int_equal(diag.n, 1);
	assert_non_null(strstr(diag.lines[0],
			       ": 16777217 bytes, more than the 16777216 a config may "
			       "have"));
	config_diag_free(&diag);
	unlink(path);
}

static void load_reads_a_file(void **state)
{
	char path[] = "/tmp/readyd-test-config-XXXXXX";
	struct config_diag diag;
	struct config cfg;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	assert_int_equal(config_load(path, NULL, &cfg, &diag), 0);
	assert_int_equal(cfg.n_services, 1);
	config_free(&cfg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_reports_missing_file),
		cmocka_unit_test(load_refuses_a_fifo_without_blocking),
		cmocka_unit_test(load_refuses_a_config_over_1_mib),
		cmocka_unit_test(load_reads_a_file),
	};
	return cmocka_run_group_tests_name("config_file", tests, NULL, NULL);
}
