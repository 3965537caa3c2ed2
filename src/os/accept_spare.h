/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * accept(2) when readyd is out of file descriptors.
 *
 * A connection that cannot be accepted for want of an fd (EMFILE, ENFILE)
 * stays queued, so a level-triggered listener wakes the loop again at once:
 * readyd spins at a full CPU and its client waits for an answer that never
 * comes. As libuv and nginx do, one fd is kept spare for this moment: it is
 * closed, the waiting connection accepted into its slot and closed at once
 * (the client sees its connection end, not a hang), and the spare reopened.
 * Every connection shed so is counted (readyd_connections_shed_total) and
 * logged, at most once every 10 s.
 *
 * If the spare is gone (another process took the slot between the close and
 * the reopen: ENFILE is the node's), the listener is not watched for
 * ACCEPT_PAUSE_MS, then the spare reopened and the listener watched again:
 * a connection waits in the queue, the loop does not spin on it.
 */
#ifndef READYD_ACCEPT_SPARE_H
#define READYD_ACCEPT_SPARE_H

#include <stdint.h>

#include "base/loop.h"

#define ACCEPT_PAUSE_MS 250

/* A listener's pause: init once its source is set up, cancel before it is closed. */
struct accept_pause {
	struct loop *loop;
	struct loop_source *src; /* watched for EPOLLIN, unless paused */
	struct loop_timer timer;
};
void accept_pause_init(struct accept_pause *p, struct loop *loop, struct loop_source *src);
void accept_pause_cancel(struct accept_pause *p);

/* Open the spare (at start, while fds are plenty). 0 or -errno. */
int accept_spare_open(void);
void accept_spare_close(void);

/*
 * accept4(p->src->fd, SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd, or -errno:
 * -EAGAIN when none waits; -EMFILE or -ENFILE once the waiting connection
 * has been shed (or, with no spare, the listener paused); -ECONNABORTED and
 * the rest as accept4 says. `what` names the listener in the log ("control",
 * "http_listen").
 */
int accept_or_shed(struct accept_pause *p, const char *what);

/* Connections shed since start. */
uint64_t accept_shed_total(void);

#endif
