/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Readiness over HTTP on [readyd] http_listen: GET /ready/NAME (200 running,
 * 503 not, 404 unknown), GET /ready (200 only if all run), GET /metrics (the
 * textfile's exposition), and the long-poll /ready/NAME?wait=30s, answered
 * from observe in the loop iteration of the transition. Asked, not told:
 * each reply reads the state when its request arrives. At most
 * HTTP_CLIENTS_MAX clients (the next gets 503 and a close), HTTP_WAITERS_MAX
 * of them waiting, HTTP_METRICS_MAX receiving /metrics; a head within
 * HTTP_HEAD_NS, a reply sent within HTTP_SEND_NS; every reply closes. No
 * read or write ever waits. /metrics costs the loop at most a tenth of its
 * time: asked again within ten renderings' time, the last one is resent.
 */
#ifndef READYD_OUT_HTTP_H
#define READYD_OUT_HTTP_H

#define HTTP_CLIENTS_MAX 256
#define HTTP_WAITERS_MAX 128
#define HTTP_METRICS_MAX 8 /* /metrics and /ready replies in flight, each a copy of it all */

struct daemon;
struct unit_module;

/* Nothing without http_listen; else bound now: -errno (logged with the key's line) if not. */
int http_open(struct daemon *d);
void http_close(struct daemon *d);

extern const struct unit_module http_module;

#endif
