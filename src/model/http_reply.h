/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The readiness endpoint's replies, the pure part: status lines, headers
 * and bodies (a service's state and cause as one text line or a JSON
 * object). Every reply closes the connection. The sockets are
 * daemon/out/http.c's; the requests model/http_request.h's.
 */
#ifndef READYD_HTTP_REPLY_H
#define READYD_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "model/service.h"
#include "base/strbuf.h"

#define HTTP_TYPE_TEXT	  "text/plain; charset=utf-8"
#define HTTP_TYPE_JSON	  "application/json"
#define HTTP_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* "OK", "Service Unavailable", ...; "Error" for a status readyd never sends. */
const char *http_status_text(int status);
/*
 * Append the head of a reply: the status line, Content-Type, Content-Length
 * (the length of the body GET would get, for HEAD too), Cache-Control:
 * no-store, Connection: close; extra: more header lines ending "\r\n", or NULL.
 */
void http_reply_head(struct strbuf *out, int status, const char *type, size_t body_len,
		     const char *extra);
/* Append one service: "NAME STATE CAUSE\n", or {"service":..,"state":..,"ready":..,"cause":..}. */
void http_body_service(struct strbuf *out, const struct svc *s, bool json);
/* Append /ready's body, every service (text: a line each); true if all are running. */
bool http_body_services(struct strbuf *out, const struct svc *const *svcs, size_t n, bool json);
/* Append a refusal's body: why, as a line or {"error":why}. */
void http_body_error(struct strbuf *out, const char *why, bool json);

#endif
