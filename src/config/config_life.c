// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A config after parsing: freeing, reference counts (a reload swaps in a new
 * config while units still point into the old one), lookup, the defaults
 * the environment may change, and whether two services behave the same.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/argv.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/util.h"
#include "config/config.h"

const struct config_defaults config_builtin_defaults = {
	.probe_interval_ns = 30 * NSEC_PER_SEC,
	.probe_timeout_ns = 2 * NSEC_PER_SEC,
};

const char *restart_policy_name(enum restart_policy p)
{
	switch (p) {
	case RESTART_NO:
		return "no";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "?";
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; cfg->services && i < cfg->n_services; i++) {
		struct service_config *s = &cfg->services[i];
		for (size_t k = 0; k < s->n_procs; k++) {
			struct process_config *p = &s->procs[k];
			free(p->command);
			argv_free(p->argv);
			free(p->user);
			free(p->home);
			free(p->group);
			free(p->working_directory);
			for (size_t j = 0; j < p->n_env; j++)
				free(p->environment[j]);
		}
		free(s->ready_file);
		free(s->watch.path);
		for (size_t j = 0; j < s->n_probes; j++)
			probe_spec_free(&s->probes[j]);
		free(s->procs);
		free(s->listen);
		free(s->listen_proc);
		free(s->probes);
		free(s->deps);
	}
	free(cfg->services);
	free(cfg->path);
	free(cfg->textfile);
	free(cfg->control);
	free(cfg->control_group);
	free(cfg->state);
	free(cfg->text);
	for (size_t i = 0; i < cfg->n_socket_dirs; i++)
		free(cfg->socket_dirs[i]);
	memset(cfg, 0, sizeof(*cfg));
}

void config_diag_add(struct config_diag *diag, const char *fmt, ...)
{
	char *line, **grown;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grown = realloc(diag->lines, sizeof(char *) * (diag->n + 1));
	if (!grown) {
		free(line);
		return;
	}
	diag->lines = grown;
	diag->lines[diag->n++] = line;
}

void config_diag_free(struct config_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++)
		free(diag->lines[i]);
	free(diag->lines);
	memset(diag, 0, sizeof(*diag));
}

const struct service_config *config_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		if (strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	return NULL;
}

static int default_from_env(const char *var, uint64_t *field, char *err, size_t size)
{
	const char *v = getenv(var);
	uint64_t ns;

	if (!v)
		return 0;
	if (duration_parse(v, &ns) || ns == 0) {
		snprintf(err, size, "%s=%s is not a duration; write e.g. 10s or 500ms, or unset it",
			 var, v);
		return -EINVAL;
	}
	*field = ns;
	return 0;
}

int config_defaults_from_env(struct config_defaults *d, char *err, size_t size)
{
	*d = config_builtin_defaults;
	if (default_from_env("READYD_PROBE_INTERVAL", &d->probe_interval_ns, err, size) ||
	    default_from_env("READYD_PROBE_TIMEOUT", &d->probe_timeout_ns, err, size))
		return -EINVAL;
	return 0;
}

void ready_mask_format(char *buf, size_t size, unsigned int mask)
{
	static const char *const names[] = { "accept", "probe", "notify", "file", "fd" };

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (mask & (1u << i))
			str_append(buf, size, "%s%s", buf[0] ? "," : "", names[i]);
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Field by field: the struct has padding, which memcmp would compare too. */
static bool backoff_equal(const struct backoff_params *a, const struct backoff_params *b)
{
	return a->initial_ns == b->initial_ns && a->max_ns == b->max_ns &&
	       a->reset_after_ns == b->reset_after_ns && a->jitter_pct == b->jitter_pct;
}

static bool argv_eq(char *const *a, char *const *b)
{
	for (; a && b && *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return (!a || !*a) && (!b || !*b);
}

static bool process_equal(const struct process_config *a, const struct process_config *b)
{
	if (strcmp(a->name, b->name) != 0 || !argv_eq(a->argv, b->argv) ||
	    !str_eq(a->user, b->user) || !str_eq(a->group, b->group) || a->uid != b->uid ||
	    a->gid != b->gid || !str_eq(a->working_directory, b->working_directory) ||
	    a->n_env != b->n_env)
		return false;
	for (size_t i = 0; i < a->n_env; i++)
		if (strcmp(a->environment[i], b->environment[i]) != 0)
			return false;
	return true;
}

bool config_service_equal(const struct service_config *a, const struct service_config *b)
{
	if (a->n_procs != b->n_procs || a->explicit_procs != b->explicit_procs)
		return false;
	for (size_t i = 0; i < a->n_procs; i++)
		if (!process_equal(&a->procs[i], &b->procs[i]))
			return false;
	if (strcmp(a->name, b->name) != 0 || a->n_listen != b->n_listen || a->ready != b->ready ||
	    a->ready_timeout_ns != b->ready_timeout_ns ||
	    a->stop_timeout_ns != b->stop_timeout_ns || a->restart != b->restart ||
	    !backoff_equal(&a->backoff, &b->backoff) ||
	    a->start_limit_burst != b->start_limit_burst ||
	    a->start_limit_interval_ns != b->start_limit_interval_ns ||
	    a->n_probes != b->n_probes || a->probe_interval_ns != b->probe_interval_ns ||
	    a->probe_timeout_ns != b->probe_timeout_ns ||
	    a->failure_threshold != b->failure_threshold ||
	    a->success_threshold != b->success_threshold || a->on_unhealthy != b->on_unhealthy ||
	    a->accept_stall_ns != b->accept_stall_ns || a->remove_stale != b->remove_stale ||
	    !str_eq(a->ready_file, b->ready_file) || a->watchdog_ns != b->watchdog_ns ||
	    a->ready_fd != b->ready_fd || strcmp(a->recognized, b->recognized) != 0 ||
	    a->adopted != b->adopted || a->watch.kind != b->watch.kind ||
	    a->watch.pid != b->watch.pid || !str_eq(a->watch.path, b->watch.path))
		return false;
	for (size_t i = 0; i < a->n_listen; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0 ||
		    a->listen_proc[i] != b->listen_proc[i])
			return false;
	for (size_t i = 0; i < a->n_probes; i++)
		if (strcmp(a->probes[i].text, b->probes[i].text) != 0 ||
		    a->probes[i].until_ready != b->probes[i].until_ready)
			return false;
	return true;
}

int config_open(const char *path, const struct config_defaults *defaults, struct config **out,
		struct config_diag *diag)
{
	struct config *cfg = malloc(sizeof(*cfg));
	int err;

	memset(diag, 0, sizeof(*diag));
	if (!cfg)
		return -ENOMEM;
	err = config_load(path, defaults, cfg, diag);
	if (err) {
		free(cfg);
		return err;
	}
	cfg->refs = 1;
	*out = cfg;
	return 0;
}

struct config *config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void config_unref(struct config *cfg)
{
	if (cfg && --cfg->refs == 0) {
		config_free(cfg);
		free(cfg);
	}
}
