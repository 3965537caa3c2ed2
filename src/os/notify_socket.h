/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sd_notify protocol, as libsystemd's sd_notify() and systemd-notify
 * speak it: datagrams of newline-separated KEY=VALUE lines on the unix
 * socket named by $NOTIFY_SOCKET, the sender's credentials attached by the
 * kernel (SO_PASSCRED), maybe file descriptors (the BARRIER=1 one is closed
 * once everything before it was handled: that is the barrier).
 */
#ifndef READYD_NOTIFY_SOCKET_H
#define READYD_NOTIFY_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NOTIFY_DATAGRAM_MAX 4096 /* libsystemd's own limit; longer is rejected */
#define NOTIFY_FDS_MAX	    32

/*
 * An abstract datagram socket "@name", SO_PASSCRED and SO_TIMESTAMPNS (each
 * datagram's arrival, to judge it by time), non-blocking. fd or -errno.
 */
int notify_socket_open(const char *name);
/*
 * fd, kept across an exec of readyd, if it is that socket (an abstract
 * datagram socket bound to "@name"): made close-on-exec again and returned;
 * else (left alone: the number may be another file's now) the name is
 * bound anew (notify_socket_open).
 */
int notify_socket_adopt(int fd, const char *name);

struct notify_datagram {
	char buf[NOTIFY_DATAGRAM_MAX + 1];
	size_t len;
	uint64_t at;	/* when the kernel queued it, on CLOCK_MONOTONIC (0: unknown) */
	bool truncated; /* longer than NOTIFY_DATAGRAM_MAX, or too many fds */
	bool has_cred;
	struct ucred cred;
	int fds[NOTIFY_FDS_MAX];
	size_t n_fds;
};

/*
 * Receive one datagram. 1: got one (close d->fds when done with it),
 * 0: none waiting, -errno.
 */
int notify_recv(int fd, struct notify_datagram *d);
void notify_close_fds(struct notify_datagram *d);

#endif
