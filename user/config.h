/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd.conf: an INI file read with libinih.
 *
 *   [readyd]               textfile, control, control_group
 *   [service "NAME"]       command, listen (repeatable), ready_timeout,
 *                          restart, stop_timeout, user, group,
 *                          working_directory, environment (repeatable)
 *
 * Every error names file:line, the key, and what would be valid; a config
 * with any error is rejected whole.
 */
#ifndef READYD_CONFIG_H
#define READYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "listen_spec.h"

#define CONFIG_MAX_SERVICES 256
#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_ENV 64
#define CONFIG_MAX_GROUPS 64
#define SERVICE_NAME_MAX 64
#define CONFIG_DEFAULT_PATH "/etc/readyd/readyd.conf"
#define CONFIG_DEFAULT_TEXTFILE "/var/lib/prometheus/node-exporter/readyd.prom"
#define CONFIG_DEFAULT_CONTROL "/run/readyd/control.sock"

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct service_config {
	char name[SERVICE_NAME_MAX + 1];
	unsigned int line; /* of the [service "NAME"] header */
	char *command;	   /* as written, for display */
	char **argv;
	struct listen_spec listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	uint64_t ready_timeout_ns;
	uint64_t stop_timeout_ns;
	enum restart_policy restart;
	struct backoff_params backoff;
	char *user; /* NULL: run as readyd's own user */
	char *home; /* user's home directory, for HOME */
	char *group;
	uid_t uid;
	gid_t gid;
	gid_t groups[CONFIG_MAX_GROUPS]; /* supplementary groups of `user` */
	size_t n_groups;
	char *working_directory;
	char *environment[CONFIG_MAX_ENV]; /* "KEY=VALUE" */
	size_t n_env;
	/* Line of each single-valued key, to report duplicates. */
	unsigned int seen[16];
};

struct config {
	char *path;
	char *textfile;
	char *control;
	char *control_group; /* may use the control socket besides root */
	gid_t control_gid;
	struct service_config *services;
	size_t n_services;
	unsigned int seen[4];
};

/* Collected errors, printed by the caller: "file:line: message". */
struct config_diag {
	char **lines;
	size_t n;
};

/* Parse a file. 0 on success; -EINVAL with diag filled; -errno if unreadable. */
int config_load(const char *path, struct config *cfg, struct config_diag *diag);
/* Parse text in memory; `name` is used in messages (unit tests, reload checks). */
int config_parse_text(const char *name, const char *text, struct config *cfg,
		      struct config_diag *diag);
void config_free(struct config *cfg);
void config_diag_free(struct config_diag *diag);
const struct service_config *config_find(const struct config *cfg, const char *name);
const char *restart_policy_name(enum restart_policy p);

#endif
