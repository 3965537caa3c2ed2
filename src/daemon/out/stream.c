// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/out/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/json.h"
#include "daemon/unit.h"
#include "os/control_socket.h"
#include "base/clock.h"
#include "base/log.h"

/* Every stream waits on this tag: one per daemon is enough, as a stream is one client. */
#define STREAM_TAG (&stream_module)

/* What one stream follows: the ids of its services, or all when n == 0. */
struct stream_filter {
	size_t n;
	uint32_t ids[];
};

static bool follows(const struct stream_filter *f, const struct unit *u)
{
	if (!f || !f->n)
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (f->ids[i] == u->id)
			return true;
	return false;
}

static void refuse(struct control_client *c, const char *msg)
{
	log_warn("msg=\"event stream refused\" why=\"%s\"", msg);
	json_reply_error(c, msg, false);
}

/* The filter for names, or NULL with c answered. */
static struct stream_filter *filter_of(struct daemon *d, struct control_client *c,
				       const cJSON *names)
{
	size_t n = cJSON_IsArray(names) ? (size_t)cJSON_GetArraySize(names) : 0;
	struct stream_filter *f;
	const cJSON *v;
	char msg[160];

	if (names && !cJSON_IsArray(names)) {
		refuse(c, "\"services\" must be an array of service names");
		return NULL;
	}
	if (n > STREAM_NAMES_MAX) {
		snprintf(msg, sizeof(msg), "a stream names at most %d services; omit them for all",
			 STREAM_NAMES_MAX);
		refuse(c, msg);
		return NULL;
	}
	f = calloc(1, sizeof(*f) + n * sizeof(f->ids[0]));
	if (!f) {
		refuse(c, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(v, names)
	{
		struct unit *u =
			cJSON_IsString(v) ? daemon_unit_named(d, v->valuestring, false) : NULL;
		if (!u) {
			snprintf(msg, sizeof(msg), "no service named \"%.64s\"",
				 cJSON_IsString(v) ? v->valuestring : "");
			free(f);
			json_reply_error(c, msg, false);
			return NULL;
		}
		f->ids[f->n++] = u->id;
	}
	return f;
}

/* {"event": kind, "service", "mono_ns", "time": ISO 8601 UTC, ms} */
static cJSON *line_new(const char *kind, const struct unit *u, uint64_t mono, uint64_t real)
{
	cJSON *ev = cJSON_CreateObject();
	time_t secs = (time_t)(real / NSEC_PER_SEC);
	char at[40], iso[32];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(at, sizeof(at), "%s.%03uZ", iso,
		 (unsigned int)(real % NSEC_PER_SEC / NSEC_PER_MSEC));
	cJSON_AddStringToObject(ev, "event", kind);
	if (u)
		cJSON_AddStringToObject(ev, "service", u->cfg->name);
	cJSON_AddNumberToObject(ev, "mono_ns", (double)mono);
	cJSON_AddStringToObject(ev, "time", at);
	return ev;
}

void stream_subscribe(struct daemon *d, struct control_client *c, const cJSON *names)
{
	struct stream_filter *f;
	cJSON *hello;
	char msg[128], *text;

	if (!d->control)
		return;
	if (control_waiting_on(d->control, STREAM_TAG) >= STREAM_CLIENTS_MAX) {
		snprintf(msg, sizeof(msg), "too many event streams (%d); try again later",
			 STREAM_CLIENTS_MAX);
		refuse(c, msg);
		return;
	}
	if (!control_may_wait(c)) {
		refuse(c, "too many clients waiting; try again");
		return;
	}
	f = filter_of(d, c, names);
	if (!f)
		return;
	log_info("msg=\"event stream opened\" services=%zu streams=%zu", f->n,
		 control_waiting_on(d->control, STREAM_TAG) + 1);
	control_stream(c, STREAM_TAG, f, free);
	hello = line_new("subscribed", NULL, now_mono_ns(), now_real_ns());
	cJSON_AddItemToObject(hello, "services",
			      names ? cJSON_Duplicate(names, true) : cJSON_CreateArray());
	cJSON_AddNumberToObject(hello, "backlog_max", STREAM_BACKLOG_MAX);
	text = cJSON_PrintUnformatted(hello);
	cJSON_Delete(hello);
	if (text)
		control_send(c, text);
	free(text);
}

/* One moment's lines about one unit. */
struct batch {
	const struct unit *u;
	char *lines[4];
	size_t n;
};

static void add_line(struct batch *b, cJSON *ev)
{
	char *text = cJSON_PrintUnformatted(ev);

	cJSON_Delete(ev);
	if (text && b->n < sizeof(b->lines) / sizeof(b->lines[0]))
		b->lines[b->n++] = text;
	else
		free(text);
}

static const char drop_line[] =
	"{\"ok\":false,\"dropped\":true,\"error\":\"dropped: more than 65536 bytes of events "
	"unread; read faster, or name the services to follow\"}";

static void send_batch(struct control_client *c, void *arg)
{
	const struct batch *b = arg;

	if (!follows(control_stream_data(c), b->u))
		return;
	for (size_t i = 0; i < b->n; i++)
		if (!control_send_bounded(c, b->lines[i], STREAM_BACKLOG_MAX, drop_line)) {
			log_warn("msg=\"event stream dropped: its reader is too slow\" "
				 "limit_bytes=%d",
				 STREAM_BACKLOG_MAX);
			return;
		}
}

static void finding(struct batch *b, uint64_t mono, uint64_t real, const char *what,
		    const char *listener, const char *detail)
{
	cJSON *ev = line_new("finding", b->u, mono, real);

	cJSON_AddStringToObject(ev, "finding", what);
	if (listener)
		cJSON_AddStringToObject(ev, "listener", listener);
	cJSON_AddStringToObject(ev, "detail", detail);
	add_line(b, ev);
}

static void observe(struct unit *u, const struct unit_news *n)
{
	const struct svc_actions *a = n->a;
	struct batch b = { .u = u };
	uint64_t mono, real;
	cJSON *ev;

	if (!u->d->control || !control_waiting_on(u->d->control, STREAM_TAG))
		return; /* nobody listens: nothing is built */
	mono = now_mono_ns();
	real = now_real_ns();
	if (n->spawned) {
		ev = line_new("spawn", u, mono, real);
		cJSON_AddNumberToObject(ev, "pid", u->svc.pid);
		add_line(&b, ev);
	}
	if (a && a->level_changed && a->listener) {
		ev = line_new("listener", u, mono, real);
		cJSON_AddStringToObject(ev, "listener", a->listener->label);
		cJSON_AddStringToObject(ev, "level", level_name(a->listener->level));
		add_line(&b, ev);
	}
	if (a && a->queue_changed && a->listener)
		finding(&b, mono, real, a->listener->stall[0] ? "accept_queue" : "accept_queue_ok",
			a->listener->label,
			a->listener->stall[0] ? a->listener->stall
					      : "its accept queue moves again");
	if (a && a->mismatch)
		finding(&b, mono, real, "ready_mismatch", NULL,
			"it said READY=1 while a declared listener is not accepting");
	if (a && a->changed) {
		ev = line_new("transition", u, mono, real);
		cJSON_AddStringToObject(ev, "from", svc_state_name(a->from));
		cJSON_AddStringToObject(ev, "to", svc_state_name(a->to));
		cJSON_AddStringToObject(ev, "cause", u->svc.cause);
		add_line(&b, ev);
	}
	if (b.n)
		control_wake(u->d->control, STREAM_TAG, send_batch, &b);
	for (size_t i = 0; i < b.n; i++)
		free(b.lines[i]);
}

struct end {
	struct daemon *d;
	const char *why;
};

static void end_one(struct control_client *c, void *arg)
{
	const struct end *e = arg;
	cJSON *obj = json_reply_new(e->d);

	cJSON_AddStringToObject(obj, "end", e->why);
	json_reply(c, obj);
}

void stream_end(struct daemon *d, const char *why)
{
	struct end e = { .d = d, .why = why };

	if (d->control)
		control_wake(d->control, STREAM_TAG, end_one, &e);
}

const struct unit_module stream_module = {
	.name = "stream",
	.observe = observe,
};
