// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/fdready.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/unit.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

struct unit_fdready {
	struct loop_source src; /* the read end, -1 when none */
	bool said;		/* this instance wrote its line */
};

static void close_pipe(struct unit *u)
{
	if (u->fdready->src.fd < 0)
		return;
	loop_del(u->d->loop, &u->fdready->src);
	u->fdready->src.fd = fd_close(u->fdready->src.fd);
}

static void on_readable(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit *u = src->data;
	char buf[512];
	ssize_t n;

	(void)loop, (void)events;
	while ((n = read(src->fd, buf, sizeof(buf))) > 0) {
		if (u->fdready->said || !memchr(buf, '\n', (size_t)n))
			continue;
		u->fdready->said = true;
		log_info("service=%s msg=\"ready, it says on fd %d\"", u->cfg->name,
			 u->cfg->ready_fd);
		unit_handle(u, SVC_EV_FD_READY, &(struct svc_input){ .at = now_mono_ns() });
		if (!u->fdready) /* (the unit is never freed from inside its own event) */
			return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_pipe(u); /* every writer closed it: s6 services close it once ready */
}

/* A fresh pipe for each instance: its write end goes to the first process as fd N. */
static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	int fds[2];

	if (!(u->cfg->ready & READY_FD) || u->cfg->adopted)
		return 0;
	close_pipe(u);
	u->fdready->said = false;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(fail->spawn_error, sizeof(fail->spawn_error),
			 "cannot make the notification fd: %s", strerror(errno));
		return -errno;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	u->fdready->src = (struct loop_source){ .fd = fds[0], .fn = on_readable, .data = u };
	loop_add(u->d->loop, &u->fdready->src, EPOLLIN);
	fd_close(u->procs.v[0].ready_fd);
	u->procs.v[0].ready_fd = fds[1]; /* procs.c passes it on, then closes its copy */
	return 0;
}

/*
 * Taken back from an earlier readyd before it said its line: read the pipe
 * again through /proc (the service holds the write end as fd N; a line
 * written before that readyd ended is still in it; one written while no
 * readyd read it failed with EPIPE, and it stays starting until
 * ready_timeout).
 */
static void observe(struct unit *u, const struct unit_news *n)
{
	struct stat st;
	char path[64];
	int fd;

	if (!n->resumed || !(u->cfg->ready & READY_FD) || u->svc.state != SVC_STARTING ||
	    u->svc.fd_ready || !u->procs.v[0].main_alive || u->fdready->src.fd >= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)u->procs.v[0].child.pid,
		 u->cfg->ready_fd);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		u->fdready->src = (struct loop_source){ .fd = fd, .fn = on_readable, .data = u };
		if (loop_add(u->d->loop, &u->fdready->src, EPOLLIN) == 0)
			return;
		u->fdready->src.fd = -1;
	}
	fd_close(fd);
	log_warn("service=%s msg=\"its notification fd is not readyd's any more: it stays "
		 "starting until ready_timeout\" fd=%d",
		 u->cfg->name, u->cfg->ready_fd);
}

static int add(struct unit *u)
{
	u->fdready = calloc(1, sizeof(*u->fdready));
	if (!u->fdready)
		return -ENOMEM;
	u->fdready->src.fd = -1;
	return 0;
}

static void remove_unit(struct unit *u)
{
	if (!u->fdready)
		return;
	close_pipe(u);
	free(u->fdready);
	u->fdready = NULL;
}

const struct unit_module fdready_module = {
	.name = "fdready",
	.add = add,
	.remove = remove_unit,
	.before_spawn = before_spawn,
	.observe = observe,
};
