// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Control requests -> JSON replies. The protocol: docs/control-protocol.md. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/out/json.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

/* What a waiting client waits for. */
enum wait_kind { WAIT_RUNNING, WAIT_STOPPED };

struct request {
	struct daemon *d;
	struct control_client *c;
	const struct control_peer *peer;
	struct unit *u;
	bool wait; /* start/stop/restart: block until settled */
	const cJSON *req;
};

struct command {
	const char *name;
	bool needs_service;
	bool mutating;
	void (*run)(struct request *r);
};

static void reply_json(struct control_client *c, cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);

	control_reply(c, text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	cJSON_Delete(obj);
}

static void reply_error(struct control_client *c, const char *msg, bool refused)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddFalseToObject(obj, "ok");
	cJSON_AddStringToObject(obj, "error", msg);
	if (refused)
		cJSON_AddTrueToObject(obj, "refused");
	reply_json(c, obj);
}

/* ---- waiting ---- */

/*
 * Has u reached an outcome a client waiting with `kind` can be told?
 * Running: running (ok), failed, or stopped with no restart coming.
 * Stopped: stopped.
 */
static bool settled(const struct unit *u, enum wait_kind kind, bool *ok)
{
	enum svc_state st = u->svc.state;

	if (kind == WAIT_STOPPED) {
		*ok = st == SVC_STOPPED;
		return *ok;
	}
	*ok = st == SVC_RUNNING;
	if (u->svc.start_pending) /* a start is coming once the old process is gone */
		return false;
	return *ok || st == SVC_FAILED ||
	       (st == SVC_STOPPED && u->svc.deadline_kind != DEADLINE_RESTART);
}

static void answer(struct control_client *c, struct unit *u, bool ok)
{
	cJSON *obj = json_reply_new(u->d);

	cJSON_ReplaceItemInObject(obj, "ok", cJSON_CreateBool(ok));
	cJSON_AddItemToObject(obj, "service", json_service_summary(u, now_mono_ns()));
	reply_json(c, obj);
}

struct wake_ctx {
	struct unit *u;
	const struct svc_actions *a; /* NULL: the unit is going away */
};

bool daemon_send_transition(struct control_client *c, const struct unit *u,
			    const struct svc_actions *a)
{
	bool sent;
	cJSON *ev = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(ev, "event", "transition");
	cJSON_AddStringToObject(ev, "service", u->cfg->name);
	cJSON_AddStringToObject(ev, "from", svc_state_name(a->from));
	cJSON_AddStringToObject(ev, "to", svc_state_name(a->to));
	cJSON_AddStringToObject(ev, "cause", u->svc.cause);
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	sent = text && control_send(c, text);
	free(text);
	return sent;
}

static void wake_one(struct control_client *c, void *arg)
{
	struct wake_ctx *w = arg;
	bool ok;

	if (!w->a) {
		reply_error(c, "the service was removed by a reload", false);
		return;
	}
	if (w->a->changed && !daemon_send_transition(c, w->u, w->a))
		return; /* gone: it stopped reading or hung up */
	if (settled(w->u, (enum wait_kind)control_wait_kind(c), &ok))
		answer(c, w->u, ok);
}

void daemon_wake_waiters(struct unit *u, const struct svc_actions *a)
{
	struct wake_ctx w = { .u = u, .a = a };

	if (u->d->control)
		control_wake(u->d->control, u, wake_one, &w);
}

void daemon_drop_waiters(struct unit *u)
{
	struct wake_ctx w = { .u = u };

	if (u->d->control)
		control_wake(u->d->control, u, wake_one, &w);
}

/* Answer now if settled, else keep the client until the unit gets there. */
static void wait_or_answer(struct request *r, enum wait_kind kind)
{
	bool ok;

	if (!r->wait || settled(r->u, kind, &ok)) {
		answer(r->c, r->u, r->wait ? ok : true);
		return;
	}
	control_wait(r->c, r->u, kind);
}

/* ---- commands ---- */

static void do_list(struct request *r)
{
	cJSON *obj = json_reply_new(r->d), *arr = cJSON_CreateArray();
	uint64_t now = now_mono_ns();

	for (size_t i = 0; i < r->d->n_units; i++)
		if (!r->d->units[i]->removed)
			cJSON_AddItemToArray(arr, json_service_summary(r->d->units[i], now));
	cJSON_AddItemToObject(obj, "services", arr);
	reply_json(r->c, obj);
}

static void do_status(struct request *r)
{
	cJSON *obj = json_reply_new(r->d);

	cJSON_AddItemToObject(obj, "service", json_service_detail(r->u, now_mono_ns()));
	reply_json(r->c, obj);
}

static void do_wait(struct request *r)
{
	r->wait = true;
	wait_or_answer(r, WAIT_RUNNING);
}

/* The event, and its immediate transition streamed to this client if it waits. */
static void operator_event(struct request *r, enum svc_event ev, const char *verb)
{
	char why[96];
	struct svc_input in = { .why = why };
	struct svc_actions a;

	snprintf(why, sizeof(why), "%s by operator (uid %u)", verb, (unsigned int)r->peer->cred.uid);
	log_info("service=%s msg=\"%s requested\" peer_pid=%d peer_uid=%u", r->u->cfg->name, verb,
		 (int)r->peer->cred.pid, (unsigned int)r->peer->cred.uid);
	a = unit_handle(r->u, ev, &in);
	if (a.changed && r->wait)
		daemon_send_transition(r->c, r->u, &a);
}

static void do_start(struct request *r)
{
	operator_event(r, SVC_EV_START, "started");
	wait_or_answer(r, WAIT_RUNNING);
}

static void do_stop(struct request *r)
{
	operator_event(r, SVC_EV_STOP, "stopped");
	wait_or_answer(r, WAIT_STOPPED);
}

static void do_restart(struct request *r)
{
	operator_event(r, SVC_EV_RESTART, "restarted");
	wait_or_answer(r, WAIT_RUNNING);
}

static void do_reset(struct request *r)
{
	operator_event(r, SVC_EV_RESET, "reset");
	daemon_mark_dirty(r->d);
	r->wait = false;
	wait_or_answer(r, WAIT_RUNNING);
}

static cJSON *words(const struct strbuf *b)
{
	cJSON *arr = cJSON_CreateArray();
	char *copy = strdup(b->data ? b->data : ""), *save = NULL;

	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
		cJSON_AddItemToArray(arr, cJSON_CreateString(w));
	free(copy);
	return arr;
}

static void do_reload(struct request *r)
{
	struct reload_summary sum;
	struct config_diag diag;
	cJSON *obj, *errs;
	int err = daemon_reload(r->d, &sum, &diag);

	log_info("msg=\"reload requested\" peer_pid=%d peer_uid=%u", (int)r->peer->cred.pid,
		 (unsigned int)r->peer->cred.uid);
	if (err) {
		obj = cJSON_CreateObject();
		cJSON_AddFalseToObject(obj, "ok");
		cJSON_AddStringToObject(obj, "error", diag.n ? "the new configuration has errors; "
							       "the running one is kept"
							     : strerror(-err));
		errs = cJSON_AddArrayToObject(obj, "config_errors");
		for (size_t i = 0; i < diag.n; i++) {
			cJSON_AddItemToArray(errs, cJSON_CreateString(diag.lines[i]));
			log_err("msg=\"config error\" at=\"%s\"", diag.lines[i]);
		}
		config_diag_free(&diag);
		reply_json(r->c, obj);
		return;
	}
	obj = json_reply_new(r->d);
	cJSON_AddItemToObject(obj, "added", words(&sum.added));
	cJSON_AddItemToObject(obj, "removed", words(&sum.removed));
	cJSON_AddItemToObject(obj, "changed", words(&sum.changed));
	cJSON_AddItemToObject(obj, "unchanged", words(&sum.unchanged));
	reload_summary_free(&sum);
	reply_json(r->c, obj);
}

/* sockets [NAME] [--all]: one service's declared sockets, or every service's. */
static void do_sockets(struct request *r)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->req, "service");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(r->req, "all");
	struct unit *only = NULL;
	cJSON *obj, *body, *item;
	char msg[160];

	if (cJSON_IsString(name) && !(only = daemon_unit_named(r->d, name->valuestring, true))) {
		snprintf(msg, sizeof(msg), "no service named \"%.64s\"", name->valuestring);
		reply_error(r->c, msg, false);
		return;
	}
	body = daemon_sockets_json(r->d, only, cJSON_IsTrue(all));
	if (cJSON_GetObjectItemCaseSensitive(body, "error")) {
		reply_error(r->c, cJSON_GetObjectItemCaseSensitive(body, "error")->valuestring, false);
		cJSON_Delete(body);
		return;
	}
	obj = json_reply_new(r->d);
	while ((item = body->child)) { /* move, not copy */
		cJSON_DetachItemViaPointer(body, item);
		cJSON_AddItemToObject(obj, item->string, item);
	}
	cJSON_Delete(body);
	reply_json(r->c, obj);
}

static const struct command commands[] = {
	{ "list", false, false, do_list },	{ "status", true, false, do_status },
	{ "wait", true, false, do_wait },	{ "start", true, true, do_start },
	{ "stop", true, true, do_stop },	{ "restart", true, true, do_restart },
	{ "reset", true, true, do_reset },	{ "reload", false, true, do_reload },
	{ "sockets", false, false, do_sockets },
};

/* ---- authorization ---- */

/* Mutating commands: root, or a member of control_group (as the kernel saw it at connect). */
static bool may_mutate(const struct daemon *d, const struct control_peer *peer)
{
	if (peer->cred.uid == 0)
		return true;
	if (!d->cfg->control_group)
		return false;
	if (peer->cred.gid == d->cfg->control_gid)
		return true;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == d->cfg->control_gid)
			return true;
	return false;
}

static void refuse(struct request *r, const char *cmd)
{
	char msg[256];

	log_warn("msg=\"control command refused: not permitted\" cmd=%s peer_pid=%d peer_uid=%u",
		 cmd, (int)r->peer->cred.pid, (unsigned int)r->peer->cred.uid);
	snprintf(msg, sizeof(msg), "permission denied: %s needs root%s%s (you are uid %u)", cmd,
		 r->d->cfg->control_group ? " or group " : "",
		 r->d->cfg->control_group ? r->d->cfg->control_group : "",
		 (unsigned int)r->peer->cred.uid);
	reply_error(r->c, msg, true);
}

void daemon_on_request(struct control_client *c, const char *line, const struct control_peer *peer,
		       void *ctx)
{
	struct request r = { .d = ctx, .c = c, .peer = peer, .wait = true };
	cJSON *req = cJSON_Parse(line);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "service");
	const cJSON *wait = cJSON_GetObjectItemCaseSensitive(req, "wait");
	const struct command *command = NULL;
	char msg[160];

	r.req = req;
	for (size_t i = 0; cJSON_IsString(cmd) && i < ARRAY_SIZE(commands); i++)
		if (strcmp(cmd->valuestring, commands[i].name) == 0)
			command = &commands[i];
	if (!command) {
		log_warn("msg=\"control request rejected\" reason=\"%s\" peer_pid=%d peer_uid=%u",
			 cJSON_IsString(cmd) ? "unknown command" : "malformed", (int)peer->cred.pid,
			 (unsigned int)peer->cred.uid);
		snprintf(msg, sizeof(msg), cJSON_IsString(cmd)
					   ? "unknown command \"%.40s\"; known: list, status, wait, "
					     "start, stop, restart, reset, reload, sockets"
					   : "malformed request: expected {\"cmd\": \"...\"}%.0s",
			 cJSON_IsString(cmd) ? cmd->valuestring : "");
		reply_error(c, msg, false);
		goto out;
	}
	if (command->mutating && !may_mutate(r.d, peer)) {
		refuse(&r, command->name);
		goto out;
	}
	if (command->mutating && r.d->shutting_down) {
		reply_error(c, "readyd is shutting down: nothing can be started or changed", false);
		goto out;
	}
	if (command->needs_service) {
		/* A removed one still stopping can be looked at, not driven. */
		r.u = cJSON_IsString(name) ? daemon_unit_named(r.d, name->valuestring,
								 !command->mutating)
					   : NULL;
		if (!r.u) {
			snprintf(msg, sizeof(msg), "no service named \"%.64s\"%s",
				 cJSON_IsString(name) ? name->valuestring : "",
				 cJSON_IsString(name) && daemon_unit_named(r.d, name->valuestring, true)
					 ? " (a reload removed it; it is stopping)"
					 : "");
			reply_error(c, msg, false);
			goto out;
		}
	}
	if (r.u && r.u->cfg->adopted &&
	    (command->run == do_stop || command->run == do_restart)) {
		snprintf(msg, sizeof(msg), "%s is a [watch]: readyd does not %s what it did not start",
			 r.u->cfg->name, command->name);
		reply_error(c, msg, false);
		goto out;
	}
	if (cJSON_IsBool(wait))
		r.wait = cJSON_IsTrue(wait);
	command->run(&r);
out:
	cJSON_Delete(req);
}
