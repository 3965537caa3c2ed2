// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* config_env_check: a config against a temp dir of programs, files and directories. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "base/util.h"

static char dir[64];

static void make_file(const char *name, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	char sub[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/readyd-envcheck-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	make_file("prog", 0755);
	make_file("plain", 0644);
	make_file("owner_only", 0700);
	snprintf(sub, sizeof(sub), "%s/bin", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/work", dir);
	mkdir(sub, 0755);
	make_file("bin/tool", 0755);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmpl with each @D replaced by the temp dir. */
static void expand(const char *tmpl, char *out, size_t size)
{
	size_t n = 0, dl = strlen(dir);

	for (const char *p = tmpl; *p && n + dl + 1 < size; p++) {
		if (p[0] == '@' && p[1] == 'D') {
			memcpy(out + n, dir, dl);
			n += dl;
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/* The findings for a config (@D: the temp dir), joined by newlines. */
static char *findings_of(const char *tmpl)
{
	char text[4096];
	struct config_diag diag = { 0 };
	struct config cfg;
	size_t len = 0, n;
	char *all;

	expand(tmpl, text, sizeof(text));
	assert_int_equal(config_parse_text("t.conf", text, NULL, &cfg, &diag), 0);
	n = config_env_check(&cfg, &diag);
	assert_int_equal(n, diag.n);
	for (size_t i = 0; i < diag.n; i++)
		len += strlen(diag.lines[i]) + 1;
	all = calloc(1, len + 1);
	assert_non_null(all);
	for (size_t i = 0; i < diag.n; i++) {
		strcat(all, diag.lines[i]);
		strcat(all, "\n");
	}
	config_diag_free(&diag);
	config_free(&cfg);
	return all;
}

static void expect_finding(const char *tmpl, const char *want)
{
	char *all = findings_of(tmpl);

	if (!strstr(all, want))
		fail_msg("expected \"%s\" in:\n%s", want, all);
	free(all);
}

static void a_good_config_has_no_finding(void **state)
{
	char *all;

	(void)state;
	all = findings_of("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/prog -x\n"
			  "working_directory = @D/work\n");
	assert_string_equal(all, "");
	free(all);
}

static void missing_command_names_line_and_fix(void **state)
{
	(void)state;
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\n\ncommand = @D/nope\n",
		       "t.conf:5: command: ");
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/nope\n",
		       "/nope: No such file or directory; install it, or correct the path");
}

static void not_executable_or_not_a_file(void **state)
{
	(void)state;
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/plain\n",
		       "t.conf:4: command: ");
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/plain\n",
		       "/plain is not executable by readyd's user (mode 0644); chmod +x it");
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/work\n",
		       "/work is not a program (not a regular file)");
}

/* A program only its owner may run, run as another user: that user's rights count. */
static void executable_by_whom_it_runs_as(void **state)
{
	struct stat st = { .st_mode = S_IFREG | 0700, .st_uid = 1000, .st_gid = 1000 };
	gid_t groups[] = { 27, 1000 };

	(void)state;
	assert_true(config_can_exec(&st, 0, 0, NULL, 0)); /* root: any x bit */
	assert_true(config_can_exec(&st, 1000, 1000, NULL, 0));
	assert_false(config_can_exec(&st, 1001, 1000, NULL, 0));
	st.st_mode = S_IFREG | 0710;
	assert_true(config_can_exec(&st, 1001, 5, groups, 2)); /* by a supplementary group */
	assert_false(config_can_exec(&st, 1001, 5, NULL, 0));
	st.st_mode = S_IFREG | 0644;
	assert_false(config_can_exec(&st, 0, 0, NULL, 0)); /* root too needs an x bit */
	st.st_mode = S_IFDIR | 0755;
	assert_false(config_can_exec(&st, 0, 0, NULL, 0));
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/owner_only\n"
		       "user = nobody\n",
		       "/owner_only is not executable by nobody (mode 0700)");
}

static void env_searches_the_services_path(void **state)
{
	char *all;

	(void)state;
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\n"
		       "command = /usr/bin/env no-such-tool-here --flag\n",
		       "t.conf:4: command: /usr/bin/env finds no no-such-tool-here in "
		       "PATH=/usr/local/sbin:");
	/* The service's own PATH is the one searched. */
	all = findings_of("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\n"
			  "command = /usr/bin/env tool\nenvironment = PATH=@D/bin\n");
	assert_string_equal(all, "");
	free(all);
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\n"
		       "command = /usr/bin/env prog\nenvironment = PATH=@D/bin\n",
		       "finds no prog in PATH=/tmp/readyd-envcheck-");
}

static void missing_directories(void **state)
{
	(void)state;
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/prog\n"
		       "working_directory = @D/gone\n",
		       "t.conf:5: working_directory: ");
	expect_finding("[readyd]\ntextfile = @D/r.prom\n[service \"a\"]\ncommand = @D/prog\n"
		       "working_directory = @D/gone\n",
		       "/gone: No such file or directory; create it (mkdir -p ");
	expect_finding("[readyd]\ntextfile = @D/no/r.prom\n", "t.conf:2: textfile: ");
	expect_finding("[readyd]\ntextfile = @D/no/r.prom\n",
		       "/no: No such file or directory; create it");
	expect_finding("[readyd]\ntextfile = @D/prog/r.prom\n", "/prog is not a directory");
}

/* A [watch] runs nothing of readyd's: no command to check. */
static void watches_are_not_checked(void **state)
{
	char *all;

	(void)state;
	all = findings_of("[readyd]\ntextfile = @D/r.prom\n[watch \"w\"]\npid = 42\n");
	assert_string_equal(all, "");
	free(all);
}

static void path_search_is_execvps(void **state)
{
	char out[256], path[256];

	(void)state;
	snprintf(path, sizeof(path), "/nonexistent:%s/bin", dir);
	assert_int_equal(config_path_search(path, "tool", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "/bin/tool"));
	assert_int_equal(config_path_search(path, "prog", out, sizeof(out)), -ENOENT);
	assert_int_equal(config_path_search("", "tool", out, sizeof(out)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_config_has_no_finding),
		cmocka_unit_test(missing_command_names_line_and_fix),
		cmocka_unit_test(not_executable_or_not_a_file),
		cmocka_unit_test(executable_by_whom_it_runs_as),
		cmocka_unit_test(env_searches_the_services_path),
		cmocka_unit_test(missing_directories),
		cmocka_unit_test(watches_are_not_checked),
		cmocka_unit_test(path_search_is_execvps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
