// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Control requests -> state machine events and JSON replies. The protocol:
 * docs/control-protocol.md; the command table: include/readyd_control.h.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/commands.h"
#include "daemon/ctl_request.h"
#include "daemon/deps.h"

#include "readyd_control.h"
#include "daemon/handover.h"
#include "daemon/json.h"
#include "daemon/out/sockets.h"
#include "daemon/out/stream.h"
#include "daemon/out/timeline.h"
#include "daemon/out/waiters.h"
#include "daemon/reload.h"
#include "daemon/unit.h"
#include "os/control_socket.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

struct request {
	struct daemon *d;
	struct control_client *c;
	const struct control_peer *peer;
	struct unit *u;
	bool wait; /* start/stop/restart: block until settled */
	const struct ctl_request *req;
};

/* ---- commands ---- */

static void do_list(struct request *r)
{
	cJSON *obj = json_reply_new(r->d), *arr = cJSON_CreateArray();
	uint64_t now = now_mono_ns();

	for (size_t i = 0; i < r->d->n_units; i++)
		if (!r->d->units[i]->removed)
			cJSON_AddItemToArray(arr, json_service_summary(r->d->units[i], now));
	cJSON_AddItemToObject(obj, "services", arr);
	json_reply(r->c, obj);
}

static void do_status(struct request *r)
{
	cJSON *obj = json_reply_new(r->d);

	cJSON_AddItemToObject(obj, "service", json_service_detail(r->u, now_mono_ns()));
	json_reply(r->c, obj);
}

static void do_wait(struct request *r)
{
	r->wait = true;
	waiters_wait_or_answer(r->c, r->u, WAIT_RUNNING, r->wait);
}

/* The event, and its immediate transition streamed to this client if it waits. */
static void operator_event(struct request *r, enum svc_event ev, const char *verb)
{
	char why[96];
	struct svc_input in = { .why = why };
	struct svc_actions a;

	snprintf(why, sizeof(why), "%s by operator (uid %u)", verb,
		 (unsigned int)r->peer->cred.uid);
	log_info("service=%s msg=\"%s requested\" peer_pid=%d peer_uid=%u", r->u->cfg->name, verb,
		 (int)r->peer->cred.pid, (unsigned int)r->peer->cred.uid);
	a = unit_handle(r->u, ev, &in);
	if (a.changed && r->wait)
		waiters_send_transition(r->c, r->u, &a);
}

static void do_start(struct request *r)
{
	deps_operator_start(r->u, false); /* a stopped service it requires starts too */
	operator_event(r, SVC_EV_START, "started");
	waiters_wait_or_answer(r->c, r->u, WAIT_RUNNING, r->wait);
}

static void do_stop(struct request *r)
{
	operator_event(r, SVC_EV_STOP, "stopped");
	waiters_wait_or_answer(r->c, r->u, WAIT_STOPPED, r->wait);
}

static void do_restart(struct request *r)
{
	deps_operator_start(r->u, true);
	operator_event(r, SVC_EV_RESTART, "restarted");
	waiters_wait_or_answer(r->c, r->u, WAIT_RUNNING, r->wait);
}

static void do_reset(struct request *r)
{
	operator_event(r, SVC_EV_RESET, "reset");
	r->wait = false;
	waiters_wait_or_answer(r->c, r->u, WAIT_RUNNING, r->wait);
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

/* daemon_reload logs the outcome; this only answers. */
static void do_reload(struct request *r)
{
	struct reload_summary sum;
	struct config_diag diag;
	cJSON *obj, *errs;
	char msg[512];
	int err;

	log_info("msg=\"reload requested\" peer_pid=%d peer_uid=%u", (int)r->peer->cred.pid,
		 (unsigned int)r->peer->cred.uid);
	err = daemon_reload(r->d, &sum, &diag);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot reload %s: %s; the running config is kept",
			 r->d->opts->config_path, reload_error_text(err));
		obj = cJSON_CreateObject();
		cJSON_AddFalseToObject(obj, "ok");
		cJSON_AddStringToObject(obj, "error",
					diag.n ? "the new configuration has errors; "
						 "the running one is kept"
					       : msg);
		errs = cJSON_AddArrayToObject(obj, "config_errors");
		for (size_t i = 0; i < diag.n; i++)
			cJSON_AddItemToArray(errs, cJSON_CreateString(diag.lines[i]));
		config_diag_free(&diag);
		json_reply(r->c, obj);
		return;
	}
	config_diag_free(&diag);
	obj = json_reply_new(r->d);
	cJSON_AddItemToObject(obj, "added", words(&sum.added));
	cJSON_AddItemToObject(obj, "removed", words(&sum.removed));
	cJSON_AddItemToObject(obj, "changed", words(&sum.changed));
	cJSON_AddItemToObject(obj, "unchanged", words(&sum.unchanged));
	reload_summary_free(&sum);
	json_reply(r->c, obj);
}

/* reexec [--binary PATH]: exec a new readyd in place of this one, services left running. */
static void do_reexec(struct request *r)
{
	char why[256];
	cJSON *obj;

	log_info("msg=\"reexec requested\" peer_pid=%d peer_uid=%u", (int)r->peer->cred.pid,
		 (unsigned int)r->peer->cred.uid);
	if (handover_reexec(r->d, r->req->binary, why, sizeof(why)) < 0) {
		log_err("msg=\"reexec refused\" why=\"%s\"", why);
		json_reply_error(r->c, why, false);
		return;
	}
	obj = json_reply_new(r->d); /* sent now: the exec comes from a loop job, after it */
	cJSON_AddNumberToObject(obj, "services", (double)r->d->n_units);
	json_reply(r->c, obj);
}

/* exit [--keep-services]: stop everything and exit (as SIGTERM), or exit leaving it running. */
static void do_exit(struct request *r)
{
	bool keep = r->req->keep_services;
	char by[64];

	log_info("msg=\"exit requested\" keep_services=%s peer_pid=%d peer_uid=%u",
		 keep ? "yes" : "no", (int)r->peer->cred.pid, (unsigned int)r->peer->cred.uid);
	if (keep && daemon_leave_running(r->d) < 0) {
		json_reply_error(r->c,
				 "this readyd keeps no state directory (`state = none`), or is "
				 "shutting down: no readyd could take its services back",
				 false);
		return;
	}
	json_reply(r->c, json_reply_new(r->d));
	snprintf(by, sizeof(by), "readyctl exit (uid %u)", (unsigned int)r->peer->cred.uid);
	if (!keep)
		daemon_shutdown(r->d, by);
}

/* sockets [NAME] [--all]: one service's declared sockets, or every service's. */
static void do_sockets(struct request *r)
{
	const char *name = r->req->service;
	struct unit *only = NULL;
	cJSON *obj, *body, *item;
	char msg[160];

	if (name && !(only = daemon_unit_named(r->d, name, true))) {
		snprintf(msg, sizeof(msg), "no service named \"%.64s\"", name);
		json_reply_error(r->c, msg, false);
		return;
	}
	body = sockets_report(r->d, only, r->req->all);
	if (cJSON_GetObjectItemCaseSensitive(body, "error")) {
		json_reply_error(r->c, cJSON_GetObjectItemCaseSensitive(body, "error")->valuestring,
				 false);
		cJSON_Delete(body);
		return;
	}
	obj = json_reply_new(r->d);
	while ((item = body->child)) { /* move, not copy */
		cJSON_DetachItemViaPointer(body, item);
		cJSON_AddItemToObject(obj, item->string, item);
	}
	cJSON_Delete(body);
	json_reply(r->c, obj);
}

/* events [NAME...]: a stream of what happens, until the client goes (out/stream.c). */
static void do_events(struct request *r)
{
	stream_subscribe(r->d, r->c, r->req->services);
}

/* timeline: every service's since readyd started (out/timeline.c). */
static void do_timeline(struct request *r)
{
	cJSON *obj = json_reply_new(r->d), *body = timeline_report(r->d);

	cJSON_AddItemToObject(obj, "services", cJSON_DetachItemFromObject(body, "services"));
	cJSON_Delete(body);
	json_reply(r->c, obj);
}

/* The handler of each command of include/readyd_control.h. */
/*
 * The part of the graph NAME is in: what it waits for, recursively, and what
 * waits for it, recursively; each service's summary carries its "after" and
 * "requires" (readyctl draws the tree).
 */
static void do_deps(struct request *r)
{
	struct daemon *d = r->d;
	cJSON *obj = json_reply_new(d), *arr = cJSON_CreateArray();
	uint64_t now = now_mono_ns();
	bool *in = calloc(d->n_units ? d->n_units : 1, sizeof(*in));
	size_t *queue = calloc(d->n_units ? d->n_units : 1, sizeof(*queue));
	size_t head, tail;

	if (!in || !queue) {
		free(in);
		free(queue);
		cJSON_Delete(obj);
		cJSON_Delete(arr);
		json_reply_error(r->c, "out of memory", false);
		return;
	}
	for (int down = 1; down >= 0; down--) { /* what it waits for, then what waits for it */
		head = tail = 0;
		for (size_t i = 0; i < d->n_units; i++)
			if (d->units[i] == r->u)
				queue[tail++] = i, in[i] = true;
		while (head < tail) {
			struct unit *x = d->units[queue[head++]];
			for (size_t i = 0; i < d->n_units; i++) {
				struct unit *y = d->units[i];
				bool edge = down ? deps_waits_for(x, y, NULL)
						 : deps_waits_for(y, x, NULL);
				if (edge && !in[i] && !y->removed)
					queue[tail++] = i, in[i] = true;
			}
		}
	}
	for (size_t i = 0; i < d->n_units; i++)
		if (in[i])
			cJSON_AddItemToArray(arr, json_service_summary(d->units[i], now));
	free(in);
	free(queue);
	cJSON_AddStringToObject(obj, "name", r->u->cfg->name);
	cJSON_AddItemToObject(obj, "services", arr);
	json_reply(r->c, obj);
}

static void (*const handlers[CTL_COMMAND_COUNT])(struct request *r) = {
	[CTL_list] = do_list,	  [CTL_status] = do_status,	[CTL_wait] = do_wait,
	[CTL_start] = do_start,	  [CTL_stop] = do_stop,		[CTL_restart] = do_restart,
	[CTL_reset] = do_reset,	  [CTL_reload] = do_reload,	[CTL_sockets] = do_sockets,
	[CTL_reexec] = do_reexec, [CTL_exit] = do_exit,		[CTL_deps] = do_deps,
	[CTL_events] = do_events, [CTL_timeline] = do_timeline,
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
	json_reply_error(r->c, msg, true);
}

/*
 * CONTROL_WAITERS_MAX clients wait already: the slots left are for
 * requests answered at once, so that 64 waiters cannot starve a list.
 */
static void refuse_waiting(struct request *r)
{
	char msg[128];

	log_warn("msg=\"control request refused: too many clients waiting\" limit=%d peer_pid=%d "
		 "peer_uid=%u",
		 CONTROL_WAITERS_MAX, (int)r->peer->cred.pid, (unsigned int)r->peer->cred.uid);
	snprintf(msg, sizeof(msg), "too many clients waiting (%d); try again, or without waiting",
		 CONTROL_WAITERS_MAX);
	json_reply_error(r->c, msg, false);
}

/* A malformed request or an unknown command: said so, counted in the log. */
static void reject(struct request *r)
{
	const char *cmd = r->req->cmd;
	char msg[256], known[128];

	log_warn("msg=\"control request rejected\" reason=\"%s\" peer_pid=%d peer_uid=%u",
		 cmd ? "unknown command" : "malformed", (int)r->peer->cred.pid,
		 (unsigned int)r->peer->cred.uid);
	ctl_command_names(known, sizeof(known));
	if (cmd)
		snprintf(msg, sizeof(msg), "unknown command \"%.40s\"; known: %s", cmd, known);
	else
		snprintf(msg, sizeof(msg), "malformed request: expected {\"cmd\": \"...\"}");
	json_reply_error(r->c, msg, false);
}

/* The service a command names; false (answered) if there is none to act on. */
static bool find_service(struct request *r, const struct ctl_command *command)
{
	const char *name = r->req->service;
	char msg[160];

	/* A removed one still stopping can be looked at, not driven. */
	r->u = name ? daemon_unit_named(r->d, name, !command->mutating) : NULL;
	if (!r->u) {
		snprintf(msg, sizeof(msg), "no service named \"%.64s\"%s", name ? name : "",
			 name && daemon_unit_named(r->d, name, true)
				 ? " (a reload removed it; it is stopping)"
				 : "");
		json_reply_error(r->c, msg, false);
		return false;
	}
	return true;
}

void commands_on_request(struct control_client *c, const char *line,
			 const struct control_peer *peer, void *ctx)
{
	struct request r = { .d = ctx, .c = c, .peer = peer, .wait = true };
	struct ctl_request req;
	const struct ctl_command *command;
	enum ctl_command_id id;
	char msg[160];

	ctl_request_parse(line, &req);
	r.req = &req;
	id = req.id;
	command = ctl_command(id);
	if (!command) {
		reject(&r);
	} else if (command->mutating && !may_mutate(r.d, peer)) {
		refuse(&r, command->name);
	} else if (command->mutating && r.d->shutting_down) {
		json_reply_error(c, "readyd is shutting down: nothing can be started or changed",
				 false);
	} else if (command->service != CTL_SERVICE || find_service(&r, command)) {
		if (r.u && r.u->cfg->adopted && (id == CTL_stop || id == CTL_restart)) {
			snprintf(msg, sizeof(msg),
				 "%s is a [watch]: readyd does not %s what it did not start",
				 r.u->cfg->name, command->name);
			json_reply_error(c, msg, false);
		} else {
			if (req.has_wait)
				r.wait = req.wait;
			if (command->waits && (r.wait || id == CTL_wait) && !control_may_wait(c))
				refuse_waiting(&r); /* before acting: nothing is done half */
			else
				handlers[id](&r);
		}
	}
	ctl_request_free(&req);
}
