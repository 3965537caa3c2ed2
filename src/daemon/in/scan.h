/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The scan sensor: what the kernel shows now, without events (sock_diag and
 * /proc, os/sock_scan.c), for what events cannot tell. Processes readyd
 * adopted ([watch]) were listening, and waiting in epoll or accept(),
 * before readyd looked; poll mode has no events at all; a lost event is
 * made good by rescanning everything. A scan raises levels (never lowers
 * them, as events do) and closes sockets that are gone. The same pass
 * samples the accept queues of running services (scan_queue.c).
 */
#ifndef READYD_IN_SCAN_H
#define READYD_IN_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sock_types.h"

struct daemon;
struct unit;
struct unit_module;

extern const struct unit_module scan_module;

/* The drop check: when the ring buffer lost events, every level is rebuilt. */
int scan_open(struct daemon *d);
void scan_close(struct daemon *d);
/*
 * Kernel events were read: check for lost ones soon. Only then: a full ring
 * buffer is one with events to read, so a quiet node has no check to wake for.
 */
void scan_after_events(struct daemon *d);
/*
 * Scan u's sockets now: raise its listener levels and close gone sockets if
 * `levels`, check its accept queues always.
 */
int unit_scan(struct unit *u, bool levels);
/* Rebuild every running service's listener levels from sock_diag and /proc. */
void scan_all(struct daemon *d, const char *why);
/*
 * The kernel saw a connection queued on a watched TCP port (RD_EV_QUEUED):
 * sample the queues of the service(s) it concerns at the next check moment.
 */
void scan_queue_arrived(struct daemon *d, uint32_t kid, uint16_t port);

/* ---- scan_queue.c ---- */
/*
 * The scan a queue check needs, from the socket table alone, when every
 * socket on u's declared addresses is one the kernel events named as u's:
 * no /proc reads. false: something else is there (or nothing): scan for real.
 */
bool scan_queue_known(const struct unit *u, const struct sock_table *t, struct scan *out);
/*
 * After a scan: accept queues and findings of u's declared listeners, as QUEUE
 * events. true: something to keep watching (a queue holds connections, a
 * finding, a declared listener not up): check again in a second.
 */
bool scan_queue_check(struct unit *u, const struct sock_table *t, const struct scan *sc,
		      uint64_t now);

#endif
