// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/duration.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "base/clock.h"
#include "base/util.h"

#define DURATION_MAX (366ULL * 24 * 3600 * NSEC_PER_SEC)

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	/* Longer names first: "ms" must win over "m". */
	{ "us", 1000ULL },	    { "ms", NSEC_PER_MSEC },	  { "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC },
};

struct number {
	uint64_t whole, frac, frac_div; /* whole + frac / frac_div */
};

/* Reads "12" or "1.25" at *p. */
static int parse_number(const char **p, struct number *n)
{
	const char *s = *p;

	*n = (struct number){ .frac_div = 1 };
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (n->whole > DURATION_MAX / 10)
			return -ERANGE; /* more than a year in any unit */
		n->whole = n->whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++)
			if (n->frac_div < NSEC_PER_SEC) { /* ns precision is enough */
				n->frac = n->frac * 10 + (uint64_t)(*s - '0');
				n->frac_div *= 10;
			}
	}
	*p = s;
	return 0;
}

/* n units of unit_ns each, or -ERANGE past a year. */
static int scale(const struct number *n, uint64_t unit_ns, uint64_t *out)
{
	if (n->whole > DURATION_MAX / unit_ns)
		return -ERANGE;
	*out = n->whole * unit_ns + n->frac * (unit_ns / n->frac_div) +
	       n->frac * (unit_ns % n->frac_div) / n->frac_div;
	return *out > DURATION_MAX ? -ERANGE : 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
	uint64_t total = 0, part;
	struct number n;
	int err;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		size_t i;

		err = parse_number(&s, &n);
		if (err)
			return err;
		if (!*s && total == 0) /* bare number: seconds */
			return scale(&n, NSEC_PER_SEC, ns);
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t len = strlen(units[i].name);
			if (strncmp(s, units[i].name, len) == 0 && !isalpha((unsigned char)s[len]))
				break;
		}
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		s += strlen(units[i].name);
		err = scale(&n, units[i].ns, &part);
		if (err)
			return err;
		total += part;
		if (total > DURATION_MAX)
			return -ERANGE;
	}
	*ns = total;
	return 0;
}
