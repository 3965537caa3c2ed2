// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* after, requires, autostart, start_limit_cooldown: values, the graph's errors, the stop order. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#include "config/config_test_errors.h"

#define SVC(name, extra) "[service \"" name "\"]\ncommand = /bin/true\n" extra

static void parse_ok(const char *text, struct config *cfg)
{
	struct config_diag diag;
	int rc = config_parse_text("t.conf", text, NULL, cfg, &diag);

	if (rc)
		fail_msg("rejected: %s", diag.n ? diag.lines[0] : "(no message)");
}

static void values(void **state)
{
	struct config cfg;
	bool req = false;

	(void)state;
	parse_ok(SVC("db", "autostart = no\nstart_limit_cooldown = 2s\n") SVC("cache", "")
			 SVC("app", "after = db, cache\nrequires = db\n")
				 SVC("web", "after = app web2\n")
					 SVC("web2", "start_limit_cooldown = off\n"),
		 &cfg);
	const struct service_config *db = config_find(&cfg, "db"), *app = config_find(&cfg, "app"),
				    *web = config_find(&cfg, "web"),
				    *web2 = config_find(&cfg, "web2");
	assert_false(db->autostart);
	assert_true(app->autostart);
	assert_int_equal(db->start_limit_cooldown_ns, 2000000000ULL);
	assert_int_equal(app->start_limit_cooldown_ns, DEFAULT_START_LIMIT_COOLDOWN);
	assert_int_equal(web2->start_limit_cooldown_ns, 0);
	/* db named by both lines is one dep, and requires wins */
	assert_int_equal(app->n_deps, 2);
	assert_true(config_depends_on(app, "db", &req));
	assert_true(req);
	assert_true(config_depends_on(app, "cache", &req));
	assert_false(req);
	assert_false(config_depends_on(app, "web", NULL));
	assert_int_equal(web->n_deps, 2); /* separated by a space, as systemd writes them */
	assert_string_equal(web->deps[1].name, "web2");
	assert_int_equal(web->deps[0].line, 13);
	assert_string_equal(cfg.services[web->deps[0].idx].name, "app");
	config_free(&cfg);
}

static void graph_errors(void **state)
{
	(void)state;
	expect_error(SVC("web", "after = web\n"), "t.conf:3:", "cannot wait for itself");
	expect_error(SVC("web", "after = dbx\n") SVC("db", ""), "t.conf:3:",
		     "no service or watch \"dbx\" in this file; fix the name or declare");
	expect_error(SVC("web", "after = app\n") SVC("app", "requires = web\n"),
		     "t.conf:6:", "a dependency cycle: web -> app -> web");
	expect_error(SVC("a", "after = b\n") SVC("b", "after = c\n") SVC("c", "after = a\n"),
		     "t.conf:9:", "a -> b -> c -> a");
	expect_error(SVC("a", "autostart = maybe\n"), "t.conf:3:", "expected yes or no");
	expect_error(SVC("a", "start_limit_cooldown = soon\n"),
		     "t.conf:3:", "expected a duration (30s, 5m, 1h) or off");
	expect_error(SVC("a", "autostart = no\nautostart = yes\n"), "t.conf:4:", "set twice");
}

static size_t position(const size_t *order, size_t n, size_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (order[i] == idx)
			return i;
	fail_msg("%zu is not in the order", idx);
	return n;
}

/* Every service stops after all that wait for it: web, then app, then db and cache. */
static void stop_order(void **state)
{
	struct config cfg;
	size_t order[5];

	(void)state;
	parse_ok(SVC("db", "") SVC("app", "requires = db\nafter = cache\n")
			 SVC("web", "after = app\n") SVC("cache", "") SVC("alone", ""),
		 &cfg);
	config_stop_order(&cfg, order);
	for (size_t i = 0; i < cfg.n_services; i++) {
		const struct service_config *s = &cfg.services[i];
		for (size_t k = 0; k < s->n_deps; k++)
			assert_true(position(order, 5, i) < position(order, 5, s->deps[k].idx));
	}
	position(order, 5, 4); /* every service is in it */
	config_free(&cfg);
}

/* Start order is not behaviour: a reload that changes only it restarts nothing. */
static void reload_equal(void **state)
{
	struct config a, b;

	(void)state;
	parse_ok(SVC("db", "") SVC("app", ""), &a);
	parse_ok(SVC("db", "autostart = no\nstart_limit_cooldown = 1s\n")
			 SVC("app", "after = db\n"),
		 &b);
	for (size_t i = 0; i < 2; i++)
		assert_true(config_service_equal(&a.services[i], &b.services[i]));
	config_free(&a);
	config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(graph_errors),
		cmocka_unit_test(stop_order),
		cmocka_unit_test(reload_equal),
	};
	return cmocka_run_group_tests_name("config_deps", tests, NULL, NULL);
}
