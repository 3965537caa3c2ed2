/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Just enough of each protocol a probe speaks: the request it sends, and the
 * verdict on the first bytes of the answer. Pure (os/probe.c does the I/O),
 * unit-tested on real servers' bytes.
 *
 *   http      GET PATH, Connection: close; 2xx and 3xx pass
 *   postgres  a startup packet (protocol 3.0): any answer but "cannot connect
 *             now" (SQLSTATE 57P03: starting up, in recovery, shutting down)
 *             means it serves, an authentication request most often
 *   redis     PING: +PONG, or an error that is not -LOADING, -BUSY or
 *             -MASTERDOWN (a -NOAUTH server serves, it wants a password)
 */
#ifndef READYD_PROBE_WIRE_H
#define READYD_PROBE_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/probe_spec.h"

#define PROBE_READ_MAX 4096 /* bytes of a response read, at most */

/* The request for spec into buf; its length (0: the kind sends nothing). */
size_t probe_request(const struct probe_spec *spec, const char *version, char *buf, size_t size);

/*
 * The verdict on resp[0..len) (eof: the peer closed). false: not complete
 * yet, read more; true with ok and reason set.
 */
typedef bool (*probe_verdict_fn)(const char *resp, size_t len, bool eof, bool *ok, char *reason,
				 size_t size);
/* The verdict function of a kind that talks (NULL: connecting is the test). */
probe_verdict_fn probe_verdict_for(enum probe_kind kind);

bool probe_http_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason,
			size_t size);
bool probe_postgres_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason,
			    size_t size);
bool probe_redis_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason,
			 size_t size);

#endif
