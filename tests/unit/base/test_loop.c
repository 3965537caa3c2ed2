// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The event loop's timer heap and fd dispatch, with real timerfd/epoll. */
#include "cmocka_all.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/loop.h"
#include "base/clock.h"
#include "base/util.h"

#define N_TIMERS 200

static int fired[N_TIMERS], n_fired;

static void on_timer(struct loop *loop, struct loop_timer *t)
{
	fired[n_fired++] = (int)(intptr_t)t->data;
	if (n_fired == N_TIMERS / 2)
		loop_quit(loop, 7);
}

static void timers_fire_in_deadline_order(void **state)
{
	struct loop_timer timers[N_TIMERS];
	uint64_t base = now_mono_ns();
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	n_fired = 0;
	/* Deadlines in a scrambled order; half are cancelled again. */
	for (int i = 0; i < N_TIMERS; i++) {
		int k = (i * 37) % N_TIMERS;
		timers[k] = (struct loop_timer){ .fn = on_timer, .data = (void *)(intptr_t)k };
		assert_int_equal(loop_timer_arm(loop, &timers[k], base + (uint64_t)k * 10000), 0);
	}
	for (int k = 1; k < N_TIMERS; k += 2)
		loop_timer_cancel(loop, &timers[k]);
	assert_false(loop_timer_armed(&timers[1]));
	assert_true(loop_timer_armed(&timers[0]));
	assert_int_equal(loop_run(loop), 7);
	for (int i = 0; i < N_TIMERS / 2; i++)
		assert_int_equal(fired[i], 2 * i);
	loop_free(loop);
}

static void rearming_moves_a_timer(void **state)
{
	struct loop_timer a = { .fn = on_timer, .data = (void *)1 };
	struct loop_timer b = { .fn = on_timer, .data = (void *)2 };
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	n_fired = N_TIMERS / 2 - 2; /* quit after two */
	loop_timer_arm(loop, &a, now_mono_ns() + 1000000);
	loop_timer_arm(loop, &b, now_mono_ns() + 2000000);
	loop_timer_arm(loop, &a, now_mono_ns() + 3000000); /* a now after b */
	assert_int_equal(loop_run(loop), 7);
	assert_int_equal(fired[N_TIMERS / 2 - 2], 2);
	assert_int_equal(fired[N_TIMERS / 2 - 1], 1);
	loop_free(loop);
}

struct pipe_src {
	struct loop_source src;
	struct pipe_src *other;
	int calls;
};

/* Deletes the other source mid-batch: the loop must not call it afterwards. */
static void on_readable(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct pipe_src *p = src->data;
	char c;

	(void)events;
	p->calls++;
	if (read(src->fd, &c, 1) != 1)
		fail();
	if (p->other) {
		loop_del(loop, &p->other->src);
		p->other->src.fd = -1;
	}
	loop_quit(loop, 0);
}

static void deleting_a_source_mid_batch_is_safe(void **state)
{
	struct pipe_src a = { 0 }, b = { 0 };
	int pa[2], pb[2];
	struct loop *loop;

	(void)state;
	assert_int_equal(pipe(pa), 0);
	assert_int_equal(pipe(pb), 0);
	a = (struct pipe_src){ .src = { .fd = pa[0], .fn = on_readable, .data = &a }, .other = &b };
	b = (struct pipe_src){ .src = { .fd = pb[0], .fn = on_readable, .data = &b }, .other = &a };
	assert_int_equal(loop_new(&loop), 0);
	loop_add(loop, &a.src, EPOLLIN);
	loop_add(loop, &b.src, EPOLLIN);
	assert_int_equal(write(pa[1], "x", 1), 1);
	assert_int_equal(write(pb[1], "x", 1), 1);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(a.calls + b.calls, 1); /* the deleted one never ran */
	loop_free(loop);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
}

struct counted {
	struct loop_source src;
	struct loop_source *victim; /* deleted by this one's callback */
	int calls;
};

static void on_counted(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct counted *c = src->data;
	char b;

	(void)events;
	c->calls++;
	if (read(src->fd, &b, 1) != 1)
		fail();
	if (c->victim)
		loop_del(loop, c->victim);
}

/* A deletion strikes that source from the batch; the rest of the batch still runs. */
static void the_batch_goes_on_after_a_deletion(void **state)
{
	struct counted c[3] = { 0 };
	int p[3][2];
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pipe(p[i]), 0);
		c[i].src = (struct loop_source){ .fd = p[i][0], .fn = on_counted, .data = &c[i] };
		loop_add(loop, &c[i].src, EPOLLIN);
		assert_int_equal(write(p[i][1], "x", 1), 1);
	}
	/* Whichever runs first deletes the other two's middle one in epoll's order. */
	for (int i = 0; i < 3; i++)
		c[i].victim = &c[(i + 1) % 3].src;
	assert_int_equal(loop_run_once(loop, 1000), 3);
	/* The first one's victim is struck before its turn; the other two ran (the old loop
	 * ended the batch at the deletion: one). */
	assert_int_equal(c[0].calls + c[1].calls + c[2].calls, 2);
	loop_free(loop);
	for (int i = 0; i < 3; i++)
		close(p[i][0]), close(p[i][1]);
}

static int order[8], n_order;
static int pipe_w = -1;

static void on_job(struct loop *loop, struct loop_job *job)
{
	order[n_order++] = (int)(intptr_t)job->data;
	if ((intptr_t)job->data == 1) {
		if (write(pipe_w, "x", 1) != 1) /* an fd event arrives */
			fail();
		usleep(3000); /* past the jobs' 2 ms: the rest wait for the next batch */
	}
	if ((intptr_t)job->data == 3)
		loop_quit(loop, 0);
}

static void on_pipe(struct loop *loop, struct loop_source *src, uint32_t events)
{
	char c;

	(void)loop, (void)events;
	if (read(src->fd, &c, 1) != 1)
		fail();
	order[n_order++] = 100; /* marks where the fd event was handled */
}

static void jobs_yield_to_fd_events_after_2ms(void **state)
{
	struct loop_job jobs[4];
	struct loop_source src;
	struct loop *loop;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	pipe_w = p[1];
	n_order = 0;
	assert_int_equal(loop_new(&loop), 0);
	src = (struct loop_source){ .fd = p[0], .fn = on_pipe };
	loop_add(loop, &src, EPOLLIN);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct loop_job){ .fn = on_job, .data = (void *)(intptr_t)i };
		loop_job_queue(loop, &jobs[i]);
	}
	loop_job_queue(loop, &jobs[0]); /* already queued: no-op */
	loop_job_cancel(loop, &jobs[2]);
	assert_int_equal(loop_run(loop), 0); /* job 3 quits */
	/* job 0, job 1 (writes the pipe), the pipe handled before job 3. */
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 100);
	assert_int_equal(order[3], 3);
	loop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void record_job(struct loop *loop, struct loop_job *job)
{
	(void)loop;
	order[n_order++] = (int)(intptr_t)job->data;
}

/* A release queued first runs before the forks already waiting. */
static void a_job_queued_first_runs_first(void **state)
{
	struct loop_job jobs[3];
	struct loop *loop;

	(void)state;
	n_order = 0;
	assert_int_equal(loop_new(&loop), 0);
	for (int i = 0; i < 3; i++)
		jobs[i] = (struct loop_job){ .fn = record_job, .data = (void *)(intptr_t)i };
	loop_job_queue(loop, &jobs[0]);
	loop_job_queue(loop, &jobs[1]);
	loop_job_queue_first(loop, &jobs[2]);
	loop_run_once(loop, 0);
	assert_int_equal(n_order, 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
	loop_job_queue_first(loop, &jobs[0]); /* an empty queue: its tail is right too */
	loop_job_queue(loop, &jobs[1]);
	loop_run_once(loop, 0);
	assert_int_equal(order[3], 0);
	assert_int_equal(order[4], 1);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_fire_in_deadline_order),
		cmocka_unit_test(rearming_moves_a_timer),
		cmocka_unit_test(deleting_a_source_mid_batch_is_safe),
		cmocka_unit_test(jobs_yield_to_fd_events_after_2ms),
		cmocka_unit_test(a_job_queued_first_runs_first),
		cmocka_unit_test(the_batch_goes_on_after_a_deletion),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
