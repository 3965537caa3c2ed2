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
 * If the spare is gone (another thread or process took the slot between the
 * close and the reopen), it is reopened at the next call that has an fd to
 * spare; until then a connection waits in the queue as it would without this.
 */
#ifndef READYD_ACCEPT_SPARE_H
#define READYD_ACCEPT_SPARE_H

#include <stdint.h>

/* Open the spare (at start, while fds are plenty). 0 or -errno. */
int accept_spare_open(void);
void accept_spare_close(void);

/*
 * accept4(listen_fd, SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd, or -errno:
 * -EAGAIN when none waits; -EMFILE or -ENFILE once the waiting connection
 * has been shed (or could not be: no spare); -ECONNABORTED and the rest as
 * accept4 says. `what` names the listener in the log ("control", "http_listen").
 */
int accept_or_shed(int listen_fd, const char *what);

/* Connections shed since start. */
uint64_t accept_shed_total(void);

#endif
