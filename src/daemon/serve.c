// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/serve.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "os/accept_spare.h"
#include "os/tcp_listen.h"

int serve_bind(const struct daemon *d, const char *key, const struct listen_spec *spec,
	       unsigned int line, int backlog)
{
	char why[256];
	int fd = tcp_listen_open(spec, why, sizeof(why));

	if (fd < 0) {
		log_err("msg=\"%s:%u: %s = %s: %s; free the port or pick another\"", d->cfg->path,
			line, key, spec->text, why);
		return fd;
	}
	if (backlog && listen(fd, backlog) < 0)
		log_warn("msg=\"%s: backlog stays 64\" err=\"%s\"", key, strerror(errno));
	return fd;
}

int serve_watch(struct daemon *d, struct loop_source *src, struct accept_pause *pause,
		const char *key, const char *what, const char *addr)
{
	int err = loop_add(d->loop, src, EPOLLIN);

	accept_pause_init(pause, d->loop, src);

	if (err)
		log_err("msg=\"%s: cannot watch the listener\" err=\"%s\"", key, strerror(-err));
	else
		log_info("msg=\"%s listening\" addr=%s", what, addr);
	return err;
}

void serve_accept(struct accept_pause *p, const char *key, int max,
		  void (*take)(void *data, int fd))
{
	for (int i = 0; i < max; i++) {
		int fd = accept_or_shed(p, key);
		if (fd == -ECONNABORTED)
			continue;
		if (fd < 0) {
			/* (out of fds: os/accept_spare.c shed the connection and logged it) */
			if (fd != -EAGAIN && fd != -EINTR && fd != -EMFILE && fd != -ENFILE)
				log_warn("msg=\"%s: accept failed\" err=\"%s\"", key,
					 strerror(-fd));
			return;
		}
		take(p->src->data, fd);
	}
}
