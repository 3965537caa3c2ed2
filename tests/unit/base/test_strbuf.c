// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The growable text buffer: appends of any size, as printf and as bytes. */
#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"

static void appends_grow_and_stay_terminated(void **state)
{
	static char big[100000];
	struct strbuf b = { 0 };

	(void)state;
	strbuf_printf(&b, "%s=%d ", "a", 1);
	memset(big, 'x', sizeof(big));
	strbuf_append(&b, big, sizeof(big));
	strbuf_append(&b, "end", 3);
	assert_int_equal(b.len, 4 + sizeof(big) + 3);
	assert_false(b.oom);
	assert_memory_equal(b.data, "a=1 x", 5);
	assert_string_equal(b.data + b.len - 3, "end");
	strbuf_reset(&b);
	strbuf_append(&b, "", 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	strbuf_free(&b);
}

/* printf appends that cross the buffer's end are whole: the second try after growing. */
static void printf_across_growth(void **state)
{
	struct strbuf b = { 0 };
	char want[64];

	(void)state;
	for (int i = 0; i < 5000; i++)
		strbuf_printf(&b, "line %d of %s\n", i, "many");
	assert_false(b.oom);
	assert_int_equal(b.len, strlen(b.data));
	snprintf(want, sizeof(want), "line %d of many\n", 4999);
	assert_string_equal(b.data + b.len - strlen(want), want);
	assert_memory_equal(b.data, "line 0 of many\nline 1 of many\n", 30);
	for (size_t off = 0, i = 0; off < b.len; i++) { /* every line, in order */
		int n = snprintf(want, sizeof(want), "line %zu of many\n", i);
		assert_memory_equal(b.data + off, want, (size_t)n);
		off += (size_t)n;
	}
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends_grow_and_stay_terminated),
		cmocka_unit_test(printf_across_growth),
	};
	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
