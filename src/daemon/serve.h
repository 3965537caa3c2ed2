/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_DAEMON_SERVE_H
#define READYD_DAEMON_SERVE_H

/*
 * The TCP listeners readyd answers others on (agent_listen, http_listen,
 * grpc_listen, daemon/out/): bound, watched and accepted one way.
 */
#include "daemon/daemon.h"
#include "os/accept_spare.h"

/*
 * Bind `key`'s address (set at config line `line`), with this listen
 * backlog (0: os/tcp_listen.c's). The fd, or -errno logged as the config's
 * error: a port in use stops readyd at start.
 */
int serve_bind(const struct daemon *d, const char *key, const struct listen_spec *spec,
	       unsigned int line, int backlog);
/*
 * Watch src (fd, fn and data set), pause set up for it (os/accept_spare.h: cancel it before
 * the listener closes); `what` names it in the log. 0 or -errno, logged.
 */
int serve_watch(struct daemon *d, struct loop_source *src, struct accept_pause *pause,
		const char *key, const char *what, const char *addr);
/* Up to max connections a wakeup, each to take(src->data, fd): a connect storm cannot hold the
 * loop; out of fds, shed or paused (os/accept_spare.h). */
void serve_accept(struct accept_pause *pause, const char *key, int max,
		  void (*take)(void *data, int fd));

#endif
