// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* readyctl plot's SVG from a made-up boot: rows, phases, markers, names escaped for XML. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot_svg.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *render(const struct boot *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	plot_svg(out, b);
	fclose(out);
	return text;
}

static char *escaped(const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	plot_xml_escape(out, s);
	fclose(out);
	return text;
}

#define MS(x) ((uint64_t)(x)*1000000ULL)

static void rows_phases_and_markers(void **state)
{
	struct boot_mark web[] = {
		{ MS(100), "starting", "started at boot" },
		{ MS(110), "spawn", "pid 10" },
		{ MS(150), "bound", "tcp:127.0.0.1:80" },
		{ MS(151), "listening", "tcp:127.0.0.1:80" },
		{ MS(152), "accepting", "tcp:127.0.0.1:80" },
		{ MS(152), "running", "accepting" },
		{ MS(900), "closed", "tcp:127.0.0.1:80" }, /* a level while running: no new phase */
	};
	struct boot_mark flaky[] = {
		{ MS(100), "starting", "" },	    { MS(105), "spawn", "pid 11" },
		{ MS(300), "failed", "exit 3" },    { MS(450), "starting", "restart" },
		{ MS(455), "spawn", "pid 12" },	    { MS(600), "failed", "exit <3> & \"gave up\"" },
		{ MS(700), "stopped", "operator" },
	};
	struct boot_service svcs[] = {
		{ .name = "web",
		  .state = "running",
		  .marks = web,
		  .n_marks = 7,
		  .ran = true,
		  .spawn_at = MS(110),
		  .running_at = MS(152) },
		{ .name = "a<b>&\"c'", .state = "stopped", .marks = flaky, .n_marks = 7 },
	};
	struct boot b = { .start = 0, .end = MS(1000), .svcs = svcs, .n = 2 };
	char *svg = render(&b);

	(void)state;
	assert_true(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
	assert_non_null(strstr(svg, "</svg>\n"));
	assert_int_equal(count(svg, "<g class=\"row\""), 2);
	assert_non_null(strstr(svg, "data-service=\"a&lt;b&gt;&amp;&quot;c&apos;\""));
	assert_null(strstr(svg, "a<b>"));
	/* web: waiting, spawned, bound, listening, accepting (0 wide: still drawn), running. */
	assert_int_equal(count(svg, "data-phase=\"spawn\""), 3); /* web once, the other twice */
	assert_int_equal(count(svg, "data-phase=\"accepting\""), 1);
	assert_int_equal(count(svg, "data-phase=\"running\""), 1);
	assert_int_equal(count(svg, "data-phase=\"failed\""), 2);
	assert_int_equal(count(svg, "class=\"restart\""), 1);
	assert_int_equal(count(svg, "class=\"failure\""), 2);
	assert_non_null(strstr(svg, "failed: exit &lt;3&gt; &amp; &quot;gave up&quot;"));
	/* The axis: 1 s in ticks of 0.1 s, from 0. */
	assert_int_equal(count(svg, "class=\"tick\""), 11);
	assert_non_null(strstr(svg, ">0 s</text>"));
	assert_non_null(strstr(svg, ">1 s</text>"));
	assert_non_null(strstr(svg, ">0.042 s</text>")); /* web: spawn -> running */
	free(svg);
}

static void an_empty_boot_is_still_a_document(void **state)
{
	struct boot b = { 0 };
	char *svg = render(&b);

	(void)state;
	assert_int_equal(count(svg, "<g class=\"row\""), 0);
	assert_non_null(strstr(svg, "0 services"));
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);
}

static void xml_escape_replaces_what_xml_cannot_hold(void **state)
{
	char *s;

	(void)state;
	s = escaped("caf\xc3\xa9 \xe2\x9c\x93 ok");
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x9c\x93 ok"); /* UTF-8 kept */
	free(s);
	s = escaped("bad\xff\xc3(\x01\x1b[0m\tend");
	assert_string_equal(s, "bad??"
			       "(??"
			       "[0m\tend");
	free(s);
	s = escaped("\xc0\xaf"); /* overlong '/' */
	assert_string_equal(s, "??");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_phases_and_markers),
		cmocka_unit_test(an_empty_boot_is_still_a_document),
		cmocka_unit_test(xml_escape_replaces_what_xml_cannot_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
