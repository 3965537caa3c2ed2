// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HAProxy agent-check lines: the request's service name and readyd's answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/agent_reply.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int agent_request_name(const char *buf, size_t len, char *name, size_t size)
{
	const char *nl = memchr(buf, '\n', len);
	const char *start = buf, *end;

	if (!nl)
		return len >= AGENT_REQUEST_MAX ? -EMSGSIZE : 0;
	end = nl;
	while (start < end && blank(*start))
		start++;
	while (end > start && blank(end[-1]))
		end--;
	if ((size_t)(end - start) >= size)
		return -EMSGSIZE;
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';
	return 1;
}

/*
 * HAProxy logs the text after '#' as it is: one line of printable ASCII,
 * at most AGENT_CAUSE_MAX bytes, anything else a '?'.
 */
static size_t put_cause(char *out, size_t size, const char *text)
{
	size_t n = 0;

	for (; n < AGENT_CAUSE_MAX && n + 1 < size && text[n]; n++)
		out[n] = (text[n] >= 0x20 && text[n] < 0x7f) ? text[n] : '?';
	out[n] = '\0';
	return n;
}

static size_t down(char *out, size_t size, const char *prefix, const char *why)
{
	char cause[AGENT_CAUSE_MAX + 1];
	char both[AGENT_CAUSE_MAX + 64];

	snprintf(both, sizeof(both), "%s%s", prefix, why);
	put_cause(cause, sizeof(cause), both);
	return (size_t)snprintf(out, size, "down #%s\n", cause);
}

size_t agent_reply(const struct svc *s, const char *name, char *out, size_t size)
{
	if (!s)
		return down(out, size, "no such service ", name);
	if (s->state == SVC_RUNNING)
		return (size_t)snprintf(out, size, "up\n");
	return down(out, size, "", s->cause[0] ? s->cause : svc_state_name(s->state));
}

size_t agent_reply_refuse(const char *why, char *out, size_t size)
{
	return down(out, size, "", why);
}
