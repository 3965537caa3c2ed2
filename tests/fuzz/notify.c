// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An sd_notify datagram from any sender of the service's tree: notify_parse()
 * on the payload as received (not NUL-terminated, any length a datagram has).
 */
#include "fuzz.h"

#include <errno.h>

#include "model/notify_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *reason = NULL;
	struct notify_msg m;
	/* A copy of exactly size bytes: the parser must not look for a NUL past it. */
	char *buf = malloc(size ? size : 1);
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = notify_parse(buf, size, &m, &reason);
	FUZZ_ASSERT(rc == 0 || (rc == -EINVAL && reason));
	FUZZ_ASSERT(memchr(m.status, '\0', sizeof(m.status)));
	FUZZ_ASSERT(m.err_no >= 0 && m.err_no <= 4095 && m.mainpid >= 0);
	free(buf);
	return 0;
}
