// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The readiness endpoint's replies: heads, one service, all of them, refusals. */
#include "cmocka_all.h"

#include <string.h>

#include "config/config.h"
#include "model/http_reply.h"

static void heads(void **state)
{
	struct strbuf b = { 0 };

	(void)state;
	http_reply_head(&b, 503, HTTP_TYPE_TEXT, 12, NULL);
	assert_string_equal(b.data, "HTTP/1.1 503 Service Unavailable\r\n"
				    "Content-Type: text/plain; charset=utf-8\r\n"
				    "Content-Length: 12\r\nCache-Control: no-store\r\n"
				    "Connection: close\r\n\r\n");
	strbuf_reset(&b);
	http_reply_head(&b, 405, HTTP_TYPE_JSON, 0, "Allow: GET, HEAD\r\n");
	assert_non_null(strstr(b.data, "405 Method Not Allowed\r\n"));
	assert_non_null(strstr(b.data, "\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n"));
	assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_text(299), "Error");
	strbuf_free(&b);
}

static void services(void **state)
{
	struct service_config web = { .name = "web" }, db = { .name = "d\"b" };
	struct svc a = { .cfg = &web, .state = SVC_RUNNING },
		   b = { .cfg = &db, .state = SVC_STARTING };
	const struct svc *both[] = { &a, &b };
	struct strbuf out = { 0 };

	(void)state;
	strcpy(a.cause, "accepting on tcp:127.0.0.1:80");
	http_body_service(&out, &a, false);
	assert_string_equal(out.data, "web running accepting on tcp:127.0.0.1:80\n");
	strbuf_reset(&out);
	http_body_service(&out, &b, true); /* no cause yet: the state; quotes escaped */
	assert_string_equal(out.data,
			    "{\"service\":\"d\\\"b\",\"state\":\"starting\",\"ready\":false,"
			    "\"cause\":\"starting\"}");
	strbuf_reset(&out);
	strcpy(b.cause, "line\nbreak\\");
	assert_false(http_body_services(&out, both, 2, false));
	assert_string_equal(out.data, "web running accepting on tcp:127.0.0.1:80\n"
				      "d\"b starting line?break\\\n");
	strbuf_reset(&out);
	assert_true(http_body_services(&out, both, 1, true));
	assert_string_equal(out.data,
			    "{\"ready\":true,\"services\":[{\"service\":\"web\",\"state\":"
			    "\"running\",\"ready\":true,\"cause\":\"accepting on "
			    "tcp:127.0.0.1:80\"}]}\n");
	strbuf_reset(&out);
	assert_true(http_body_services(&out, both, 0, false)); /* none: all of none run */
	assert_int_equal(out.len, 0);
	http_body_error(&out, "no such service x", true);
	assert_string_equal(out.data, "{\"error\":\"no such service x\"}\n");
	strbuf_free(&out);
}

static void long_causes_are_whole(void **state)
{
	struct service_config web = { .name = "web" };
	struct svc a = { .cfg = &web, .state = SVC_FAILED };
	struct strbuf out = { 0 };

	(void)state;
	memset(a.cause, '"', sizeof(a.cause) - 1);
	http_body_service(&out, &a, true);
	assert_int_equal(out.len,
			 strlen("{\"service\":\"web\",\"state\":\"failed\",\"ready\":false,"
				"\"cause\":\"\"}") +
				 2 * (sizeof(a.cause) - 1));
	strbuf_reset(&out);
	http_body_service(&out, &a, false);
	assert_int_equal(out.len, strlen("web failed \n") + sizeof(a.cause) - 1);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heads),
		cmocka_unit_test(services),
		cmocka_unit_test(long_causes_are_whole),
	};
	return cmocka_run_group_tests_name("http_reply", tests, NULL, NULL);
}
