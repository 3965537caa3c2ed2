/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by config.c (the inih glue) and config_keys.c (the key table). */
#ifndef READYD_CONFIG_INTERNAL_H
#define READYD_CONFIG_INTERNAL_H

#include "config/config.h"

enum config_section {
	SECTION_NONE,
	SECTION_READYD,
	SECTION_SERVICE,
	SECTION_PROCESS,
	SECTION_WATCH,
	SECTION_INVALID
};

/* Where a key may appear (config_key.sections). */
#define IN_READYD  (1u << SECTION_READYD)
#define IN_SERVICE (1u << SECTION_SERVICE)
#define IN_PROCESS (1u << SECTION_PROCESS)
#define IN_WATCH   (1u << SECTION_WATCH)

struct parse_ctx {
	struct config *cfg;
	struct config_diag *diag;
	const char *file;
	unsigned int line; /* line the reader returned last */
	bool continuation; /* that line continues the previous value */
	enum config_section section;
	struct service_config *svc;  /* current [service], or the service of the [process] */
	struct process_config *proc; /* current [process] */
	const struct config_defaults *defaults;
	/* The command being continued on indented lines: its length and its buffer's size. */
	struct process_config *joining;
	size_t joined_len, joined_cap;
	bool joined_too_long;	       /* said once, the rest of its lines skipped */
	unsigned int errors_not_shown; /* past CONFIG_ERRORS_MAX */
};

typedef int (*config_setter)(struct parse_ctx *ctx, const char *value);

struct config_key {
	const char *name;
	unsigned int sections; /* IN_* */
	int slot;	       /* index into seen[] for single-valued keys; -1 if repeatable */
	bool per_process;      /* slot indexes the process's seen[], not the service's */
	config_setter set;
};

/* The slots of config_keys.c's table whose line cross-checks report. */
#define SEEN_READY	       7
#define SEEN_RESTART_MAX_DELAY 9
#define SEEN_PROBE_TIMEOUT     14

/* Setters of config_keys_readyd.c, in config_keys.c's table. */
int config_set_agent_listen(struct parse_ctx *ctx, const char *value);
int config_set_grpc_listen(struct parse_ctx *ctx, const char *value);
int config_set_http_listen(struct parse_ctx *ctx, const char *value);
int config_set_socket_dirs(struct parse_ctx *ctx, const char *value);
/* Setters of config_deps.c: after, requires, autostart, start_limit_cooldown. */
int config_set_after(struct parse_ctx *ctx, const char *value);
int config_set_requires(struct parse_ctx *ctx, const char *value);
int config_set_autostart(struct parse_ctx *ctx, const char *value);
int config_set_start_limit_cooldown(struct parse_ctx *ctx, const char *value);
/* The whole config is read: every dep names another service, and none makes a cycle. */
void config_check_deps(struct parse_ctx *ctx);

const struct config_key *config_key_find(enum config_section section, const char *name);
/* The known key of `section` closest to `name`, or NULL if none is close. */
const char *config_key_suggest(enum config_section section, const char *name);
/*
 * A systemd unit's key (ExecStart, WorkingDirectory...): readyd's name for it
 * ("; did you mean \"command\"? (...)") or why there is none, for the
 * unknown-key error. false: not a systemd key.
 */
bool config_systemd_hint(const char *name, char *buf, size_t size);
/*
 * The process a process key (command, listen, user...) applies to: the
 * [process] being read, or a [service]'s own single process (created on
 * first use). NULL, with the error reported, when there is none.
 */
struct process_config *config_current_process(struct parse_ctx *ctx, const char *key);
/*
 * Room for one more element after n in *v (realloc'd: pointers into it move),
 * zeroed; NULL (an error said at ctx's line) when out of memory.
 */
void *config_grow(struct parse_ctx *ctx, void **v, size_t n, size_t size);
/* A new process of s (the watched tree of a [watch], or a [service]'s single one). */
struct process_config *config_add_process(struct parse_ctx *ctx, struct service_config *s,
					  const char *name);
/* The service is read whole: check what spans keys, split its commands (config_check.c). */
void config_finish_service(struct parse_ctx *ctx, struct service_config *s);
/* An indented line continues p's command: value joined with a space (config.c). */
int config_join_continuation(struct parse_ctx *ctx, struct process_config *p, const char *value);
void config_error(struct parse_ctx *ctx, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
