// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/snapshot.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---- fields ---- */

bool snapshot_put_u64(cJSON *o, const char *key, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, v);
	return cJSON_AddStringToObject(o, key, text) != NULL;
}

uint64_t snapshot_get_u64(const cJSON *o, const char *key, uint64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *end;
	unsigned long long n;

	if (!cJSON_IsString(v) || !v->valuestring[0] || v->valuestring[0] == '-')
		return def;
	errno = 0;
	n = strtoull(v->valuestring, &end, 10);
	return errno || *end ? def : (uint64_t)n;
}

const char *snapshot_get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool get_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* An integer in [min, max], else def. */
static long get_int(const cJSON *o, const char *key, long min, long max, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return def;
	return (long)v->valuedouble;
}

static void get_text(const cJSON *o, const char *key, char *buf, size_t size)
{
	str_copy(buf, snapshot_get_str(o, key), size);
}

static void put_bool(cJSON *o, const char *key, bool v)
{
	cJSON_AddBoolToObject(o, key, v);
}

static void put_int(cJSON *o, const char *key, long v)
{
	cJSON_AddNumberToObject(o, key, (double)v);
}

/* ---- the parts ---- */

static cJSON *exit_json(const struct svc_exit *e)
{
	cJSON *o = cJSON_CreateObject();

	put_int(o, "code", e->code);
	put_int(o, "signal", e->signal);
	put_bool(o, "unknown", e->unknown);
	put_bool(o, "detached", e->detached);
	put_bool(o, "away", e->away);
	cJSON_AddStringToObject(o, "process", e->process);
	cJSON_AddStringToObject(o, "spawn_error", e->spawn_error);
	cJSON_AddStringToObject(o, "last_words", e->last_words);
	return o;
}

static void exit_restore(struct svc_exit *e, const cJSON *o)
{
	e->code = (int)get_int(o, "code", -1, 255, -1);
	e->signal = (int)get_int(o, "signal", 0, 64, 0);
	e->unknown = get_bool(o, "unknown");
	e->detached = get_bool(o, "detached");
	e->away = get_bool(o, "away");
	get_text(o, "process", e->process, sizeof(e->process));
	get_text(o, "spawn_error", e->spawn_error, sizeof(e->spawn_error));
	get_text(o, "last_words", e->last_words, sizeof(e->last_words));
}

static cJSON *addr_json(const struct sock_addr *a)
{
	cJSON *o = cJSON_CreateObject();
	char hex[2 * sizeof(a->addr) + 1];

	for (size_t i = 0; i < sizeof(a->addr); i++)
		snprintf(hex + 2 * i, 3, "%02x", a->addr[i]);
	put_int(o, "family", a->family);
	put_int(o, "type", a->sock_type);
	cJSON_AddStringToObject(o, "addr", hex);
	put_int(o, "port", a->port);
	cJSON_AddStringToObject(o, "path", a->path);
	return o;
}

static void addr_restore(struct sock_addr *a, const cJSON *o)
{
	const char *hex = snapshot_get_str(o, "addr");

	memset(a, 0, sizeof(*a));
	a->family = (int)get_int(o, "family", 0, 64, 0);
	a->sock_type = (int)get_int(o, "type", 0, 16, 0);
	a->port = (uint16_t)get_int(o, "port", 0, 65535, 0);
	get_text(o, "path", a->path, sizeof(a->path));
	for (size_t i = 0; strlen(hex) == 2 * sizeof(a->addr) && i < sizeof(a->addr); i++) {
		unsigned int byte;
		if (sscanf(hex + 2 * i, "%2x", &byte) == 1)
			a->addr[i] = (uint8_t)byte;
	}
}

static cJSON *queue_json(const struct accept_queue *q)
{
	cJSON *o = cJSON_CreateObject();

	put_bool(o, "sampled", q->sampled);
	snapshot_put_u64(o, "depth", q->depth);
	snapshot_put_u64(o, "backlog", q->backlog);
	snapshot_put_u64(o, "waiting_since", q->waiting_since);
	snapshot_put_u64(o, "overflows", q->overflows);
	put_int(o, "verdict", q->verdict);
	return o;
}

static void queue_restore(struct accept_queue *q, const cJSON *o)
{
	q->sampled = get_bool(o, "sampled");
	q->depth = (uint32_t)snapshot_get_u64(o, "depth", 0);
	q->backlog = (uint32_t)snapshot_get_u64(o, "backlog", 0);
	q->waiting_since = snapshot_get_u64(o, "waiting_since", 0);
	q->overflows = snapshot_get_u64(o, "overflows", 0);
	q->verdict = (enum queue_verdict)get_int(o, "verdict", QUEUE_OK, QUEUE_FULL, QUEUE_OK);
}

static cJSON *listener_json(const struct listener *l)
{
	cJSON *o = cJSON_CreateObject(), *at = cJSON_AddArrayToObject(o, "at");
	cJSON *socks = cJSON_AddArrayToObject(o, "socks");

	cJSON_AddStringToObject(o, "label", l->label);
	put_int(o, "level", l->level);
	for (size_t i = 0; i < LEVEL_COUNT; i++) {
		char text[24];
		snprintf(text, sizeof(text), "%" PRIu64, l->at[i]);
		cJSON_AddItemToArray(at, cJSON_CreateString(text));
	}
	put_bool(o, "connectionless", l->connectionless);
	if (l->has_bound)
		cJSON_AddItemToObject(o, "bound", addr_json(&l->bound));
	for (size_t i = 0; i < l->n_socks; i++) {
		cJSON *k = cJSON_CreateObject();
		snapshot_put_u64(k, "sk", l->socks[i].sk);
		snapshot_put_u64(k, "ino", l->socks[i].ino);
		put_int(k, "level", l->socks[i].level);
		cJSON_AddItemToArray(socks, k);
	}
	put_int(o, "pid", l->pid);
	cJSON_AddStringToObject(o, "comm", l->comm);
	put_int(o, "via", l->via);
	put_int(o, "bind_errno", l->bind_errno);
	cJSON_AddStringToObject(o, "conflict", l->conflict);
	cJSON_AddStringToObject(o, "stall", l->stall);
	cJSON_AddItemToObject(o, "queue", queue_json(&l->queue));
	snapshot_put_u64(o, "findings", l->findings);
	snapshot_put_u64(o, "overflow_mark", l->overflow_mark);
	return o;
}

/* What the listener reached; its spec and (for a declared one) label stay the config's. */
static void listener_restore(struct listener *l, const cJSON *o)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at"), *k;
	const cJSON *bound = cJSON_GetObjectItemCaseSensitive(o, "bound");
	size_t i = 0;

	if (!l->spec)
		get_text(o, "label", l->label, sizeof(l->label));
	l->level = (enum level)get_int(o, "level", LEVEL_ABSENT, LEVEL_CLOSED, LEVEL_ABSENT);
	cJSON_ArrayForEach(k, at)
	{
		if (i < LEVEL_COUNT && cJSON_IsString(k))
			l->at[i] = strtoull(k->valuestring, NULL, 10);
		i++;
	}
	l->connectionless = get_bool(o, "connectionless");
	l->has_bound = cJSON_IsObject(bound);
	if (l->has_bound)
		addr_restore(&l->bound, bound);
	l->n_socks = 0;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "socks"))
	{
		struct listener_sock *s = &l->socks[l->n_socks];
		if (l->n_socks == LISTENER_MAX_SOCKS)
			break;
		s->sk = snapshot_get_u64(k, "sk", 0);
		s->ino = snapshot_get_u64(k, "ino", 0);
		s->level =
			(enum level)get_int(k, "level", LEVEL_ABSENT, LEVEL_CLOSED, LEVEL_ABSENT);
		l->n_socks += s->sk != 0;
	}
	l->pid = (pid_t)get_int(o, "pid", 0, 4194304, 0);
	get_text(o, "comm", l->comm, sizeof(l->comm));
	l->via = (unsigned int)get_int(o, "via", VIA_UNKNOWN, VIA_FENTRY, VIA_UNKNOWN);
	l->bind_errno = (int)get_int(o, "bind_errno", 0, 4095, 0);
	get_text(o, "conflict", l->conflict, sizeof(l->conflict));
	get_text(o, "stall", l->stall, sizeof(l->stall));
	queue_restore(&l->queue, cJSON_GetObjectItemCaseSensitive(o, "queue"));
	l->findings = (uint32_t)snapshot_get_u64(o, "findings", 0);
	l->overflow_mark = snapshot_get_u64(o, "overflow_mark", 0);
}

static cJSON *probe_json(const struct probe_health *h, const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "probe", text);
	put_int(o, "verdict", h->verdict);
	put_int(o, "consecutive_ok", h->consecutive_ok);
	put_int(o, "consecutive_fail", h->consecutive_fail);
	snapshot_put_u64(o, "runs", h->runs);
	snapshot_put_u64(o, "failures", h->failures);
	put_bool(o, "has_result", h->has_result);
	put_bool(o, "last_ok", h->last_ok);
	snapshot_put_u64(o, "last_at", h->last_at);
	snapshot_put_u64(o, "last_duration_ns", h->last_duration_ns);
	cJSON_AddStringToObject(o, "last_reason", h->last_reason);
	return o;
}

static void probe_restore(struct probe_health *h, const cJSON *o)
{
	h->verdict = (enum probe_verdict)get_int(o, "verdict", VERDICT_UNKNOWN, VERDICT_FAILING,
						 VERDICT_UNKNOWN);
	h->consecutive_ok = (unsigned int)get_int(o, "consecutive_ok", 0, 1000000, 0);
	h->consecutive_fail = (unsigned int)get_int(o, "consecutive_fail", 0, 1000000, 0);
	h->runs = snapshot_get_u64(o, "runs", 0);
	h->failures = snapshot_get_u64(o, "failures", 0);
	h->has_result = get_bool(o, "has_result");
	h->last_ok = get_bool(o, "last_ok");
	h->last_at = snapshot_get_u64(o, "last_at", 0);
	h->last_duration_ns = snapshot_get_u64(o, "last_duration_ns", 0);
	get_text(o, "last_reason", h->last_reason, sizeof(h->last_reason));
}

/* ---- the whole machine ---- */

static void put_flags(cJSON *o, const struct svc *s)
{
	put_bool(o, "want_up", s->want_up);
	put_bool(o, "start_pending", s->start_pending);
	put_bool(o, "pending_restart", s->pending_restart);
	put_bool(o, "liveness_restart", s->liveness_restart);
	put_bool(o, "start_limit_hit", s->start_limit_hit);
	put_bool(o, "trial", s->trial); /* start_limit_cooldown's try is this instance */
	put_bool(o, "ready_timed_out", s->ready_timed_out);
	put_bool(o, "notified_ready", s->notified_ready);
	put_bool(o, "reloading", s->reloading);
	put_bool(o, "stopping_notified", s->stopping_notified);
	put_bool(o, "marker_present", s->marker_present);
	put_bool(o, "fd_ready", s->fd_ready);
	put_bool(o, "watchdog_expired", s->watchdog_expired);
	put_bool(o, "ready_mismatch", s->ready_mismatch);
}

static void restore_flags(struct svc *s, const cJSON *o)
{
	s->want_up = get_bool(o, "want_up");
	s->start_pending = get_bool(o, "start_pending");
	s->pending_restart = get_bool(o, "pending_restart");
	s->liveness_restart = get_bool(o, "liveness_restart");
	s->start_limit_hit = get_bool(o, "start_limit_hit");
	s->trial = get_bool(o, "trial");
	s->ready_timed_out = get_bool(o, "ready_timed_out");
	s->notified_ready = get_bool(o, "notified_ready");
	s->reloading = get_bool(o, "reloading");
	s->stopping_notified = get_bool(o, "stopping_notified");
	s->marker_present = get_bool(o, "marker_present");
	s->fd_ready = get_bool(o, "fd_ready");
	s->watchdog_expired = get_bool(o, "watchdog_expired");
	s->ready_mismatch = get_bool(o, "ready_mismatch");
}

/* The machine's 64-bit values: times on CLOCK_MONOTONIC (one clock for the whole boot), counters.
 */
#define U64(field)                                                                                 \
	{                                                                                          \
#field, offsetof(struct svc, field)                                                \
	}
static const struct {
	const char *key;
	size_t off;
} u64s[] = {
	U64(since),	    U64(spawned_at),	  U64(ready_at),
	U64(deadline),	    U64(last_exit_at),	  U64(report_at),
	U64(crosscheck_at), U64(watchdog_ns),	  U64(ready_mismatches),
	U64(restarts),	    U64(notify_accepted), U64(cooldown_at),
};
#undef U64

static void put_counts(cJSON *o, const struct svc *s)
{
	cJSON *tr = cJSON_AddObjectToObject(o, "transitions");
	cJSON *rej = cJSON_AddObjectToObject(o, "notify_rejected");
	cJSON *starts = cJSON_AddArrayToObject(o, "starts");

	for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
		snapshot_put_u64(o, u64s[i].key,
				 *(const uint64_t *)((const char *)s + u64s[i].off));
	for (int i = 0; i < SVC_STATE_COUNT; i++)
		snapshot_put_u64(tr, svc_state_name((enum svc_state)i), s->transitions[i]);
	for (int i = 0; i < REJECT_COUNT; i++)
		snapshot_put_u64(rej, notify_reject_name((enum notify_reject)i),
				 s->notify_rejected[i]);
	for (size_t i = 0; i < s->n_starts; i++) {
		char text[24];
		snprintf(text, sizeof(text), "%" PRIu64, s->starts[i]);
		cJSON_AddItemToArray(starts, cJSON_CreateString(text));
	}
}

static void restore_counts(struct svc *s, const cJSON *o)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "transitions");
	const cJSON *rej = cJSON_GetObjectItemCaseSensitive(o, "notify_rejected"), *k;

	for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
		*(uint64_t *)((char *)s + u64s[i].off) = snapshot_get_u64(o, u64s[i].key, 0);
	for (int i = 0; i < SVC_STATE_COUNT; i++)
		s->transitions[i] = snapshot_get_u64(tr, svc_state_name((enum svc_state)i), 0);
	for (int i = 0; i < REJECT_COUNT; i++)
		s->notify_rejected[i] =
			snapshot_get_u64(rej, notify_reject_name((enum notify_reject)i), 0);
	s->n_starts = 0;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "starts"))
	{
		if (s->n_starts < ARRAY_SIZE(s->starts) && cJSON_IsString(k))
			s->starts[s->n_starts++] = strtoull(k->valuestring, NULL, 10);
	}
}

static void put_lists(cJSON *o, const struct svc *s)
{
	cJSON *ls = cJSON_AddArrayToObject(o, "listeners");
	cJSON *obs = cJSON_AddArrayToObject(o, "observed");
	cJSON *pr = cJSON_AddArrayToObject(o, "probes");

	for (size_t i = 0; i < s->n_listeners; i++)
		cJSON_AddItemToArray(ls, listener_json(&s->listeners[i]));
	for (size_t i = 0; i < s->n_observed; i++)
		cJSON_AddItemToArray(obs, listener_json(&s->observed[i]));
	for (size_t i = 0; i < s->cfg->n_probes; i++)
		cJSON_AddItemToArray(pr, probe_json(&s->probes[i], s->cfg->probes[i].text));
}

/* Declared listeners by position, when the config still declares the same ones. */
static void restore_listeners(struct svc *s, const cJSON *ls)
{
	const cJSON *k;
	size_t i = 0;

	if (cJSON_GetArraySize(ls) != (int)s->n_listeners)
		return;
	cJSON_ArrayForEach(k, ls)
	{
		if (strcmp(snapshot_get_str(k, "label"), s->listeners[i].label) == 0)
			listener_restore(&s->listeners[i], k);
		i++;
	}
}

static void restore_probes(struct svc *s, const cJSON *pr)
{
	const cJSON *k;
	size_t i = 0;

	if (cJSON_GetArraySize(pr) != (int)s->cfg->n_probes)
		return;
	cJSON_ArrayForEach(k, pr)
	{
		if (strcmp(snapshot_get_str(k, "probe"), s->cfg->probes[i].text) == 0)
			probe_restore(&s->probes[i], k);
		i++;
	}
}

static void restore_lists(struct svc *s, const cJSON *o)
{
	const cJSON *k;

	restore_listeners(s, cJSON_GetObjectItemCaseSensitive(o, "listeners"));
	s->n_observed = 0;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "observed"))
	{
		struct listener *l = svc_observed_add(s);
		if (!l)
			break;
		listener_init(l, NULL, "");
		listener_restore(l, k);
	}
	restore_probes(s, cJSON_GetObjectItemCaseSensitive(o, "probes"));
}

cJSON *snapshot_svc(const struct svc *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "state", svc_state_name(s->state));
	cJSON_AddStringToObject(o, "cause", s->cause);
	put_int(o, "pid", s->pid);
	put_int(o, "deadline_kind", s->deadline_kind);
	put_int(o, "attempt", s->attempt);
	put_int(o, "notify_errno", s->notify_errno);
	cJSON_AddStringToObject(o, "status_text", s->status_text);
	put_flags(o, s);
	put_counts(o, s);
	if (s->has_exit)
		cJSON_AddItemToObject(o, "last_exit", exit_json(&s->last_exit));
	put_lists(o, s);
	return o;
}

static int state_named(const char *name)
{
	for (int i = 0; i < SVC_STATE_COUNT; i++)
		if (strcmp(name, svc_state_name((enum svc_state)i)) == 0)
			return i;
	return -1;
}

int snapshot_restore_svc(struct svc *s, const cJSON *o, char *why, size_t size)
{
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(o, "last_exit");
	int state = cJSON_IsObject(o) ? state_named(snapshot_get_str(o, "state")) : -1;

	if (state < 0) {
		snprintf(why, size, "no service state in it");
		return -EINVAL;
	}
	s->state = (enum svc_state)state;
	get_text(o, "cause", s->cause, sizeof(s->cause));
	s->pid = (pid_t)get_int(o, "pid", 0, 4194304, 0);
	s->deadline_kind = (enum svc_deadline)get_int(o, "deadline_kind", DEADLINE_NONE,
						      DEADLINE_WATCHDOG, DEADLINE_NONE);
	s->attempt = (unsigned int)get_int(o, "attempt", 0, 1000000, 0);
	s->notify_errno = (int)get_int(o, "notify_errno", 0, 4095, 0);
	get_text(o, "status_text", s->status_text, sizeof(s->status_text));
	restore_flags(s, o);
	restore_counts(s, o);
	s->has_exit = cJSON_IsObject(last);
	if (s->has_exit)
		exit_restore(&s->last_exit, last);
	restore_lists(s, o);
	if (s->deadline_kind == DEADLINE_NONE)
		s->deadline = 0;
	return 0;
}
