/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One probe's verdict from its results, with Kubernetes' thresholds: a probe
 * starts unknown, is OK after success_threshold successes in a row and
 * failing after failure_threshold failures in a row. Pure.
 */
#ifndef READYD_HEALTH_H
#define READYD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "config/probe_spec.h"

enum probe_verdict { VERDICT_UNKNOWN, VERDICT_OK, VERDICT_FAILING };

struct probe_health {
	enum probe_verdict verdict;
	unsigned int consecutive_ok, consecutive_fail;
	/* For status and metrics; the totals survive restarts (counters). */
	uint64_t runs, failures;
	bool has_result, last_ok;
	uint64_t last_at, last_duration_ns;
	char last_reason[PROBE_REASON_MAX]; /* why the last failure failed */
};

/* Record one result; true when the verdict changed. */
bool probe_health_record(struct probe_health *h, bool ok, const char *reason, uint64_t duration_ns,
			 uint64_t now, unsigned int success_threshold,
			 unsigned int failure_threshold);
/* A new instance: verdict unknown again, totals kept. */
void probe_health_restart(struct probe_health *h);
const char *probe_verdict_name(enum probe_verdict v);

#endif
