// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/ctl_exit.h"

#include <string.h>

#include "base/util.h"

static int rank(int code)
{
	static const int order[] = { CTL_EXIT_OK,	  CTL_EXIT_NOT_RUNNING, CTL_EXIT_TIMEOUT,
				     CTL_EXIT_NO_SERVICE, CTL_EXIT_REFUSED,	CTL_EXIT_ERROR,
				     CTL_EXIT_USAGE };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (order[i] == code)
			return (int)i;
	return (int)ARRAY_SIZE(order); /* unknown: worst of all */
}

int ctl_exit_worst(int a, int b)
{
	return rank(b) > rank(a) ? b : a;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* {"ok": false, "error": ...}: who may not, which service is not there, or anything else. */
static int of_error(const cJSON *reply)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "refused")))
		return CTL_EXIT_REFUSED;
	if (str_starts_with(jstr(reply, "error"), "no service"))
		return CTL_EXIT_NO_SERVICE;
	return CTL_EXIT_ERROR;
}

int ctl_exit_of_reply(const char *cmd, const cJSON *reply)
{
	const cJSON *svc = cJSON_GetObjectItemCaseSensitive(reply, "service");

	if (cJSON_GetObjectItemCaseSensitive(reply, "error"))
		return of_error(reply);
	/*
	 * status: 0 only when running. unhealthy is not: its probe fails, and
	 * readyd's word is whether a service is ready to serve, so a script
	 * that gates traffic on status must not send it there.
	 */
	if (strcmp(cmd, "status") == 0)
		return strcmp(jstr(svc, "state"), "running") == 0 ? CTL_EXIT_OK
								  : CTL_EXIT_NOT_RUNNING;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return CTL_EXIT_OK;
	/* wait, start, restart: it failed, or stopped with no restart coming. */
	return svc ? CTL_EXIT_NOT_RUNNING : CTL_EXIT_ERROR;
}
