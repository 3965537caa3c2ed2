// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

int sd_notifier_open(struct sd_notifier *n, const char *addr)
{
	size_t len = addr ? strlen(addr) : 0;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->sa.sun_family = AF_UNIX;
	if (len < 2 || (addr[0] != '/' && addr[0] != '@'))
		return -EINVAL;
	if (len > sizeof(n->sa.sun_path) - (addr[0] == '/')) /* a path needs its NUL */
		return -ENAMETOOLONG;
	memcpy(n->sa.sun_path, addr, len);
	if (addr[0] == '@')
		n->sa.sun_path[0] = '\0'; /* abstract: the length says where the name ends */
	n->sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (addr[0] == '/'));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return n->fd < 0 ? -errno : 0;
}

int sd_notifier_send(struct sd_notifier *n, const char *msg, size_t len)
{
	/*
	 * sendto each time rather than connect once: a manager that re-executes
	 * (systemctl daemon-reexec) binds its socket anew, and a connected
	 * datagram socket would keep pointing at the old one.
	 */
	ssize_t r;

	if (n->fd < 0)
		return -ENOTCONN;
	r = sendto(n->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&n->sa,
		   n->sa_len);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		n->dropped++;
		return -EAGAIN;
	}
	if (r < 0)
		return -errno;
	n->sent++;
	return 0;
}

void sd_notifier_close(struct sd_notifier *n)
{
	if (n->fd >= 0)
		n->fd = fd_close(n->fd);
}
