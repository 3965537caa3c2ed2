// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "util.h"

#define DURATION_MAX (366ULL * 24 * 3600 * NSEC_PER_SEC)

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	/* Longer names first: "ms" must win over "m". */
	{ "us", 1000ULL },
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
};

/* Reads "12" or "1.25" at *p; returns the value scaled by 1e9 (fixed point). */
static int parse_number(const char **p, uint64_t *scaled)
{
	const char *s = *p;
	uint64_t whole = 0, frac = 0, frac_div = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		if (whole > DURATION_MAX)
			return -ERANGE;
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++)
			if (frac_div < NSEC_PER_SEC) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				frac_div *= 10;
			}
	}
	*scaled = whole * NSEC_PER_SEC + frac * (NSEC_PER_SEC / frac_div);
	*p = s;
	return 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
	uint64_t total = 0;
	int err;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t scaled, add = 0;
		size_t i;

		err = parse_number(&s, &scaled);
		if (err)
			return err;
		if (!*s && total == 0) { /* bare number: seconds */
			*ns = scaled;
			return 0;
		}
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t len = strlen(units[i].name);
			if (strncmp(s, units[i].name, len) == 0 && !isalpha((unsigned char)s[len]))
				break;
		}
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		s += strlen(units[i].name);
		/* scaled is value * 1e9; the unit is ns per 1. */
		if (scaled / NSEC_PER_SEC > DURATION_MAX / units[i].ns)
			return -ERANGE;
		add = scaled / NSEC_PER_SEC * units[i].ns +
		      scaled % NSEC_PER_SEC * units[i].ns / NSEC_PER_SEC;
		total += add;
		if (total > DURATION_MAX)
			return -ERANGE;
	}
	*ns = total;
	return 0;
}
