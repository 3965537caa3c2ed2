// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define REPLY_MAX (4 << 20)

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

/* Read until newline or EOF; the deadline covers the whole reply. */
static int read_reply(int fd, int timeout_ms, char **out)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait = -1;
		ssize_t n;

		if (deadline) {
			uint64_t now = now_mono_ns();
			wait = now >= deadline ? 0 : (int)((deadline - now) / NSEC_PER_MSEC) + 1;
		}
		if (poll(&p, 1, wait) == 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (len + 1 == cap) {
			char *grown = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!grown) {
				free(buf);
				return -EMSGSIZE;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
			break;
	}
	buf[len] = '\0';
	*out = buf;
	return len ? 0 : -EPROTO;
}

int ctl_request(const char *path, const cJSON *request, int timeout_ms, cJSON **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *text = cJSON_PrintUnformatted(request), *line = NULL, *answer = NULL;
	int fd = -1, err;

	if (!text)
		return -ENOMEM;
	if (str_copy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (asprintf(&line, "%s\n", text) < 0) {
		err = -ENOMEM;
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	err = send_all(fd, line, strlen(line));
	if (!err)
		err = read_reply(fd, timeout_ms, &answer);
	if (!err) {
		*reply = cJSON_Parse(answer);
		err = *reply ? 0 : -EPROTO;
	}
out:
	fd_close(fd);
	free(text);
	free(line);
	free(answer);
	return err;
}
