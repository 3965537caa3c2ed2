// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/json.h"
#include "daemon/handover.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/argv.h"
#include "daemon/output.h"
#include "daemon/unit.h"
#include "os/control_socket.h"
#include "base/clock.h"
#include "base/util.h"

static double ms(uint64_t ns)
{
	return (double)ns / NSEC_PER_MSEC;
}

void json_reply(struct control_client *c, cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);

	control_reply(c, text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	cJSON_Delete(obj);
}

void json_reply_error(struct control_client *c, const char *msg, bool refused)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddFalseToObject(obj, "ok");
	cJSON_AddStringToObject(obj, "error", msg);
	if (refused)
		cJSON_AddTrueToObject(obj, "refused");
	json_reply(c, obj);
}

cJSON *json_reply_new(struct daemon *d)
{
	cJSON *obj = cJSON_CreateObject();
	unsigned int failures;
	const char *why;

	cJSON_AddTrueToObject(obj, "ok");
	cJSON_AddNumberToObject(obj, "protocol", READYD_CONTROL_PROTOCOL);
	cJSON_AddStringToObject(obj, "mode", tracer_mode_name(tracer_mode(d->tracer)));
	cJSON_AddNumberToObject(obj, "now_mono_ns", (double)now_mono_ns());
	/* Which readyd answers: `readyctl reexec` waits for a new one (the pid stays). */
	cJSON_AddNumberToObject(obj, "pid", getpid());
	cJSON_AddNumberToObject(obj, "started_mono_ns", (double)d->started_at);
	cJSON_AddStringToObject(obj, "version", READYD_VERSION);
	failures = handover_exec_failures(d, &why);
	if (failures) { /* `readyctl reexec` waits for a new readyd: none is coming */
		cJSON_AddNumberToObject(obj, "reexec_failures", failures);
		cJSON_AddStringToObject(obj, "reexec_error", why);
	}
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

/*
 * The start order (`readyctl deps`, critical-chain): "after" names every
 * service its spawn waits for (after = and requires =), "requires" those it
 * is also bound to; the start limit's next try, while one is armed.
 */
static void add_deps(cJSON *o, const struct unit *u, uint64_t now)
{
	const struct service_config *c = u->next_cfg ? u->next_cfg : u->cfg;
	cJSON *after = cJSON_AddArrayToObject(o, "after");
	cJSON *requires = cJSON_AddArrayToObject(o, "requires");
	uint64_t left;

	for (size_t k = 0; k < c->n_deps; k++) {
		cJSON_AddItemToArray(after, cJSON_CreateString(c->deps[k].name));
		if (c->deps[k].requires)
			cJSON_AddItemToArray(requires, cJSON_CreateString(c->deps[k].name));
	}
	cJSON_AddBoolToObject(o, "autostart", c->autostart);
	if (u->deps_held)
		cJSON_AddTrueToObject(o, "waiting");
	if (svc_next_try(&u->svc, now, &left))
		cJSON_AddNumberToObject(o, "next_try_in_ms", ms(left));
}

cJSON *json_service_summary(const struct unit *u, uint64_t now)
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
	cJSON_AddBoolToObject(o, "start_limit_hit", s->start_limit_hit);
	add_deps(o, u, now);
	if (u->removed) /* only `status` shows these: a reload removed it, it is stopping */
		cJSON_AddBoolToObject(o, "removed", true);
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

static cJSON *probe_json(const struct service_config *cfg, const struct probe_health *h, size_t i,
			 uint64_t now)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "probe", cfg->probes[i].text);
	cJSON_AddBoolToObject(o, "serving_check", cfg->probes[i].until_ready);
	cJSON_AddStringToObject(o, "verdict", probe_verdict_name(h->verdict));
	cJSON_AddNumberToObject(o, "runs", (double)h->runs);
	cJSON_AddNumberToObject(o, "failures", (double)h->failures);
	cJSON_AddNumberToObject(o, "consecutive_failures", h->consecutive_fail);
	if (h->has_result) {
		cJSON_AddBoolToObject(o, "last_ok", h->last_ok);
		cJSON_AddNumberToObject(o, "last_ago_ms", ms(now - h->last_at));
		cJSON_AddNumberToObject(o, "last_duration_ms", ms(h->last_duration_ns));
	}
	if (h->failures)
		cJSON_AddStringToObject(o, "last_failure", h->last_reason);
	return o;
}

/* What the service said about itself (sd_notify, marker). */
static cJSON *reports_json(const struct unit *u)
{
	const struct svc *s = &u->svc;
	cJSON *o = cJSON_CreateObject(), *rej = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "ready", s->notified_ready);
	cJSON_AddBoolToObject(o, "reloading", s->reloading);
	cJSON_AddBoolToObject(o, "stopping", s->stopping_notified);
	if (s->status_text[0])
		cJSON_AddStringToObject(o, "status", s->status_text);
	if (s->notify_errno)
		cJSON_AddStringToObject(o, "errno", strerror(s->notify_errno));
	if (u->cfg->ready & READY_FILE) {
		cJSON_AddStringToObject(o, "marker", u->cfg->ready_file);
		cJSON_AddBoolToObject(o, "marker_present", s->marker_present);
	}
	if (s->watchdog_ns) {
		cJSON_AddNumberToObject(o, "watchdog_ms", ms(s->watchdog_ns));
		cJSON_AddBoolToObject(o, "watchdog_expired", s->watchdog_expired);
	}
	cJSON_AddBoolToObject(o, "ready_mismatch", s->ready_mismatch);
	cJSON_AddNumberToObject(o, "ready_mismatches", (double)s->ready_mismatches);
	if (u->cfg->ready & READY_FD)
		cJSON_AddBoolToObject(o, "fd_ready", s->fd_ready);
	cJSON_AddNumberToObject(o, "messages", (double)s->notify_accepted);
	for (int r = 0; r < REJECT_COUNT; r++)
		cJSON_AddNumberToObject(rej, notify_reject_name(r), (double)s->notify_rejected[r]);
	cJSON_AddItemToObject(o, "rejected", rej);
	if (u->notify_name[0])
		cJSON_AddStringToObject(o, "notify_socket", u->notify_name);
	return o;
}

/* What runs of one process: its main pid, its cgroup, how it last ended. */
static void add_process_state(cJSON *o, const struct unit_proc *p)
{
	char text[256];

	cJSON_AddNumberToObject(o, "pid", p->main_alive ? p->child.pid : 0);
	cJSON_AddBoolToObject(o, "running", p->main_alive);
	if (p->followed)
		cJSON_AddTrueToObject(o, "daemonized");
	if (p->cg.dirfd >= 0)
		cJSON_AddStringToObject(o, "cgroup", p->cg.path + p->cg.mount_len);
	if (!p->main_alive &&
	    (p->exit.code || p->exit.signal || p->exit.spawn_error[0] || p->exit.unknown)) {
		struct svc_exit e = p->exit;
		e.process[0] = '\0'; /* the object names it already */
		svc_exit_describe(&e, text, sizeof(text));
		cJSON_AddStringToObject(o, "last_exit", text);
	}
}

static void add_config(cJSON *o, const struct unit *u)
{
	const struct service_config *c = u->cfg;
	cJSON *procs = cJSON_CreateArray(), *serving;
	char text[4096];

	argv_format(text, sizeof(text), c->procs[0].argv);
	cJSON_AddStringToObject(o, "command",
				text); /* the first process's, for one-process services */
	for (size_t i = 0; i < c->n_procs; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", c->procs[i].name);
		argv_format(text, sizeof(text), c->procs[i].argv);
		cJSON_AddStringToObject(p, "command", text);
		if (c->procs[i].user)
			cJSON_AddStringToObject(p, "user", c->procs[i].user);
		if (i < u->procs.n)
			add_process_state(p, &u->procs.v[i]);
		cJSON_AddItemToArray(procs, p);
	}
	cJSON_AddItemToObject(o, "processes", procs);
	ready_mask_format(text, sizeof(text), c->ready);
	cJSON_AddStringToObject(o, "ready", text);
	if (c->ready & READY_FD)
		cJSON_AddNumberToObject(o, "ready_fd", c->ready_fd);
	serving = cJSON_AddArrayToObject(o, "serving_checks");
	for (size_t i = 0; i < c->n_probes; i++)
		if (c->probes[i].until_ready)
			cJSON_AddItemToArray(serving, cJSON_CreateString(c->probes[i].text));
	if (c->recognized[0]) /* the serving check is readyd's choice, not the config's */
		cJSON_AddStringToObject(o, "recognized", c->recognized);
	cJSON_AddStringToObject(o, "restart_policy", restart_policy_name(c->restart));
	cJSON_AddStringToObject(o, "on_unhealthy",
				c->on_unhealthy == ON_UNHEALTHY_RESTART ? "restart" : "none");
}

static void add_line(const char *line, void *arr)
{
	cJSON_AddItemToArray(arr, cJSON_CreateString(line));
}

cJSON *json_service_detail(const struct unit *u, uint64_t now)
{
	const struct svc *s = &u->svc;
	cJSON *o = json_service_summary(u, now), *ls = cJSON_CreateArray();
	cJSON *ps = cJSON_CreateArray(), *mono = cJSON_CreateObject();
	char text[256];

	add_config(o, u);
	cJSON_AddNumberToObject(o, "restarts", (double)s->restarts);
	if (s->deadline_kind == DEADLINE_RESTART && s->deadline > now)
		cJSON_AddNumberToObject(o, "restart_in_ms", ms(s->deadline - now));
	if (s->deadline_kind == DEADLINE_READY && s->deadline > now)
		cJSON_AddNumberToObject(o, "ready_timeout_in_ms", ms(s->deadline - now));
	if (u->next_cfg)
		cJSON_AddTrueToObject(o, "reload_pending");
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
	for (size_t i = 0; i < u->cfg->n_probes; i++)
		cJSON_AddItemToArray(ps, probe_json(u->cfg, &s->probes[i], i, now));
	cJSON_AddItemToObject(o, "probes", ps);
	cJSON_AddItemToObject(o, "reports", reports_json(u));
	output_lines(u, add_line, cJSON_AddArrayToObject(o, "output"));
	/* Raw CLOCK_MONOTONIC stamps, for tools that correlate (tools/bench). */
	cJSON_AddNumberToObject(mono, "spawned_at", (double)s->spawned_at);
	cJSON_AddNumberToObject(mono, "since", (double)s->since);
	cJSON_AddNumberToObject(mono, "ready_at", (double)s->ready_at);
	cJSON_AddItemToObject(o, "mono_ns", mono);
	return o;
}
