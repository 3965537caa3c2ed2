/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Restart delays: exponential from `initial`, capped at `max`, with jitter. */
#ifndef READYD_BACKOFF_H
#define READYD_BACKOFF_H

#include <stdint.h>

struct backoff_params {
	uint64_t initial_ns;	 /* delay before the first restart */
	uint64_t max_ns;	 /* cap */
	uint64_t reset_after_ns; /* running this long forgets earlier failures */
	unsigned int jitter_pct; /* delay is shortened by up to this % (0: none) */
};

/* The default policy: 1 s doubling to 30 s, reset after 60 s running, no jitter. */
extern const struct backoff_params backoff_default;

/*
 * Delay before restart number `attempt` (0-based). `random` is any 32-bit
 * value (the caller's RNG; tests pass fixed ones): the result lies in
 * [delay * (100 - jitter_pct) / 100, delay].
 */
uint64_t backoff_delay(const struct backoff_params *p, unsigned int attempt, uint32_t random);

#endif
