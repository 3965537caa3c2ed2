// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/notify_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"

/* Newer than Debian 12's headers. */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
#define INFO_CGROUPID (1ULL << 2)
#define INFO_EXIT     (1ULL << 3)

/*
 * <linux/pidfd.h>'s struct pidfd_info as of 6.15 (the kernel copies what both
 * know): mask and cgroupid, then pid, tgid, ppid, eight ids, exit_code,
 * coredump_mask and a spare, which readyd does not read.
 */
struct pidfd_info_615 {
	uint64_t mask, cgroupid;
	/* cppcheck-suppress unusedStructMember ; the kernel's layout */
	uint32_t rest[14];
};
#define GET_INFO _IOWR(0xFF, 11, struct pidfd_info_615)

/* The kernel attaches the sender's pidfd to each datagram (6.5+; silently not before). */
static void pass_pidfd(int fd)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one));
}

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
	pass_pidfd(fd);
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
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0) {
		pass_pidfd(fd); /* an older readyd may not have asked */
		return fd;
	}
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

/* What the pidfd says of its process: gone or not, and its cgroup. */
static void identify(struct notify_sender *s)
{
	struct pidfd_info_615 info = { .mask = INFO_CGROUPID | INFO_EXIT };

	if (ioctl(s->pidfd, GET_INFO, &info) == 0) {
		s->gone = (info.mask & INFO_EXIT) != 0;
		s->cgroupid = (info.mask & INFO_CGROUPID) ? info.cgroupid : 0;
		return;
	}
	/* 6.5 to 6.12: no PIDFD_GET_INFO; ESRCH means it has exited (and is reaped). */
	s->gone = !notify_sender_alive(s);
}

bool notify_sender_alive(const struct notify_sender *s)
{
	if (s->pidfd < 0)
		return false;
	return syscall(SYS_pidfd_send_signal, s->pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

void notify_done(struct notify_datagram *d)
{
	d->sender.pidfd = fd_close(d->sender.pidfd);
	d->n_fds = 0;
}

int notify_recv(int fd, struct notify_datagram *d)
{
	union {
		struct cmsghdr align;
		/* cppcheck-suppress unusedStructMember ; the union's size is the point */
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
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
	d->sender = (struct notify_sender){ .pidfd = -1 };
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
		} else if (c->cmsg_type == SCM_PIDFD && c->cmsg_len == CMSG_LEN(sizeof(int)) &&
			   d->sender.pidfd < 0) {
			memcpy(&d->sender.pidfd, CMSG_DATA(c), sizeof(int));
		} else if (c->cmsg_type == SCM_RIGHTS) { /* every fd is ours to release */
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && d->n_fds < NOTIFY_FDS_MAX; i++)
				memcpy(&d->fds[d->n_fds++], CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
		}
	}
	if (d->sender.pidfd >= 0)
		identify(&d->sender);
	return 1;
}
