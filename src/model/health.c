// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/health.h"

#include "base/util.h"

bool probe_health_record(struct probe_health *h, bool ok, const char *reason, uint64_t duration_ns,
			 uint64_t now, unsigned int success_threshold,
			 unsigned int failure_threshold)
{
	enum probe_verdict before = h->verdict;

	h->runs++;
	h->has_result = true;
	h->last_ok = ok;
	h->last_at = now;
	h->last_duration_ns = duration_ns;
	if (ok) {
		h->consecutive_ok++;
		h->consecutive_fail = 0;
		if (h->consecutive_ok >= success_threshold)
			h->verdict = VERDICT_OK;
	} else {
		h->failures++;
		h->consecutive_fail++;
		h->consecutive_ok = 0;
		str_copy(h->last_reason, reason ? reason : "failed", sizeof(h->last_reason));
		if (h->consecutive_fail >= failure_threshold)
			h->verdict = VERDICT_FAILING;
	}
	return h->verdict != before;
}

void probe_health_restart(struct probe_health *h)
{
	h->verdict = VERDICT_UNKNOWN;
	h->consecutive_ok = h->consecutive_fail = 0;
}

const char *probe_verdict_name(enum probe_verdict v)
{
	switch (v) {
	case VERDICT_UNKNOWN:
		return "unknown";
	case VERDICT_OK:
		return "ok";
	case VERDICT_FAILING:
		return "failing";
	}
	return "?";
}
