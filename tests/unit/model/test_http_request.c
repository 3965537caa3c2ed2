// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The readiness endpoint's request heads: what each asks, or the status refusing it. */
#include "cmocka_all.h"

#include <string.h>

#include "model/http_request.h"

static struct http_request req;

static int parse(const char *text)
{
	return http_request_parse(text, strlen(text), &req);
}

static void routes(void **state)
{
	(void)state;
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	assert_int_equal(req.route, HTTP_READY_ONE);
	assert_string_equal(req.name, "web");
	assert_false(req.head);
	assert_false(req.json);
	assert_int_equal(req.wait_ns, 0);
	assert_int_equal(req.head_len, strlen("GET /ready/web HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_int_equal(parse("GET /ready HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(req.route, HTTP_READY_ALL);
	assert_int_equal(parse("GET /ready/ HTTP/1.1\r\n\r\n"), 200);
	assert_int_equal(req.route, HTTP_READY_ALL);
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\n\n"), 200); /* bare LF lines too */
	assert_int_equal(req.route, HTTP_METRICS);
	assert_true(req.head);
	assert_int_equal(parse("\r\nGET /metrics?x=1 HTTP/1.1\r\n\r\n"), 200);
	/* a proxy's absolute-form */
	assert_int_equal(parse("GET http://node:9102/ready/db HTTP/1.1\r\n\r\n"), 200);
	assert_string_equal(req.name, "db");
	assert_int_equal(parse("GET HTTPS://node/ready/db?wait=1s HTTP/1.1\r\n\r\n"), 200);
	assert_string_equal(req.name, "db");
	assert_int_equal(parse("GET http://node HTTP/1.1\r\n\r\n"), 404); /* the path is / */
	assert_int_equal(parse("GET /ready/a%2db%20c HTTP/1.1\r\n\r\n"), 200);
	assert_string_equal(req.name, "a-b c");
}

static void accept_and_wait(void **state)
{
	(void)state;
	assert_int_equal(
		parse("GET /ready/web HTTP/1.1\r\naccept: text/html, Application/JSON;q=0.9"
		      "\r\n\r\n"),
		200);
	assert_true(req.json);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nX-Accept: application/json\r\n\r\n"),
			 200);
	assert_false(req.json);
	assert_int_equal(parse("GET /ready/web?wait=30s HTTP/1.1\r\n\r\n"), 200);
	assert_int_equal(req.wait_ns, 30000000000ULL);
	assert_int_equal(parse("GET /ready/web?a=b&wait=1m30s&c HTTP/1.1\r\n\r\n"), 200);
	assert_int_equal(req.wait_ns, 90000000000ULL);
	assert_int_equal(parse("GET /ready/web?wait=5m HTTP/1.1\r\n\r\n"), 200);
	assert_int_equal(parse("GET /ready/web?wait=5m1s HTTP/1.1\r\n\r\n"), 400);
	assert_string_equal(req.error, "wait= is at most 5m");
	assert_int_equal(parse("GET /ready/web?wait=soon HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready?wait=1s HTTP/1.1\r\n\r\n"), 400);
	assert_string_equal(req.error, "wait= only on /ready/NAME");
}

static void refusals(void **state)
{
	(void)state;
	assert_int_equal(parse("POST /ready/web HTTP/1.1\r\n\r\n"), 405);
	assert_int_equal(parse("get /ready/web HTTP/1.1\r\n\r\n"),
			 405); /* methods are case-sensitive */
	assert_int_equal(parse("GET /nope HTTP/1.1\r\n\r\n"), 404);
	assert_int_equal(parse("GET /readyz HTTP/1.1\r\n\r\n"), 404);
	assert_int_equal(parse("GET /ready/a/b HTTP/1.1\r\n\r\n"), 404);
	assert_int_equal(parse("GET /ready/web HTTP/2.0\r\n\r\n"), 505);
	assert_int_equal(parse("GET /ready/web\r\n\r\n"), 400); /* HTTP/0.9 */
	assert_int_equal(parse("GET  /ready/web HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET ready HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/%zz HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/%00 HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/web% HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nHost x\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nHost : x\r\n\r\n"), 400);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), 400);
	assert_int_equal(parse("GET /nope HTTP/1.1\r\nbad\r\n\r\n"), 400); /* malformed first */
	assert_int_equal(parse("GET /ready/w\x01 HTTP/1.1\r\n\r\n"), 400);
	assert_non_null(req.error);
}

static void incomplete_and_oversized(void **state)
{
	static char big[HTTP_HEAD_MAX + 100];

	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\n"), 0);
	assert_int_equal(parse("GET /ready/web HTTP/1.1\r\nHost: x\r\n"), 0);
	assert_int_equal(parse("\r\n\r\n"), 0);
	memset(big, 'x', sizeof(big));
	memcpy(big, "GET /ready/web HTTP/1.1\r\nX-Big: ", 32);
	assert_int_equal(http_request_parse(big, HTTP_HEAD_MAX - 1, &req), 0);
	assert_int_equal(http_request_parse(big, HTTP_HEAD_MAX, &req), 431);
	assert_int_equal(http_request_parse(big, sizeof(big), &req), 431);
	/* a head that ends past the limit is still too large */
	memcpy(big + HTTP_HEAD_MAX + 10, "\r\n\r\n", 4);
	assert_int_equal(http_request_parse(big, sizeof(big), &req), 431);
	/* a long name: no service has it */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /ready/", 11);
	memcpy(big + 11 + 300, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(http_request_parse(big, 11 + 300 + 13, &req), 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes),
		cmocka_unit_test(accept_and_wait),
		cmocka_unit_test(refusals),
		cmocka_unit_test(incomplete_and_oversized),
	};
	return cmocka_run_group_tests_name("http_request", tests, NULL, NULL);
}
