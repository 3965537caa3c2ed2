/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The node's sockets as sock_diag shows them, shared by the scans of one
 * moment (at most 20 ms old) until a kernel event arrives: a socket that
 * event reports may be newer than the dump, which would then call it closed.
 * And the node's ListenOverflows counter, read at most once per moment.
 */
#ifndef READYD_SOCK_TABLE_H
#define READYD_SOCK_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sock_types.h"

struct daemon;

int sock_cache_open(struct daemon *d);
void sock_cache_close(struct daemon *d);
/* The table; with_bound: TCP sockets only bound, too (expensive). NULL if it cannot be read. */
const struct sock_table *daemon_sock_table(struct daemon *d, uint64_t now, bool with_bound);
/* The next daemon_sock_table() dumps the table afresh. */
void daemon_sock_table_forget(struct daemon *d);
/*
 * The table as the kernel had it at `since` or later (dumped now if the one
 * kept is older): a verdict on what holds an address after a moment, shared
 * by every start decided before the dump (a boot's, a restart storm's).
 * Kept apart from the scans' table: kernel events do not date it, since a
 * socket newer than the dump changes no start's verdict.
 */
const struct sock_table *daemon_sock_table_since(struct daemon *d, uint64_t since);
/* TcpExt ListenOverflows (the kernel keeps no per-socket count); 0 if unreadable. */
uint64_t daemon_listen_overflows(struct daemon *d, uint64_t now);

#endif
