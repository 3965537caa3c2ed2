// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/out/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon/unit.h"
#include "model/metrics.h"
#include "os/accept_spare.h"
#include "os/textfile.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/safe_path.h"
#include "base/strbuf.h"
#include "base/util.h"

#define EXPORT_DEBOUNCE_NS (5 * NSEC_PER_MSEC)
/* Counters that only advance (probe runs, durations): at most this stale. */
#define EXPORT_COUNTERS_NS (1 * NSEC_PER_SEC)
/* Rewritten this often even when nothing changed: node_textfile_mtime_seconds stays fresh. */
#define EXPORT_REFRESH_NS (15 * NSEC_PER_SEC)

struct export
{
	struct textfile_writer *writer; /* NULL: no textfile */
	struct loop_source src;		/* the writer's AIO completions */
	struct loop_timer soon, refresh;
	struct strbuf buf;
	uint64_t last_at, cost; /* the last export's end, and what it took */
};

static void log_write_error(const struct daemon *d)
{
	char text[512];

	log_err("msg=\"cannot write textfile\" path=%s err=\"%s\"", d->cfg->textfile,
		log_escape(text, sizeof(text), textfile_writer_error(d->export->writer)));
}

void export_now(struct daemon *d)
{
	struct export *x = d->export;
	const struct svc **svcs;
	struct metrics_global g = {
		.version = READYD_VERSION,
		.mode = tracer_mode_name(tracer_mode(d->tracer)),
		.events_total = tracer_events(d->tracer),
		.events_dropped = d->tracer ? tracer_dropped(d->tracer) : 0,
		.connections_shed = accept_shed_total(),
		.now = now_mono_ns(),
	};
	size_t n = 0;
	uint64_t t0 = now_mono_ns();
	int err;

	if (!x || !x->writer) /* readyd exec/wait without --textfile */
		return;
	svcs = calloc(d->n_units ? d->n_units : 1, sizeof(*svcs));
	if (!svcs) {
		log_err("msg=\"textfile not written: out of memory\" path=%s", d->cfg->textfile);
		return;
	}
	for (size_t i = 0; i < d->n_units; i++)
		if (!d->units[i]->removed) /* one series per name: a re-added one may be starting */
			svcs[n++] = &d->units[i]->svc;
	metrics_render(&x->buf, &g, svcs, n);
	free(svcs);
	if (x->buf.oom) {
		log_err("msg=\"textfile not written: out of memory\" path=%s", d->cfg->textfile);
		return;
	}
	err = textfile_writer_submit(x->writer, x->buf.data, x->buf.len);
	if (err)
		log_write_error(d);
	x->last_at = now_mono_ns();
	x->cost = x->last_at - t0;
	loop_timer_arm(d->loop, &x->refresh, x->last_at + EXPORT_REFRESH_NS);
}

static void on_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	export_now(t->data);
}

/* Export by `at` at the latest (an earlier export already due stays). */
static void export_by(struct daemon *d, uint64_t at)
{
	struct loop_timer *t = &d->export->soon;

	if (!loop_timer_armed(t) || t->deadline > at)
		loop_timer_arm(d->loop, t, at);
}

/*
 * A change is exported within EXPORT_DEBOUNCE_NS, but the loop spends at most
 * a tenth of its time on the textfile: rendering 1,000 services takes ~2 ms,
 * and a boot of them, a change every few ms, had the loop rendering half of it.
 */
static uint64_t soonest(const struct export *x)
{
	uint64_t at = now_mono_ns() + EXPORT_DEBOUNCE_NS;

	return x->last_at + 10 * x->cost > at ? x->last_at + 10 * x->cost : at;
}

/*
 * Only counters moved. Rendering 100 services for each of 100 probe results
 * a second cost ~0.3 ms of CPU per probe (tools/bench probes): a second of
 * staleness for counters is what a scrape interval never notices.
 */
static void daemon_news(struct daemon *d, const struct unit_news *n)
{
	const struct svc_actions *a = n->a;

	if (!d->export || !d->export->writer)
		return;
	if (n->dirty || n->spawned || (a && (a->changed || a->dirty)))
		export_by(d, soonest(d->export));
	else if (n->counters || (a && a->counters))
		export_by(d, now_mono_ns() + EXPORT_COUNTERS_NS);
}

static void observe(struct unit *u, const struct unit_news *n)
{
	daemon_news(u->d, n);
}

/* It leaves the textfile. */
static void remove_unit(struct unit *u)
{
	daemon_news(u->d, &(struct unit_news){ .dirty = true });
}

const struct unit_module export_module = {
	.name = "export",
	.remove = remove_unit,
	.observe = observe,
	.daemon_news = daemon_news,
};

/* The asynchronous fsync finished: the new file is renamed into place. */
static void on_synced(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	int err = textfile_writer_complete(d->export->writer);

	(void)loop, (void)events;
	if (err)
		log_write_error(d);
}

static int watch_writer(struct daemon *d)
{
	struct export *x = d->export;

	x->src = (struct loop_source){ .fd = textfile_writer_fd(x->writer),
				       .fn = on_synced,
				       .data = d };
	return x->src.fd >= 0 ? loop_add(d->loop, &x->src, EPOLLIN) : 0;
}

int export_open(struct daemon *d)
{
	struct export *x = calloc(1, sizeof(*x));
	char why[SAFE_PATH_WHY_MAX], text[SAFE_PATH_WHY_MAX + 64];
	int err;

	if (!x)
		return -ENOMEM;
	d->export = x;
	x->src.fd = -1;
	x->soon = (struct loop_timer){ .fn = on_timer, .data = d };
	x->refresh = (struct loop_timer){ .fn = on_timer, .data = d };
	err = d->cfg->textfile ? textfile_writer_new(d->cfg->textfile, &x->writer, why, sizeof(why))
			       : 0;
	if (err)
		log_err("msg=\"cannot use the textfile\" path=%s err=\"%s\"", d->cfg->textfile,
			log_escape(text, sizeof(text), why));
	if (err || !x->writer)
		return err;
	if (textfile_writer_fd(x->writer) < 0)
		log_warn("msg=\"no Linux AIO: the textfile fsync will block the loop\"");
	return watch_writer(d);
}

void export_flush(struct daemon *d)
{
	if (d->export && d->export->writer)
		textfile_writer_flush(d->export->writer);
}

int export_move(struct daemon *d, const char *path, char *why, size_t size)
{
	struct export *x = d->export;
	struct textfile_writer *w;
	int err = textfile_writer_new(path, &w, why, size);

	if (err)
		return err;
	if (x->src.fd >= 0)
		loop_del(d->loop, &x->src);
	textfile_writer_free(x->writer); /* flushes the old path first */
	x->writer = w;
	return watch_writer(d);
}

void export_close(struct daemon *d)
{
	struct export *x = d->export;

	if (!x)
		return;
	loop_timer_cancel(d->loop, &x->soon);
	loop_timer_cancel(d->loop, &x->refresh);
	if (x->src.fd >= 0)
		loop_del(d->loop, &x->src);
	textfile_writer_free(x->writer);
	strbuf_free(&x->buf);
	free(x);
	d->export = NULL;
}
