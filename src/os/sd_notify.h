/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sending side of sd_notify: datagrams to readyd's own service manager
 * on the socket $NOTIFY_SOCKET names (a path, or "@name": abstract). Never
 * blocks: a manager that is behind loses the datagram (counted), readyd's
 * loop does not wait for it. (os/notify_socket.h is the receiving side, for
 * the services readyd runs.)
 */
#ifndef READYD_SD_NOTIFY_H
#define READYD_SD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct sd_notifier {
	int fd; /* -1: no manager listens */
	struct sockaddr_un sa;
	socklen_t sa_len;
	uint64_t sent, dropped; /* dropped: the manager's queue was full (EAGAIN) */
};

/*
 * A socket for addr ($NOTIFY_SOCKET). 0, or -errno: -EINVAL for an address
 * that is neither an absolute path nor "@name" (vsock: is not supported),
 * -ENAMETOOLONG. n->fd is -1 on failure.
 */
int sd_notifier_open(struct sd_notifier *n, const char *addr);
/* One datagram, without waiting. 0, -EAGAIN (dropped and counted), or -errno. */
int sd_notifier_send(struct sd_notifier *n, const char *msg, size_t len);
void sd_notifier_close(struct sd_notifier *n);

#endif
