// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The configuration keys: one setter each, parsing and checking one value. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "base/duration.h"
#include "base/util.h"

static int set_string(struct parse_ctx *ctx, char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy) {
		config_error(ctx, ctx->line, "out of memory");
		return -ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int set_abs_path(struct parse_ctx *ctx, char **field, const char *key, const char *value,
			size_t max)
{
	if (value[0] != '/') {
		config_error(ctx, ctx->line, "%s must be an absolute path, got \"%s\"", key, value);
		return -EINVAL;
	}
	if (strlen(value) >= max) {
		config_error(ctx, ctx->line, "%s is longer than %zu bytes", key, max - 1);
		return -EINVAL;
	}
	return set_string(ctx, field, value);
}

static int set_textfile(struct parse_ctx *ctx, const char *value)
{
	return set_abs_path(ctx, &ctx->cfg->textfile, "textfile", value, 4096);
}

static int set_control(struct parse_ctx *ctx, const char *value)
{
	return set_abs_path(ctx, &ctx->cfg->control, "control", value, 108);
}

static int set_state(struct parse_ctx *ctx, const char *value)
{
	ctx->cfg->state_off = strcmp(value, "none") == 0;
	return ctx->cfg->state_off ? 0 : set_abs_path(ctx, &ctx->cfg->state, "state", value, 4096);
}

static int set_control_group(struct parse_ctx *ctx, const char *value)
{
	struct group *gr = getgrnam(value);

	if (!gr) {
		config_error(ctx, ctx->line, "control_group: no group named \"%s\" on this host",
			     value);
		return -EINVAL;
	}
	ctx->cfg->control_gid = gr->gr_gid;
	return set_string(ctx, &ctx->cfg->control_group, value);
}

static int set_command(struct parse_ctx *ctx, const char *value)
{
	struct process_config *s = config_current_process(ctx, "command");

	if (!s)
		return -EINVAL;
	if (!ctx->continuation || !s->command) {
		s->command_line = ctx->line;
		ctx->joining = NULL;
		return set_string(ctx, &s->command, value);
	}
	return config_join_continuation(ctx, s, value);
}

static int set_listen(struct parse_ctx *ctx, const char *value)
{
	struct service_config *s = ctx->svc;
	struct process_config *p = config_current_process(ctx, "listen");
	const char *why;

	if (!p)
		return -EINVAL;
	if (s->n_listen == CONFIG_MAX_LISTEN) {
		config_error(ctx, ctx->line, "listen: at most %d listeners per service",
			     CONFIG_MAX_LISTEN);
		return -EINVAL;
	}
	if (!config_grow(ctx, (void **)&s->listen, s->n_listen, sizeof(*s->listen)) ||
	    !config_grow(ctx, (void **)&s->listen_proc, s->n_listen, sizeof(*s->listen_proc)))
		return -ENOMEM;
	if (listen_spec_parse(value, &s->listen[s->n_listen], &why)) {
		config_error(ctx, ctx->line, "listen = %s: %s", value, why);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_listen; i++)
		if (strcmp(s->listen[i].text, s->listen[s->n_listen].text) == 0) {
			config_error(ctx, ctx->line, "listen = %s is declared twice", value);
			return -EINVAL;
		}
	s->listen_proc[s->n_listen++] = (unsigned int)(p - s->procs);
	return 0;
}

static int set_duration(struct parse_ctx *ctx, uint64_t *field, const char *key, const char *value)
{
	int err = duration_parse(value, field);

	if (err == -ERANGE)
		config_error(ctx, ctx->line, "%s = %s is longer than a year", key, value);
	else if (err)
		config_error(ctx, ctx->line,
			     "%s = %s is not a duration; write e.g. 500ms, 30s, 2m, 1h "
			     "(a bare number is seconds)",
			     key, value);
	else if (*field == 0) {
		config_error(ctx, ctx->line, "%s must be longer than 0", key);
		err = -EINVAL;
	}
	return err;
}

static int set_ready_timeout(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->ready_timeout_ns, "ready_timeout", value);
}

static int set_stop_timeout(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->stop_timeout_ns, "stop_timeout", value);
}

static int set_uint(struct parse_ctx *ctx, unsigned int *field, const char *key, const char *value,
		    unsigned int min, unsigned int max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!*value || *end || errno || v < min || v > max || value[0] == '-') {
		config_error(ctx, ctx->line, "%s = %s: expected a whole number from %u to %u", key,
			     value, min, max);
		return -EINVAL;
	}
	*field = (unsigned int)v;
	return 0;
}

static int set_restart_delay(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->backoff.initial_ns, "restart_delay", value);
}

static int set_restart_max_delay(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->backoff.max_ns, "restart_max_delay", value);
}

static int set_restart_reset_after(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->backoff.reset_after_ns, "restart_reset_after", value);
}

static int set_start_limit_burst(struct parse_ctx *ctx, const char *value)
{
	return set_uint(ctx, &ctx->svc->start_limit_burst, "start_limit_burst", value, 0,
			START_LIMIT_BURST_MAX);
}

static int set_start_limit_interval(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->start_limit_interval_ns, "start_limit_interval", value);
}

/* probe = SPEC (health, and readiness with ready = probe) or serve = SPEC (readiness only). */
static int add_probe(struct parse_ctx *ctx, const char *key, const char *value, bool until_ready)
{
	struct service_config *s = ctx->svc;
	const char *why;
	int err;

	if (s->n_probes == CONFIG_MAX_PROBES) {
		config_error(ctx, ctx->line, "%s: at most %d probes and serving checks per service",
			     key, CONFIG_MAX_PROBES);
		return -EINVAL;
	}
	if (!config_grow(ctx, (void **)&s->probes, s->n_probes, sizeof(*s->probes)))
		return -ENOMEM;
	err = probe_spec_parse(value, &s->probes[s->n_probes], &why);
	if (err) {
		config_error(ctx, ctx->line, "%s = %s: %s", key, value,
			     why ? why : "out of memory");
		return err;
	}
	for (size_t i = 0; i < s->n_probes; i++)
		if (strcmp(s->probes[i].text, value) == 0) {
			probe_spec_free(&s->probes[s->n_probes]);
			config_error(ctx, ctx->line, "%s = %s is declared twice", key, value);
			return -EINVAL;
		}
	s->probes[s->n_probes++].until_ready = until_ready;
	return 0;
}

static int set_probe(struct parse_ctx *ctx, const char *value)
{
	return add_probe(ctx, "probe", value, false);
}

/* A serving check: once the kernel shows it accepting, this must pass before it is running. */
static int set_serve(struct parse_ctx *ctx, const char *value)
{
	return add_probe(ctx, "serve", value, true);
}

static int set_probe_interval(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->probe_interval_ns, "probe_interval", value);
}

static int set_probe_timeout(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->probe_timeout_ns, "probe_timeout", value);
}

static int set_failure_threshold(struct parse_ctx *ctx, const char *value)
{
	return set_uint(ctx, &ctx->svc->failure_threshold, "failure_threshold", value, 1, 100);
}

static int set_success_threshold(struct parse_ctx *ctx, const char *value)
{
	return set_uint(ctx, &ctx->svc->success_threshold, "success_threshold", value, 1, 100);
}

static int set_on_unhealthy(struct parse_ctx *ctx, const char *value)
{
	if (strcmp(value, "none") == 0)
		ctx->svc->on_unhealthy = ON_UNHEALTHY_NONE;
	else if (strcmp(value, "restart") == 0)
		ctx->svc->on_unhealthy = ON_UNHEALTHY_RESTART;
	else {
		config_error(ctx, ctx->line, "on_unhealthy = %s: expected none or restart", value);
		return -EINVAL;
	}
	return 0;
}

/* ready = accept | notify | fd:N | file:/path | probe, or several: notify,accept */
static int set_ready(struct parse_ctx *ctx, const char *value)
{
	unsigned int mask = 0;
	char copy[4200], *save = NULL;

	if (str_copy(copy, value, sizeof(copy)) >= sizeof(copy))
		goto bad;
	for (char *w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		if (strcmp(w, "accept") == 0) {
			mask |= READY_ACCEPT;
		} else if (strcmp(w, "probe") == 0) {
			mask |= READY_PROBE;
		} else if (strcmp(w, "notify") == 0) {
			mask |= READY_NOTIFY;
		} else if (str_starts_with(w, "fd:")) {
			char *end;
			long fd = strtol(w + 3, &end, 10);
			if (end == w + 3 || *end || fd < 3 || fd > 1023) {
				config_error(
					ctx, ctx->line,
					"ready = %s: the fd is a number from 3 to 1023 (0, 1 and 2 "
					"are the service's stdio): fd:3",
					w);
				return -EINVAL;
			}
			mask |= READY_FD;
			ctx->svc->ready_fd = (int)fd;
		} else if (str_starts_with(w, "file:")) {
			if (w[5] != '/' || strlen(w + 5) >= 4096 || w[strlen(w) - 1] == '/') {
				config_error(ctx, ctx->line,
					     "ready = %s: a marker is an absolute file path: "
					     "file:/run/app/ready",
					     w);
				return -EINVAL;
			}
			mask |= READY_FILE;
			if (set_string(ctx, &ctx->svc->ready_file, w + 5))
				return -ENOMEM;
		} else {
			goto bad;
		}
	}
	if (!mask)
		goto bad;
	ctx->svc->ready = mask;
	return 0;
bad:
	config_error(ctx, ctx->line,
		     "ready = %s: expected accept, notify, fd:N, file:/path or probe, or several: "
		     "notify,accept",
		     value);
	return -EINVAL;
}

/* accept_stall = 5s; 0 (or off) turns the check off. */
static int set_accept_stall(struct parse_ctx *ctx, const char *value)
{
	if (strcmp(value, "0") == 0 || strcmp(value, "off") == 0) {
		ctx->svc->accept_stall_ns = 0;
		return 0;
	}
	return set_duration(ctx, &ctx->svc->accept_stall_ns, "accept_stall", value);
}

static int set_remove_stale(struct parse_ctx *ctx, const char *value)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
		ctx->svc->remove_stale = value[0] == 'y';
		return 0;
	}
	config_error(ctx, ctx->line, "remove_stale = %s: expected yes or no", value);
	return -EINVAL;
}

static int set_watchdog(struct parse_ctx *ctx, const char *value)
{
	return set_duration(ctx, &ctx->svc->watchdog_ns, "watchdog", value);
}

static int set_restart(struct parse_ctx *ctx, const char *value)
{
	static const enum restart_policy all[] = { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(value, restart_policy_name(all[i])) == 0) {
			ctx->svc->restart = all[i];
			return 0;
		}
	config_error(ctx, ctx->line, "restart = %s: expected no, on-failure or always", value);
	return -EINVAL;
}

static int set_user(struct parse_ctx *ctx, const char *value)
{
	struct process_config *s = config_current_process(ctx, "user");
	struct passwd *pw = getpwnam(value);
	int n = CONFIG_MAX_GROUPS;

	if (!s)
		return -EINVAL;
	if (!pw) {
		config_error(ctx, ctx->line, "user: no user named \"%s\" on this host", value);
		return -EINVAL;
	}
	s->uid = pw->pw_uid;
	if (!s->group)
		s->gid = pw->pw_gid;
	if (getgrouplist(value, pw->pw_gid, s->groups, &n) < 0) {
		config_error(ctx, ctx->line, "user: \"%s\" is in more than %d groups", value,
			     CONFIG_MAX_GROUPS);
		return -EINVAL;
	}
	s->n_groups = (size_t)n;
	if (set_string(ctx, &s->home, pw->pw_dir))
		return -ENOMEM;
	return set_string(ctx, &s->user, value);
}

static int set_group(struct parse_ctx *ctx, const char *value)
{
	struct process_config *p = config_current_process(ctx, "group");
	struct group *gr = getgrnam(value);

	if (!p)
		return -EINVAL;
	if (!gr) {
		config_error(ctx, ctx->line, "group: no group named \"%s\" on this host", value);
		return -EINVAL;
	}
	p->gid = gr->gr_gid;
	return set_string(ctx, &p->group, value);
}

static int set_working_directory(struct parse_ctx *ctx, const char *value)
{
	struct process_config *p = config_current_process(ctx, "working_directory");

	return p ? set_abs_path(ctx, &p->working_directory, "working_directory", value, 4096)
		 : -EINVAL;
}

static bool env_name_valid(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int set_environment(struct parse_ctx *ctx, const char *value)
{
	struct process_config *s = config_current_process(ctx, "environment");
	const char *eq = strchr(value, '=');

	if (!s)
		return -EINVAL;
	if (!eq || !env_name_valid(value, (size_t)(eq - value))) {
		config_error(ctx, ctx->line,
			     "environment = %s: expected KEY=VALUE with KEY made of letters, "
			     "digits and _",
			     value);
		return -EINVAL;
	}
	if (s->n_env == CONFIG_MAX_ENV) {
		config_error(ctx, ctx->line, "environment: at most %d variables", CONFIG_MAX_ENV);
		return -EINVAL;
	}
	s->environment[s->n_env] = NULL;
	if (set_string(ctx, &s->environment[s->n_env], value))
		return -ENOMEM;
	s->n_env++;
	return 0;
}

#define PROC	     (IN_SERVICE | IN_PROCESS)
#define SVC_OR_WATCH (IN_SERVICE | IN_WATCH)

/* [watch]: one of pid, pid_file, cgroup names what is watched. */
static int set_watch(struct parse_ctx *ctx, enum watch_kind kind, const char *key)
{
	struct service_config *s = ctx->svc;

	if (s->watch.kind != WATCH_NONE && s->watch.kind != kind) {
		config_error(ctx, ctx->line,
			     "%s: a watch names its processes one way: pid, pid_file or cgroup",
			     key);
		return -EINVAL;
	}
	s->watch.kind = kind;
	return 0;
}

static int set_pid(struct parse_ctx *ctx, const char *value)
{
	char *end;
	long pid = strtol(value, &end, 10);

	if (*end || end == value || pid <= 1 || pid > 4194304) {
		config_error(ctx, ctx->line, "pid = %s is not a process id (2..4194304)", value);
		return -EINVAL;
	}
	ctx->svc->watch.pid = (pid_t)pid;
	return set_watch(ctx, WATCH_PID, "pid");
}

static int set_pid_file(struct parse_ctx *ctx, const char *value)
{
	if (set_abs_path(ctx, &ctx->svc->watch.path, "pid_file", value, 4096))
		return -EINVAL;
	return set_watch(ctx, WATCH_PID_FILE, "pid_file");
}

static int set_cgroup(struct parse_ctx *ctx, const char *value)
{
	size_t len = strlen(value);

	if (strstr(value, "/../") || (len >= 3 && strcmp(value + len - 3, "/..") == 0)) {
		config_error(ctx, ctx->line, "cgroup = %s: no .. components", value);
		return -EINVAL;
	}
	if (set_abs_path(ctx, &ctx->svc->watch.path, "cgroup", value, 4096))
		return -EINVAL;
	return set_watch(ctx, WATCH_CGROUP, "cgroup");
}

static const struct config_key keys[] = {
	{ "textfile", IN_READYD, 0, false, set_textfile },
	{ "control", IN_READYD, 1, false, set_control },
	{ "control_group", IN_READYD, 2, false, set_control_group },
	{ "state", IN_READYD, 3, false, set_state },
	{ "agent_listen", IN_READYD, 4, false, config_set_agent_listen },
	{ "grpc_listen", IN_READYD, 5, false, config_set_grpc_listen },
	{ "http_listen", IN_READYD, 6, false, config_set_http_listen },
	{ "socket_dirs", IN_READYD, -1, false, config_set_socket_dirs },
	/* A process's keys: in [process "S/P"], or in [service "S"] for its one process. */
	{ "command", PROC, 0, true, set_command },
	{ "listen", PROC | IN_WATCH, -1, true, set_listen },
	{ "user", PROC, 1, true, set_user },
	{ "group", PROC, 2, true, set_group },
	{ "working_directory", PROC, 3, true, set_working_directory },
	{ "environment", PROC, -1, true, set_environment },
	/* The service's keys. */
	{ "ready_timeout", IN_SERVICE, 1, false, set_ready_timeout },
	{ "restart", IN_SERVICE, 2, false, set_restart },
	{ "stop_timeout", IN_SERVICE, 3, false, set_stop_timeout },
	{ "ready", SVC_OR_WATCH, 7, false, set_ready },
	{ "restart_delay", IN_SERVICE, 8, false, set_restart_delay },
	{ "restart_max_delay", IN_SERVICE, 9, false, set_restart_max_delay },
	{ "restart_reset_after", IN_SERVICE, 10, false, set_restart_reset_after },
	{ "start_limit_burst", IN_SERVICE, 11, false, set_start_limit_burst },
	{ "start_limit_interval", IN_SERVICE, 12, false, set_start_limit_interval },
	{ "probe", SVC_OR_WATCH, -1, false, set_probe },
	{ "serve", SVC_OR_WATCH, -1, false, set_serve },
	{ "probe_interval", SVC_OR_WATCH, 13, false, set_probe_interval },
	{ "probe_timeout", SVC_OR_WATCH, 14, false, set_probe_timeout },
	{ "failure_threshold", SVC_OR_WATCH, 15, false, set_failure_threshold },
	{ "success_threshold", SVC_OR_WATCH, 16, false, set_success_threshold },
	{ "on_unhealthy", IN_SERVICE, 17, false, set_on_unhealthy },
	{ "watchdog", IN_SERVICE, 18, false, set_watchdog },
	{ "accept_stall", SVC_OR_WATCH, 22, false, set_accept_stall },
	{ "remove_stale", IN_SERVICE, 23, false, set_remove_stale },
	{ "after", IN_SERVICE, -1, false, config_set_after },
	{ "requires", IN_SERVICE, -1, false, config_set_requires },
	{ "autostart", IN_SERVICE, 24, false, config_set_autostart },
	{ "start_limit_cooldown", IN_SERVICE, 25, false, config_set_start_limit_cooldown },
	/* What a [watch] observes. */
	{ "pid", IN_WATCH, 19, false, set_pid },
	{ "pid_file", IN_WATCH, 20, false, set_pid_file },
	{ "cgroup", IN_WATCH, 21, false, set_cgroup },
};

/* A key by name, whatever section it belongs to (the caller checks that). */
const struct config_key *config_key_find(enum config_section section, const char *name)
{
	(void)section;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Levenshtein distance, capped: names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *config_key_suggest(enum config_section section, const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t d;
		if (!(keys[i].sections & (1u << section)))
			continue;
		d = edit_distance(name, keys[i].name);
		/* A key that contains the typo (or the reverse) is a good guess too. */
		if (strstr(keys[i].name, name) || strstr(name, keys[i].name))
			d = d < 2 ? d : 2;
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best_d <= 3 ? best : NULL;
}
