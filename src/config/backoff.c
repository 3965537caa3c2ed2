// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "config/backoff.h"

#include "base/clock.h"
#include "base/util.h"

const struct backoff_params backoff_default = {
	.initial_ns = 1 * NSEC_PER_SEC,
	.max_ns = 30 * NSEC_PER_SEC,
	.reset_after_ns = 60 * NSEC_PER_SEC,
	.jitter_pct = 0,
};

uint64_t backoff_delay(const struct backoff_params *p, unsigned int attempt, uint32_t random)
{
	uint64_t delay = p->initial_ns, cut;

	for (unsigned int i = 0; i < attempt && delay < p->max_ns; i++)
		delay *= 2;
	if (delay > p->max_ns)
		delay = p->max_ns;
	if (p->jitter_pct == 0)
		return delay;
	/* Up to jitter_pct % shorter, never longer: the cap stays a promise. */
	cut = delay / 100 * (p->jitter_pct > 100 ? 100 : p->jitter_pct);
	return delay - (uint64_t)((unsigned __int128)cut * random / UINT32_MAX);
}
