// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

int journal_open(void)
{
	const char *path = getenv("READYD_JOURNAL_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path)
		path = JOURNAL_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int journal_send(int fd, int priority, const char *ident, const char *message, size_t len)
{
	char head[256], msg[4096];
	struct iovec iov[2];
	int n = snprintf(head, sizeof(head),
			 "PRIORITY=%d\nSYSLOG_IDENTIFIER=%s\nREADYD_SERVICE=%s\n", priority, ident,
			 ident);

	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	if (len > sizeof(msg) - 10)
		len = sizeof(msg) - 10;
	str_copy(msg, "MESSAGE=", sizeof(msg));
	for (size_t i = 0; i < len; i++) /* the simple format ends a value at a newline */
		msg[8 + i] = message[i] == '\n' ? ' ' : message[i];
	msg[8 + len] = '\n';
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = (size_t)n };
	iov[1] = (struct iovec){ .iov_base = msg, .iov_len = 9 + len };
	return writev(fd, iov, 2) < 0 ? -errno : 0;
}
