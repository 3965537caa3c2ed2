// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* [readyd] http_listen: the addresses it takes, and the errors it gives. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void expect_error(const char *text, const char *where, const char *what)
{
	struct config_diag diag;
	struct config cfg;
	bool found = false;

	assert_int_equal(config_parse_text("t.conf", text, NULL, &cfg, &diag), -EINVAL);
	for (size_t i = 0; i < diag.n; i++)
		found |= strstr(diag.lines[i], where) && strstr(diag.lines[i], what);
	if (!found)
		fail_msg("expected \"%s\" and \"%s\" in: %s", where, what,
			 diag.n ? diag.lines[0] : "(none)");
	config_diag_free(&diag);
}

static void http_listen_values(void **state)
{
	static const struct {
		const char *value, *text;
	} ok[] = {
		{ "9999", "tcp:127.0.0.1:9999" },     { ":9999", "tcp:127.0.0.1:9999" },
		{ "10.1.2.3:80", "tcp:10.1.2.3:80" }, { "*:80", "tcp:0.0.0.0:80" },
		{ "[::1]:8080", "tcp:[::1]:8080" },
	};
	struct config_diag diag;
	struct config cfg;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "[readyd]\nhttp_listen = %s\n[service \"a\"]\ncommand = /bin/true\n",
			 ok[i].value);
		assert_int_equal(config_parse_text("a.conf", text, NULL, &cfg, &diag), 0);
		assert_true(cfg.has_http);
		assert_string_equal(cfg.http.text, ok[i].text);
		config_free(&cfg);
	}
	assert_int_equal(config_parse_text("a.conf", "[service \"a\"]\ncommand = /bin/true\n", NULL,
					   &cfg, &diag),
			 0);
	assert_false(cfg.has_http); /* off unless set */
	config_free(&cfg);
	expect_error("[readyd]\nhttp_listen = localhost:80\n",
		     "t.conf:2:", "http_listen = localhost:80: want ADDR:PORT or PORT");
	expect_error("[readyd]\nhttp_listen = 70000\n", "t.conf:2:", "port must be a number");
	expect_error("[readyd]\nhttp_listen = 1\nhttp_listen = 2\n", "t.conf:3:", "set twice");
	/* beside agent_listen: each its own */
	assert_int_equal(config_parse_text("a.conf",
					   "[readyd]\nagent_listen = 9100\nhttp_listen = 9102\n"
					   "[service \"a\"]\ncommand = /bin/true\n",
					   NULL, &cfg, &diag),
			 0);
	assert_string_equal(cfg.agent.text, "tcp:127.0.0.1:9100");
	assert_string_equal(cfg.http.text, "tcp:127.0.0.1:9102");
	assert_int_equal(cfg.seen[6], 3); /* the line a bind failure names */
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_listen_values),
	};
	return cmocka_run_group_tests_name("http_listen", tests, NULL, NULL);
}
