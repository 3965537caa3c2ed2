/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The messages of a sock_diag dump, read: pure (bytes in, sock_entry out),
 * so that os/sockets.c does the netlink I/O and tests/fuzz/sock_diag.c can
 * feed it any bytes. The kernel is trusted, but a short or truncated
 * message is skipped rather than read past.
 */
#ifndef READYD_SOCK_DIAG_H
#define READYD_SOCK_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "os/sockets.h"

/*
 * One recv()'s bytes of a dump of `family` (AF_INET, AF_INET6 or AF_UNIX;
 * sock_type: SOCK_STREAM, SOCK_DGRAM, or 0 for any unix type): fn for each
 * socket. *done is set when the dump is over: NLMSG_DONE (0), the kernel's
 * error (-errno), or fn's non-zero return, which is returned. Otherwise 0
 * and *done false: read the next datagram. buf: NLMSG_ALIGNTO-aligned.
 */
int sock_diag_parse(const void *buf, size_t len, int family, int sock_type, sock_visit_fn fn,
		    void *ctx, bool *done);

#endif
