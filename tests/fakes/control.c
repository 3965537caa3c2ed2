// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The control socket without a socket: os/control_socket.h, with clients the test makes. */
#include "os/control_socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakes/fakes.h"

#define CLIENTS_MAX 16

struct control_client {
	struct control *ctl;
	char out[8192];
	size_t len;
	bool replied;
	const void *wait;
	int wait_kind;
	void *stream;
	void (*stream_free)(void *data);
};

struct control {
	control_request_fn fn;
	void *ctx;
	struct control_client *clients[CLIENTS_MAX];
};

static struct control *the;

int control_open(struct loop *loop, const char *path, gid_t gid, control_request_fn fn, void *ctx,
		 struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	(void)loop, (void)path, (void)gid;
	if (!ctl)
		return -ENOMEM;
	ctl->fn = fn;
	ctl->ctx = ctx;
	the = *out = ctl;
	return 0;
}

void control_close(struct control *ctl)
{
	if (ctl == the)
		the = NULL;
	free(ctl);
}

static void append(struct control_client *c, const char *data)
{
	size_t n = strlen(data);

	if (c->len + n + 2 > sizeof(c->out))
		return;
	memcpy(c->out + c->len, data, n);
	c->len += n;
	c->out[c->len++] = '\n';
	c->out[c->len] = '\0';
}

void control_reply(struct control_client *c, const char *data)
{
	if (c->replied)
		return;
	append(c, data);
	c->replied = true;
	c->wait = NULL;
}

bool control_send(struct control_client *c, const char *data)
{
	if (c->replied)
		return false;
	append(c, data);
	return true;
}

void control_wait(struct control_client *c, const void *tag, int kind)
{
	c->wait = tag;
	c->wait_kind = kind;
}

bool control_may_wait(const struct control_client *c)
{
	size_t n = 0;

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		n += c->ctl->clients[i] && c->ctl->clients[i] != c && c->ctl->clients[i]->wait;
	return n < CONTROL_WAITERS_MAX;
}

int control_wait_kind(const struct control_client *c)
{
	return c->wait_kind;
}

void control_wake(struct control *ctl, const void *tag,
		  void (*fn)(struct control_client *c, void *ctx), void *ctx)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (ctl->clients[i] && !ctl->clients[i]->replied && ctl->clients[i]->wait == tag)
			fn(ctl->clients[i], ctx);
}

void control_stream(struct control_client *c, const void *tag, void *data,
		    void (*free_fn)(void *data))
{
	c->stream = data;
	c->stream_free = free_fn;
	control_wait(c, tag, 0);
}

void *control_stream_data(const struct control_client *c)
{
	return c->stream;
}

size_t control_waiting_on(const struct control *ctl, const void *tag)
{
	size_t n = 0;

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		n += ctl->clients[i] && !ctl->clients[i]->replied && ctl->clients[i]->wait == tag;
	return n;
}

/* The test is the reader that never reads: `limit` counts everything sent. */
bool control_send_bounded(struct control_client *c, const char *data, size_t limit,
			  const char *last)
{
	if (c->replied)
		return false;
	if (c->len + strlen(data) + 1 > limit) {
		control_reply(c, last);
		return false;
	}
	return control_send(c, data);
}

struct control_client *fake_control_request(const char *line, uid_t uid)
{
	struct control_client *c = calloc(1, sizeof(*c));
	struct control_peer peer = { .cred = { .pid = 1, .uid = uid, .gid = uid } };

	if (!c)
		return NULL;
	c->ctl = the;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (!the->clients[i]) {
			the->clients[i] = c;
			break;
		}
	the->fn(c, line, &peer, the->ctx);
	return c;
}

const char *fake_control_output(const struct control_client *c)
{
	return c->out;
}

bool fake_control_answered(const struct control_client *c)
{
	return c->replied;
}

void fake_control_free(struct control_client *c)
{
	for (size_t i = 0; the && i < CLIENTS_MAX; i++)
		if (the->clients[i] == c)
			the->clients[i] = NULL;
	if (c->stream_free)
		c->stream_free(c->stream);
	free(c);
}
