// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* TCP listeners readyd serves on itself. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "os/tcp_listen.h"
#include "base/util.h"

static socklen_t to_sockaddr(const struct listen_spec *spec, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (spec->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(spec->port);
		memcpy(&a->sin6_addr, spec->addr, 16);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(spec->port);
	memcpy(&a->sin_addr, spec->addr, 4);
	return sizeof(*a);
}

static int fail(int fd, const char *call, const struct listen_spec *spec, char *why, size_t size)
{
	int err = -errno;

	snprintf(why, size, "%s %s: %s", call, spec->text, strerror(-err));
	fd_close(fd);
	return err;
}

int tcp_listen_open(const struct listen_spec *spec, char *why, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(spec, &ss);
	int one = 1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail(fd, "socket", spec, why, size);
	/* A restarted readyd binds again while old connections sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return fail(fd, "setsockopt SO_REUSEADDR", spec, why, size);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail(fd, "bind", spec, why, size);
	if (listen(fd, 64) < 0)
		return fail(fd, "listen", spec, why, size);
	return fd;
}
