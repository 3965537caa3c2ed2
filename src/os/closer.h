/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Releasing, off the event loop, what can take long to release:
 *
 *  - BPF links. Closing a tracepoint's perf event waits for an RCU grace
 *    period in the kernel (perf_trace_event_unreg ->
 *    tracepoint_synchronize_unregister): measured ~54 ms per tracepoint
 *    here, ~600 ms for readyd's 11 syscall tracepoints.
 *  - File descriptors other processes sent readyd (sd_notify's SCM_RIGHTS).
 *    The last close() of a TCP socket with SO_LINGER and unsent data waits
 *    for the linger time (any user can send one: 5-8 s measured); a file on
 *    FUSE or NFS waits for its flush. Sockets get SO_LINGER off before the
 *    close, so the usual cost is nothing; the thread takes whatever remains.
 *
 * Each closer is one thread with its own queue: the tracer's (links; it
 * attaches again only once that one is idle) and the notify sockets' (fds:
 * a close that never ends delays nothing but later closes). Neither is
 * ever waited on.
 * docs/architecture.md, "Threads".
 */
#ifndef READYD_CLOSER_H
#define READYD_CLOSER_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;
struct closer;

int closer_start(struct closer **out);
/* Hand over links (ownership moves); returns at once. */
void closer_push_links(struct closer *c, struct bpf_link **links, size_t n);
/* Hand over fds (ownership moves); returns at once. */
void closer_push_fds(struct closer *c, const int *fds, size_t n);
/* fds queued or being closed right now. */
size_t closer_backlog(struct closer *c);
/*
 * Is the queue empty, nothing being released? Asks, never waits (true
 * without a closer): the kernel refuses to attach a program to a tracepoint
 * it is still detaching (EEXIST), so the tracer asks before attaching.
 */
bool closer_idle(struct closer *c);
/* Release whatever is still queued, then join the thread. */
void closer_stop(struct closer *c);

/* The fds' release on the calling thread: SO_LINGER off for sockets, then close. */
void closer_close_now(const int *fds, size_t n);

#endif
