// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a gRPC health client sends in a request stream's DATA, any bytes:
 * the 5-byte prefix (model/grpc_msg.c's grpc_frame_parse) and the
 * HealthCheckRequest inside it, as daemon/out/grpc.c reads them.
 */
#include "fuzz.h"

#include <errno.h>

#include "model/grpc_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[65];
	bool compressed;
	size_t msg_len;
	uint8_t *copy;
	long n;
	int err;

	if (size > GRPC_PREFIX_LEN + GRPC_REQUEST_MAX)
		size = GRPC_PREFIX_LEN + GRPC_REQUEST_MAX;
	copy = malloc(size ? size : 1); /* exactly the input: a read past it is an ASan error */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	n = grpc_frame_parse(copy, size, GRPC_REQUEST_MAX, &compressed, &msg_len);
	FUZZ_ASSERT(n == 0 || n == -EMSGSIZE || (n >= GRPC_PREFIX_LEN && (size_t)n <= size));
	if (n > 0) {
		FUZZ_ASSERT((size_t)n == GRPC_PREFIX_LEN + msg_len && msg_len <= GRPC_REQUEST_MAX);
		memset(name, 0x5a, sizeof(name));
		err = grpc_health_request(copy + GRPC_PREFIX_LEN, msg_len, name, sizeof(name));
		FUZZ_ASSERT(err == 0 || err == -EBADMSG || err == -ENAMETOOLONG);
		if (err == 0)
			FUZZ_ASSERT(memchr(name, '\0', sizeof(name)));
	}
	free(copy);
	return 0;
}
