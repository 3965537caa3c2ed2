/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd.conf: an INI file read with libinih.
 *
 *   [readyd]               textfile, control, control_group, socket_dirs,
 *                          agent_listen, grpc_listen, http_listen
 *   [service "NAME"]       ready, ready_timeout, restart, restart_delay,
 *                          restart_max_delay, restart_reset_after,
 *                          start_limit_burst, start_limit_interval,
 *                          stop_timeout, probe (repeatable), probe_interval,
 *                          probe_timeout, failure_threshold,
 *                          success_threshold, on_unhealthy, watchdog,
 *                          accept_stall, remove_stale, serve (repeatable),
 *                          after, requires (repeatable), autostart,
 *                          start_limit_cooldown
 *                          and, for a service of one process, its keys:
 *   [process "NAME/PART"]  command, listen (repeatable), user, group,
 *                          working_directory, environment (repeatable)
 *   [watch "NAME"]         pid | pid_file | cgroup, listen, ready, probe...:
 *                          a service readyd observes but did not start
 *
 * docs/configuration.md is the reference.
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

#include "readyd_control.h"

#include "config/backoff.h"
#include "config/listen_spec.h"
#include "config/probe_spec.h"

#define CONFIG_MAX_SERVICES	100000 /* the kernel ids' 29 bits hold many reloads of it */
#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_ENV		64
#define CONFIG_MAX_GROUPS	64
#define CONFIG_MAX_PROBES	8
#define CONFIG_MAX_PROCS	8
#define CONFIG_MAX_SOCKET_DIRS	16
#define CONFIG_MAX_DEPS		32	     /* after + requires of one service */
#define CONFIG_COMMAND_MAX	(128 * 1024) /* bytes, continuation lines joined */
#define DEFAULT_ACCEPT_STALL_NS (5ULL * 1000000000ULL)
#define START_LIMIT_BURST_MAX	100
/* After the start limit, one more try this long after (start_limit_cooldown; 0: off). */
#define DEFAULT_START_LIMIT_COOLDOWN (5ULL * 60ULL * 1000000000ULL)
#define SERVICE_NAME_MAX	     64
#define CONFIG_DEFAULT_PATH	     "/etc/readyd/readyd.conf"
#define CONFIG_DEFAULT_TEXTFILE	     "/var/lib/prometheus/node-exporter/readyd.prom"
#define CONFIG_DEFAULT_CONTROL	     READYD_CONTROL_DEFAULT
/* The PATH a service gets unless its environment sets one (os/supervisor.c). */
#define CONFIG_SERVICE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };
/* [watch]: how the processes readyd did not start are found. */
enum watch_kind { WATCH_NONE, WATCH_PID, WATCH_PID_FILE, WATCH_CGROUP };
enum on_unhealthy { ON_UNHEALTHY_NONE, ON_UNHEALTHY_RESTART };

/* What must hold before `starting` becomes `running` (ready = a,b). */
#define READY_ACCEPT 0x1  /* the kernel shows every declared listener accepting */
#define READY_PROBE  0x2  /* every probe succeeded (after the accept gate, if any) */
#define READY_NOTIFY 0x4  /* the service sent READY=1 (sd_notify) */
#define READY_FILE   0x8  /* its marker file exists (ready = file:/path) */
#define READY_FD     0x10 /* it wrote a newline on fd N (ready = fd:N, s6's notification-fd) */

/* Defaults that the environment may change (READYD_PROBE_INTERVAL, ...). */
struct config_defaults {
	uint64_t probe_interval_ns;
	uint64_t probe_timeout_ns;
};

extern const struct config_defaults config_builtin_defaults;

/* One process of a service: what to run and as whom. */
struct process_config {
	char name[SERVICE_NAME_MAX + 1];    /* "server"; a one-process service: its own name */
	char service[SERVICE_NAME_MAX + 1]; /* for READYD_SERVICE */
	unsigned int line;		    /* of its section header */
	char *command;			    /* as written, for display */
	char **argv;
	unsigned int command_line;
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
	bool inherit_env;     /* readyd exec: the caller's environment too */
	unsigned int seen[8]; /* line of each single-valued key */
};

/* after = NAME / requires = NAME: a service this one's spawns wait for (config_deps.c). */
struct service_dep {
	char name[SERVICE_NAME_MAX + 1];
	unsigned int line; /* of its after/requires line */
	bool requires;	   /* and this one is stopped when it leaves running (systemd BindsTo=) */
	size_t idx;	   /* its index in config.services (resolved by the graph check) */
};

struct service_config {
	char name[SERVICE_NAME_MAX + 1];
	unsigned int line; /* of the [service "NAME"] header */
	/* Arrays as long as the file makes them (at most the CONFIG_MAX_* each). */
	struct process_config *procs;
	size_t n_procs;
	bool explicit_procs; /* declared with [process "NAME/PART"] sections */
	/* Every process's declared listeners; listen_proc says whose each is. */
	struct listen_spec *listen;
	unsigned int *listen_proc;
	size_t n_listen;
	unsigned int ready; /* READY_* bits */
	char *ready_file;   /* READY_FILE: the marker's absolute path */
	int ready_fd;	    /* READY_FD: the fd number its first process writes the newline on */
	/* Why `ready` is what it is: "" (configured, or the default), or the daemon readyd
	 * recognized by its executable ("postgres", "redis"): config_check.c. */
	char recognized[16];
	uint64_t watchdog_ns; /* 0: no watchdog; else WATCHDOG=1 at least this often */
	uint64_t ready_timeout_ns;
	uint64_t stop_timeout_ns;
	enum restart_policy restart;
	struct backoff_params backoff;
	unsigned int start_limit_burst; /* 0: no start limit */
	uint64_t start_limit_interval_ns;
	uint64_t start_limit_cooldown_ns; /* the limit's one more try after this; 0: off */
	struct service_dep *deps;	  /* after and requires, in file order: n_deps */
	size_t n_deps;
	bool autostart; /* started at boot (autostart = no: by readyctl start, or as a dependency)
			 */
	struct probe_spec *probes;
	size_t n_probes;
	uint64_t probe_interval_ns;
	uint64_t probe_timeout_ns;
	unsigned int failure_threshold;
	unsigned int success_threshold;
	enum on_unhealthy on_unhealthy;
	uint64_t accept_stall_ns; /* 0: no stalled-acceptor check */
	bool remove_stale;	  /* remove a stale unix socket file before spawning */
	bool inherit_output; /* readyd exec: its stdout and stderr are the caller's, not piped */
	/* [watch "NAME"]: adopted, never spawned, signalled or restarted by readyd. */
	bool adopted;
	struct {
		enum watch_kind kind;
		pid_t pid;  /* WATCH_PID */
		char *path; /* WATCH_PID_FILE: the file; WATCH_CGROUP: the cgroup */
	} watch;
	/* Line of each single-valued key, to report duplicates. */
	unsigned int seen[32];
};

struct config {
	char *path;
	char *textfile;
	char *control;
	char *control_group; /* may use the control socket besides root */
	/* Where readyd keeps what a next readyd needs to take its services back: NULL:
	 * next to the control socket (daemon.c); state_off: `state = none`. */
	char *state;
	bool state_off;
	char *text; /* the file as read: a next readyd rebuilds the running config from it */
	char *socket_dirs[CONFIG_MAX_SOCKET_DIRS]; /* readyctl sockets --all: socket files here */
	size_t n_socket_dirs;
	gid_t control_gid;
	/* agent_listen: HAProxy agent-check answers here (daemon/out/agent.c); has_agent: set. */
	struct listen_spec agent;
	bool has_agent;
	/* grpc_listen: the gRPC health service (daemon/out/grpc.c); has_grpc: set. */
	struct listen_spec grpc;
	bool has_grpc;
	/* http_listen: readiness over HTTP (daemon/out/http.c); has_http: set. */
	struct listen_spec http;
	bool has_http;
	struct service_config *services;
	size_t n_services;
	bool has_deps; /* some service has after or requires: start order is followed at all */
	unsigned int seen[7];
	unsigned int refs; /* units pointing into services (reload keeps old ones alive) */
};

/* Collected errors, printed by the caller: "file:line: message". */
struct config_diag {
	char **lines;
	size_t n;
};

/*
 * Parse a file. 0 on success; -EINVAL with diag filled; -errno if
 * unreadable. defaults: NULL for config_builtin_defaults.
 */
int config_load(const char *path, const struct config_defaults *defaults, struct config *cfg,
		struct config_diag *diag);
/* Parse text in memory; `name` is used in messages (unit tests, reload checks). */
int config_parse_text(const char *name, const char *text, const struct config_defaults *defaults,
		      struct config *cfg, struct config_diag *diag);
/*
 * The built-in defaults, changed by READYD_PROBE_INTERVAL and
 * READYD_PROBE_TIMEOUT. -EINVAL with a message in err for a value that is
 * not a duration: a typo in the environment must not pass silently.
 */
int config_defaults_from_env(struct config_defaults *d, char *err, size_t size);
/*
 * The dependency graph (config_deps.c). A config that parsed has none of
 * cycles, unknown names or self-references, and each dep's idx resolved.
 * The order to stop in: every service after all that depend on it (n indices
 * into services written to order).
 */
void config_stop_order(const struct config *cfg, size_t *order);
/* Does s's spawn wait for the service named `name`? *requires: with requires =. */
bool config_depends_on(const struct service_config *s, const char *name, bool *requires);
/*
 * Same behaviour? (everything but line numbers, and the start order: after,
 * requires, autostart and start_limit_cooldown are read from the config in
 * force, so a reload that changes only them re-points the unit and restarts
 * nothing); reload restarts what differs.
 */
bool config_service_equal(const struct service_config *a, const struct service_config *b);
void config_free(struct config *cfg);
/*
 * The daemon's configs live on the heap with a reference count: a reload
 * swaps in a new one while units still point into the old one.
 */
int config_open(const char *path, const struct config_defaults *defaults, struct config **out,
		struct config_diag *diag);
struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);
/* One more line (formatted); dropped if memory runs out. */
void config_diag_add(struct config_diag *diag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void config_diag_free(struct config_diag *diag);
const struct service_config *config_find(const struct config *cfg, const char *name);
const char *restart_policy_name(enum restart_policy p);
/* "accept", "probe", "accept,probe" */
void ready_mask_format(char *buf, size_t size, unsigned int mask);
/* A [watch] of a daemon readyd would give a serving check (by its comm, "postgres"), whose
 * config says nothing of its readiness: the line to add, "serve = postgres://127.0.0.1:5432". */
bool config_watch_hint(const struct service_config *s, const char *comm, char *buf, size_t size);

/*
 * The config against the host (config_env_check.c), what can be known
 * without running anything: a command that is not there or that its user
 * cannot execute (with /usr/bin/env NAME, NAME searched in the service's
 * PATH), a working_directory or the textfile's directory that is not
 * there. One "file:line: ...; the fix" in diag each; returns how many.
 * Reads the filesystem; the parser never does.
 */
size_t config_env_check(const struct config *cfg, struct config_diag *diag);
/* Would execve(2) by uid/gid/groups run this file (its mode bits, as the kernel checks them)? */
struct stat;
bool config_can_exec(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups,
		     size_t n_groups);
/* execvp's search of name in a PATH value: 0 and the executable's path in out, or -ENOENT. */
int config_path_search(const char *path, const char *name, char *out, size_t size);

#endif
