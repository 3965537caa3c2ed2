/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sd_notify protocol, as libsystemd's sd_notify() and systemd-notify
 * speak it: datagrams of newline-separated KEY=VALUE lines on the unix
 * socket named by $NOTIFY_SOCKET, the sender's credentials attached by the
 * kernel (SO_PASSCRED), maybe file descriptors (the BARRIER=1 one is closed
 * once everything before it was handled: that is the barrier).
 */
#ifndef READYD_NOTIFY_H
#define READYD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NOTIFY_DATAGRAM_MAX 4096 /* libsystemd's own limit; longer is rejected */
#define NOTIFY_FDS_MAX 32
#define NOTIFY_STATUS_MAX 256

struct notify_msg {
	bool ready, reloading, stopping, barrier;
	bool watchdog_ping;    /* WATCHDOG=1 */
	bool watchdog_trigger; /* WATCHDOG=trigger: fail the watchdog now */
	bool has_status;
	char status[NOTIFY_STATUS_MAX];
	int err_no;		 /* ERRNO=, 0 if absent */
	pid_t mainpid;		 /* MAINPID=, 0 if absent */
	uint64_t watchdog_usec;	 /* WATCHDOG_USEC=, 0 if absent */
	uint64_t extend_usec;	 /* EXTEND_TIMEOUT_USEC=, 0 if absent */
};

/*
 * Parse one datagram's payload. Pure. 0, or -EINVAL with *reason: a NUL
 * byte, a line that is not KEY=VALUE, a bad number. Unknown keys are
 * ignored, as systemd ignores them.
 */
int notify_parse(const char *buf, size_t len, struct notify_msg *m, const char **reason);

/* An abstract datagram socket "@name", SO_PASSCRED, non-blocking. fd or -errno. */
int notify_socket_open(const char *name);

struct notify_datagram {
	char buf[NOTIFY_DATAGRAM_MAX + 1];
	size_t len;
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
