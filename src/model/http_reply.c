// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Replies of the readiness endpoint: heads, and states as text or JSON. */
#include <stdio.h>
#include <string.h>

#include "model/http_reply.h"

const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

void http_reply_head(struct strbuf *out, int status, const char *type, size_t body_len,
		     const char *extra)
{
	strbuf_printf(out,
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
		      status, http_status_text(status), type, body_len, extra ? extra : "");
}

/*
 * Names and causes are config text and what processes said: one line of
 * printable ASCII on the wire, anything else a '?' (no invalid UTF-8 in
 * JSON, no line break in a text line).
 */
static char printable(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

static void put_text(struct strbuf *out, const char *s)
{
	char chunk[128];
	size_t n = 0;

	for (; *s; s++) {
		chunk[n++] = printable(*s);
		if (n == sizeof(chunk) - 1 || !s[1]) {
			chunk[n] = '\0';
			strbuf_printf(out, "%s", chunk);
			n = 0;
		}
	}
}

static void put_json_string(struct strbuf *out, const char *s)
{
	char chunk[160];
	size_t n = 0;

	chunk[n++] = '"';
	for (; *s; s++) {
		char c = printable(*s);
		if (c == '"' || c == '\\')
			chunk[n++] = '\\';
		chunk[n++] = c;
		if (n >= sizeof(chunk) - 4) {
			chunk[n] = '\0';
			strbuf_printf(out, "%s", chunk);
			n = 0;
		}
	}
	chunk[n++] = '"';
	chunk[n] = '\0';
	strbuf_printf(out, "%s", chunk);
}

static const char *cause_of(const struct svc *s)
{
	return s->cause[0] ? s->cause : svc_state_name(s->state);
}

void http_body_service(struct strbuf *out, const struct svc *s, bool json)
{
	if (!json) {
		put_text(out, s->cfg->name);
		strbuf_printf(out, " %s ", svc_state_name(s->state));
		put_text(out, cause_of(s));
		strbuf_printf(out, "\n");
		return;
	}
	strbuf_printf(out, "{\"service\":");
	put_json_string(out, s->cfg->name);
	strbuf_printf(out, ",\"state\":\"%s\",\"ready\":%s,\"cause\":", svc_state_name(s->state),
		      s->state == SVC_RUNNING ? "true" : "false");
	put_json_string(out, cause_of(s));
	strbuf_printf(out, "}");
}

bool http_body_services(struct strbuf *out, const struct svc *const *svcs, size_t n, bool json)
{
	bool all = true;

	for (size_t i = 0; i < n; i++)
		all = all && svcs[i]->state == SVC_RUNNING;
	if (json)
		strbuf_printf(out, "{\"ready\":%s,\"services\":[", all ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		if (json && i)
			strbuf_printf(out, ",");
		http_body_service(out, svcs[i], json);
	}
	if (json)
		strbuf_printf(out, "]}\n");
	return all;
}

void http_body_error(struct strbuf *out, const char *why, bool json)
{
	if (!json) {
		put_text(out, why);
		strbuf_printf(out, "\n");
		return;
	}
	strbuf_printf(out, "{\"error\":");
	put_json_string(out, why);
	strbuf_printf(out, "}\n");
}
