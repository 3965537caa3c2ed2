// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/notify_msg.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static bool key_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 19)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

static bool is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* One KEY=VALUE line. */
static int apply(struct notify_msg *m, const char *key, size_t klen, const char *v, size_t vlen,
		 const char **reason)
{
	uint64_t n;

	if (is(key, klen, "READY") || is(key, klen, "RELOADING") || is(key, klen, "STOPPING") ||
	    is(key, klen, "BARRIER")) {
		bool on = vlen == 1 && v[0] == '1';
		if (is(key, klen, "READY"))
			m->ready |= on;
		else if (is(key, klen, "RELOADING"))
			m->reloading |= on;
		else if (is(key, klen, "STOPPING"))
			m->stopping |= on;
		else
			m->barrier |= on;
	} else if (is(key, klen, "WATCHDOG")) {
		m->watchdog_ping |= vlen == 1 && v[0] == '1';
		m->watchdog_trigger |= vlen == 7 && memcmp(v, "trigger", 7) == 0;
	} else if (is(key, klen, "STATUS")) {
		m->has_status = true;
		snprintf(m->status, sizeof(m->status), "%.*s", (int)vlen, v);
		str_sanitize(m->status);
	} else if (is(key, klen, "ERRNO")) {
		if (parse_u64(v, vlen, &n) || n > 4095)
			goto bad_number;
		m->err_no = (int)n;
	} else if (is(key, klen, "MAINPID")) {
		if (parse_u64(v, vlen, &n) || n < 1 || n > 0x3fffffff)
			goto bad_number;
		m->mainpid = (pid_t)n;
	} else if (is(key, klen, "WATCHDOG_USEC")) {
		if (parse_u64(v, vlen, &n) || n == 0)
			goto bad_number;
		if (n > NOTIFY_USEC_MAX)
			goto too_long;
		m->watchdog_usec = n;
	} else if (is(key, klen, "EXTEND_TIMEOUT_USEC")) {
		if (parse_u64(v, vlen, &n))
			goto bad_number;
		if (n > NOTIFY_USEC_MAX)
			goto too_long;
		m->extend_usec = n;
	}
	return 0;
too_long:
	*reason = "a time too long to count in nanoseconds";
	return -EINVAL;
bad_number:
	*reason = "a value that should be a number is not one";
	return -EINVAL;
}

int notify_parse(const char *buf, size_t len, struct notify_msg *m, const char **reason)
{
	const char *p = buf, *end = buf + len;

	memset(m, 0, sizeof(*m));
	if (memchr(buf, '\0', len)) {
		*reason = "a NUL byte";
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(eol - p));
		if (eol == p) { /* empty line */
			p = eol + 1;
			continue;
		}
		if (!eq || !key_valid(p, (size_t)(eq - p))) {
			*reason = "a line that is not KEY=VALUE";
			return -EINVAL;
		}
		if (apply(m, p, (size_t)(eq - p), eq + 1, (size_t)(eol - eq - 1), reason))
			return -EINVAL;
		p = eol + 1;
	}
	return 0;
}
