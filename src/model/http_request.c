// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HTTP/1.x request heads for the readiness endpoint: RFC 9112's grammar, what readyd needs of it.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "model/http_request.h"
#include "base/duration.h"

static int refuse(struct http_request *req, int status, const char *why)
{
	req->error = why;
	return status;
}

/* RFC 9110 tchar: what a method or a header name is made of. */
static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tchar(s[i]))
			return false;
	return n > 0;
}

/* Visible ASCII, and tabs in header values: anything else in a head is malformed. */
static bool clean(const char *s, size_t n, bool tabs)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(tabs && c == '\t')) || c == 0x7f)
			return false;
	}
	return true;
}

/* The line at *pos (ending "\n", a "\r" before it dropped): its length, or -1 if not ended. */
static long next_line(const char *buf, size_t len, size_t *pos, const char **line)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	size_t n;

	if (!nl)
		return -1;
	*line = buf + *pos;
	n = (size_t)(nl - *line);
	*pos += n + 1;
	if (n && (*line)[n - 1] == '\r')
		n--;
	return (long)n;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into out (size bytes): -EINVAL (bad escape, a NUL), -ENAMETOOLONG. */
static int decode(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++, o++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
				return -EINVAL;
			c = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
			i += 2;
			if (!c)
				return -EINVAL;
		}
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		out[o] = c;
	}
	out[o] = '\0';
	return 0;
}

/* The query's wait=DURATION (other parameters are ignored). */
static int parse_query(const char *q, size_t n, struct http_request *req)
{
	const char *end = q + n;

	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		size_t len = (size_t)((amp ? amp : end) - q);
		char value[32];
		uint64_t wait;

		if (len > 5 && memcmp(q, "wait=", 5) == 0) {
			if (len - 5 >= sizeof(value))
				return refuse(req, 400, "wait= wants a duration like 30s");
			memcpy(value, q + 5, len - 5);
			value[len - 5] = '\0';
			if (duration_parse(value, &wait))
				return refuse(req, 400, "wait= wants a duration like 30s");
			if (wait > HTTP_WAIT_MAX_NS)
				return refuse(req, 400, "wait= is at most 5m");
			req->wait_ns = wait;
		}
		q += len + (amp ? 1 : 0);
	}
	return 200;
}

static int route(const char *path, size_t n, struct http_request *req)
{
	static const char ready[] = "/ready";
	const size_t rn = sizeof(ready) - 1;
	int err;

	if (n == sizeof("/metrics") - 1 && memcmp(path, "/metrics", n) == 0) {
		req->route = HTTP_METRICS;
		return 200;
	}
	if (n < rn || memcmp(path, ready, rn) != 0 || (n > rn && path[rn] != '/'))
		return refuse(req, 404, "no such path: try /ready, /ready/NAME or /metrics");
	if (n <= rn + 1) {
		req->route = HTTP_READY_ALL;
		return 200;
	}
	req->route = HTTP_READY_ONE;
	if (memchr(path + rn + 1, '/', n - rn - 1))
		return refuse(req, 404, "no such path: try /ready, /ready/NAME or /metrics");
	err = decode(path + rn + 1, n - rn - 1, req->name, sizeof(req->name));
	if (err == -ENAMETOOLONG)
		return refuse(req, 404, "no such service (a name longer than 255 bytes)");
	if (err)
		return refuse(req, 400, "a bad %-escape in the path");
	return 200;
}

/* METHOD SP request-target SP HTTP-version */
static int request_line(const char *s, size_t n, struct http_request *req)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *target, *path, *q;
	size_t tn, pn;
	int status;

	if (!sp1 || !clean(s, n, false))
		return refuse(req, 400, "a malformed request line");
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
	if (!sp2 || memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - s)) || !token(s, (size_t)(sp1 - s)))
		return refuse(req, 400, "a malformed request line");
	if ((size_t)(s + n - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 || sp2[7] != '.' ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
		return refuse(req, 400, "a malformed request line");
	if (sp2[6] != '1')
		return refuse(req, 505, "HTTP/1.0 or HTTP/1.1 only");
	target = sp1 + 1;
	tn = (size_t)(sp2 - target);
	if ((size_t)(sp1 - s) == 4 && memcmp(s, "HEAD", 4) == 0)
		req->head = true;
	else if ((size_t)(sp1 - s) != 3 || memcmp(s, "GET", 3) != 0)
		return refuse(req, 405, "GET or HEAD only");
	/* absolute-form (a proxy's): the path after the authority */
	if (tn > 7 &&
	    (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0)) {
		const char *auth =
			target + (target[4] == ':' ? 7 : 8); /* past "http://" or "https://" */
		const char *slash = memchr(auth, '/', tn - (size_t)(auth - target));
		path = slash ? slash : "/";
		pn = slash ? tn - (size_t)(slash - target) : 1;
	} else {
		path = target;
		pn = tn;
	}
	if (!pn || path[0] != '/')
		return refuse(req, 400, "the request target is not a path");
	q = memchr(path, '?', pn);
	status = route(path, q ? (size_t)(q - path) : pn, req);
	if (status == 200 && q)
		status = parse_query(q + 1, pn - (size_t)(q + 1 - path), req);
	if (status == 200 && req->wait_ns && req->route != HTTP_READY_ONE)
		return refuse(req, 400, "wait= only on /ready/NAME");
	return status;
}

static bool mentions(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return true;
	return false;
}

/* field-name ":" OWS field-value OWS: no whitespace before the colon, so no obs-fold either. */
static int header(const char *s, size_t n, struct http_request *req)
{
	const char *colon = memchr(s, ':', n);

	if (!colon || !token(s, (size_t)(colon - s)) ||
	    !clean(colon + 1, n - (size_t)(colon + 1 - s), true))
		return refuse(req, 400, "a malformed header line");
	if ((size_t)(colon - s) == 6 && strncasecmp(s, "accept", 6) == 0 &&
	    mentions(colon + 1, n - 7, "application/json"))
		req->json = true;
	return 200;
}

int http_request_parse(const char *buf, size_t len, struct http_request *req)
{
	size_t pos = 0, limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *line;
	long n;
	int status = 0;

	*req = (struct http_request){ 0 };
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while ((n = next_line(buf, limit, &pos, &line)) == 0)
		;
	if (n > 0)
		status = request_line(line, (size_t)n, req);
	while (n > 0 && (n = next_line(buf, limit, &pos, &line)) > 0)
		if (status != 400 && header(line, (size_t)n, req) != 200)
			status = 400;
	if (n < 0) /* not ended */
		return len >= HTTP_HEAD_MAX ? refuse(req, 431, "a request head over 8 KiB") : 0;
	req->head_len = pos;
	return status;
}
