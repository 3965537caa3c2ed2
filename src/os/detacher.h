/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Destroying BPF links off the event loop. Closing a tracepoint's perf event
 * waits for an RCU grace period in the kernel (perf_trace_event_unreg ->
 * tracepoint_synchronize_unregister): measured ~54 ms per tracepoint here,
 * ~600 ms for readyd's 11 syscall tracepoints, during which the loop would
 * see nothing. This thread does the waiting; it is readyd's only thread
 * (docs/architecture.md, "Threads").
 */
#ifndef READYD_DETACHER_H
#define READYD_DETACHER_H

#include <stddef.h>

struct bpf_link;
struct detacher;

int detacher_start(struct detacher **out);
/* Hand over links (ownership moves); returns at once. */
void detacher_push(struct detacher *d, struct bpf_link **links, size_t n);
/*
 * Block until every queued link is gone. The kernel refuses to attach a
 * program to a tracepoint it is still being detached from (EEXIST).
 */
void detacher_wait_idle(struct detacher *d);
/* Destroy whatever is still queued, then join the thread. */
void detacher_stop(struct detacher *d);

#endif
