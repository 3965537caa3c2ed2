// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/ctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/safe_path.h"
#include "base/util.h"

#define LINE_MAX_BYTES (4 << 20)

struct reader {
	int fd;
	uint64_t deadline; /* 0: none */
	char *buf;
	size_t len, cap;
};

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Next newline-terminated line (NUL-terminated in place, newline stripped). */
static int read_line(struct reader *r, char **line)
{
	char *nl;

	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int wait = -1;
		ssize_t n;

		nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = r->buf;
			return (int)(nl - r->buf) + 1;
		}
		if (r->deadline) {
			uint64_t now = now_mono_ns();
			wait = now >= r->deadline ? 0
						  : (int)((r->deadline - now) / NSEC_PER_MSEC) + 1;
		}
		if (poll(&p, 1, wait) == 0)
			return -ETIMEDOUT;
		if (r->len + 1 >= r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 4096;
			char *grown = cap <= LINE_MAX_BYTES ? realloc(r->buf, cap) : NULL;
			if (!grown)
				return -EMSGSIZE;
			r->buf = grown;
			r->cap = cap;
		}
		n = recv(r->fd, r->buf + r->len, r->cap - 1 - r->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPROTO; /* closed before a complete reply */
		r->len += (size_t)n;
	}
}

/* Drop the line just returned by read_line from the buffer. */
static void consume(struct reader *r, int used)
{
	memmove(r->buf, r->buf + used, r->len - (size_t)used);
	r->len -= (size_t)used;
}

/*
 * Is path readyd's? Its directory must be one only root (or we) can change
 * (base/safe_path.h), the socket a socket of root's (or ours): otherwise a
 * user who can write there could answer in readyd's place. A missing path
 * is plain -ENOENT (no readyd), without a reason.
 */
static int check_path(const char *path, char *why, size_t size)
{
	const char *base;
	struct stat st;
	int dirfd = safe_path_parent(path, 0, &base, why, size), err = 0;

	if (dirfd < 0)
		return dirfd;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
	} else if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, size, "%s is not a socket", path);
		err = -ENOTSOCK;
	} else if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, size, "%s is owned by uid %u, not root: it is not readyd's", path,
			 (unsigned int)st.st_uid);
		err = -EPERM;
	}
	fd_close(dirfd);
	return err;
}

/* Whoever answers must run as root or as us: a socket checked by path could still be swapped. */
static int check_peer(int fd, const char *path, char *why, size_t size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		snprintf(why, size, "the process answering on %s (pid %d) runs as uid %u, not root",
			 path, (int)cred.pid, (unsigned int)cred.uid);
		return -EPERM;
	}
	return 0;
}

static int connect_to(const char *path, int *out, char *why, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (str_copy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	err = check_path(path, why, size);
	if (err == -ENOENT || err == -EACCES)
		why[0] = '\0'; /* no readyd there, or not ours to see: said as before */
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		fd_close(fd);
		return err;
	}
	err = check_peer(fd, path, why, size);
	if (err) {
		fd_close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

int ctl_request(const char *path, const cJSON *request, int timeout_ms, ctl_progress_fn progress,
		void *ctx, cJSON **reply, char *why, size_t why_size)
{
	struct reader r = { .fd = -1 };
	char *text = cJSON_PrintUnformatted(request), *line;
	int err, n;

	if (!text)
		return -ENOMEM;
	if (timeout_ms >= 0)
		r.deadline = now_mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	why[0] = '\0';
	err = connect_to(path, &r.fd, why, why_size);
	if (!err)
		err = send_all(r.fd, text, strlen(text));
	if (!err)
		err = send_all(r.fd, "\n", 1);
	if (err == -EPIPE || err == -ECONNRESET)
		err = 0; /* refused before it read (too many clients): its error line is there */
	while (!err) {
		const cJSON *event;
		n = read_line(&r, &line);
		if (n < 0) {
			err = n;
			break;
		}
		*reply = cJSON_Parse(line);
		consume(&r, n);
		if (!*reply) {
			err = -EPROTO;
			break;
		}
		event = cJSON_GetObjectItemCaseSensitive(*reply, "event");
		if (!cJSON_IsString(event))
			break; /* the reply */
		if (progress)
			progress(*reply, ctx);
		cJSON_Delete(*reply);
		*reply = NULL;
	}
	fd_close(r.fd);
	free(r.buf);
	free(text);
	return err;
}
