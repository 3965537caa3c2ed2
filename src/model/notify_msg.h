/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What an sd_notify datagram says: newline-separated KEY=VALUE lines, as
 * libsystemd's sd_notify() and systemd-notify send them. Pure parsing; the
 * socket is os/notify_socket.h.
 */
#ifndef READYD_NOTIFY_MSG_H
#define READYD_NOTIFY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NOTIFY_STATUS_MAX 256
/*
 * The longest WATCHDOG_USEC / EXTEND_TIMEOUT_USEC: times 1000 and added to
 * the monotonic clock (under 2^63 ns for 292 years of uptime), never wraps.
 */
#define NOTIFY_USEC_MAX (UINT64_MAX / 2 / 1000)

struct notify_msg {
	bool ready, reloading, stopping, barrier;
	bool watchdog_ping;    /* WATCHDOG=1 */
	bool watchdog_trigger; /* WATCHDOG=trigger: fail the watchdog now */
	bool has_status;
	char status[NOTIFY_STATUS_MAX];
	int err_no;		/* ERRNO=, 0 if absent */
	pid_t mainpid;		/* MAINPID=, 0 if absent */
	uint64_t watchdog_usec; /* WATCHDOG_USEC=, 0 if absent */
	uint64_t extend_usec;	/* EXTEND_TIMEOUT_USEC=, 0 if absent */
};

/*
 * Parse one datagram's payload. Pure. 0, or -EINVAL with *reason: a NUL
 * byte, a line that is not KEY=VALUE, a bad number. Unknown keys are
 * ignored, as systemd ignores them.
 */
int notify_parse(const char *buf, size_t len, struct notify_msg *m, const char **reason);

#endif
