// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

#define LOOP_BATCH 64

struct loop {
	int epfd;
	struct loop_source timer_src;
	struct loop_timer **heap;
	size_t n_timers, cap_timers;
	uint64_t armed_for; /* deadline the timerfd is set to, 0 if disarmed */
	bool quit;
	int code;
	bool batch_stale; /* a source went away: the rest of the batch may dangle */
	struct loop_job *jobs, **jobs_tail;
};

/* ---- timer heap ---- */

static void heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (loop->heap[parent]->deadline <= t->deadline)
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= loop->n_timers)
			break;
		if (child + 1 < loop->n_timers &&
		    loop->heap[child + 1]->deadline < loop->heap[child]->deadline)
			child++;
		if (t->deadline <= loop->heap[child]->deadline)
			break;
		heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	heap_place(loop, i, t);
}

static void heap_remove(struct loop *loop, struct loop_timer *t)
{
	size_t i = t->slot - 1;
	struct loop_timer *last = loop->heap[--loop->n_timers];

	t->slot = 0;
	if (last == t)
		return;
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->slot - 1);
}

/* Point the timerfd at the earliest deadline. */
static int sync_timerfd(struct loop *loop)
{
	struct itimerspec its = { 0 };
	uint64_t next = loop->n_timers ? loop->heap[0]->deadline : 0;

	if (next == loop->armed_for)
		return 0;
	if (next) {
		/* 0 would disarm: a deadline in the past fires at once instead. */
		its.it_value.tv_sec = (time_t)(next / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(next % NSEC_PER_SEC);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(loop->timer_src.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	loop->armed_for = next;
	return 0;
}

int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t deadline)
{
	if (t->slot)
		heap_remove(loop, t);
	if (loop->n_timers == loop->cap_timers) {
		size_t cap = loop->cap_timers ? loop->cap_timers * 2 : 64;
		struct loop_timer **grown = realloc(loop->heap, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		loop->heap = grown;
		loop->cap_timers = cap;
	}
	t->deadline = deadline;
	heap_place(loop, loop->n_timers++, t);
	heap_up(loop, loop->n_timers - 1);
	return sync_timerfd(loop);
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	if (!t->slot)
		return;
	heap_remove(loop, t);
	sync_timerfd(loop);
}

void loop_expire(struct loop *loop)
{
	uint64_t now = now_mono_ns();

	loop->armed_for = 0;
	while (loop->n_timers && loop->heap[0]->deadline <= now) {
		struct loop_timer *t = loop->heap[0];
		heap_remove(loop, t);
		t->fn(loop, t);
	}
	sync_timerfd(loop);
}

static void on_timerfd(struct loop *loop, struct loop_source *src, uint32_t events)
{
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warn("msg=\"timerfd read failed\" err=\"%s\"", strerror(errno));
	loop_expire(loop);
}

/* ---- fd sources ---- */

int loop_add(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

int loop_mod(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *loop, struct loop_source *src)
{
	if (src->fd >= 0)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	loop->batch_stale = true;
}

int loop_new(struct loop **out)
{
	struct loop *loop = calloc(1, sizeof(*loop));
	int err;

	if (!loop)
		return -ENOMEM;
	loop->jobs_tail = &loop->jobs;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->timer_src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	loop->timer_src.fn = on_timerfd;
	if (loop->epfd < 0 || loop->timer_src.fd < 0) {
		err = -errno;
		goto fail;
	}
	err = loop_add(loop, &loop->timer_src, EPOLLIN);
	if (err)
		goto fail;
	*out = loop;
	return 0;
fail:
	loop_free(loop);
	return err;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->timer_src.fd >= 0)
		close(loop->timer_src.fd);
	free(loop->heap);
	free(loop);
}

/* ---- jobs ---- */

void loop_job_queue(struct loop *loop, struct loop_job *job)
{
	if (job->queued)
		return;
	job->next = NULL;
	job->queued = true;
	*loop->jobs_tail = job;
	loop->jobs_tail = &job->next;
}

void loop_job_cancel(struct loop *loop, struct loop_job *job)
{
	struct loop_job **p;

	if (!job->queued)
		return;
	for (p = &loop->jobs; *p != job; p = &(*p)->next)
		;
	*p = job->next;
	if (loop->jobs_tail == &job->next)
		loop->jobs_tail = p;
	job->queued = false;
}

static void run_one_job(struct loop *loop)
{
	struct loop_job *job = loop->jobs;

	if (!job)
		return;
	loop_job_cancel(loop, job);
	job->fn(loop, job);
}

void loop_quit(struct loop *loop, int code)
{
	loop->quit = true;
	loop->code = code;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	/* With jobs waiting, only look at what is ready; then run one. */
	int n = epoll_wait(loop->epfd, evs, LOOP_BATCH, loop->jobs ? 0 : timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->batch_stale = false;
	for (int i = 0; i < n && !loop->quit; i++) {
		struct loop_source *src = evs[i].data.ptr;
		src->fn(loop, src, evs[i].events);
		/*
		 * A callback removed a source, maybe one later in this batch.
		 * Level-triggered: whatever is still pending is reported
		 * again by the next epoll_wait.
		 */
		if (loop->batch_stale)
			break;
	}
	if (!loop->quit)
		run_one_job(loop);
	return n;
}

bool loop_quitting(const struct loop *loop)
{
	return loop->quit;
}

int loop_run(struct loop *loop)
{
	while (!loop->quit) {
		int n = loop_run_once(loop, -1);
		if (n < 0)
			return n;
	}
	return loop->code;
}
