/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_CLOCK_H
#define READYD_CLOCK_H

#include <stdint.h>

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns() and of all timers. */
uint64_t now_mono_ns(void);
/* CLOCK_REALTIME in ns, for showing wall-clock times to people. */
uint64_t now_real_ns(void);

#endif
