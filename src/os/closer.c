// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/closer.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

struct closer_item {
	struct bpf_link *link; /* or NULL: fd */
	int fd;
};

struct closer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct closer_item *queue;
	size_t n, cap;
	size_t fds_queued; /* fds among the queue's items */
	size_t fds_busy;   /* fds of the batch being released right now */
	bool busy;
	bool stop;
};

void closer_close_now(const int *fds, size_t n)
{
	static const struct linger off = { 0 };

	for (size_t i = 0; i < n; i++) {
		/* A graceful close in the background instead of waiting (ENOTSOCK otherwise). */
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &off, sizeof(off));
		close(fds[i]);
	}
}

static void release(const struct closer_item *batch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (batch[i].link)
			bpf_link__destroy(batch[i].link);
		else
			closer_close_now(&batch[i].fd, 1);
	}
}

static void *closer_main(void *arg)
{
	struct closer *c = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the loop's signalfd */
	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct closer_item *batch;
		size_t n;
		uint64_t t0;

		while (!c->n && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->n)
			break;
		batch = c->queue;
		n = c->n;
		c->queue = NULL;
		c->n = c->cap = 0;
		c->busy = true;
		c->fds_busy = c->fds_queued;
		c->fds_queued = 0;
		pthread_mutex_unlock(&c->lock);
		t0 = now_mono_ns();
		release(batch, n);
		free(batch);
		log_debug("msg=\"released off the loop\" count=%zu took_us=%llu", n,
			  (unsigned long long)((now_mono_ns() - t0) / 1000));
		pthread_mutex_lock(&c->lock);
		c->busy = false;
		c->fds_busy = 0;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int closer_start(struct closer **out)
{
	struct closer *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	err = pthread_create(&c->thread, NULL, closer_main, c);
	if (err) {
		free(c);
		return -err;
	}
	*out = c;
	return 0;
}

/* Queue items; false (nothing queued) if the queue cannot grow. Called with the lock held. */
static bool enqueue(struct closer *c, const struct closer_item *items, size_t n)
{
	if (c->n + n > c->cap) {
		size_t cap = (c->n + n) * 2;
		struct closer_item *grown = realloc(c->queue, cap * sizeof(*grown));
		if (!grown)
			return false;
		c->queue = grown;
		c->cap = cap;
	}
	memcpy(c->queue + c->n, items, n * sizeof(*items));
	c->n += n;
	for (size_t i = 0; i < n; i++)
		c->fds_queued += !items[i].link;
	pthread_cond_broadcast(&c->cond);
	return true;
}

void closer_push_links(struct closer *c, struct bpf_link **links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct closer_item it = { .link = links[i], .fd = -1 };
		bool queued;

		pthread_mutex_lock(&c->lock);
		queued = enqueue(c, &it, 1);
		pthread_mutex_unlock(&c->lock);
		if (!queued) /* cannot queue: pay the wait here rather than leak */
			bpf_link__destroy(links[i]);
	}
}

void closer_push_fds(struct closer *c, const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct closer_item it = { .link = NULL, .fd = fds[i] };
		bool queued;

		pthread_mutex_lock(&c->lock);
		queued = enqueue(c, &it, 1);
		pthread_mutex_unlock(&c->lock);
		if (!queued)
			closer_close_now(&fds[i], 1);
	}
}

size_t closer_backlog(struct closer *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->fds_queued + c->fds_busy;
	pthread_mutex_unlock(&c->lock);
	return n;
}

bool closer_idle(struct closer *c)
{
	bool idle;

	if (!c)
		return true;
	pthread_mutex_lock(&c->lock);
	idle = !c->n && !c->busy;
	pthread_mutex_unlock(&c->lock);
	return idle;
}

void closer_stop(struct closer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	free(c->queue);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
