// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_test_errors.h"
#include "base/clock.h"
#include "base/util.h"

static const char good[] = "# readyd test config\n"
			   "[readyd]\n"
			   "textfile = /tmp/readyd-test.prom\n"
			   "control  = /tmp/readyd-test.sock\n"
			   "\n"
			   "[service \"web\"]\n"
			   "command       = /usr/bin/python3 -m http.server 8080 --bind 127.0.0.1\n"
			   "listen        = tcp:127.0.0.1:8080      ; inline comment\n"
			   "listen        = unix:/run/web.sock\n"
			   "ready_timeout = 500ms\n"
			   "restart       = always\n"
			   "stop_timeout  = 2m\n"
			   "working_directory = /tmp\n"
			   "environment   = GREETING=hello world\n"
			   "environment   = EMPTY=\n"
			   "user          = root\n"
			   "\n"
			   "[service \"db\"]\n"
			   "command = /usr/bin/redis-server\n"
			   "  --port 6379 --save ''\n"
			   "  --appendonly no\n";

/* Parse text that must fail; return the joined messages for inspection. */
static void good_config_parses(void **state)
{
	struct config_diag diag;
	struct config cfg;
	const struct service_config *web, *db;

	(void)state;
	assert_int_equal(config_parse_text("good.conf", good, NULL, &cfg, &diag), 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(cfg.textfile, "/tmp/readyd-test.prom");
	assert_int_equal(cfg.n_services, 2);
	web = config_find(&cfg, "web");
	assert_non_null(web);
	assert_int_equal(web->n_procs, 1);
	assert_false(web->explicit_procs);
	assert_string_equal(web->procs[0].name, "web");
	assert_string_equal(web->procs[0].argv[0], "/usr/bin/python3");
	assert_string_equal(web->procs[0].argv[5], "127.0.0.1");
	assert_int_equal(web->n_listen, 2);
	assert_string_equal(web->listen[1].text, "unix:/run/web.sock");
	assert_int_equal(web->ready_timeout_ns, 500 * NSEC_PER_MSEC);
	assert_int_equal(web->stop_timeout_ns, 120 * NSEC_PER_SEC);
	assert_int_equal(web->restart, RESTART_ALWAYS);
	assert_int_equal(web->procs[0].uid, 0);
	assert_int_equal(web->procs[0].n_env, 2);
	assert_string_equal(web->procs[0].environment[0], "GREETING=hello world");
	db = config_find(&cfg, "db");
	/* Indented lines continue a long command. */
	assert_string_equal(db->procs[0].argv[4], "");
	assert_string_equal(db->procs[0].argv[6], "no");
	assert_int_equal(db->restart, RESTART_ON_FAILURE);
	assert_int_equal(db->ready_timeout_ns, 30 * NSEC_PER_SEC);
	config_free(&cfg);
}

static void defaults_without_readyd_section(void **state)
{
	struct config_diag diag;
	struct config cfg;

	(void)state;
	assert_int_equal(config_parse_text("d.conf", "[service \"a\"]\ncommand = /bin/true\n", NULL,
					   &cfg, &diag),
			 0);
	assert_string_equal(cfg.textfile, CONFIG_DEFAULT_TEXTFILE);
	assert_string_equal(cfg.control, CONFIG_DEFAULT_CONTROL);
	config_free(&cfg);
}

static void health_keys_parse(void **state)
{
	static const char text[] = "[service \"api\"]\n"
				   "command = /usr/bin/api\n"
				   "probe = http://127.0.0.1:8080/health?deep=1\n"
				   "probe = tcp:[::1]:9000\n"
				   "probe = unix:/run/api.sock\n"
				   "probe = exec:/usr/local/bin/check --quick 'a b'\n"
				   "probe_interval = 5s\n"
				   "probe_timeout = 500ms\n"
				   "failure_threshold = 2\n"
				   "success_threshold = 3\n"
				   "on_unhealthy = restart\n"
				   "ready = accept, probe\n"
				   "restart_delay = 250ms\n"
				   "restart_max_delay = 1m\n"
				   "restart_reset_after = 5m\n"
				   "start_limit_burst = 0\n"
				   "start_limit_interval = 2m\n";
	struct config_diag diag;
	struct config cfg;
	const struct service_config *s;

	(void)state;
	assert_int_equal(config_parse_text("h.conf", text, NULL, &cfg, &diag), 0);
	s = &cfg.services[0];
	assert_int_equal(s->n_probes, 4);
	assert_int_equal(s->probes[0].kind, PROBE_HTTP);
	assert_string_equal(s->probes[0].path, "/health?deep=1");
	assert_string_equal(s->probes[0].host, "127.0.0.1:8080");
	assert_int_equal(s->probes[1].kind, PROBE_TCP);
	assert_int_equal(s->probes[2].kind, PROBE_UNIX);
	assert_string_equal(s->probes[3].argv[2], "a b");
	assert_int_equal(s->probe_interval_ns, 5 * NSEC_PER_SEC);
	assert_int_equal(s->probe_timeout_ns, 500 * NSEC_PER_MSEC);
	assert_int_equal(s->failure_threshold, 2);
	assert_int_equal(s->success_threshold, 3);
	assert_int_equal(s->on_unhealthy, ON_UNHEALTHY_RESTART);
	assert_int_equal(s->ready, READY_ACCEPT | READY_PROBE);
	assert_int_equal(s->backoff.initial_ns, 250 * NSEC_PER_MSEC);
	assert_int_equal(s->backoff.max_ns, 60 * NSEC_PER_SEC);
	assert_int_equal(s->backoff.reset_after_ns, 300 * NSEC_PER_SEC);
	assert_int_equal(s->backoff.jitter_pct, 10);
	assert_int_equal(s->start_limit_burst, 0);
	config_free(&cfg);
}

static void health_defaults_and_environment(void **state)
{
	struct config_defaults d;
	struct config_diag diag;
	struct config cfg;
	char err[256];

	(void)state;
	setenv("READYD_PROBE_INTERVAL", "7s", 1);
	unsetenv("READYD_PROBE_TIMEOUT");
	assert_int_equal(config_defaults_from_env(&d, err, sizeof(err)), 0);
	assert_int_equal(d.probe_interval_ns, 7 * NSEC_PER_SEC);
	assert_int_equal(d.probe_timeout_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(config_parse_text("e.conf", "[service \"a\"]\ncommand = /bin/true\n", &d,
					   &cfg, &diag),
			 0);
	assert_int_equal(cfg.services[0].probe_interval_ns, 7 * NSEC_PER_SEC);
	assert_int_equal(cfg.services[0].failure_threshold, 3);
	assert_int_equal(cfg.services[0].start_limit_burst, 5);
	assert_int_equal(cfg.services[0].ready, READY_ACCEPT);
	config_free(&cfg);
	setenv("READYD_PROBE_TIMEOUT", "fast", 1); /* loud, never silently ignored */
	assert_int_equal(config_defaults_from_env(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "READYD_PROBE_TIMEOUT=fast is not a duration; write e.g. 10s or "
				 "500ms, or unset it");
	unsetenv("READYD_PROBE_INTERVAL");
	unsetenv("READYD_PROBE_TIMEOUT");
}

static void bad_health_values(void **state)
{
	(void)state;
	expect_error("[service \"a\"]\ncommand = /bin/true\nprobe = https://x/\n",
		     "t.conf:3:", "https probes are not supported");
	expect_error("[service \"a\"]\ncommand = /bin/true\nprobe = http://localhost/\n",
		     "t.conf:3:", "names are not resolved");
	expect_error("[service \"a\"]\ncommand = /bin/true\nprobe = exec:check\n",
		     "t.conf:3:", "absolute path");
	expect_error("[service \"a\"]\ncommand = /bin/true\nprobe = ping:1.2.3.4\n",
		     "t.conf:3:", "expected tcp:ADDR:PORT, http://");
	expect_error("[service \"a\"]\ncommand = /bin/true\nfailure_threshold = 0\n",
		     "t.conf:3:", "a whole number from 1 to 100");
	expect_error("[service \"a\"]\ncommand = /bin/true\nsuccess_threshold = -1\n",
		     "t.conf:3:", "a whole number from 1 to 100");
	expect_error("[service \"a\"]\ncommand = /bin/true\non_unhealthy = reboot\n",
		     "t.conf:3:", "expected none or restart");
	expect_error("[service \"a\"]\ncommand = /bin/true\nready = psychic\n",
		     "t.conf:3:", "expected accept, notify, fd:N, file:/path or probe");
	expect_error("[service \"a\"]\ncommand = /bin/true\nready = file:run/ready\n",
		     "t.conf:3:", "a marker is an absolute file path");
	expect_error("[service \"a\"]\ncommand = /bin/true\nwatchdog = often\n",
		     "t.conf:3:", "watchdog = often is not a duration");
	expect_error("[service \"a\"]\ncommand = /bin/true\nready = probe\n",
		     "t.conf:3:", "ready = probe needs at least one probe");
	expect_error("[service \"a\"]\ncommand = /bin/true\nprobe = tcp:127.0.0.1:1\n"
		     "probe_interval = 1s\nprobe_timeout = 2s\n",
		     "t.conf:5:", "probe_timeout is longer than probe_interval");
	{ /* a shorter interval takes the default timeout down with it */
		struct config_diag diag;
		struct config cfg;
		assert_int_equal(
			config_parse_text("c.conf",
					  "[service \"a\"]\ncommand = /bin/true\n"
					  "probe = tcp:127.0.0.1:1\nprobe_interval = 200ms\n",
					  NULL, &cfg, &diag),
			0);
		assert_int_equal(cfg.services[0].probe_timeout_ns, 200 * NSEC_PER_MSEC);
		config_free(&cfg);
	}
	expect_error("[service \"a\"]\ncommand = /bin/true\nrestart_delay = 10s\n"
		     "restart_max_delay = 5s\n",
		     "t.conf:4:", "restart_max_delay is shorter than restart_delay");
	expect_error("[service \"a\"]\ncommand = /bin/true\nstart_limit_burst = 1000\n",
		     "t.conf:3:", "from 0 to 100");
}

static void services_of_several_processes(void **state)
{
	static const char text[] = "[process \"app/api\"]\n" /* before its [service]: fine */
				   "command = /usr/bin/api --port 8080\n"
				   "listen = tcp:127.0.0.1:8080\n"
				   "user = nobody\n"
				   "\n"
				   "[service \"app\"]\n"
				   "ready_timeout = 1m\n"
				   "probe = http://127.0.0.1:8080/health\n"
				   "\n"
				   "[process \"app/ui\"]\n"
				   "command = /usr/bin/ui\n"
				   "listen = unix:/run/app/ui.sock\n"
				   "environment = MODE=ui\n";
	struct config_diag diag;
	struct config cfg;
	const struct service_config *s;

	(void)state;
	assert_int_equal(config_parse_text("p.conf", text, NULL, &cfg, &diag), 0);
	assert_int_equal(cfg.n_services, 1);
	s = &cfg.services[0];
	assert_true(s->explicit_procs);
	assert_int_equal(s->n_procs, 2);
	assert_string_equal(s->procs[0].name, "api");
	assert_string_equal(s->procs[0].service, "app");
	assert_string_equal(s->procs[0].user, "nobody");
	assert_string_equal(s->procs[1].name, "ui");
	assert_string_equal(s->procs[1].argv[0], "/usr/bin/ui");
	assert_int_equal(s->n_listen, 2);
	assert_int_equal(s->listen_proc[0], 0);
	assert_int_equal(s->listen_proc[1], 1);
	assert_int_equal(s->ready_timeout_ns, 60 * NSEC_PER_SEC);
	assert_int_equal(s->n_probes, 1);
	config_free(&cfg);
}

static void process_section_errors(void **state)
{
	(void)state;
	expect_error(
		"[service \"a\"]\ncommand = /bin/true\n[process \"a/b\"]\ncommand = /bin/true\n",
		"t.conf:3:", "already has its command in [service \"a\"]");
	expect_error("[process \"a/b\"]\ncommand = /bin/true\n[service \"a\"]\ncommand = /bin/x\n",
		     "t.conf:4:", "command belongs in a [process \"a/...\"] section");
	expect_error("[process \"a/b\"]\ncommand = /bin/true\nready_timeout = 5s\n",
		     "t.conf:3:", "ready_timeout belongs in the process's [service] section");
	expect_error("[process \"ab\"]\ncommand = /bin/true\n",
		     "t.conf:1:", "name a process SERVICE/PART");
	expect_error("[process \"a/b c\"]\ncommand = /bin/true\n",
		     "t.conf:1:", "both parts must be");
	expect_error(
		"[process \"a/b\"]\ncommand = /bin/true\n[process \"a/b\"]\ncommand = /bin/x\n",
		"t.conf:3:", "process \"a/b\" is defined twice (first at line 1)");
	expect_error("[process \"a/b\"]\nuser = root\n",
		     "t.conf:1:", "process \"a/b\" has no command");
	expect_error("[process \"a/b\"]\ncommand = /bin/true\ncommand = /bin/false\n",
		     "t.conf:3:", "command is set twice (first at line 2)");
	expect_error("[readyd]\ncommand = /bin/true\n",
		     "t.conf:2:", "command belongs in a [service] or [process] section");
}

static void watch_sections(void **state)
{
	static const char text[] = "[watch \"pg\"]\npid_file = /run/pg.pid\nlisten = tcp:5432\n"
				   "probe = tcp:127.0.0.1:5432\n";
	struct config_diag diag;
	struct config cfg;
	const struct service_config *s;

	(void)state;
	assert_int_equal(config_parse_text("w.conf", text, NULL, &cfg, &diag), 0);
	s = &cfg.services[0];
	assert_true(s->adopted);
	assert_int_equal(s->watch.kind, WATCH_PID_FILE);
	assert_string_equal(s->watch.path, "/run/pg.pid");
	/* Never restarted, never timed out: readyd did not start it. */
	assert_int_equal(s->restart, RESTART_NO);
	assert_int_equal(s->ready_timeout_ns, 0);
	assert_int_equal(s->n_procs, 1);
	config_free(&cfg);
}

static void watch_errors(void **state)
{
	(void)state;
	/* Names become cgroup directories: none may climb out or name a kernel file. */
	expect_error("[service \"..\"]\ncommand = /bin/true\n", "t.conf:1:", "not only dots");
	expect_error("[service \"cgroup.procs\"]\ncommand = /bin/true\n",
		     "t.conf:1:", "not cgroup.*");
	expect_error("[process \"web/.\"]\ncommand = /bin/true\n", "t.conf:1:", "not only dots");
	expect_error("[watch \".\"]\npid = 10\n", "t.conf:1:", "not only dots");
	expect_error("[watch \"a\"]\nlisten = tcp:80\n", "t.conf:1:",
		     "watch \"a\" does not say what to watch; add pid = N, pid_file = /path");
	expect_error("[watch \"a\"]\npid = 1\n", "t.conf:2:", "pid = 1 is not a process id");
	expect_error("[watch \"a\"]\npid = 12x\n", "t.conf:2:", "not a process id");
	expect_error("[watch \"a\"]\npid = 10\ncgroup = /x\n",
		     "t.conf:3:", "a watch names its processes one way");
	expect_error("[watch \"a\"]\ncgroup = /x/../y\n", "t.conf:2:", "no .. components");
	expect_error("[watch \"a\"]\npid_file = run/a.pid\n", "t.conf:2:", "pid_file");
	expect_error("[watch \"a\"]\npid = 10\ncommand = /bin/true\n",
		     "t.conf:3:", "command has no meaning in a [watch]");
	expect_error("[watch \"a\"]\npid = 10\nrestart = always\n",
		     "t.conf:3:", "readyd does not start, stop or restart what it watches");
	expect_error("[watch \"a\"]\npid = 10\nready = notify\n",
		     "t.conf:3:", "ready = notify cannot work for watch \"a\"");
	expect_error("[watch \"a\"]\npid = 10\n[process \"a/b\"]\ncommand = /bin/true\n",
		     "t.conf:3:", "a watch has no [process] sections");
	expect_error("[service \"a\"]\ncommand = /bin/true\npid = 10\n", "t.conf:3:", "pid");
}

static void self_report_keys(void **state)
{
	struct config_diag diag;
	struct config cfg;
	char text[128];

	(void)state;
	assert_int_equal(
		config_parse_text("n.conf",
				  "[service \"a\"]\ncommand = /bin/true\n"
				  "ready = notify, file:/run/a/ready, accept\nwatchdog = 10s\n",
				  NULL, &cfg, &diag),
		0);
	assert_int_equal(cfg.services[0].ready, READY_NOTIFY | READY_FILE | READY_ACCEPT);
	assert_string_equal(cfg.services[0].ready_file, "/run/a/ready");
	assert_int_equal(cfg.services[0].watchdog_ns, 10 * NSEC_PER_SEC);
	ready_mask_format(text, sizeof(text), cfg.services[0].ready);
	assert_string_equal(text, "accept,notify,file");
	config_free(&cfg);
}

static void reload_sees_what_changed(void **state)
{
	static const char base[] = "[service \"a\"]\ncommand = /bin/sleep 60\nlisten = tcp:80\n";
	struct config_diag diag;
	struct config a, b, c, d;

	(void)state;
	assert_int_equal(config_parse_text("1", base, NULL, &a, &diag), 0);
	/* Comments, blank lines and line numbers are not behaviour. */
	assert_int_equal(config_parse_text("2",
					   "# moved\n\n[service \"a\"]\nlisten = tcp:80\n"
					   "command = /bin/sleep   60\n",
					   NULL, &b, &diag),
			 0);
	assert_true(config_service_equal(&a.services[0], &b.services[0]));
	assert_int_equal(config_parse_text(
				 "3", "[service \"a\"]\ncommand = /bin/sleep 61\nlisten = tcp:80\n",
				 NULL, &c, &diag),
			 0);
	assert_false(config_service_equal(&a.services[0], &c.services[0]));
	assert_int_equal(
		config_parse_text("4",
				  "[service \"a\"]\ncommand = /bin/sleep 60\nlisten = tcp:80\n"
				  "probe = tcp:127.0.0.1:80\n",
				  NULL, &d, &diag),
		0);
	assert_false(config_service_equal(&a.services[0], &d.services[0]));
	config_free(&a);
	config_free(&b);
	config_free(&c);
	config_free(&d);
}

static void unknown_key_suggests_closest(void **state)
{
	(void)state;
	expect_error("[service \"a\"]\ncommand = /bin/true\nlisten_on = tcp:80\n",
		     "t.conf:3:", "did you mean \"listen\"");
	expect_error("[service \"a\"]\ncommand = /bin/true\nready_timout = 5s\n",
		     "t.conf:3:", "did you mean \"ready_timeout\"");
	expect_error("[readyd]\ntextfle = /x\n", "t.conf:2:", "did you mean \"textfile\"");
	expect_error("[service \"a\"]\ncommand = /bin/true\nzzzzzzzzzzzz = 1\n",
		     "t.conf:3:", "unknown key \"zzzzzzzzzzzz\" in [service]\n");
}

static void bad_values_name_line_and_fix(void **state)
{
	(void)state;
	expect_error("[service \"a\"]\ncommand = /bin/true\nready_timeout = soon\n",
		     "t.conf:3:", "write e.g. 500ms, 30s");
	expect_error("[service \"a\"]\ncommand = /bin/true\nready_timeout = 0\n",
		     "t.conf:3:", "longer than 0");
	expect_error("[service \"a\"]\ncommand = /bin/true\nlisten = tcp:99999\n",
		     "t.conf:3:", "port must be a number from 1 to 65535");
	expect_error("[service \"a\"]\ncommand = /bin/true\nrestart = sometimes\n",
		     "t.conf:3:", "expected no, on-failure or always");
	expect_error("[service \"a\"]\ncommand = /bin/true\nuser = no-such-user-here\n",
		     "t.conf:3:", "no user named");
	expect_error("[service \"a\"]\ncommand = /bin/true\ngroup = no-such-group-here\n",
		     "t.conf:3:", "no group named");
	expect_error("[service \"a\"]\ncommand = /bin/true\nenvironment = 1BAD=x\n",
		     "t.conf:3:", "KEY=VALUE");
	expect_error("[service \"a\"]\ncommand = /bin/true\nworking_directory = tmp\n",
		     "t.conf:3:", "absolute path");
	expect_error(
		"[readyd]\ncontrol = /a/very/long/path/that/goes/on/and/on/and/on/and/on/"
		"and/on/and/on/and/on/and/on/and/on/and/on/and/on/and/on/and/on/control.sock\n",
		"t.conf:2:", "longer than 107 bytes");
}

static void commands_are_checked(void **state)
{
	(void)state;
	expect_error("[service \"a\"]\nlisten = tcp:80\n", "t.conf:1:", "has no command");
	expect_error("[service \"a\"]\ncommand = python3 -m x\n",
		     "t.conf:2:", "absolute path (got \"python3\")");
	expect_error("[service \"a\"]\n\ncommand = /bin/sh -c 'oops\n",
		     "t.conf:3:", "unterminated single quote");
}

static void structure_errors(void **state)
{
	(void)state;
	expect_error("command = /bin/true\n", "t.conf:1:", "outside any section");
	expect_error("[services \"a\"]\ncommand = /bin/true\n", "t.conf:1:", "unknown section");
	expect_error("[service a]\ncommand = /bin/true\n", "t.conf:1:", "double quotes");
	expect_error("[service \"a b\"]\ncommand = /bin/true\n", "t.conf:1:", "letters, digits");
	expect_error("[service \"a\"]\ncommand = /bin/true\n[service \"a\"]\ncommand = /bin/true\n",
		     "t.conf:3:", "defined twice (first at line 1)");
	expect_error("[service \"a\"]\ncommand = /bin/true\ncommand = /bin/false\n",
		     "t.conf:3:", "set twice (first at line 2)");
	expect_error("[service \"a\"]\ncommand = /bin/true\nlisten = tcp:80\nlisten = tcp:80\n",
		     "t.conf:4:", "declared twice");
	expect_error("[service \"a\"]\ncommand = /bin/true\nthis line has no equals\n",
		     "t.conf:3:", "syntax error");
	expect_error("[service \"a\"]\ncommand = /bin/true\nrestart = no\n  always\n",
		     "t.conf:4:", "does not continue");
}

static void empty_service_section_is_not_ignored(void **state)
{
	(void)state;
	expect_error("[service \"lonely\"]\n", "t.conf:1:", "\"lonely\" has no command");
}

static void long_lines_are_refused_not_split(void **state)
{
	char text[600];

	(void)state;
	snprintf(text, sizeof(text), "[service \"a\"]\ncommand = /bin/echo %0300d\n", 7);
	expect_error(text, "t.conf:2:", "continue a long command on indented lines");
}

static void continued_commands_join_and_have_a_limit(void **state)
{
	const char *text = "[service \"a\"]\ncommand = /bin/echo one\n  two\n\tthree\n\n  four\n"
			   "[service \"b\"]\ncommand = /bin/echo b\n  c\n";
	size_t n = 70000, len = 48 + 4 * n;
	struct config_diag diag;
	struct config cfg;
	char *big = malloc(len), *p = big;

	(void)state;
	assert_int_equal(config_parse_text("t.conf", text, NULL, &cfg, &diag), 0);
	assert_string_equal(cfg.services[0].procs[0].command, "/bin/echo one two three four");
	assert_string_equal(cfg.services[1].procs[0].command, "/bin/echo b c");
	assert_string_equal(cfg.services[1].procs[0].argv[2], "c");
	config_free(&cfg);
	/* 70000 lines adding 2 bytes each: past 128 KiB at the 65532nd, said once */
	p += sprintf(p, "[service \"a\"]\ncommand = /bin/echo\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "  a\n");
	assert_int_equal(config_parse_text("t.conf", big, NULL, &cfg, &diag), -EINVAL);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag.lines[0],
			    "t.conf:65534: command is longer than 131072 bytes once its lines are "
			    "joined");
	config_diag_free(&diag);
	free(big);
}

static void every_error_is_reported_at_once(void **state)
{
	char *all;
	int lines = 0;

	(void)state;
	all = errors_of("[service \"a\"]\nready_timeout = x\nrestart = y\nlisten = z\n");
	for (char *p = all; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 4); /* three bad values and the missing command */
	free(all);
}

/* Logged and sent to readyctl: a file of nothing but errors must stay a short answer. */
static void errors_past_100_are_counted_not_listed(void **state)
{
	char *text = malloc(32 + 150 * 8), *p = text, *all;
	int lines = 0;

	(void)state;
	p += sprintf(p, "[service \"a\"]\ncommand = /bin/true\n");
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "x%03d=1\n", i);
	all = errors_of(text);
	for (char *q = all; *q; q++)
		lines += *q == '\n';
	assert_int_equal(lines, 101);
	assert_non_null(strstr(all, "t.conf:102: unknown key \"x099\""));
	assert_non_null(strstr(all, "\nt.conf: 50 more errors not shown: fix the first 100\n"));
	free(all);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_config_parses),
		cmocka_unit_test(defaults_without_readyd_section),
		cmocka_unit_test(health_keys_parse),
		cmocka_unit_test(health_defaults_and_environment),
		cmocka_unit_test(bad_health_values),
		cmocka_unit_test(services_of_several_processes),
		cmocka_unit_test(process_section_errors),
		cmocka_unit_test(self_report_keys),
		cmocka_unit_test(reload_sees_what_changed),
		cmocka_unit_test(unknown_key_suggests_closest),
		cmocka_unit_test(bad_values_name_line_and_fix),
		cmocka_unit_test(commands_are_checked),
		cmocka_unit_test(structure_errors),
		cmocka_unit_test(empty_service_section_is_not_ignored),
		cmocka_unit_test(long_lines_are_refused_not_split),
		cmocka_unit_test(continued_commands_join_and_have_a_limit),
		cmocka_unit_test(every_error_is_reported_at_once),
		cmocka_unit_test(errors_past_100_are_counted_not_listed),
		cmocka_unit_test(watch_sections),
		cmocka_unit_test(watch_errors),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
