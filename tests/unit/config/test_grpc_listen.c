// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* [readyd] grpc_listen: the addresses it takes (as agent_listen's), and the errors it gives. */
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

static void grpc_listen_values(void **state)
{
	static const struct {
		const char *value, *text;
	} ok[] = {
		{ "9101", "tcp:127.0.0.1:9101" },     { ":9101", "tcp:127.0.0.1:9101" },
		{ "10.1.2.3:80", "tcp:10.1.2.3:80" }, { "*:80", "tcp:0.0.0.0:80" },
		{ "[::1]:8080", "tcp:[::1]:8080" },
	};
	struct config_diag diag;
	struct config cfg;
	char text[160];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "[readyd]\nagent_listen = 9100\ngrpc_listen = %s\n[service \"a\"]\n"
			 "command = /bin/true\n",
			 ok[i].value);
		assert_int_equal(config_parse_text("a.conf", text, NULL, &cfg, &diag), 0);
		assert_true(cfg.has_grpc);
		assert_string_equal(cfg.grpc.text, ok[i].text);
		assert_int_equal(cfg.seen[5], 3); /* the line grpc_open's bind error names */
		assert_string_equal(cfg.agent.text, "tcp:127.0.0.1:9100"); /* each its own */
		config_free(&cfg);
	}
	assert_int_equal(config_parse_text("a.conf", "[service \"a\"]\ncommand = /bin/true\n", NULL,
					   &cfg, &diag),
			 0);
	assert_false(cfg.has_grpc); /* off unless set */
	config_free(&cfg);
	expect_error("[readyd]\ngrpc_listen = localhost:80\n",
		     "t.conf:2:", "grpc_listen = localhost:80: want ADDR:PORT or PORT");
	expect_error("[readyd]\ngrpc_listen = 70000\n", "t.conf:2:", "port must be a number");
	expect_error("[readyd]\ngrpc_listen = 1\ngrpc_listen = 2\n", "t.conf:3:", "set twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grpc_listen_values),
	};
	return cmocka_run_group_tests_name("grpc_listen", tests, NULL, NULL);
}
