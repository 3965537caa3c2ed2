// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Control requests -> JSON replies. The protocol: docs/control-protocol.md. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#define PROTOCOL_VERSION 1

static double ms(uint64_t ns)
{
	return (double)ns / NSEC_PER_MSEC;
}

static void reply_json(struct control_client *c, cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);

	control_reply(c, text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	cJSON_Delete(obj);
}

static void reply_error(struct control_client *c, const char *fmt, const char *arg)
{
	cJSON *obj = cJSON_CreateObject();
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	cJSON_AddFalseToObject(obj, "ok");
	cJSON_AddStringToObject(obj, "error", msg);
	reply_json(c, obj);
}

static cJSON *reply_new(struct daemon *d)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddTrueToObject(obj, "ok");
	cJSON_AddNumberToObject(obj, "protocol", PROTOCOL_VERSION);
	cJSON_AddStringToObject(obj, "mode", tracer_mode_name(tracer_mode(d->tracer)));
	cJSON_AddNumberToObject(obj, "now_mono_ns", (double)now_mono_ns());
	return obj;
}

static size_t listeners_ready(const struct svc *s, size_t *total)
{
	const struct listener *ls = s->n_listeners ? s->listeners : s->observed;
	size_t n = s->n_listeners ? s->n_listeners : s->n_observed, ready = 0;

	for (size_t i = 0; i < n; i++)
		ready += listener_ready(&ls[i]);
	*total = n;
	return ready;
}

/* The fields list and status share. */
static cJSON *service_summary(const struct unit *u, uint64_t now)
{
	const struct svc *s = &u->svc;
	cJSON *o = cJSON_CreateObject();
	size_t total, ready = listeners_ready(s, &total);

	cJSON_AddStringToObject(o, "name", u->cfg->name);
	cJSON_AddStringToObject(o, "state", svc_state_name(s->state));
	cJSON_AddNumberToObject(o, "pid", s->pid);
	cJSON_AddNumberToObject(o, "since_ms", s->since ? ms(now - s->since) : -1);
	if (s->ready_at)
		cJSON_AddNumberToObject(o, "ready_ms", ms(s->ready_at - s->spawned_at));
	else
		cJSON_AddNullToObject(o, "ready_ms");
	cJSON_AddNumberToObject(o, "listeners_ready", (double)ready);
	cJSON_AddNumberToObject(o, "listeners_total", (double)total);
	cJSON_AddBoolToObject(o, "declared", s->n_listeners > 0);
	cJSON_AddStringToObject(o, "cause", s->cause);
	return o;
}

static void add_time(cJSON *o, const char *key, uint64_t at, uint64_t origin)
{
	if (at && at >= origin)
		cJSON_AddNumberToObject(o, key, ms(at - origin));
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *listener_json(const struct svc *s, const struct listener *l)
{
	cJSON *o = cJSON_CreateObject(), *at = cJSON_CreateObject(), *mono = cJSON_CreateObject();
	char bound[SOCK_ADDR_TEXT_MAX];

	cJSON_AddStringToObject(o, "listen", l->label);
	cJSON_AddBoolToObject(o, "declared", l->spec != NULL);
	cJSON_AddStringToObject(o, "level", level_name(l->level));
	cJSON_AddBoolToObject(o, "ready", listener_ready(l));
	if (l->has_bound) {
		sock_addr_format(bound, sizeof(bound), &l->bound);
		cJSON_AddStringToObject(o, "bound", bound);
	}
	if (l->level == LEVEL_ACCEPTING) {
		cJSON_AddStringToObject(o, "via", accept_via_name(l->via));
		cJSON_AddNumberToObject(o, "pid", l->pid);
		cJSON_AddStringToObject(o, "comm", l->comm);
	}
	if (l->conflict[0])
		cJSON_AddStringToObject(o, "conflict", l->conflict);
	/* Milliseconds after spawn at which each level was first reached. */
	for (int lv = LEVEL_BOUND; lv < LEVEL_COUNT; lv++) {
		add_time(at, level_name(lv), l->at[lv], s->spawned_at);
		if (l->at[lv])
			cJSON_AddNumberToObject(mono, level_name(lv), (double)l->at[lv]);
	}
	cJSON_AddItemToObject(o, "after_spawn_ms", at);
	cJSON_AddItemToObject(o, "mono_ns", mono);
	return o;
}

static cJSON *service_detail(const struct unit *u, uint64_t now)
{
	const struct svc *s = &u->svc;
	cJSON *o = service_summary(u, now), *ls = cJSON_CreateArray(), *mono = cJSON_CreateObject();
	char text[4096];

	argv_format(text, sizeof(text), u->cfg->argv);
	cJSON_AddStringToObject(o, "command", text);
	cJSON_AddStringToObject(o, "restart_policy", restart_policy_name(u->cfg->restart));
	cJSON_AddNumberToObject(o, "restarts", (double)s->restarts);
	if (s->deadline_kind == DEADLINE_RESTART && s->deadline > now)
		cJSON_AddNumberToObject(o, "restart_in_ms", ms(s->deadline - now));
	if (s->deadline_kind == DEADLINE_READY && s->deadline > now)
		cJSON_AddNumberToObject(o, "ready_timeout_in_ms", ms(s->deadline - now));
	if (s->has_exit) {
		cJSON *e = cJSON_CreateObject();
		svc_exit_describe(&s->last_exit, text, sizeof(text));
		cJSON_AddStringToObject(e, "text", text);
		cJSON_AddNumberToObject(e, "code", s->last_exit.code);
		cJSON_AddNumberToObject(e, "signal", s->last_exit.signal);
		cJSON_AddNumberToObject(e, "ago_ms", ms(now - s->last_exit_at));
		cJSON_AddItemToObject(o, "last_exit", e);
	}
	for (size_t i = 0; i < s->n_listeners; i++)
		cJSON_AddItemToArray(ls, listener_json(s, &s->listeners[i]));
	for (size_t i = 0; i < s->n_observed; i++)
		cJSON_AddItemToArray(ls, listener_json(s, &s->observed[i]));
	cJSON_AddItemToObject(o, "listeners", ls);
	/* Raw CLOCK_MONOTONIC stamps, for tools that correlate (tools/bench). */
	cJSON_AddNumberToObject(mono, "spawned_at", (double)s->spawned_at);
	cJSON_AddNumberToObject(mono, "since", (double)s->since);
	cJSON_AddNumberToObject(mono, "ready_at", (double)s->ready_at);
	cJSON_AddItemToObject(o, "mono_ns", mono);
	return o;
}

static void do_list(struct daemon *d, struct control_client *c)
{
	cJSON *obj = reply_new(d), *arr = cJSON_CreateArray();
	uint64_t now = now_mono_ns();

	for (size_t i = 0; i < d->n_units; i++)
		cJSON_AddItemToArray(arr, service_summary(&d->units[i], now));
	cJSON_AddItemToObject(obj, "services", arr);
	reply_json(c, obj);
}

static void do_status(struct daemon *d, struct control_client *c, struct unit *u)
{
	cJSON *obj = reply_new(d);

	cJSON_AddItemToObject(obj, "service", service_detail(u, now_mono_ns()));
	reply_json(c, obj);
}

/* wait: answered now if the outcome is known, else when the service gets there. */
static bool wait_settled(const struct unit *u)
{
	/* Stopped settles it unless a restart is already scheduled (restart = always). */
	return u->svc.state == SVC_RUNNING || u->svc.state == SVC_FAILED ||
	       (u->svc.state == SVC_STOPPED && u->svc.deadline_kind != DEADLINE_RESTART);
}

static void answer_wait(struct control_client *c, void *ctx)
{
	struct unit *u = ctx;
	cJSON *obj = reply_new(u->d);

	cJSON_ReplaceItemInObject(obj, "ok", cJSON_CreateBool(u->svc.state == SVC_RUNNING));
	cJSON_AddItemToObject(obj, "service", service_summary(u, now_mono_ns()));
	reply_json(c, obj);
}

void daemon_wake_waiters(struct unit *u)
{
	if (wait_settled(u))
		control_wake(u->d->control, u, answer_wait, u);
}

void daemon_on_request(struct control_client *c, const char *line, const struct ucred *peer,
		       void *ctx)
{
	struct daemon *d = ctx;
	cJSON *req = cJSON_Parse(line);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "service");
	struct unit *u = NULL;

	if (!cJSON_IsString(cmd)) {
		log_warn("msg=\"malformed control request rejected\" peer_pid=%d peer_uid=%d",
			 (int)peer->pid, (int)peer->uid);
		reply_error(c, "%s", "malformed request: expected {\"cmd\": \"...\"}");
		goto out;
	}
	if (strcmp(cmd->valuestring, "list") == 0) {
		do_list(d, c);
		goto out;
	}
	if (cJSON_IsString(name))
		u = daemon_unit_named(d, name->valuestring);
	if (strcmp(cmd->valuestring, "status") != 0 && strcmp(cmd->valuestring, "wait") != 0) {
		log_warn("msg=\"unknown control command rejected\" peer_pid=%d peer_uid=%d",
			 (int)peer->pid, (int)peer->uid);
		reply_error(c, "unknown command \"%.64s\"; known: list, status, wait",
			    cmd->valuestring);
	} else if (!u) {
		reply_error(c, "no service named \"%.64s\"",
			    cJSON_IsString(name) ? name->valuestring : "");
	} else if (strcmp(cmd->valuestring, "status") == 0) {
		do_status(d, c, u);
	} else if (wait_settled(u)) {
		answer_wait(c, u);
	} else {
		control_wait(c, u);
	}
out:
	cJSON_Delete(req);
}
