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
	/* The epoll batch being handled: a source deleted meanwhile is struck from it. */
	struct epoll_event batch[LOOP_BATCH];
	int batch_n, batch_at;
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
	/* Its events later in this batch must not reach it: it may be freed next. */
	for (int i = loop->batch_at + 1; i < loop->batch_n; i++)
		if (loop->batch[i].data.ptr == src)
			loop->batch[i].data.ptr = NULL;
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
	job->queued_at = now_mono_ns();
	*loop->jobs_tail = job;
	loop->jobs_tail = &job->next;
}

void loop_job_queue_first(struct loop *loop, struct loop_job *job)
{
	if (job->queued)
		return;
	job->queued = true;
	job->queued_at = now_mono_ns();
	job->next = loop->jobs;
	loop->jobs = job;
	if (!job->next)
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

/*
 * Jobs (forks, mostly) run between epoll batches: at least one, then more
 * while they take under JOBS_BUDGET_NS together, so a storm of restarts
 * meets its deadlines without holding fd events up for long.
 */
#define JOBS_BUDGET_NS (2 * NSEC_PER_MSEC)

static void run_jobs(struct loop *loop)
{
	uint64_t start = now_mono_ns();

	do {
		struct loop_job *job = loop->jobs;

		if (!job)
			return;
		loop_job_cancel(loop, job);
		job->fn(loop, job);
	} while (!loop->quit && now_mono_ns() - start < JOBS_BUDGET_NS);
}

void loop_quit(struct loop *loop, int code)
{
	loop->quit = true;
	loop->code = code;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	/* With jobs waiting, only look at what is ready; then run them. */
	int n = epoll_wait(loop->epfd, loop->batch, LOOP_BATCH, loop->jobs ? 0 : timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->batch_n = n;
	for (loop->batch_at = 0; loop->batch_at < n && !loop->quit; loop->batch_at++) {
		struct loop_source *src = loop->batch[loop->batch_at].data.ptr;
		if (src) /* NULL: deleted by an earlier callback of this batch */
			src->fn(loop, src, loop->batch[loop->batch_at].events);
	}
	loop->batch_n = loop->batch_at = 0;
	if (!loop->quit)
		run_jobs(loop);
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
