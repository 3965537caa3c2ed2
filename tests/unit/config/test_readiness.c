// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What `ready` becomes: serving checks (serve =), ready = fd:N, and the daemons readyd recognizes.
 */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static struct config cfg;

static const struct service_config *parse(const char *text)
{
	struct config_diag diag;
	int err = config_parse_text("t.conf", text, NULL, &cfg, &diag);

	for (size_t i = 0; i < diag.n; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	config_diag_free(&diag);
	assert_int_equal(err, 0);
	return &cfg.services[0];
}

static void fails(const char *text, const char *what)
{
	struct config_diag diag;
	struct config c;
	bool found = false;

	assert_int_equal(config_parse_text("t.conf", text, NULL, &c, &diag), -EINVAL);
	for (size_t i = 0; i < diag.n; i++)
		found |= strstr(diag.lines[i], what) != NULL;
	if (!found)
		fail_msg("no error says \"%s\" (first: %s)", what, diag.n ? diag.lines[0] : "none");
	config_diag_free(&diag);
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

static void postgres_gets_a_serving_check(void **state)
{
	const struct service_config *s;

	(void)state;
	s = parse("[service \"db\"]\ncommand = /usr/lib/postgresql/15/bin/postgres -D /x\n"
		  "listen = tcp:5432\n");
	assert_string_equal(s->recognized, "postgres");
	assert_int_equal(s->ready, READY_ACCEPT);
	assert_int_equal(s->n_probes, 1);
	assert_true(s->probes[0].until_ready);
	assert_string_equal(s->probes[0].text, "postgres://127.0.0.1:5432");
	assert_int_equal(s->probes[0].kind, PROBE_POSTGRES);
}

static void the_first_usable_listener_is_checked(void **state)
{
	const struct service_config *s;

	(void)state;
	s = parse("[service \"db\"]\ncommand = /usr/bin/pg_ctl start -D /x\n"
		  "listen = unix:@abstract\nlisten = unix:/run/pg/.s.PGSQL.5432\nlisten = "
		  "tcp:[::]:5432\n");
	assert_string_equal(s->probes[0].text, "postgres:/run/pg/.s.PGSQL.5432");
	config_free(&cfg);
	s = parse("[service \"cache\"]\ncommand = /usr/bin/redis-server --port 7000\n"
		  "listen = tcp:[::]:7000\n");
	assert_string_equal(s->recognized, "redis");
	assert_string_equal(s->probes[0].text, "redis://[::1]:7000");
}

static void what_the_config_says_wins(void **state)
{
	const struct service_config *s;

	(void)state;
	s = parse("[service \"db\"]\ncommand = /usr/bin/postgres\nlisten = tcp:5432\n"
		  "ready = notify,accept\n");
	assert_string_equal(s->recognized, "");
	assert_int_equal(s->n_probes, 0);
	config_free(&cfg);
	s = parse("[service \"db\"]\ncommand = /usr/bin/postgres\nlisten = tcp:5432\n"
		  "serve = postgres://app@127.0.0.1:5432\n");
	assert_string_equal(s->recognized, "");
	assert_int_equal(s->n_probes, 1);
	assert_string_equal(s->probes[0].user, "app");
	config_free(&cfg);
	s = parse("[service \"web\"]\ncommand = /usr/sbin/nginx\nlisten = tcp:80\n");
	assert_string_equal(s->recognized, "");
	assert_int_equal(s->n_probes, 0);
}

static void serve_is_a_check_until_ready(void **state)
{
	const struct service_config *s;

	(void)state;
	s = parse("[service \"api\"]\ncommand = /bin/api\nlisten = tcp:8080\n"
		  "serve = http://127.0.0.1:8080/ready\nprobe = http://127.0.0.1:8080/health\n");
	assert_int_equal(s->n_probes, 2);
	assert_true(s->probes[0].until_ready);
	assert_false(s->probes[1].until_ready);
	fails("[service \"api\"]\ncommand = /bin/api\nserve = tcp:8080\n", "serve = tcp:8080:");
	fails("[service \"api\"]\ncommand = /bin/api\nserve = tcp:127.0.0.1:1\n"
	      "probe = tcp:127.0.0.1:1\n",
	      "probe = tcp:127.0.0.1:1 is declared twice");
}

static void ready_fd_is_s6s_notification_fd(void **state)
{
	const struct service_config *s;

	(void)state;
	s = parse("[service \"s6\"]\ncommand = /bin/app\nready = fd:3\n");
	assert_int_equal(s->ready, READY_FD);
	assert_int_equal(s->ready_fd, 3);
	fails("[service \"s6\"]\ncommand = /bin/app\nready = fd:1\n", "a number from 3 to 1023");
	fails("[service \"s6\"]\ncommand = /bin/app\nready = fd:x\n", "a number from 3 to 1023");
	fails("[watch \"w\"]\npid = 1\nready = fd:3\n", "no notification fd from readyd");
	fails("[process \"m/a\"]\ncommand = /bin/a\n[process \"m/b\"]\ncommand = /bin/b\n"
	      "[service \"m\"]\nready = fd:4\n",
	      "the fd goes to one process");
}

static void a_watched_daemon_gets_a_hint(void **state)
{
	const struct service_config *s;
	char line[128];

	(void)state;
	s = parse("[watch \"pg\"]\npid_file = /run/pg.pid\nlisten = tcp:127.0.0.1:5432\n");
	assert_false(s->recognized[0]); /* readyd did not start it: it cannot know the command */
	assert_true(config_watch_hint(s, "postgres", line, sizeof(line)));
	assert_string_equal(line, "serve = postgres://127.0.0.1:5432");
	assert_false(config_watch_hint(s, "nginx", line, sizeof(line)));
	config_free(&cfg);
	s = parse("[watch \"pg\"]\npid_file = /run/pg.pid\nlisten = tcp:127.0.0.1:5432\n"
		  "serve = postgres://127.0.0.1:5432\n");
	assert_false(config_watch_hint(s, "postgres", line, sizeof(line)));
	config_free(&cfg);
	s = parse("[service \"pg\"]\ncommand = /bin/pg\nlisten = tcp:5432\n");
	assert_false(config_watch_hint(s, "postgres", line, sizeof(line))); /* not a watch */
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown)
	const struct CMUnitTest tests[] = {
		T(postgres_gets_a_serving_check),   T(the_first_usable_listener_is_checked),
		T(what_the_config_says_wins),	    T(serve_is_a_check_until_ready),
		T(ready_fd_is_s6s_notification_fd), T(a_watched_daemon_gets_a_hint),
	};
	return cmocka_run_group_tests_name("readiness", tests, NULL, NULL);
}
