// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/accept_spare.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define SHED_LOG_NS (10 * NSEC_PER_SEC)
static int spare = -1;
static uint64_t shed, last_log;

int accept_spare_open(void)
{
	if (spare >= 0)
		return 0;
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return spare < 0 ? -errno : 0;
}

void accept_spare_close(void)
{
	if (spare >= 0)
		close(spare);
	spare = -1;
}

uint64_t accept_shed_total(void)
{
	return shed;
}

static void log_shed(const char *what, int err, bool closed)
{
	uint64_t now = now_mono_ns();

	if (last_log && now - last_log < SHED_LOG_NS)
		return; /* the counter has the rest */
	last_log = now;
	log_warn("msg=\"%s: out of file descriptors: %s; raise LimitNOFILE= or find what holds "
		 "them (ls /proc/%d/fd)\" err=\"%s\" shed_so_far=%llu",
		 what,
		 closed ? "a waiting connection closed unanswered"
			: "no spare fd: the listener rests " STR(ACCEPT_PAUSE_MS) " ms",
		 (int)getpid(), strerror(err), (unsigned long long)shed);
}

/*
 * Close the spare, take the connection into its slot, close it, reopen the
 * spare. 1: one shed; 0: none waits (accept4 says EMFILE before it looks at
 * the queue).
 */
static int shed_one(int listen_fd)
{
	int fd;

	close(spare);
	spare = -1;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd); /* a fresh connection: nothing to linger on */
		shed++;
	}
	accept_spare_open();
	return fd >= 0;
}

static void on_pause_over(struct loop *loop, struct loop_timer *t)
{
	struct accept_pause *p = t->data;
	int err;

	accept_spare_open();
	err = loop_mod(loop, p->src, EPOLLIN);
	if (err)
		log_err("msg=\"a paused listener cannot be watched again\" err=\"%s\"",
			strerror(-err));
}

void accept_pause_init(struct accept_pause *p, struct loop *loop, struct loop_source *src)
{
	*p = (struct accept_pause){ .loop = loop,
				    .src = src,
				    .timer = { .fn = on_pause_over, .data = p } };
}

void accept_pause_cancel(struct accept_pause *p)
{
	if (p->loop)
		loop_timer_cancel(p->loop, &p->timer);
}

/* No spare to shed with: the connection waits, the loop does not wake for it meanwhile. */
static void pause_listener(struct accept_pause *p)
{
	if (loop_timer_armed(&p->timer) || loop_mod(p->loop, p->src, 0) < 0)
		return;
	loop_timer_arm(p->loop, &p->timer, now_mono_ns() + ACCEPT_PAUSE_MS * NSEC_PER_MSEC);
}

int accept_or_shed(struct accept_pause *p, const char *what)
{
	int listen_fd = p->src->fd, err;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	bool closed = false;

	if (fd >= 0) {
		if (spare < 0) /* lost at the last shed: fds are back, take one again */
			accept_spare_open();
		return fd;
	}
	err = errno;
	if (err != EMFILE && err != ENFILE)
		return -err;
	if (spare >= 0) {
		closed = shed_one(listen_fd);
		if (!closed)
			return -EAGAIN;
	} else {
		pause_listener(p);
	}
	log_shed(what, err, closed);
	return -err;
}
