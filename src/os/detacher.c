// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/detacher.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

struct detacher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct bpf_link **queue;
	size_t n, cap;
	bool busy; /* destroying a batch right now */
	bool stop;
};

static void *detacher_main(void *arg)
{
	struct detacher *d = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the loop's signalfd */
	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct bpf_link **batch;
		size_t n;
		uint64_t t0;

		while (!d->n && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (!d->n)
			break;
		batch = d->queue;
		n = d->n;
		d->queue = NULL;
		d->n = d->cap = 0;
		d->busy = true;
		pthread_mutex_unlock(&d->lock);
		t0 = now_mono_ns();
		for (size_t i = 0; i < n; i++)
			bpf_link__destroy(batch[i]);
		free(batch);
		log_debug("msg=\"links destroyed off the loop\" count=%zu took_us=%llu", n,
			  (unsigned long long)((now_mono_ns() - t0) / 1000));
		pthread_mutex_lock(&d->lock);
		d->busy = false;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int detacher_start(struct detacher **out)
{
	struct detacher *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	err = pthread_create(&d->thread, NULL, detacher_main, d);
	if (err) {
		free(d);
		return -err;
	}
	*out = d;
	return 0;
}

void detacher_push(struct detacher *d, struct bpf_link **links, size_t n)
{
	pthread_mutex_lock(&d->lock);
	if (d->n + n > d->cap) {
		size_t cap = (d->n + n) * 2;
		struct bpf_link **grown = realloc(d->queue, cap * sizeof(*grown));
		if (!grown) { /* cannot queue: pay the wait here rather than leak */
			pthread_mutex_unlock(&d->lock);
			for (size_t i = 0; i < n; i++)
				bpf_link__destroy(links[i]);
			return;
		}
		d->queue = grown;
		d->cap = cap;
	}
	memcpy(d->queue + d->n, links, n * sizeof(*links));
	d->n += n;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void detacher_wait_idle(struct detacher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	while (d->n || d->busy)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

void detacher_stop(struct detacher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	free(d->queue);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
}
