/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The daemon: pure state machines (model/) wired to the world (os/) through
 * one loop. This header is the composition: what every daemon file may know
 * of the whole. Each module keeps its own state behind a pointer below.
 *
 *   daemon.c      the composition root: opens every module in order, signals, shutdown
 *   unit.c        one service's life: events in, the machine's actions carried out,
 *                 then every module told, in the order daemon.c registered them
 *   procs.c       its processes and their trees; reaper.c: SIGCHLD, cgroup events
 *   sock_table.c  the node's sockets, shared by one moment's scans
 *   syscalls.c    the syscall tracepoints, attached while a service needs them
 *   in/           sensors: each turns one source into state machine events with data
 *   out/          reporters: each observes units and calls no sensor
 *   commands.c    control requests; reload.c: a new config diffed against the running one
 */
#ifndef READYD_DAEMON_H
#define READYD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"
#include "config/config.h"
#include "daemon/oneshot.h"
#include "os/tracer.h"

struct unit;
struct unit_module;
struct control;
struct svc_exit;

struct daemon_opts {
	const char *config_path; /* or, for messages, what built `config` */
	struct config *config;	 /* built in memory (readyd exec/wait): used instead of the file */
	struct oneshot_opts oneshot; /* kind ONESHOT_NONE: the daemon */
	const char *control_path;    /* overrides the config file */
	const char *textfile_path;   /* overrides the config file */
	enum tracer_mode mode;
	size_t ringbuf_bytes;
	struct config_defaults defaults; /* built-in, changed by READYD_PROBE_* */
	char *const *argv;		 /* readyd's own: an exec of a new binary gets them */
};

struct daemon {
	const struct daemon_opts *opts;
	struct config *cfg; /* the current config (a reference) */
	struct loop *loop;
	struct tracer *tracer;	 /* NULL until opened; poll mode: a tracer with no BPF */
	struct control *control; /* the control socket, NULL if none */
	struct unit **units;
	size_t n_units;
	uint32_t next_id;
	bool shutting_down;
	bool exiting;				   /* the loop was told to quit */
	struct loop_source signal_src, tracer_src; /* daemon.c's own */
	/* What follows each unit's life, in the order it hears of it (daemon.c). */
	const struct unit_module *const *modules;
	size_t n_modules;
	/* A [watch]'s "spawn": attach to processes readyd did not start (in/watch.c). */
	int (*adopt)(struct unit *u, struct svc_exit *fail);
	/* A unit was freed (a reload removed it): what the whole daemon does next. */
	void (*unit_freed)(struct daemon *d);
	/* Each module's own state. */
	struct reaper *reaper;		 /* daemon/reaper.c */
	struct sock_cache *socks;	 /* daemon/sock_table.c */
	struct syscall_window *syscalls; /* daemon/syscalls.c */
	struct scans *scans;		 /* daemon/in/scan.c */
	struct unix_close *unix_close;	 /* daemon/in/unix_close.c */
	struct markers *markers;	 /* daemon/in/markers.c */
	struct notifies *notifies;	 /* daemon/in/notify.c */
	struct export *export;		 /* daemon/out/export.c */
	struct agent *agent;		 /* daemon/out/agent.c: NULL without agent_listen */
	struct grpc *grpc;		 /* daemon/out/grpc.c: NULL without grpc_listen */
	struct http *http;		 /* daemon/out/http.c: NULL without http_listen */
	struct oneshot_exit *oneshot;	 /* daemon/out/oneshot_exit.c */
	struct outputs *outputs;	 /* daemon/output.c */
	struct manager *manager;	 /* daemon/out/manager.c: NULL without $NOTIFY_SOCKET */
	struct handover *handover;	 /* daemon/handover.c */
	uint64_t started_at; /* this image's start: `readyctl reexec` sees the new one */
};

/* Load config, open every module and the tracer and control socket. */
int daemon_init(struct daemon *d, const struct daemon_opts *opts);
/* Start every service, run the loop until shutdown; the loop's exit code. */
int daemon_run(struct daemon *d);
/* The start of daemon_run: the first textfile, every service started. */
void daemon_start(struct daemon *d);
void daemon_free(struct daemon *d);
/* Stop every service, then exit (`by`: who asked, for the log); asked again: SIGKILL them. */
void daemon_shutdown(struct daemon *d, const char *by);
/* Exit now, every service left running for a next readyd. -EOPNOTSUPP: no state directory. */
int daemon_leave_running(struct daemon *d);
/* Load the config named by opts; its --control/--textfile win over the file. */
int daemon_load_config(const struct daemon_opts *o, struct config **out, struct config_diag *diag);
/* The --control/--textfile of opts over cfg's. 0 or -ENOMEM. */
int daemon_apply_overrides(const struct daemon_opts *o, struct config *cfg);

#endif
