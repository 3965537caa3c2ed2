/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one event loop: epoll over fd sources, plus timers kept in a min-heap
 * behind a single timerfd. Level-triggered throughout. Callbacks may add,
 * delete and re-arm anything, including themselves.
 */
#ifndef READYD_LOOP_H
#define READYD_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_source;
struct loop_timer;
struct loop_job;

typedef void (*loop_fd_fn)(struct loop *loop, struct loop_source *src, uint32_t events);
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *timer);
typedef void (*loop_job_fn)(struct loop *loop, struct loop_job *job);

struct loop_source {
	int fd;
	loop_fd_fn fn;
	void *data;
};

struct loop_timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ns */
	size_t slot;	   /* 1 + heap index while armed, 0 when not */
	loop_timer_fn fn;
	void *data;
};

/*
 * Work that may take a while (a fork) and must not hold up fd events: jobs
 * run between epoll batches, in FIFO order: at least one, more while they
 * take under 2 ms together.
 */
struct loop_job {
	struct loop_job *next;
	bool queued;
	uint64_t queued_at; /* CLOCK_MONOTONIC, when loop_job_queue last queued it */
	loop_job_fn fn;
	void *data;
};

int loop_new(struct loop **out);
void loop_free(struct loop *loop);

int loop_add(struct loop *loop, struct loop_source *src, uint32_t events);
int loop_mod(struct loop *loop, struct loop_source *src, uint32_t events);
/* Stop watching src->fd (the caller still owns and closes the fd). */
void loop_del(struct loop *loop, struct loop_source *src);

/* Arm (or re-arm) a timer for an absolute CLOCK_MONOTONIC deadline. */
int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t deadline);
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->slot != 0;
}

/* Queue a job (no-op if already queued) / drop a queued one. */
void loop_job_queue(struct loop *loop, struct loop_job *job);
void loop_job_cancel(struct loop *loop, struct loop_job *job);
/* Queue job ahead of every other (a release that must not wait behind a storm's forks). */
void loop_job_queue_first(struct loop *loop, struct loop_job *job);

/* Run until loop_quit(); returns the code given to it, or -errno. */
int loop_run(struct loop *loop);
void loop_quit(struct loop *loop, int code);
bool loop_quitting(const struct loop *loop);
/*
 * One iteration of loop_run: the fds ready within timeout_ms (0 when a job
 * waits), then one job. The count of fd events, or -errno.
 */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Run every timer due now (by now_mono_ns: tests drive it with a fake clock). */
void loop_expire(struct loop *loop);

#endif
