/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus text exposition of readyd's state, for node_exporter's
 * textfile collector. Pure: renders into a buffer; textfile.c writes it.
 * docs/metrics.md describes every family.
 */
#ifndef READYD_METRICS_H
#define READYD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "model/service.h"
#include "base/strbuf.h"

struct metrics_global {
	const char *version;
	const char *mode; /* "fentry", "tracepoint" or "poll" */
	uint64_t events_total;
	uint64_t events_dropped;
	uint64_t connections_shed; /* os/accept_spare.c: closed unanswered, out of fds */
	uint64_t now; /* CLOCK_MONOTONIC at the render: what "in N seconds" counts from */
};

void metrics_render(struct strbuf *out, const struct metrics_global *g,
		    const struct svc *const *svcs, size_t n);

#endif
