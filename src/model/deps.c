// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/deps.h"

#include <stdio.h>

#include "base/util.h"

bool deps_verdict(const struct dep_view *v, size_t n, char *buf, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].present && v[i].state == SVC_RUNNING)
			continue;
		if (!v[i].present)
			snprintf(buf, size, "waiting for %s (not in the running configuration)",
				 v[i].name);
		else
			snprintf(buf, size, "waiting for %s (%s: %s)", v[i].name,
				 svc_state_name(v[i].state), v[i].cause[0] ? v[i].cause : "-");
		return false;
	}
	if (size)
		buf[0] = '\0';
	return true;
}

/* Unhealthy still serves (on_unhealthy = restart goes on to stopping, which is leaving). */
static bool up(enum svc_state st)
{
	return st == SVC_RUNNING || st == SVC_UNHEALTHY;
}

bool deps_left_running(enum svc_state from, enum svc_state to)
{
	return up(from) && !up(to);
}

bool deps_alive(enum svc_state st)
{
	return st == SVC_STARTING || up(st);
}
