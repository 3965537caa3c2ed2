// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/manager_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/notify_msg.h"
#include "base/util.h"

void manager_count(struct manager_counts *c, enum svc_state st)
{
	if ((unsigned int)st >= SVC_STATE_COUNT)
		return;
	c->n[st]++;
	c->total++;
}

const char *manager_status(char *buf, size_t size, const struct manager_counts *c)
{
	/* What is up first, then what moves, then what needs the operator. */
	static const enum svc_state order[] = { SVC_RUNNING,  SVC_STARTING, SVC_UNHEALTHY,
						SVC_STOPPING, SVC_STOPPED,  SVC_FAILED };
	size_t at;
	int n;

	if (!size)
		return buf;
	if (!c->total) {
		str_copy(buf, "no services", size);
		return buf;
	}
	n = snprintf(buf, size, "%zu service%s:", c->total, c->total == 1 ? "" : "s");
	at = n < 0 ? 0 : (size_t)n;
	for (size_t i = 0; i < ARRAY_SIZE(order) && at < size; i++) {
		size_t k = c->n[order[i]];
		if (!k)
			continue;
		n = snprintf(buf + at, size - at, "%s %zu %s", at && buf[at - 1] == ':' ? "" : ",",
			     k, svc_state_name(order[i]));
		at += n < 0 ? 0 : (size_t)n;
	}
	return buf;
}

static int put(size_t size, int n)
{
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int manager_msg_ready(char *buf, size_t size, const char *status)
{
	return put(size, snprintf(buf, size, "READY=1\nSTATUS=%s", status));
}

int manager_msg_reloading(char *buf, size_t size, uint64_t mono_ns)
{
	return put(size, snprintf(buf, size, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
				  (unsigned long long)(mono_ns / 1000)));
}

int manager_msg_stopping(char *buf, size_t size, const char *status)
{
	return put(size, snprintf(buf, size, "STOPPING=1\nSTATUS=stopping: %s", status));
}

int manager_msg_status(char *buf, size_t size, const char *status)
{
	return put(size, snprintf(buf, size, "STATUS=%s", status));
}

/* A decimal number, nothing else: 0 or -EINVAL. */
static int parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (max - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*out = n;
	return 0;
}

int manager_watchdog_period(const char *usec, const char *pid, pid_t self, uint64_t *period_ns,
			    const char **why)
{
	uint64_t us, p;

	if (!usec)
		return 0;
	if (pid) {
		if (parse_decimal(pid, INT32_MAX, &p) < 0 || !p) {
			*why = "WATCHDOG_PID is not a pid";
			return -EINVAL;
		}
		if ((pid_t)p != self)
			return 0; /* meant for another process (a wrapper's child, say) */
	}
	if (parse_decimal(usec, NOTIFY_USEC_MAX, &us) < 0 || !us) {
		*why = "WATCHDOG_USEC is not a positive number of microseconds";
		return -EINVAL;
	}
	/* Half the timeout, as sd_watchdog_enabled()'s callers are told: one late ping is not
	 * fatal. */
	*period_ns = us * 1000 / 2;
	return 1;
}
