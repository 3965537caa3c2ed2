// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The boot from made-up replies: blame's order and the critical chain through after/requires. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/boot.h"

#define S(x)  ((unsigned long long)(x)*1000000000ULL)
#define MS(x) ((unsigned long long)(x)*1000000ULL)

/* A service spawned at `spawn` ms and running at `run` ms (0: never) after readyd's start (1 s). */
static void service(char *buf, size_t size, const char *name, unsigned spawn, unsigned run)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len,
		 "%s{\"name\":\"%s\",\"state\":\"%s\",\"dropped\":0,\"entries\":["
		 "{\"mono_ns\":%llu,\"kind\":\"starting\",\"detail\":\"started at boot\"},"
		 "{\"mono_ns\":%llu,\"kind\":\"spawn\",\"detail\":\"pid 1\"}",
		 buf[len - 1] == '[' ? "" : ",", name, run ? "running" : "failed",
		 S(1) + MS(spawn) - 1, S(1) + MS(spawn));
	len = strlen(buf);
	if (run)
		snprintf(buf + len, size - len,
			 ",{\"mono_ns\":%llu,\"kind\":\"accepting\",\"detail\":\"tcp:127.0.0.1:"
			 "80\"},"
			 "{\"mono_ns\":%llu,\"kind\":\"running\",\"detail\":\"accepting\"}]}",
			 S(1) + MS(run), S(1) + MS(run));
	else
		snprintf(buf + len, size - len,
			 ",{\"mono_ns\":%llu,\"kind\":\"failed\",\"detail\":\"exit 1\"}]}",
			 S(1) + MS(spawn + 5));
}

static char timeline_json[8192];

static void make_boot(struct boot *b, const char *list_json)
{
	cJSON *t, *l = list_json ? cJSON_Parse(list_json) : NULL;

	snprintf(timeline_json, sizeof(timeline_json),
		 "{\"ok\":true,\"started_mono_ns\":%llu,\"now_mono_ns\":%llu,\"services\":[", S(1),
		 S(3));
	service(timeline_json, sizeof(timeline_json), "db", 10, 900);	   /* 890 ms */
	service(timeline_json, sizeof(timeline_json), "cache", 10, 200);   /* 190 ms */
	service(timeline_json, sizeof(timeline_json), "web", 950, 1000);   /* 50 ms, after db */
	service(timeline_json, sizeof(timeline_json), "broken", 20, 0);	   /* never */
	service(timeline_json, sizeof(timeline_json), "late", 1500, 1600); /* after web */
	strcat(timeline_json, "]}");
	t = cJSON_Parse(timeline_json);
	assert_non_null(t);
	if (list_json)
		assert_non_null(l);
	assert_int_equal(boot_parse(b, t, l), 0);
	cJSON_Delete(t);
	cJSON_Delete(l);
}

static void blame_is_slowest_first_and_skips_what_never_ran(void **state)
{
	struct boot b;
	size_t order[8], n;

	(void)state;
	make_boot(&b, NULL);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.start, S(1));
	n = boot_blame(&b, order);
	assert_int_equal(n, 4);
	assert_string_equal(b.svcs[order[0]].name, "db");
	assert_string_equal(b.svcs[order[1]].name, "cache");
	assert_string_equal(b.svcs[order[2]].name, "late");
	assert_string_equal(b.svcs[order[3]].name, "web");
	assert_false(b.svcs[boot_find(&b, "broken")].ran);
	assert_int_equal(boot_find(&b, "nope"), -1);
	boot_free(&b);
}

static void the_chain_follows_the_dependency_that_came_last(void **state)
{
	struct boot b;
	size_t chain[BOOT_CHAIN_MAX], n;

	(void)state;
	/* late waits for web; web for db and cache (db came last); broken never ran. */
	make_boot(&b, "{\"services\":["
		      "{\"name\":\"late\",\"after\":[\"web\",\"broken\"]},"
		      "{\"name\":\"web\",\"after\":[\"cache\"],\"requires\":[\"db\",\"cache\"]},"
		      "{\"name\":\"db\"},{\"name\":\"cache\",\"after\":[]},"
		      "{\"name\":\"unknown\",\"after\":[\"db\"]}]}");
	assert_int_equal(b.svcs[boot_find(&b, "web")].n_deps, 2); /* cache once */
	n = boot_critical_chain(&b, (size_t)boot_find(&b, "late"), chain, BOOT_CHAIN_MAX);
	assert_int_equal(n, 3);
	assert_string_equal(b.svcs[chain[0]].name, "late");
	assert_string_equal(b.svcs[chain[1]].name, "web");
	assert_string_equal(b.svcs[chain[2]].name, "db");
	/* No dependencies (no "after" key at all): the chain is the service alone. */
	assert_int_equal(boot_critical_chain(&b, (size_t)boot_find(&b, "db"), chain, 8), 1);
	boot_free(&b);
}

static void a_cycle_or_a_later_dependency_ends_the_chain(void **state)
{
	struct boot b;
	size_t chain[BOOT_CHAIN_MAX], n;

	(void)state;
	/* db "after" web: web ran after db spawned, so it is not what db waited for. */
	make_boot(&b, "{\"services\":[{\"name\":\"web\",\"after\":[\"db\"]},"
		      "{\"name\":\"db\",\"after\":[\"web\"]},"
		      "{\"name\":\"cache\",\"after\":[\"cache\"]}]}");
	n = boot_critical_chain(&b, (size_t)boot_find(&b, "web"), chain, BOOT_CHAIN_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(boot_critical_chain(&b, (size_t)boot_find(&b, "cache"), chain, 8), 1);
	assert_int_equal(b.svcs[boot_find(&b, "cache")].n_deps, 0); /* itself: ignored */
	boot_free(&b);
}

static void a_malformed_reply_is_refused(void **state)
{
	struct boot b;
	cJSON *t = cJSON_Parse("{\"ok\":true}");

	(void)state;
	assert_int_equal(boot_parse(&b, t, NULL), -EPROTO);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"services\":[{\"name\":7,\"entries\":[{\"kind\":3}]}]}");
	assert_int_equal(boot_parse(&b, t, NULL), 0); /* wrong types: empty fields */
	assert_string_equal(b.svcs[0].name, "");
	assert_false(b.svcs[0].ran);
	boot_free(&b);
	cJSON_Delete(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blame_is_slowest_first_and_skips_what_never_ran),
		cmocka_unit_test(the_chain_follows_the_dependency_that_came_last),
		cmocka_unit_test(a_cycle_or_a_later_dependency_ends_the_chain),
		cmocka_unit_test(a_malformed_reply_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
