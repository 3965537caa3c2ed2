// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One datagram of a sock_diag dump, any bytes: sock_diag_parse(). The first
 * byte picks the dump (tcp4, tcp6, udp4, unix stream, unix any); the rest is
 * the datagram, in an aligned buffer of exactly its size as recv() fills it.
 */
#include "fuzz.h"

#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "os/sock_diag.h"

static int visit(const struct sock_entry *e, void *ctx)
{
	FUZZ_ASSERT(memchr(e->addr.path, '\0', sizeof(e->addr.path)));
	/* Stop after some sockets, as a visitor that found its socket does. */
	return ++*(int *)ctx == 50 ? 7 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dumps[][2] = {
		{ AF_INET, SOCK_STREAM }, { AF_INET6, SOCK_STREAM },
		{ AF_INET, SOCK_DGRAM },  { AF_UNIX, SOCK_STREAM },
		{ AF_UNIX, 0 },
	};
	const int *dump;
	bool done = false;
	int seen = 0, rc;
	void *buf;

	if (size < 1)
		return 0;
	dump = dumps[data[0] % (sizeof(dumps) / sizeof(dumps[0]))];
	data++, size--;
	/* malloc aligns to 16, more than NLMSG_ALIGNTO. */
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	rc = sock_diag_parse(buf, size, dump[0], dump[1], visit, &seen, &done);
	FUZZ_ASSERT(done || rc == 0);
	FUZZ_ASSERT(rc <= 0 || (rc == 7 && seen == 50)); /* > 0: only the visitor's */
	free(buf);
	return 0;
}
