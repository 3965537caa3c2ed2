// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* [readyd] agent_listen, grpc_listen, http_listen: the addresses each takes, and its errors. */
#include "cmocka_all.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static const struct key {
	const char *name;
	size_t spec, has;  /* offsets in struct config */
	unsigned int slot; /* its seen[] slot: the line a bind failure names */
} keys[] = {
	{ "agent_listen", offsetof(struct config, agent), offsetof(struct config, has_agent), 4 },
	{ "grpc_listen", offsetof(struct config, grpc), offsetof(struct config, has_grpc), 5 },
	{ "http_listen", offsetof(struct config, http), offsetof(struct config, has_http), 6 },
};

static const struct listen_spec *spec_of(const struct config *cfg, const struct key *k)
{
	return (const struct listen_spec *)((const char *)cfg + k->spec);
}

static bool has(const struct config *cfg, const struct key *k)
{
	return *(const bool *)((const char *)cfg + k->has);
}

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

static void each_takes_these_addresses(void **state)
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
	char text[160];

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			snprintf(text, sizeof(text),
				 "[readyd]\n%s = %s\n[service \"a\"]\ncommand = /bin/true\n",
				 keys[k].name, ok[i].value);
			assert_int_equal(config_parse_text("a.conf", text, NULL, &cfg, &diag), 0);
			assert_true(has(&cfg, &keys[k]));
			assert_string_equal(spec_of(&cfg, &keys[k])->text, ok[i].text);
			assert_int_equal(cfg.seen[keys[k].slot], 2);
			config_free(&cfg);
		}
	assert_int_equal(config_parse_text("a.conf", "[service \"a\"]\ncommand = /bin/true\n", NULL,
					   &cfg, &diag),
			 0);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		assert_false(has(&cfg, &keys[k])); /* off unless set */
	config_free(&cfg);
}

static void each_names_its_errors(void **state)
{
	char text[128], what[96];

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *key = keys[k].name;

		snprintf(text, sizeof(text), "[readyd]\n%s = localhost:80\n", key);
		snprintf(what, sizeof(what), "%s = localhost:80: want ADDR:PORT or PORT", key);
		expect_error(text, "t.conf:2:", what);
		snprintf(text, sizeof(text), "[readyd]\n%s = 70000\n", key);
		expect_error(text, "t.conf:2:", "port must be a number");
		snprintf(text, sizeof(text), "[readyd]\n%s = 1\n%s = 2\n", key, key);
		expect_error(text, "t.conf:3:", "set twice");
	}
}

static void all_three_side_by_side(void **state)
{
	struct config_diag diag;
	struct config cfg;

	(void)state;
	assert_int_equal(
		config_parse_text("a.conf",
				  "[readyd]\nagent_listen = 9100\ngrpc_listen = 9101\n"
				  "http_listen = 9102\n[service \"a\"]\ncommand = /bin/true\n",
				  NULL, &cfg, &diag),
		0);
	assert_string_equal(cfg.agent.text, "tcp:127.0.0.1:9100");
	assert_string_equal(cfg.grpc.text, "tcp:127.0.0.1:9101");
	assert_string_equal(cfg.http.text, "tcp:127.0.0.1:9102");
	assert_int_equal(cfg.seen[4], 2);
	assert_int_equal(cfg.seen[5], 3);
	assert_int_equal(cfg.seen[6], 4);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_takes_these_addresses),
		cmocka_unit_test(each_names_its_errors),
		cmocka_unit_test(all_three_side_by_side),
	};
	return cmocka_run_group_tests_name("serve_listen", tests, NULL, NULL);
}
