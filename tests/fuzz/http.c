// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A request head from anyone who can reach http_listen: http_request_parse()
 * on the bytes as received (not NUL-terminated, any length a client sends
 * before readyd stops reading at HTTP_HEAD_MAX).
 */
#include "fuzz.h"

#include "model/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	/* A copy of exactly size bytes: the parser must not look for a NUL past it. */
	char *buf = malloc(size ? size : 1);
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = http_request_parse(buf, size, &req);
	FUZZ_ASSERT(rc == 0 || rc == 200 || rc == 400 || rc == 404 || rc == 405 || rc == 431 ||
		    rc == 505);
	FUZZ_ASSERT(rc == 0 || rc == 200 || req.error);
	FUZZ_ASSERT(rc != 0 || size < HTTP_HEAD_MAX);
	FUZZ_ASSERT(rc == 0 || rc == 431 || (req.head_len > 0 && req.head_len <= size));
	FUZZ_ASSERT(memchr(req.name, '\0', sizeof(req.name)));
	FUZZ_ASSERT(req.wait_ns <= HTTP_WAIT_MAX_NS);
	FUZZ_ASSERT(rc != 200 || !req.wait_ns || req.route == HTTP_READY_ONE);
	free(buf);
	return 0;
}
