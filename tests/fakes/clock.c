// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A clock the test sets; base/clock.c's twin. */
#include "base/clock.h"
#include "fakes/fakes.h"

#include <time.h>

static uint64_t fake_now = 1000 * NSEC_PER_SEC;

void fake_clock_set(uint64_t ns)
{
	fake_now = ns;
}

void fake_clock_advance(uint64_t ns)
{
	fake_now += ns;
}

uint64_t now_mono_ns(void)
{
	return fake_now;
}

uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
