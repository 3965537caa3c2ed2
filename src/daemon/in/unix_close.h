/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Unix listeners closing. They have no always-on kernel hook (TCP has
 * tcp_destroy_sock; fentry on unix_release_sock is not there on every
 * kernel), and the syscall tracepoints are detached once services run: so
 * while some unix listener is up, a sock_diag dump of listening unix sockets
 * runs every second and a listener whose inode is gone is closed.
 */
#ifndef READYD_IN_UNIX_CLOSE_H
#define READYD_IN_UNIX_CLOSE_H

struct daemon;
struct unit_module;

extern const struct unit_module unix_close_module;

int unix_close_open(struct daemon *d);
void unix_close_close(struct daemon *d);

#endif
