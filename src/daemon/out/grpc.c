// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The gRPC health service: its listener, connections, Check answers and Watch streams. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/out/grpc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "daemon/daemon.h"
#include "daemon/serve.h"
#include "daemon/unit.h"
#include "model/grpc_msg.h"
#include "os/h2_grpc.h"

/* Every gRPC client sends its first request at once: one that has not by then never will. */
#define GRPC_FIRST_REQUEST_NS (5000 * NSEC_PER_MSEC)
/* A connection with no stream open and no request for this long goes (GOAWAY): its slot is free. */
#define GRPC_IDLE_NS (300 * NSEC_PER_SEC)

#define PATH_CHECK "/grpc.health.v1.Health/Check"
#define PATH_WATCH "/grpc.health.v1.Health/Watch"

struct grpc_conn {
	struct grpc *g;
	struct loop_source src; /* fd -1: a free slot */
	struct loop_timer timer;
	struct h2_grpc *h2;
	uint32_t events;		  /* what the loop watches src for */
	bool asked;			  /* a whole request came: the connection is a client's */
	uint64_t requests, requests_then; /* so far; at the last idle check */
	bool unsent;			  /* a Watch message was queued: flush after the round */
};

struct grpc_watch {
	struct grpc_conn *conn;
	struct h2_grpc_stream *stream;
	struct grpc_watch *prev, *next;
	enum grpc_serving sent; /* the last status it was told */
	char name[SERVICE_NAME_MAX + 1];
};

struct grpc {
	struct daemon *d;
	struct loop_source listen;
	struct accept_pause pause; /* out of fds with no spare: listen rests */
	struct loop_job recheck;   /* a unit was freed: every Watch looks again */
	size_t n_conns, n_watches;
	uint64_t refused; /* over GRPC_CONNS_MAX: logged the first time only */
	struct grpc_watch *watches;
	struct grpc_conn conns[GRPC_CONNS_MAX];
};

/* "" is every configured service: SERVING only while each one runs. */
static enum grpc_serving status_of(struct daemon *d, const char *name)
{
	struct unit *u;

	if (name[0]) {
		u = daemon_unit_named(d, name, false);
		return u ? grpc_serving_of(&u->svc) : GRPC_SERVICE_UNKNOWN;
	}
	for (size_t i = 0; i < d->n_units; i++)
		if (!d->units[i]->removed && grpc_serving_of(&d->units[i]->svc) != GRPC_SERVING)
			return GRPC_NOT_SERVING;
	return GRPC_SERVING;
}

static void conn_end(struct grpc_conn *c)
{
	struct loop *loop = c->g->d->loop;

	loop_timer_cancel(loop, &c->timer);
	loop_del(loop, &c->src);
	h2_grpc_free(c->h2); /* each Watch of it goes (watch_closed) */
	c->h2 = NULL;
	c->src.fd = fd_close(c->src.fd);
	c->g->n_conns--;
}

/* After reading or queueing: send what can go, watch for room if some waits, or end it. */
static void conn_sync(struct grpc_conn *c, int err)
{
	uint32_t want;

	c->unsent = false;
	if (!err)
		err = h2_grpc_flush(c->h2);
	if (err) {
		if (err != -ECONNRESET && err != -EPIPE)
			log_debug("msg=\"grpc connection closed\" err=\"%s\"", strerror(-err));
		conn_end(c);
		return;
	}
	want = h2_grpc_blocked(c->h2) ? EPOLLOUT : EPOLLIN; /* see h2_grpc_read */
	if (want != c->events && loop_mod(c->g->d->loop, &c->src, want) == 0)
		c->events = want;
}

static void watch_tell(struct grpc_watch *w, enum grpc_serving st)
{
	uint8_t msg[GRPC_RESPONSE_MAX];

	if (st == w->sent)
		return;
	w->sent = st;
	w->conn->unsent = true;
	if (h2_grpc_send(w->stream, msg, grpc_health_response(st, msg)) == -ENOBUFS)
		log_debug("msg=\"grpc Watch reset: its client reads none of its messages\" "
			  "service=\"%s\"",
			  w->name);
}

static void flush_told(struct grpc *g)
{
	for (size_t i = 0; i < GRPC_CONNS_MAX; i++)
		if (g->conns[i].src.fd >= 0 && g->conns[i].unsent)
			conn_sync(&g->conns[i], 0);
}

static void watch_start(struct grpc_conn *c, struct h2_grpc_stream *s, const char *name)
{
	struct grpc *g = c->g;
	struct grpc_watch *w;

	if (g->n_watches >= GRPC_WATCHES_MAX || !(w = calloc(1, sizeof(*w)))) {
		h2_grpc_error(s, GRPC_RESOURCE_EXHAUSTED,
			      "readyd serves at most 1024 Watch streams");
		return;
	}
	*w = (struct grpc_watch){
		.conn = c, .stream = s, .sent = GRPC_UNKNOWN, .next = g->watches
	};
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (w->next)
		w->next->prev = w;
	g->watches = w;
	g->n_watches++;
	h2_grpc_set_user(s, w);
	if (h2_grpc_open(s) == 0)
		watch_tell(w, status_of(g->d, name));
}

static void watch_closed(void *owner, struct h2_grpc_stream *s, void *user)
{
	struct grpc_conn *c = owner;
	struct grpc_watch *w = user;

	(void)s;
	if (w->prev)
		w->prev->next = w->next;
	else
		c->g->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	c->g->n_watches--;
	free(w);
}

static void check_answer(struct grpc_conn *c, struct h2_grpc_stream *s, const char *name)
{
	enum grpc_serving st = status_of(c->g->d, name);
	uint8_t msg[GRPC_RESPONSE_MAX];
	char why[SERVICE_NAME_MAX + 32];

	if (st == GRPC_SERVICE_UNKNOWN) {
		snprintf(why, sizeof(why), "no service \"%s\"", name);
		h2_grpc_error(s, GRPC_NOT_FOUND, why);
		return;
	}
	if (h2_grpc_open(s) == 0 && h2_grpc_send(s, msg, grpc_health_response(st, msg)) == 0)
		h2_grpc_end(s, GRPC_OK, NULL);
}

/* A request stream ended (inside the session's read: reply only, never flush here). */
static void on_request(void *owner, struct h2_grpc_stream *s, const char *path, const uint8_t *body,
		       size_t len, bool too_long)
{
	struct grpc_conn *c = owner;
	bool watch = strcmp(path, PATH_WATCH) == 0, compressed = false;
	char name[SERVICE_NAME_MAX + 1];
	size_t msg_len = 0;
	long n = 0;
	int err;

	c->asked = true;
	c->requests++;
	if (!watch && strcmp(path, PATH_CHECK) != 0) {
		h2_grpc_error(s, GRPC_UNIMPLEMENTED,
			      "readyd serves grpc.health.v1.Health/Check and /Watch only");
		return;
	}
	if (!too_long)
		n = grpc_frame_parse(body, len, GRPC_REQUEST_MAX, &compressed, &msg_len);
	if (too_long || n == -EMSGSIZE) {
		h2_grpc_error(s, GRPC_RESOURCE_EXHAUSTED, "request over 512 bytes");
		return;
	}
	if (n <= 0 || (size_t)n != len) {
		h2_grpc_error(s, GRPC_INTERNAL, "want exactly one request message");
		return;
	}
	if (compressed) {
		h2_grpc_error(s, GRPC_UNIMPLEMENTED,
			      "compressed messages: readyd takes identity only");
		return;
	}
	err = grpc_health_request(body + GRPC_PREFIX_LEN, msg_len, name, sizeof(name));
	if (err == -ENAMETOOLONG) {
		h2_grpc_error(s, GRPC_INVALID_ARGUMENT, "service names are at most 64 bytes");
		return;
	}
	if (err) {
		h2_grpc_error(s, GRPC_INTERNAL, "not a HealthCheckRequest");
		return;
	}
	if (watch)
		watch_start(c, s, name);
	else
		check_answer(c, s, name);
}

static const struct h2_grpc_ops ops = { .request = on_request, .closed = watch_closed };

static void on_conn(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct grpc_conn *c = src->data;

	(void)loop;
	if (events & ~(uint32_t)EPOLLOUT)
		conn_sync(c, h2_grpc_read(c->h2));
	else
		conn_sync(c, 0);
}

static void on_conn_timer(struct loop *loop, struct loop_timer *t)
{
	struct grpc_conn *c = t->data;

	if (!c->asked) {
		log_debug("msg=\"grpc connection closed: no request within 5 s\"");
		conn_end(c);
		return;
	}
	if (c->requests == c->requests_then && h2_grpc_streams(c->h2) == 0) {
		log_debug("msg=\"grpc connection closed: idle 5 min\"");
		h2_grpc_goaway(c->h2);
		conn_end(c);
		return;
	}
	c->requests_then = c->requests;
	if (loop_timer_arm(loop, t, now_mono_ns() + GRPC_IDLE_NS) < 0)
		conn_end(c); /* cannot watch it: it would hold its slot for good */
}

static void conn_start(void *data, int fd)
{
	struct grpc *g = data;
	struct grpc_conn *c = NULL;

	for (size_t i = 0; i < GRPC_CONNS_MAX && !c; i++)
		if (g->conns[i].src.fd < 0)
			c = &g->conns[i];
	if (!c) { /* the 257th: closed at once, the listener keeps going */
		if (g->refused++ == 0)
			log_warn("msg=\"grpc_listen: more than %d connections at once, closing the "
				 "rest\"",
				 GRPC_CONNS_MAX);
		close(fd);
		return;
	}
	/* A Watch message is a few bytes: Nagle's wait for an ACK would be its delay. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)) < 0)
		log_debug("msg=\"grpc connection: no TCP_NODELAY\" err=\"%s\"", strerror(errno));
	c->h2 = h2_grpc_new(fd, &ops, c, GRPC_STREAMS_MAX, GRPC_PREFIX_LEN + GRPC_REQUEST_MAX);
	if (!c->h2) {
		log_err("msg=\"grpc connection: out of memory\"");
		close(fd);
		return;
	}
	c->src.fd = fd;
	c->asked = c->unsent = false;
	c->requests = c->requests_then = 0;
	c->events = EPOLLIN;
	g->n_conns++;
	if (loop_add(g->d->loop, &c->src, EPOLLIN) < 0) {
		log_err("msg=\"grpc connection not watched\" err=\"%s\"", strerror(errno));
		conn_end(c);
		return;
	}
	if (loop_timer_arm(g->d->loop, &c->timer, now_mono_ns() + GRPC_FIRST_REQUEST_NS) < 0) {
		log_err("msg=\"grpc connection: readyd cannot arm a timer\"");
		conn_end(c);
		return;
	}
	conn_sync(c, 0); /* the server's SETTINGS go first */
}

/* A bounded batch per wakeup: a connect storm cannot hold up the loop. */
static void on_accept(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct grpc *g = src->data;

	(void)loop;
	(void)events;
	serve_accept(&g->pause, "grpc_listen", 64, conn_start);
}

/* Every Watch against the present: after a reload or a unit freed. */
static void recheck_all(struct grpc *g)
{
	for (struct grpc_watch *w = g->watches; w; w = w->next)
		watch_tell(w, status_of(g->d, w->name));
	flush_told(g);
}

static void on_recheck(struct loop *loop, struct loop_job *job)
{
	(void)loop;
	recheck_all(job->data);
}

/*
 * A transition: the Watches of its name, and of "", hear of it now. Only a
 * transition changes a serving status; a removed unit's speaks for no name.
 */
static void grpc_observe(struct unit *u, const struct unit_news *n)
{
	struct grpc *g = u->d->grpc;
	enum grpc_serving all = GRPC_UNKNOWN;

	if (!g || !g->watches || !n->a || !n->a->changed)
		return;
	for (struct grpc_watch *w = g->watches; w; w = w->next) {
		if (!w->name[0]) {
			if (all == GRPC_UNKNOWN)
				all = status_of(u->d, "");
			watch_tell(w, all);
		} else if (!u->removed && strcmp(w->name, u->cfg->name) == 0) {
			watch_tell(w, grpc_serving_of(&u->svc));
		}
	}
	flush_told(g);
}

static void grpc_remove(struct unit *u)
{
	struct grpc *g = u->d->grpc;

	if (g && g->watches)
		loop_job_queue(u->d->loop, &g->recheck); /* once it is out of the table */
}

static void grpc_daemon_news(struct daemon *d, const struct unit_news *n)
{
	(void)n;
	if (d->grpc && d->grpc->watches)
		recheck_all(d->grpc); /* a reload: names come and go */
}

const struct unit_module grpc_module = {
	.name = "grpc",
	.observe = grpc_observe,
	.remove = grpc_remove,
	.daemon_news = grpc_daemon_news,
};

int grpc_open(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct grpc *g;
	int fd;

	if (!cfg->has_grpc)
		return 0;
	fd = serve_bind(d, "grpc_listen", &cfg->grpc, cfg->seen[5], 0);
	if (fd < 0)
		return fd;
	g = calloc(1, sizeof(*g));
	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	g->d = d;
	g->listen = (struct loop_source){ .fd = fd, .fn = on_accept, .data = g };
	g->recheck = (struct loop_job){ .fn = on_recheck, .data = g };
	for (size_t i = 0; i < GRPC_CONNS_MAX; i++)
		g->conns[i] = (struct grpc_conn){
			.g = g,
			.src = { .fd = -1, .fn = on_conn, .data = &g->conns[i] },
			.timer = { .fn = on_conn_timer, .data = &g->conns[i] },
		};
	d->grpc = g;
	return serve_watch(d, &g->listen, &g->pause, "grpc_listen", "grpc health", cfg->grpc.text);
}

void grpc_close(struct daemon *d)
{
	struct grpc *g = d->grpc;

	if (!g)
		return;
	for (size_t i = 0; i < GRPC_CONNS_MAX; i++)
		if (g->conns[i].src.fd >= 0)
			conn_end(&g->conns[i]);
	loop_job_cancel(d->loop, &g->recheck);
	accept_pause_cancel(&g->pause);
	loop_del(d->loop, &g->listen);
	close(g->listen.fd);
	free(g);
	d->grpc = NULL;
}
