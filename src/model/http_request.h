/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The readiness endpoint's requests ([readyd] http_listen), the pure part:
 * an HTTP/1.x request head in, what it asks (GET or HEAD of /ready,
 * /ready/NAME, /metrics; a long-poll's wait; text or JSON) or the status
 * that refuses it. The sockets are daemon/out/http.c's.
 */
#ifndef READYD_HTTP_REQUEST_H
#define READYD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192 /* a longer request head is answered 431 */
#define HTTP_NAME_MAX 256  /* a service name in a path: longer ones name no service */
/* ?wait= at most this: a long-poll holds a client slot, so it ends. */
#define HTTP_WAIT_MAX_NS (300ULL * 1000000000ULL)

enum http_route {
	HTTP_READY_ALL, /* /ready: every service */
	HTTP_READY_ONE, /* /ready/NAME */
	HTTP_METRICS,	/* /metrics: the textfile's exposition */
};

struct http_request {
	enum http_route route;
	bool head;		  /* HEAD: the reply of GET without its body */
	bool json;		  /* Accept names application/json */
	char name[HTTP_NAME_MAX]; /* HTTP_READY_ONE: percent-decoded */
	uint64_t wait_ns;	  /* ?wait=DURATION on /ready/NAME; 0: answer now */
	size_t head_len;	  /* the head's bytes, its blank line included */
	const char *error;	  /* a refusal: why, for its body */
};

/*
 * Parse the request head at buf[0..len). 0 while it has not ended (fewer
 * than HTTP_HEAD_MAX bytes); 200 with req filled; else the status of the
 * refusal with req->error: 400 (malformed), 404 (no such path), 405 (not
 * GET or HEAD), 431 (no end within HTTP_HEAD_MAX), 505 (not HTTP/1.x).
 * A body, and what follows the head, are not looked at.
 */
int http_request_parse(const char *buf, size_t len, struct http_request *req);

#endif
