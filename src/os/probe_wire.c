// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/probe_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* Bytes a reason may quote from a peer: control bytes become spaces. */
static void quote(char *buf, size_t size, const char *prefix, const char *s, size_t len)
{
	size_t start;

	snprintf(buf, size, "%s", prefix);
	start = strlen(buf);
	for (size_t i = 0; i < len && start + i + 1 < size; i++) {
		buf[start + i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
		buf[start + i + 1] = '\0';
	}
}

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static size_t put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
	return 4;
}

/* ---- requests ---- */

/* A startup packet: protocol 3.0, the role, the database of the same name, who asks. */
static size_t postgres_startup(const struct probe_spec *spec, char *buf, size_t size)
{
	const char *pairs[] = { "user",	    spec->user,		"database",
				spec->user, "application_name", "readyd" };
	size_t n = 8;

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		size_t len = strlen(pairs[i]) + 1;
		if (n + len + 1 > size)
			return 0;
		memcpy(buf + n, pairs[i], len);
		n += len;
	}
	buf[n++] = '\0';
	put_be32(buf, (uint32_t)n);
	put_be32(buf + 4, 3U << 16);
	return n;
}

size_t probe_request(const struct probe_spec *spec, const char *version, char *buf, size_t size)
{
	int n;

	switch (spec->kind) {
	case PROBE_HTTP:
		n = snprintf(buf, size,
			     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: readyd/%s\r\n"
			     "Accept: */*\r\nConnection: close\r\n\r\n",
			     spec->path, spec->host, version);
		return n > 0 && (size_t)n < size ? (size_t)n : 0;
	case PROBE_POSTGRES:
		return postgres_startup(spec, buf, size);
	case PROBE_REDIS:
		return str_copy(buf, "PING\r\n", size);
	default:
		return 0;
	}
}

/* ---- verdicts ---- */

bool probe_http_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason, size_t size)
{
	const char *nl = memchr(resp, '\n', len);
	size_t line = nl ? (size_t)(nl - resp) : len;
	int code;

	if (!nl && !eof && len < PROBE_READ_MAX)
		return false; /* the status line is not complete yet */
	*ok = false;
	if (len == 0) {
		snprintf(reason, size, "connection closed before any response");
		return true;
	}
	if (line < 12 || strncmp(resp, "HTTP/1.", 7) != 0 || resp[8] != ' ' ||
	    sscanf(resp + 9, "%3d", &code) != 1 || code < 100 || code > 599) {
		quote(reason, size, "not an HTTP response: \"", resp, len < 40 ? len : 40);
		str_append(reason, size, "\"");
		return true;
	}
	*ok = code >= 200 && code < 400;
	while (line && (resp[line - 1] == '\r' || resp[line - 1] == ' '))
		line--;
	snprintf(reason, size, "HTTP %.*s", (int)(line > 9 ? line - 9 : 0), resp + 9);
	return true;
}

/* An ErrorResponse's fields: the SQLSTATE (C) and the message (M). */
static void postgres_error(const char *p, const char *end, bool *ok, char *reason, size_t size)
{
	const char *code = "", *msg = "";
	size_t msg_len = 0;

	while (p < end && *p) {
		char field = *p++;
		const char *value = p, *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			break;
		if (field == 'C')
			code = value;
		else if (field == 'M')
			msg = value, msg_len = (size_t)(nul - value);
		p = nul + 1;
	}
	/* 57P03, cannot_connect_now: starting up, in recovery, shutting down. */
	*ok = strcmp(code, "57P03") != 0;
	quote(reason, size, *ok ? "serving: " : "", msg, msg_len);
	if (!msg_len)
		str_append(reason, size, "error %s", code[0] ? code : "without a code");
}

bool probe_postgres_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason,
			    size_t size)
{
	uint32_t mlen;
	size_t total;

	*ok = false;
	if (len < 5) {
		if (!eof)
			return false;
		snprintf(reason, size,
			 len ? "connection closed within a message"
			     : "connection closed before any response");
		return true;
	}
	mlen = be32(resp + 1);
	total = (size_t)mlen + 1;
	if (mlen < 4 || mlen > 65536 || !strchr("REv", resp[0])) {
		quote(reason, size, "not a postgres response: \"", resp, len < 24 ? len : 24);
		str_append(reason, size, "\"");
		return true;
	}
	if (len < total && !eof && len < PROBE_READ_MAX)
		return false;
	switch (resp[0]) {
	case 'R': /* AuthenticationOk (0), or a request for a password, SASL, ... */
		*ok = true;
		snprintf(reason, size,
			 mlen >= 8 && len >= 9 && be32(resp + 5) == 0
				 ? "serving: authenticated"
				 : "serving: it asks for authentication");
		break;
	case 'v':
		*ok = true;
		snprintf(reason, size, "serving: it negotiates the protocol version");
		break;
	default:
		postgres_error(resp + 5, resp + (len < total ? len : total), ok, reason, size);
	}
	return true;
}

bool probe_redis_verdict(const char *resp, size_t len, bool eof, bool *ok, char *reason,
			 size_t size)
{
	static const char *const not_yet[] = { "LOADING", "BUSY", "MASTERDOWN" };
	const char *nl = memchr(resp, '\n', len);
	size_t line = nl ? (size_t)(nl - resp) : len;

	if (!nl && !eof && len < PROBE_READ_MAX)
		return false;
	*ok = false;
	while (line && resp[line - 1] == '\r')
		line--;
	if (len == 0) {
		snprintf(reason, size, "connection closed before any response");
	} else if (resp[0] == '+') {
		*ok = true;
		quote(reason, size, "", resp + 1, line - 1);
	} else if (resp[0] == '-') {
		*ok = true;
		for (size_t i = 0; i < ARRAY_SIZE(not_yet); i++)
			if (line > strlen(not_yet[i]) &&
			    strncmp(resp + 1, not_yet[i], strlen(not_yet[i])) == 0)
				*ok = false;
		quote(reason, size, *ok ? "serving: " : "", resp + 1, line - 1);
	} else {
		quote(reason, size, "not a redis response: \"", resp, line < 40 ? line : 40);
		str_append(reason, size, "\"");
	}
	return true;
}

probe_verdict_fn probe_verdict_for(enum probe_kind kind)
{
	switch (kind) {
	case PROBE_HTTP:
		return probe_http_verdict;
	case PROBE_POSTGRES:
		return probe_postgres_verdict;
	case PROBE_REDIS:
		return probe_redis_verdict;
	default:
		return NULL;
	}
}
