// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A service read whole, checked whole: what no single key can say on its own. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/argv.h"
#include "base/util.h"
#include "config/config_internal.h"

/*
 * Daemons that accept before they serve: the kernel shows them waiting on
 * their listener while they start up, recover or load a snapshot, and they
 * answer "not yet" meanwhile. Unless `ready` or `serve` says otherwise,
 * their readiness is accept plus a serving check of this protocol on the
 * first declared listener. docs/configuration.md says why each is here.
 */
static const struct {
	const char *exe;   /* the command's file name */
	const char *check; /* the probe kind */
} recognized[] = {
	{ "postgres", "postgres" },	 { "postmaster", "postgres" }, { "pg_ctl", "postgres" },
	{ "pg_ctlcluster", "postgres" }, { "redis-server", "redis" },
};

/* "postgres://127.0.0.1:5432" or "redis:/run/redis.sock" for a declared listener; false: none. */
static bool check_of(const char *kind, const struct listen_spec *l, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "127.0.0.1";
	static const uint8_t any6[16];

	if (l->proto == LISTEN_UNIX)
		return l->path[0] == '/' &&
		       (size_t)snprintf(buf, size, "%s:%s", kind, l->path) < size;
	if (l->proto != LISTEN_TCP)
		return false;
	if (l->family == AF_INET6 && memcmp(l->addr, any6, sizeof(any6)) != 0)
		inet_ntop(AF_INET6, l->addr, host, sizeof(host));
	else if (l->family == AF_INET6)
		str_copy(host, "::1", sizeof(host));
	else if (l->family == AF_INET && (l->addr[0] || l->addr[1] || l->addr[2] || l->addr[3]))
		inet_ntop(AF_INET, l->addr, host, sizeof(host));
	return (size_t)snprintf(buf, size, l->family == AF_INET6 ? "%s://[%s]:%u" : "%s://%s:%u",
				kind, host, l->port) < size;
}

/* The serving check readyd would give a daemon of this file name; NULL: none. */
static const char *recognized_kind(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	for (size_t i = 0; i < ARRAY_SIZE(recognized); i++)
		if (strcmp(base, recognized[i].exe) == 0)
			return recognized[i].check;
	return NULL;
}

/* Neither `ready` nor `serve` said how this service is ready. */
static bool readiness_unsaid(const struct service_config *s)
{
	if (s->seen[SEEN_READY] || !s->n_listen)
		return false;
	for (size_t i = 0; i < s->n_probes; i++)
		if (s->probes[i].until_ready)
			return false;
	return true;
}

/* The check of `kind` on the first declared listener it can speak to; false: none. */
static bool first_check(const struct service_config *s, const char *kind, char *buf, size_t size)
{
	for (size_t j = 0; j < s->n_listen; j++)
		if (check_of(kind, &s->listen[j], buf, size))
			return true;
	return false;
}

/* No `ready`, no `serve`: a daemon readyd knows gets its serving check. */
static void recognize(struct service_config *s)
{
	const char *kind, *why;
	char text[PROBE_TEXT_MAX];
	struct probe_spec *grown;

	if (!readiness_unsaid(s) || !s->n_procs || !s->procs[0].argv ||
	    s->n_probes == CONFIG_MAX_PROBES)
		return;
	kind = recognized_kind(s->procs[0].argv[0]);
	if (!kind || !first_check(s, kind, text, sizeof(text)))
		return;
	grown = realloc(s->probes, (s->n_probes + 1) * sizeof(*grown));
	if (!grown)
		return; /* (no serving check: out of memory) */
	s->probes = grown;
	if (probe_spec_parse(text, &s->probes[s->n_probes], &why) < 0)
		return;
	s->probes[s->n_probes++].until_ready = true;
	str_copy(s->recognized, kind, sizeof(s->recognized));
}

bool config_watch_hint(const struct service_config *s, const char *comm, char *buf, size_t size)
{
	const char *kind = recognized_kind(comm);
	char text[PROBE_TEXT_MAX];

	if (!s->adopted || !kind || !readiness_unsaid(s) ||
	    !first_check(s, kind, text, sizeof(text)))
		return false;
	return (size_t)snprintf(buf, size, "serve = %s", text) < size;
}

/* Checks that span keys, reported at the line of the key that must change. */
static void check_combinations(struct parse_ctx *ctx, struct service_config *s)
{
	unsigned int line;

	if ((s->ready & READY_PROBE) && !s->n_probes)
		config_error(ctx, s->seen[SEEN_READY],
			     "ready = probe needs at least one probe = ... in service \"%s\"",
			     s->name);
	if (s->probe_timeout_ns > s->probe_interval_ns && !s->seen[SEEN_PROBE_TIMEOUT])
		s->probe_timeout_ns = s->probe_interval_ns; /* only the default: it follows */
	else if (s->probe_timeout_ns > s->probe_interval_ns)
		config_error(
			ctx, s->seen[SEEN_PROBE_TIMEOUT],
			"probe_timeout is longer than probe_interval in service \"%s\"; a probe "
			"must finish before the next is due",
			s->name);
	if (s->backoff.max_ns < s->backoff.initial_ns) {
		line = s->seen[SEEN_RESTART_MAX_DELAY] ? s->seen[SEEN_RESTART_MAX_DELAY] : s->line;
		config_error(ctx, line,
			     "restart_max_delay is shorter than restart_delay in service \"%s\"",
			     s->name);
	}
}

static void finish_process(struct parse_ctx *ctx, const struct service_config *s,
			   struct process_config *p)
{
	const char *why;

	if (!p->command) {
		if (s->explicit_procs)
			config_error(ctx, p->line,
				     "process \"%s/%s\" has no command; add command = "
				     "/path/to/server ARGS",
				     s->name, p->name);
		else
			config_error(ctx, s->line,
				     "service \"%s\" has no command; add command = "
				     "/path/to/server ARGS",
				     s->name);
		return;
	}
	if (argv_split(p->command, &p->argv, &why) < 0)
		config_error(ctx, p->command_line, "command: %s", why ? why : "out of memory");
	else if (p->argv[0][0] != '/')
		config_error(
			ctx, p->command_line,
			"command must start with an absolute path (got \"%s\"): readyd does not "
			"search PATH",
			p->argv[0]);
}

static void finish_watch(struct parse_ctx *ctx, struct service_config *s)
{
	if (s->watch.kind == WATCH_NONE)
		config_error(
			ctx, s->line,
			"watch \"%s\" does not say what to watch; add pid = N, pid_file = /path "
			"or cgroup = /path",
			s->name);
	if (s->ready & (READY_NOTIFY | READY_FD))
		config_error(ctx, s->seen[SEEN_READY],
			     "ready = %s cannot work for watch \"%s\": readyd did not start it, "
			     "so it has no %s from readyd",
			     s->ready & READY_NOTIFY ? "notify" : "fd:N", s->name,
			     s->ready & READY_NOTIFY ? "NOTIFY_SOCKET" : "notification fd");
	if (!s->n_procs) /* the watched tree: a process with no command (of this watch, not ctx's)
			  */
		config_add_process(ctx, s, s->name);
}

void config_finish_service(struct parse_ctx *ctx, struct service_config *s)
{
	check_combinations(ctx, s);
	if (s->adopted) {
		finish_watch(ctx, s);
		return;
	}
	if (s->ready & READY_FD && s->n_procs > 1)
		config_error(ctx, s->seen[SEEN_READY],
			     "ready = fd:%d in service \"%s\" of %zu processes: the fd goes to one "
			     "process; say which is ready otherwise (ready = notify)",
			     s->ready_fd, s->name, s->n_procs);
	if (!s->n_procs)
		config_error(ctx, s->line,
			     "service \"%s\" has no command; add command = "
			     "/path/to/server ARGS",
			     s->name);
	for (size_t i = 0; i < s->n_procs; i++)
		finish_process(ctx, s, &s->procs[i]);
	recognize(s);
}
