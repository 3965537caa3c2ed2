// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The readiness endpoint's listener and clients, on the one loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/out/http.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "daemon/daemon.h"
#include "daemon/serve.h"
#include "daemon/unit.h"
#include "model/http_reply.h"
#include "model/http_request.h"
#include "model/metrics.h"
#include "os/accept_spare.h"

/* A probe sends its request as it connects; a client slower than this holds a slot for nothing. */
#define HTTP_HEAD_NS (3 * NSEC_PER_SEC)
/* /metrics of 1,000 services is ~1 MB: a scraper that reads none of it in this long is gone. */
#define HTTP_SEND_NS (10 * NSEC_PER_SEC)

enum http_phase {
	HTTP_FREE,    /* the slot is free (fd -1) */
	HTTP_READING, /* the request head is coming */
	HTTP_WAITING, /* a long-poll: until its unit runs or its timer fires */
	HTTP_SENDING, /* the reply did not fit in one send: on EPOLLOUT */
};

struct http_client {
	struct http *http;
	struct loop_source src;
	struct loop_timer timer;
	enum http_phase phase;
	struct unit *unit; /* HTTP_WAITING: whom for */
	bool head, json;   /* HTTP_WAITING: what the request asked */
	bool metrics;	   /* its reply is /metrics or /ready: counted in n_metrics */
	struct strbuf out; /* the reply; sent: how much of it went */
	size_t sent, len;
	char buf[HTTP_HEAD_MAX];
};

struct http {
	struct daemon *d;
	struct loop_source listen;
	struct accept_pause pause; /* out of fds with no spare: listen rests */
	size_t n_clients, n_waiting, n_metrics;
	uint64_t refused;   /* over HTTP_CLIENTS_MAX: logged the first time only */
	struct strbuf body; /* a reply's body, rendered before its head (Content-Length) */
	/* The last /metrics rendering: when it was made, and what it cost the loop. */
	struct strbuf metrics;
	uint64_t metrics_at, metrics_cost;
	bool metrics_stale; /* a state changed since: the next /metrics renders anew */
	struct http_client clients[HTTP_CLIENTS_MAX];
};

static void client_end(struct http_client *c)
{
	struct http *h = c->http;

	loop_timer_cancel(h->d->loop, &c->timer);
	loop_del(h->d->loop, &c->src);
	c->src.fd = fd_close(c->src.fd);
	if (c->phase == HTTP_WAITING)
		h->n_waiting--;
	if (c->metrics)
		h->n_metrics--;
	c->metrics = false;
	c->phase = HTTP_FREE;
	c->unit = NULL;
	c->len = c->sent = 0;
	strbuf_free(&c->out);
	h->n_clients--;
}

/*
 * The reply went out: what is still unread is drained first, so that the
 * close is a FIN, not a RST that could discard the reply before it is read.
 */
static void client_done(struct http_client *c)
{
	char drain[512];

	for (int i = 0; i < 16 && recv(c->src.fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
		;
	shutdown(c->src.fd, SHUT_WR);
	client_end(c);
}

static void client_flush(struct http_client *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->src.fd, c->out.data + c->sent, c->out.len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			log_debug("msg=\"http client gone before its reply\" err=\"%s\"",
				  strerror(errno));
			client_end(c);
			return;
		}
		c->sent += (size_t)n;
	}
	if (c->sent == c->out.len) {
		client_done(c);
		return;
	}
	if (c->phase != HTTP_SENDING) { /* the rest when the socket has room */
		log_debug("msg=\"http reply waits for its client to read\" sent=%zu left=%zu",
			  c->sent, c->out.len - c->sent);
		if (c->phase == HTTP_WAITING)
			c->http->n_waiting--;
		c->phase = HTTP_SENDING;
		if (loop_mod(c->http->d->loop, &c->src, EPOLLOUT) < 0 ||
		    loop_timer_arm(c->http->d->loop, &c->timer, now_mono_ns() + HTTP_SEND_NS) < 0)
			client_end(c);
	}
}

/* Reply with body (HEAD: its length alone), then close. */
static void client_reply_with(struct http_client *c, int status, const char *type, bool head,
			      const char *extra, const struct strbuf *body)
{
	static const struct strbuf oom = { .data = "readyd is out of memory\n", .len = 24 };

	if (body->oom) {
		body = &oom;
		status = 500, type = HTTP_TYPE_TEXT, extra = NULL;
	}
	strbuf_reset(&c->out);
	http_reply_head(&c->out, status, type, body->len, extra);
	if (!head && body->len)
		strbuf_append(&c->out, body->data, body->len);
	strbuf_reset(&c->http->body);
	if (c->out.oom) {
		log_err("msg=\"http reply not sent: out of memory\"");
		client_end(c);
		return;
	}
	c->sent = 0;
	client_flush(c);
}

/* Reply with the body in h->body. */
static void client_reply(struct http_client *c, int status, const char *type, bool head,
			 const char *extra)
{
	client_reply_with(c, status, type, head, extra, &c->http->body);
}

static void client_refuse(struct http_client *c, int status, const char *why, bool json)
{
	strbuf_reset(&c->http->body);
	http_body_error(&c->http->body, why, json);
	client_reply(c, status, json ? HTTP_TYPE_JSON : HTTP_TYPE_TEXT, false,
		     status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
}

static void reply_service(struct http_client *c, const struct unit *u, bool head, bool json)
{
	struct strbuf *body = &c->http->body;

	strbuf_reset(body);
	http_body_service(body, &u->svc, json);
	strbuf_printf(body, "%s", json ? "\n" : "");
	client_reply(c, u->svc.state == SVC_RUNNING ? 200 : 503,
		     json ? HTTP_TYPE_JSON : HTTP_TYPE_TEXT, head, NULL);
}

/* The services a reply shows: one per name (a removed one may still be stopping). */
static const struct svc **current_svcs(struct daemon *d, size_t *n)
{
	const struct svc **svcs = calloc(d->n_units ? d->n_units : 1, sizeof(*svcs));

	*n = 0;
	for (size_t i = 0; svcs && i < d->n_units; i++)
		if (!d->units[i]->removed)
			svcs[(*n)++] = &d->units[i]->svc;
	return svcs;
}

static void reply_all(struct http_client *c, const struct http_request *req)
{
	struct daemon *d = c->http->d;
	size_t n;
	const struct svc **svcs = current_svcs(d, &n);
	bool all;

	/* Every service's line (1.5 MB of JSON at 10,000): bounded in flight like /metrics. */
	if (c->http->n_metrics >= HTTP_METRICS_MAX) {
		free(svcs);
		client_refuse(c, 503, "more than 8 whole-node replies in flight: ask again later",
			      req->json);
		return;
	}
	c->metrics = true;
	c->http->n_metrics++;
	strbuf_reset(&c->http->body);
	if (!svcs) {
		c->http->body.oom = true;
		client_reply(c, 500, HTTP_TYPE_TEXT, req->head, NULL);
		return;
	}
	all = http_body_services(&c->http->body, svcs, n, req->json);
	free(svcs);
	client_reply(c, all ? 200 : 503, req->json ? HTTP_TYPE_JSON : HTTP_TYPE_TEXT, req->head,
		     NULL);
}

/* What export.c writes to the textfile, rendered now into h->metrics. */
static void render_metrics(struct http *h)
{
	struct daemon *d = h->d;
	struct metrics_global g = {
		.version = READYD_VERSION,
		.mode = tracer_mode_name(tracer_mode(d->tracer)),
		.events_total = tracer_events(d->tracer),
		.events_dropped = d->tracer ? tracer_dropped(d->tracer) : 0,
		.connections_shed = accept_shed_total(),
	};
	uint64_t t0 = now_mono_ns();
	size_t n;
	const struct svc **svcs = current_svcs(d, &n);

	strbuf_reset(&h->metrics);
	if (svcs)
		metrics_render(&h->metrics, &g, svcs, n);
	else
		h->metrics.oom = true;
	free(svcs);
	h->metrics_at = now_mono_ns();
	h->metrics_cost = h->metrics_at - t0;
	h->metrics_stale = false;
}

/*
 * Rendered at the request, but the loop spends at most a tenth of its time
 * on it, as on the textfile: 1,000 services take ~15 ms, and 256 clients
 * asking at once would hold the loop 4 s. Within ten renderings' time of
 * the last one, that one is sent again (at 1,000 services: 150 ms old at
 * most, and only to scrapers that come that often). Each copy in flight is
 * the size of the textfile: at most HTTP_METRICS_MAX at once.
 */
static void reply_metrics(struct http_client *c, const struct http_request *req)
{
	struct http *h = c->http;

	if (h->n_metrics >= HTTP_METRICS_MAX) {
		client_refuse(c, 503, "more than 8 /metrics replies in flight: scrape again later",
			      false);
		return;
	}
	/* Resent only while nothing but counters moved: a change is in the next reply. */
	if (!h->metrics.len || h->metrics.oom || h->metrics_stale ||
	    now_mono_ns() >= h->metrics_at + 10 * h->metrics_cost)
		render_metrics(h);
	c->metrics = true;
	h->n_metrics++;
	client_reply_with(c, 200, HTTP_TYPE_METRICS, req->head, NULL, &h->metrics);
}

static void reply_one(struct http_client *c, const struct http_request *req)
{
	struct http *h = c->http;
	struct unit *u = daemon_unit_named(h->d, req->name, false);
	char why[HTTP_NAME_MAX + 32];

	if (!u) {
		snprintf(why, sizeof(why), "no such service %s", req->name);
		client_refuse(c, 404, why, req->json);
		return;
	}
	if (!req->wait_ns || u->svc.state == SVC_RUNNING) {
		reply_service(c, u, req->head, req->json);
		return;
	}
	if (h->n_waiting >= HTTP_WAITERS_MAX) {
		client_refuse(c, 503, "more than 128 clients waiting: ask again later", req->json);
		return;
	}
	if (loop_timer_arm(h->d->loop, &c->timer, now_mono_ns() + req->wait_ns) < 0) {
		client_refuse(c, 500, "readyd cannot arm a timer", req->json);
		return;
	}
	c->phase = HTTP_WAITING;
	c->unit = u;
	c->head = req->head;
	c->json = req->json;
	h->n_waiting++;
}

static void client_request(struct http_client *c)
{
	struct http_request req;
	int status = http_request_parse(c->buf, c->len, &req);

	if (status == 0)
		return;
	if (status != 200) {
		client_refuse(c, status, req.error, req.json);
		return;
	}
	if (req.route == HTTP_METRICS)
		reply_metrics(c, &req);
	else if (req.route == HTTP_READY_ALL)
		reply_all(c, &req);
	else
		reply_one(c, &req);
}

/*
 * Parse the head only when something can be decided: its first line just
 * ended (a bad request line is refused at once), its blank line may have
 * arrived, or the buffer is full (431). Parsing it whole on each segment was
 * quadratic: 8 KiB trickled a line at a time cost 6 ms of the loop.
 */
static bool worth_parsing(const struct http_client *c, size_t was)
{
	size_t from = was > 3 ? was - 3 : 0;

	if (c->len >= sizeof(c->buf))
		return true;
	if (!memchr(c->buf, '\n', was)) /* the first line, ended now? */
		return memchr(c->buf + was, '\n', c->len - was) != NULL;
	for (size_t i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\n' &&
		    (c->buf[i + 1] == '\n' ||
		     (c->buf[i + 1] == '\r' && i + 2 < c->len && c->buf[i + 2] == '\n')))
			return true;
	return false;
}

static void on_client(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct http_client *c = src->data;
	char scratch[512];
	ssize_t n;

	(void)loop;
	if (c->phase == HTTP_SENDING) {
		client_flush(c);
		return;
	}
	(void)events;
	if (c->phase == HTTP_WAITING) /* more bytes are not looked at; a close ends the wait */
		n = recv(src->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
	else
		n = recv(src->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone (or reset): nobody to answer */
		client_end(c);
		return;
	}
	if (c->phase == HTTP_READING) {
		size_t was = c->len;

		c->len += (size_t)n;
		if (worth_parsing(c, was))
			client_request(c);
	}
}

static void on_client_timer(struct loop *loop, struct loop_timer *t)
{
	struct http_client *c = t->data;

	(void)loop;
	if (c->phase == HTTP_WAITING)
		reply_service(c, c->unit, c->head, c->json); /* 503: it did not run in time */
	else if (c->phase == HTTP_READING)
		client_refuse(c, 408, "no request head within 3 s", false);
	else
		client_end(c); /* it reads nothing of its reply */
}

/* The waiting clients of u hear at once that it runs, in the iteration of the transition. */
static void observe(struct unit *u, const struct unit_news *n)
{
	struct http *h = u->d->http;

	if (h && (n->dirty || n->spawned || (n->a && (n->a->changed || n->a->dirty))))
		h->metrics_stale = true;
	if (!h || !h->n_waiting || u->svc.state != SVC_RUNNING)
		return;
	for (size_t i = 0; i < HTTP_CLIENTS_MAX && h->n_waiting; i++)
		if (h->clients[i].phase == HTTP_WAITING && h->clients[i].unit == u)
			reply_service(&h->clients[i], u, h->clients[i].head, h->clients[i].json);
}

static void remove_unit(struct unit *u)
{
	struct http *h = u->d->http;

	if (h)
		h->metrics_stale = true;
	for (size_t i = 0; h && h->n_waiting && i < HTTP_CLIENTS_MAX; i++)
		if (h->clients[i].phase == HTTP_WAITING && h->clients[i].unit == u)
			client_refuse(&h->clients[i], 404, "the service was removed by a reload",
				      h->clients[i].json);
}

const struct unit_module http_module = {
	.name = "http",
	.remove = remove_unit,
	.observe = observe,
};

static struct http_client *free_slot(struct http *h)
{
	for (size_t i = 0; i < HTTP_CLIENTS_MAX; i++)
		if (h->clients[i].phase == HTTP_FREE)
			return &h->clients[i];
	return NULL;
}

/* The 257th: told so in one send to an empty socket buffer, and closed; the listener goes on. */
static void refuse_extra(struct http *h, int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Content-Length: 37\r\nConnection: close\r\n\r\n"
				   "readyd: too many HTTP clients at once\n";
	char drain[512];

	if (h->refused++ == 0)
		log_warn("msg=\"http_listen: more than %d clients at once, refusing the rest\"",
			 HTTP_CLIENTS_MAX);
	(void)!recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
	(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void client_start(void *data, int fd)
{
	struct http *h = data;
	struct http_client *c = free_slot(h);

	if (!c) {
		refuse_extra(h, fd);
		return;
	}
	c->src.fd = fd;
	c->phase = HTTP_READING;
	c->len = 0;
	h->n_clients++;
	if (loop_add(h->d->loop, &c->src, EPOLLIN) < 0) {
		log_err("msg=\"http client not watched\" err=\"%s\"", strerror(errno));
		c->src.fd = fd_close(fd);
		c->phase = HTTP_FREE;
		h->n_clients--;
		return;
	}
	if (loop_timer_arm(h->d->loop, &c->timer, now_mono_ns() + HTTP_HEAD_NS) < 0)
		client_refuse(c, 500, "readyd cannot arm a timer", false);
}

/* A bounded batch per wakeup: a connect storm cannot hold up the loop. */
static void on_accept(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct http *h = src->data;

	(void)loop;
	(void)events;
	serve_accept(&h->pause, "http_listen", 64, client_start);
}

int http_open(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct http *h;
	int fd;

	if (!cfg->has_http)
		return 0;
	/*
	 * A backlog past HTTP_CLIENTS_MAX (os/tcp_listen.c's is 64): a burst of
	 * probes waits in the queue in order rather than in SYN retries, and the
	 * one over the limit is accepted to be told 503.
	 */
	fd = serve_bind(d, "http_listen", &cfg->http, cfg->seen[6], 2 * HTTP_CLIENTS_MAX);
	if (fd < 0)
		return fd;
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->d = d;
	h->listen = (struct loop_source){ .fd = fd, .fn = on_accept, .data = h };
	for (size_t i = 0; i < HTTP_CLIENTS_MAX; i++)
		h->clients[i] = (struct http_client){
			.http = h,
			.src = { .fd = -1, .fn = on_client, .data = &h->clients[i] },
			.timer = { .fn = on_client_timer, .data = &h->clients[i] },
		};
	d->http = h;
	return serve_watch(d, &h->listen, &h->pause, "http_listen", "http readiness",
			   cfg->http.text);
}

void http_close(struct daemon *d)
{
	struct http *h = d->http;

	if (!h)
		return;
	for (size_t i = 0; i < HTTP_CLIENTS_MAX; i++)
		if (h->clients[i].phase != HTTP_FREE)
			client_end(&h->clients[i]);
	accept_pause_cancel(&h->pause);
	loop_del(d->loop, &h->listen);
	close(h->listen.fd);
	strbuf_free(&h->body);
	strbuf_free(&h->metrics);
	free(h);
	d->http = NULL;
}
