/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the kernel says about sockets right now, without BPF: sock_diag
 * netlink dumps of TCP/UDP/UNIX sockets, and /proc to find who owns one.
 */
#ifndef READYD_SOCKETS_H
#define READYD_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/sock_types.h"

typedef int (*sock_visit_fn)(const struct sock_entry *e, void *ctx);

/*
 * Dump sockets of one kind whose state bit is set in states_mask
 * (1 << SOCK_STATE_LISTEN for listeners). sock_type: SOCK_STREAM for TCP and
 * unix stream, SOCK_DGRAM for UDP. A visitor returning non-zero stops the
 * walk and that value is returned.
 */
int sockets_dump(int family, int sock_type, uint32_t states_mask, sock_visit_fn fn, void *ctx);

/* The first process holding socket `inode` (scans /proc/PID/fd). 0 or -ENOENT. */
int sockets_inode_owner(uint32_t inode, pid_t *pid, char *comm, size_t comm_size);

/*
 * Who holds the address a bind just failed on: "tcp:127.0.0.1:8080 is held
 * by pid 42 (nginx)". Writes a best-effort explanation; 0 if a holder was
 * found, -ENOENT if none could be named.
 */
int sockets_describe_holder(const struct sock_addr *a, char *buf, size_t size);

/* "pid 812 (nginx), running for 3m05s", or why nobody can be named. */
void sockets_describe_owner(uint32_t inode, char *buf, size_t size);

/* Is this path a socket file? Never follows a symlink; relative paths are not. */
bool sockets_is_socket_file(const char *path);

#endif
