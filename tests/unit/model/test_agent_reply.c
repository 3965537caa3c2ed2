// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HAProxy agent-check lines: the name in a request, the answer from a state. */
#include "cmocka_all.h"

#include <errno.h>
#include <string.h>

#include "model/agent_reply.h"

static int name_of(const char *text, char *name, size_t size)
{
	return agent_request_name(text, strlen(text), name, size);
}

static void request_names(void **state)
{
	char name[64], big[AGENT_REQUEST_MAX];

	(void)state;
	assert_int_equal(name_of("web\n", name, sizeof(name)), 1);
	assert_string_equal(name, "web");
	assert_int_equal(name_of("  web \r\n", name, sizeof(name)), 1);
	assert_string_equal(name, "web");
	assert_int_equal(name_of("\n", name, sizeof(name)), 1);
	assert_string_equal(name, "");
	assert_int_equal(name_of("we", name, sizeof(name)), 0); /* more to come */
	memset(big, 'x', sizeof(big));
	assert_int_equal(agent_request_name(big, sizeof(big), name, sizeof(name)), -EMSGSIZE);
	assert_int_equal(agent_request_name(big, sizeof(big) - 1, name, sizeof(name)), 0);
	big[100] = '\n';
	assert_int_equal(agent_request_name(big, sizeof(big), name, sizeof(name)), -EMSGSIZE);
}

static void replies_follow_the_state(void **state)
{
	struct svc s = { .state = SVC_RUNNING };
	char out[AGENT_REPLY_MAX];

	(void)state;
	assert_int_equal(agent_reply(&s, "web", out, sizeof(out)), 3);
	assert_string_equal(out, "up\n");
	s.state = SVC_UNHEALTHY;
	strcpy(s.cause, "probe http failed 3 times");
	agent_reply(&s, "web", out, sizeof(out));
	assert_string_equal(out, "down #probe http failed 3 times\n");
	s.state = SVC_STOPPED;
	s.cause[0] = '\0';
	agent_reply(&s, "web", out, sizeof(out));
	assert_string_equal(out, "down #stopped\n");
	agent_reply(NULL, "nope", out, sizeof(out));
	assert_string_equal(out, "down #no such service nope\n");
	agent_reply_refuse("agent-send names the service", out, sizeof(out));
	assert_string_equal(out, "down #agent-send names the service\n");
}

static void causes_are_one_short_printable_line(void **state)
{
	struct svc s = { .state = SVC_FAILED };
	char out[AGENT_REPLY_MAX];
	size_t len;

	(void)state;
	strcpy(s.cause, "exit 1:\nbad\tthing\x7f");
	agent_reply(&s, "web", out, sizeof(out));
	assert_string_equal(out, "down #exit 1:?bad?thing?\n");
	memset(s.cause, 'c', sizeof(s.cause) - 1);
	s.cause[sizeof(s.cause) - 1] = '\0';
	len = agent_reply(&s, "web", out, sizeof(out));
	assert_int_equal(len, strlen("down #") + AGENT_CAUSE_MAX + 1);
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_names),
		cmocka_unit_test(replies_follow_the_state),
		cmocka_unit_test(causes_are_one_short_printable_line),
	};
	return cmocka_run_group_tests_name("agent_reply", tests, NULL, NULL);
}
