// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The HAProxy agent-check listener and its clients, on the one loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/out/agent.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "daemon/daemon.h"
#include "daemon/serve.h"
#include "daemon/unit.h"
#include "model/agent_reply.h"

/* HAProxy sends agent-send as soon as it connects: one without it never will. */
#define AGENT_FIRST_BYTE_NS (100 * NSEC_PER_MSEC)
#define AGENT_LINE_NS	    (1000 * NSEC_PER_MSEC)

struct agent_client {
	struct agent *agent;
	struct loop_source src; /* fd -1: a free slot */
	struct loop_timer timer;
	uint64_t accepted_at;
	size_t len;
	char buf[AGENT_REQUEST_MAX];
};

struct agent {
	struct daemon *d;
	struct loop_source listen;
	struct accept_pause pause; /* out of fds with no spare: listen rests */
	size_t n_clients;
	uint64_t refused; /* over AGENT_CLIENTS_MAX: logged the first time only */
	struct agent_client clients[AGENT_CLIENTS_MAX];
};

static void client_end(struct agent_client *c)
{
	struct loop *loop = c->agent->d->loop;

	loop_timer_cancel(loop, &c->timer);
	loop_del(loop, &c->src);
	c->src.fd = fd_close(c->src.fd);
	c->len = 0;
	c->agent->n_clients--;
}

/*
 * One write into an empty socket buffer never blocks for a line this short;
 * what is still unread is drained first, so the close is a FIN, not a RST
 * that could discard the answer before HAProxy reads it.
 */
static void client_answer(struct agent_client *c, const char *reply, size_t len)
{
	char drain[512];

	if (send(c->src.fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("msg=\"agent client gone before its answer\" err=\"%s\"",
			  strerror(errno));
	for (int i = 0; i < 16 && recv(c->src.fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
		;
	shutdown(c->src.fd, SHUT_WR);
	client_end(c);
}

static void client_refuse(struct agent_client *c, const char *why)
{
	char reply[AGENT_REPLY_MAX];

	client_answer(c, reply, agent_reply_refuse(why, reply, sizeof(reply)));
}

static void client_line(struct agent_client *c)
{
	char name[AGENT_REQUEST_MAX], reply[AGENT_REPLY_MAX];
	int got = agent_request_name(c->buf, c->len, name, sizeof(name));
	struct unit *u;

	if (got == -EMSGSIZE) {
		client_refuse(c, "request longer than 256 bytes");
		return;
	}
	if (got == 0)
		return;
	u = daemon_unit_named(c->agent->d, name, false);
	client_answer(c, reply, agent_reply(u ? &u->svc : NULL, name, reply, sizeof(reply)));
}

static void on_client(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct agent_client *c = src->data;
	ssize_t n = recv(src->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);

	(void)loop;
	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone (or reset) before its line ended: nobody to answer */
		client_end(c);
		return;
	}
	c->len += (size_t)n;
	client_line(c);
}

static void on_client_timer(struct loop *loop, struct loop_timer *t)
{
	struct agent_client *c = t->data;
	uint64_t line_end = c->accepted_at + AGENT_LINE_NS;

	if (c->len == 0) {
		client_refuse(c, "agent-send names the service");
		return;
	}
	if (now_mono_ns() < line_end && loop_timer_arm(loop, t, line_end) == 0)
		return;
	client_refuse(c, "no end of line within 1 s");
}

static struct agent_client *free_slot(struct agent *a)
{
	for (size_t i = 0; i < AGENT_CLIENTS_MAX; i++)
		if (a->clients[i].src.fd < 0)
			return &a->clients[i];
	return NULL;
}

static void client_start(void *data, int fd)
{
	struct agent *a = data;
	struct agent_client *c = free_slot(a);

	if (!c) { /* the 65th: closed at once, the listener keeps going */
		if (a->refused++ == 0)
			log_warn("msg=\"agent_listen: more than %d clients at once, closing the "
				 "rest\"",
				 AGENT_CLIENTS_MAX);
		close(fd);
		return;
	}
	c->src.fd = fd;
	c->accepted_at = now_mono_ns();
	c->len = 0;
	a->n_clients++;
	if (loop_add(a->d->loop, &c->src, EPOLLIN) < 0) {
		log_err("msg=\"agent client not watched\" err=\"%s\"", strerror(errno));
		c->src.fd = fd_close(fd);
		a->n_clients--;
		return;
	}
	if (loop_timer_arm(a->d->loop, &c->timer, c->accepted_at + AGENT_FIRST_BYTE_NS) < 0)
		client_refuse(c, "readyd cannot arm a timer");
}

/* A bounded batch per wakeup: a connect storm cannot hold up the loop. */
static void on_accept(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct agent *a = src->data;

	(void)loop;
	(void)events;
	serve_accept(&a->pause, "agent_listen", AGENT_CLIENTS_MAX, client_start);
}

int agent_open(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct agent *a;
	int fd;

	if (!cfg->has_agent)
		return 0;
	fd = serve_bind(d, "agent_listen", &cfg->agent, cfg->seen[4], 0);
	if (fd < 0)
		return fd;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	a->d = d;
	a->listen = (struct loop_source){ .fd = fd, .fn = on_accept, .data = a };
	for (size_t i = 0; i < AGENT_CLIENTS_MAX; i++)
		a->clients[i] = (struct agent_client){
			.agent = a,
			.src = { .fd = -1, .fn = on_client, .data = &a->clients[i] },
			.timer = { .fn = on_client_timer, .data = &a->clients[i] },
		};
	d->agent = a;
	return serve_watch(d, &a->listen, &a->pause, "agent_listen", "agent-check",
			   cfg->agent.text);
}

void agent_close(struct daemon *d)
{
	struct agent *a = d->agent;

	if (!a)
		return;
	for (size_t i = 0; i < AGENT_CLIENTS_MAX; i++)
		if (a->clients[i].src.fd >= 0)
			client_end(&a->clients[i]);
	accept_pause_cancel(&a->pause);
	loop_del(d->loop, &a->listen);
	close(a->listen.fd);
	free(a);
	d->agent = NULL;
}
