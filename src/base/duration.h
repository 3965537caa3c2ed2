/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_DURATION_H
#define READYD_DURATION_H

#include <stdint.h>

/*
 * Parse "500ms", "30s", "2m", "1h", "1m30s", "1.5s"; a bare number is
 * seconds. Units: us, ms, s, m, h. Returns 0, -EINVAL (not a duration) or
 * -ERANGE (longer than a year).
 */
int duration_parse(const char *s, uint64_t *ns);

#endif
