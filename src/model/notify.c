// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

static bool key_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || (i && s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 19)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

static bool is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* One KEY=VALUE line. */
static int apply(struct notify_msg *m, const char *key, size_t klen, const char *v, size_t vlen,
		 const char **reason)
{
	uint64_t n;

	if (is(key, klen, "READY") || is(key, klen, "RELOADING") || is(key, klen, "STOPPING") ||
	    is(key, klen, "BARRIER")) {
		bool on = vlen == 1 && v[0] == '1';
		if (is(key, klen, "READY"))
			m->ready |= on;
		else if (is(key, klen, "RELOADING"))
			m->reloading |= on;
		else if (is(key, klen, "STOPPING"))
			m->stopping |= on;
		else
			m->barrier |= on;
	} else if (is(key, klen, "WATCHDOG")) {
		m->watchdog_ping |= vlen == 1 && v[0] == '1';
		m->watchdog_trigger |= vlen == 7 && memcmp(v, "trigger", 7) == 0;
	} else if (is(key, klen, "STATUS")) {
		m->has_status = true;
		snprintf(m->status, sizeof(m->status), "%.*s", (int)vlen, v);
		str_sanitize(m->status);
	} else if (is(key, klen, "ERRNO")) {
		if (parse_u64(v, vlen, &n) || n > 4095)
			goto bad_number;
		m->err_no = (int)n;
	} else if (is(key, klen, "MAINPID")) {
		if (parse_u64(v, vlen, &n) || n < 1 || n > 0x3fffffff)
			goto bad_number;
		m->mainpid = (pid_t)n;
	} else if (is(key, klen, "WATCHDOG_USEC")) {
		if (parse_u64(v, vlen, &n) || n == 0)
			goto bad_number;
		m->watchdog_usec = n;
	} else if (is(key, klen, "EXTEND_TIMEOUT_USEC")) {
		if (parse_u64(v, vlen, &n))
			goto bad_number;
		m->extend_usec = n;
	}
	return 0;
bad_number:
	*reason = "a value that should be a number is not one";
	return -EINVAL;
}

int notify_parse(const char *buf, size_t len, struct notify_msg *m, const char **reason)
{
	const char *p = buf, *end = buf + len;

	memset(m, 0, sizeof(*m));
	if (memchr(buf, '\0', len)) {
		*reason = "a NUL byte";
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(eol - p));
		if (eol == p) { /* empty line */
			p = eol + 1;
			continue;
		}
		if (!eq || !key_valid(p, (size_t)(eq - p))) {
			*reason = "a line that is not KEY=VALUE";
			return -EINVAL;
		}
		if (apply(m, p, (size_t)(eq - p), eq + 1, (size_t)(eol - eq - 1), reason))
			return -EINVAL;
		p = eol + 1;
	}
	return 0;
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
	    bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
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
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = d->buf, .iov_len = NOTIFY_DATAGRAM_MAX };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	d->n_fds = 0;
	d->has_cred = false;
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	d->truncated = (size_t)n > NOTIFY_DATAGRAM_MAX || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	d->len = (size_t)n > NOTIFY_DATAGRAM_MAX ? NOTIFY_DATAGRAM_MAX : (size_t)n;
	d->buf[d->len] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(&d->cred, CMSG_DATA(c), sizeof(d->cred));
			d->has_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) { /* every fd is ours to close */
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && d->n_fds < NOTIFY_FDS_MAX; i++)
				memcpy(&d->fds[d->n_fds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
	}
	return 1;
}
