/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* For the config's unit tests: a text's errors, and the check that one is among them. */
#ifndef READYD_TEST_CONFIG_ERRORS_H
#define READYD_TEST_CONFIG_ERRORS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

/* Every error of a text that must not parse, one per line (the caller frees it). */
static char *errors_of(const char *text)
{
	struct config_diag diag;
	struct config cfg;
	size_t len = 1;
	char *all;

	assert_int_equal(config_parse_text("t.conf", text, NULL, &cfg, &diag), -EINVAL);
	assert_true(diag.n > 0);
	for (size_t i = 0; i < diag.n; i++)
		len += strlen(diag.lines[i]) + 1;
	all = calloc(1, len);
	assert_non_null(all);
	for (size_t i = 0; i < diag.n; i++) {
		strcat(all, diag.lines[i]);
		strcat(all, "\n");
	}
	config_diag_free(&diag);
	return all;
}

static void expect_error(const char *text, const char *where, const char *what)
{
	char *all = errors_of(text);

	if (!strstr(all, where) || !strstr(all, what))
		fail_msg("expected \"%s\" and \"%s\" in:\n%s", where, what, all);
	free(all);
}

#endif
