/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sd_notify protocol, as libsystemd's sd_notify() and systemd-notify
 * speak it: datagrams of newline-separated KEY=VALUE lines on the unix
 * socket named by $NOTIFY_SOCKET, the sender's credentials attached by the
 * kernel (SO_PASSCRED), maybe file descriptors (the BARRIER=1 one is closed
 * once everything before it was handled: that is the barrier).
 *
 * The sender is known by a pidfd where the kernel attaches one (SO_PASSPIDFD,
 * 6.5+): a pid alone may be another process's by the time it is read. With
 * PIDFD_GET_INFO (6.13+) the pidfd also tells the sender's cgroup, even once
 * it has exited (6.15+).
 */
#ifndef READYD_NOTIFY_SOCKET_H
#define READYD_NOTIFY_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NOTIFY_DATAGRAM_MAX 4096 /* libsystemd's own limit; longer is rejected */
/*
 * The kernel's SCM_MAX_FD: room for every fd one datagram can carry, so the
 * kernel never closes some on readyd's behalf (in recvmsg, on the loop).
 */
#define NOTIFY_FDS_MAX 253

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

/* Who sent it, as far as the kernel tells. */
struct notify_sender {
	int pidfd;	   /* -1: the kernel attached none (before 6.5) */
	bool gone;	   /* it has exited since (its pid may be another process's) */
	uint64_t cgroupid; /* its cgroup (at exit, if gone); 0: unknown */
};

struct notify_datagram {
	char buf[NOTIFY_DATAGRAM_MAX + 1];
	size_t len;
	uint64_t at;	/* when the kernel queued it, on CLOCK_MONOTONIC (0: unknown) */
	bool truncated; /* longer than NOTIFY_DATAGRAM_MAX, or too many fds */
	bool has_cred;
	struct ucred cred;
	struct notify_sender sender;
	int fds[NOTIFY_FDS_MAX];
	size_t n_fds;
};

/*
 * Receive one datagram. 1: got one (then notify_done() once handled; d->fds
 * are the caller's to release), 0: none waiting, -errno.
 */
int notify_recv(int fd, struct notify_datagram *d);
/* Is the sender still the process its pidfd names? (false if gone or unknown) */
bool notify_sender_alive(const struct notify_sender *s);
/* Close the sender's pidfd (never blocks) and forget the fds. */
void notify_done(struct notify_datagram *d);

#endif
