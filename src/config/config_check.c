// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A service read whole, checked whole: what no single key can say on its own. */
#include "base/argv.h"
#include "config/config_internal.h"

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
	if (s->ready & READY_NOTIFY)
		config_error(
			ctx, s->seen[SEEN_READY],
			"ready = notify cannot work for watch \"%s\": readyd did not start it, "
			"so it has no NOTIFY_SOCKET from readyd",
			s->name);
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
	if (!s->n_procs)
		config_error(ctx, s->line,
			     "service \"%s\" has no command; add command = "
			     "/path/to/server ARGS",
			     s->name);
	for (size_t i = 0; i < s->n_procs; i++)
		finish_process(ctx, s, &s->procs[i]);
}
