// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/notify_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"

int notify_socket_open(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int one = 1, fd;

	if (len + 1 >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path + 1, name, len); /* sun_path[0] = '\0': abstract */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	/* (Without it a datagram is judged from when it is read: a little later.) */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return fd;
}

int notify_socket_adopt(int fd, const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	size_t n = strlen(name);
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
	    len == offsetof(struct sockaddr_un, sun_path) + 1 + n && sa.sun_path[0] == '\0' &&
	    memcmp(sa.sun_path + 1, name, n) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_DGRAM &&
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		return fd;
	/* Not that socket: not ours to close either (the number may be anything's now). */
	return notify_socket_open(name);
}

/* A CLOCK_REALTIME stamp on CLOCK_MONOTONIC, the clock of kernel events and timers. */
static uint64_t realtime_to_mono(const struct timespec *ts)
{
	uint64_t real = (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
	uint64_t now_real = now_real_ns(), now_mono = now_mono_ns();
	uint64_t age = now_real > real ? now_real - real : 0;

	return now_mono > age ? now_mono - age : 0;
}

void notify_close_fds(struct notify_datagram *d)
{
	for (size_t i = 0; i < d->n_fds; i++)
		close(d->fds[i]);
	d->n_fds = 0;
}

int notify_recv(int fd, struct notify_datagram *d)
{
	union {
		struct cmsghdr align;
		/* cppcheck-suppress unusedStructMember ; the union's size is the point */
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = d->buf, .iov_len = NOTIFY_DATAGRAM_MAX };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	d->n_fds = 0;
	d->has_cred = false;
	d->at = 0;
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	d->truncated =
		(size_t)n > NOTIFY_DATAGRAM_MAX || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	d->len = (size_t)n > NOTIFY_DATAGRAM_MAX ? NOTIFY_DATAGRAM_MAX : (size_t)n;
	d->buf[d->len] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			d->at = realtime_to_mono(&ts);
		} else if (c->cmsg_type == SCM_CREDENTIALS &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(&d->cred, CMSG_DATA(c), sizeof(d->cred));
			d->has_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) { /* every fd is ours to close */
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && d->n_fds < NOTIFY_FDS_MAX; i++)
				memcpy(&d->fds[d->n_fds++], CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
		}
	}
	return 1;
}
