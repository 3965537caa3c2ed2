// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* gRPC framing and the health messages: bytes as grpcio sends and expects them. */
#include "cmocka_all.h"

#include <errno.h>
#include <string.h>

#include "model/grpc_msg.h"

static int request(const char *bytes, size_t len, char *name, size_t size)
{
	return grpc_health_request((const uint8_t *)bytes, len, name, size);
}

static void frames(void **state)
{
	const uint8_t whole[] = { 0, 0, 0, 0, 3, 0x0a, 1, 'a' };
	const uint8_t big[] = { 0, 0, 0, 2, 1 };
	const uint8_t zipped[] = { 1, 0, 0, 0, 0 };
	bool compressed = true;
	size_t n = 99;

	(void)state;
	assert_int_equal(grpc_frame_parse(whole, 4, 512, &compressed, &n), 0);
	assert_int_equal(grpc_frame_parse(whole, 7, 512, &compressed, &n), 0);
	assert_int_equal(grpc_frame_parse(whole, 8, 512, &compressed, &n), 8);
	assert_false(compressed);
	assert_int_equal(n, 3);
	assert_int_equal(grpc_frame_parse(big, 5, 512, &compressed, &n), -EMSGSIZE);
	assert_int_equal(grpc_frame_parse(zipped, 5, 512, &compressed, &n), 5);
	assert_true(compressed);
	assert_int_equal(n, 0);
}

static void requests(void **state)
{
	char name[8];

	(void)state;
	assert_int_equal(request("", 0, name, sizeof(name)), 0); /* proto3: "" is no bytes */
	assert_string_equal(name, "");
	assert_int_equal(request("\x0a\x03web", 5, name, sizeof(name)), 0);
	assert_string_equal(name, "web");
	/* unknown fields of every wire type are skipped; the last service wins */
	static const char mixed[] = "\x10\x96\x01\x0a\x01x\x19"
				    "12345678\x22\x02zz\x2d"
				    "abcd"
				    "\x0a\x02"
				    "db";
	assert_int_equal(request(mixed, sizeof(mixed) - 1, name, sizeof(name)), 0);
	assert_string_equal(name, "db");
	assert_int_equal(request("\x0a\x08"
				 "12345678",
				 10, name, sizeof(name)),
			 -ENAMETOOLONG);
	assert_int_equal(request("\x0a\x07"
				 "1234567",
				 9, name, sizeof(name)),
			 0);
	assert_int_equal(request("\x0a\x05web", 5, name, sizeof(name)), -EBADMSG); /* too short */
	assert_int_equal(request("\x0a", 1, name, sizeof(name)), -EBADMSG);
	assert_int_equal(request("\x08\x01", 2, name, sizeof(name)), -EBADMSG); /* 1 as a varint */
	assert_int_equal(request("\x0a\x02w\0", 4, name, sizeof(name)), -EBADMSG);
	assert_int_equal(request("\x00\x01", 2, name, sizeof(name)), -EBADMSG); /* field 0 */
	assert_int_equal(request("\x0b", 1, name, sizeof(name)), -EBADMSG);	/* a group */
	assert_int_equal(
		request("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11, name, sizeof(name)),
		-EBADMSG); /* a varint of 11 bytes */
	assert_int_equal(request("\x12\xff\xff\xff\xff\x0f", 6, name, sizeof(name)), -EBADMSG);
}

static void responses(void **state)
{
	uint8_t out[GRPC_RESPONSE_MAX];

	(void)state;
	assert_int_equal(grpc_health_response(GRPC_SERVING, out), 7);
	assert_memory_equal(out, "\0\0\0\0\x02\x08\x01", 7);
	assert_int_equal(grpc_health_response(GRPC_SERVICE_UNKNOWN, out), 7);
	assert_memory_equal(out, "\0\0\0\0\x02\x08\x03", 7);
	assert_int_equal(grpc_health_response(GRPC_UNKNOWN, out), 5);
	assert_memory_equal(out, "\0\0\0\0\0", 5);
}

static void serving_only_while_running(void **state)
{
	struct svc s = { .state = SVC_RUNNING };

	(void)state;
	assert_int_equal(grpc_serving_of(&s), GRPC_SERVING);
	for (int st = 0; st < SVC_STATE_COUNT; st++) {
		s.state = (enum svc_state)st;
		assert_int_equal(grpc_serving_of(&s),
				 st == SVC_RUNNING ? GRPC_SERVING : GRPC_NOT_SERVING);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames),
		cmocka_unit_test(requests),
		cmocka_unit_test(responses),
		cmocka_unit_test(serving_only_while_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
