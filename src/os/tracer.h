/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel side, seen from userspace: load bpf/readyd.bpf.c in the best
 * mode the kernel allows, keep the watched-process map, turn the syscall
 * tracepoints on only while some service is starting, and decode the ring
 * buffer into struct rd_event callbacks.
 */
#ifndef READYD_TRACER_H
#define READYD_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "readyd_event.h"

enum tracer_mode { TRACER_AUTO, TRACER_FENTRY, TRACER_TRACEPOINT, TRACER_POLL };

typedef void (*tracer_event_fn)(const struct rd_event *e, void *ctx);

struct tracer_opts {
	enum tracer_mode want; /* AUTO tries fentry, then tracepoint */
	size_t ringbuf_bytes;  /* power of two, >= page size; 0: 256 KiB */
	size_t max_watched;    /* processes followed at once; 0: 16384 */
	size_t max_listeners;  /* listening sockets of services known at once; 0: 8192 */
	tracer_event_fn on_event;
	void *ctx;
};

struct tracer;

/* Load and attach. -errno, with the reason logged, when no BPF mode works. */
int tracer_open(const struct tracer_opts *opts, struct tracer **out);
void tracer_close(struct tracer *t);

enum tracer_mode tracer_mode(const struct tracer *t);
const char *tracer_mode_name(enum tracer_mode m);
int tracer_mode_parse(const char *s, enum tracer_mode *m);

/* The ring buffer's epoll fd: readable when events are waiting. */
int tracer_fd(const struct tracer *t);
/* Deliver every waiting event to on_event. Returns the count or -errno. */
int tracer_consume(struct tracer *t);

/*
 * Kernel ids name one process tree of one service: (unit id << RD_PROC_BITS)
 * | the process's index in its service. Events carry it in rd_event.kid.
 */
/* Follow tgid (and, in the kernel, every process it forks) under kernel id kid. */
int tracer_watch(struct tracer *t, pid_t tgid, uint32_t kid);
/*
 * The map tracer_watch() writes, for a child to enter itself before it execs
 * (os/supervisor.c): -1 in poll mode. Key: tgid (u32); value: kid (u32).
 */
int tracer_watch_map_fd(const struct tracer *t);
/* The kernel id a live process is watched under. 0, or -ENOENT if it is not watched. */
int tracer_kid_of(struct tracer *t, pid_t tgid, uint32_t *kid);
/* The live processes watched under kid (or, whole_unit, any id of its unit); the count. */
int tracer_tree(struct tracer *t, uint32_t kid, bool whole_unit, pid_t *pids, size_t max);
/* A listener closed without the kernel noticing (unix): drop its entry. */
void tracer_forget_sock(struct tracer *t, uint64_t sk);
/* Drop everything the kernel still holds for a unit (a new instance starts). */
void tracer_forget_unit(struct tracer *t, uint32_t unit);

/*
 * Event-armed accept-queue checks: the kernel sends one RD_EV_QUEUED when a
 * connection is queued on a watched TCP port, then stays quiet until the port
 * is rearmed (after userspace has sampled the queue). kid names the unit the
 * port's events concern; a port two units declare sends RD_KID_SHARED.
 */
bool tracer_queue_events(const struct tracer *t);
int tracer_queue_watch(struct tracer *t, uint16_t port, uint32_t kid);
void tracer_queue_unwatch(struct tracer *t, uint16_t port);
/* Arm the port again if an event disarmed it; 0 or -errno. */
int tracer_queue_rearm(struct tracer *t, uint16_t port);

/*
 * Attach or detach the syscall tracepoints; idempotent. Never waits: while
 * an earlier detach is still in the kernel (up to ~0.9 s; the kernel refuses
 * a tracepoint it is still detaching from) attaching is -EBUSY: ask again.
 */
int tracer_set_syscalls(struct tracer *t, bool on);
bool tracer_syscalls_on(const struct tracer *t);

/* Events delivered to on_event so far. */
uint64_t tracer_events(const struct tracer *t);
/* Events the kernel could not queue because the ring buffer was full. */
uint64_t tracer_dropped(struct tracer *t);

#endif
