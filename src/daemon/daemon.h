/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The daemon: wires the pure state machines (service.c) to the world. Every
 * input arrives as an fd in the one loop (loop.c); every svc_actions that
 * comes out is carried out by unit_handle() in daemon_units.c.
 *   daemon.c          setup, signals, shutdown, textfile, syscall window
 *   daemon_units.c    one service's life: actions, timers, config swap
 *   daemon_procs.c    its processes: spawn, follow, reap, signal, cgroups
 *   daemon_events.c   kernel events -> listener levels -> service events
 *   daemon_probes.c   probes scheduled per service, results as events
 *   daemon_control.c  control requests -> JSON replies
 *   daemon_reload.c   a new config diffed against the running services
 *   daemon_resync.c   the kernel's socket table checked against our view
 */
#ifndef READYD_DAEMON_H
#define READYD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "os/cgroup.h"
#include "config/config.h"
#include "os/control_socket.h"
#include "base/loop.h"
#include "daemon/oneshot.h"
#include "os/probe.h"
#include "model/service.h"
#include "os/sock_scan.h"
#include "base/strbuf.h"
#include "os/supervisor.h"
#include "os/textfile.h"
#include "os/tracer.h"

struct daemon;
struct unit;

struct unit_probe {
	struct unit *u;
	unsigned int idx;
	struct probe_run run;
	struct loop_timer next;
};

/*
 * One process of a service (a service of one process has one) and the tree
 * it grows: its cgroup where readyd makes them, else its BPF-followed tree.
 */
struct unit_proc {
	struct unit *u;
	unsigned int idx;   /* in cfg->procs, and the low bits of its kernel id */
	struct child child; /* its main process now: pidfd -1 once it is gone */
	pid_t pgid;	    /* process group of the first process, 0 once that is reaped */
	struct loop_source pidfd_src, status_src;
	char spawn_error[128]; /* what the status pipe said, if exec failed */
	struct cgroup cg;      /* dirfd -1: no cgroup */
	bool cg_foreign;       /* a [watch]ed cgroup: never removed by readyd */
	bool main_alive;       /* child.pid not reaped yet */
	bool followed;	       /* its first process exited 0 and left its tree: following that */
	struct svc_exit exit;  /* how its last main process ended */
};

struct unit {
	struct daemon *d;
	uint32_t id;	      /* service id in the kernel maps; never reused */
	struct config *owner; /* the config cfg points into (a reference) */
	const struct service_config *cfg;
	struct config *next_owner; /* reload: the config to use from the next spawn */
	const struct service_config *next_cfg;
	bool removed; /* reload dropped it: freed once nothing of it runs */
	struct svc svc;
	struct loop_timer timer; /* mirrors svc.deadline */
	struct loop_job spawn_job;
	struct loop_job free_job; /* a removed unit goes at a clean point, never mid-callback */
	struct unit_proc procs[CONFIG_MAX_PROCS];
	size_t n_procs;
	/* What is left of an instance that ended (or one process of which ended) is stopped. */
	struct loop_timer remains_timer; /* SIGKILL for them at stop_timeout */
	bool remains_signalled;
	bool spawn_waiting;		  /* a start waits for the remains to go */
	struct loop_timer scan_timer;	  /* daemon_scan.c */
	struct loop_timer reattach_timer; /* daemon_watch.c */
	uint64_t last_conflict_scan;
	/* sd_notify: the service's own socket, @readyd/<readyd pid>/<id>. */
	struct loop_source notify_src;
	char notify_name[64];
	uint64_t last_reject_log;
	int marker_wd; /* inotify watch on the marker's directory, -1 if none */
	struct unit_probe probes[CONFIG_MAX_PROBES];
};

/* Processes that left a service's tree lately: an sd_notify sender may be one. */
#define RECENT_EXITS 256
struct recent_exit {
	pid_t tgid;
	uint32_t service;
	uint64_t at;
};

struct daemon_opts {
	const char *config_path; /* or, for messages, what built `config` */
	struct config *config;	 /* built in memory (readyd exec/wait): used instead of the file */
	struct oneshot_opts oneshot; /* kind ONESHOT_NONE: the daemon */
	const char *control_path;    /* overrides the config file */
	const char *textfile_path;   /* overrides the config file */
	enum tracer_mode mode;
	size_t ringbuf_bytes;
	struct config_defaults defaults; /* built-in, changed by READYD_PROBE_* */
};

struct daemon {
	const struct daemon_opts *opts;
	struct config *cfg; /* the current config (a reference) */
	struct loop *loop;
	struct tracer *tracer;
	struct control *control;
	struct unit **units;
	size_t n_units;
	uint32_t next_id;
	struct loop_source signal_src, tracer_src, textfile_src;
	struct textfile_writer *textfile;
	struct loop_timer export_timer, refresh_timer;
	struct loop_timer syscall_linger; /* detach the syscall tracepoints when it fires */
	struct loop_timer unix_timer;	  /* daemon_resync.c */
	struct loop_timer drop_timer;	  /* daemon_resync.c: lost events trigger a rebuild */
	uint64_t dropped_seen;
	struct strbuf export_buf;
	uint64_t events_total;
	bool shutting_down;
	bool exiting;				       /* the loop was told to quit */
	struct recent_exit recent_exits[RECENT_EXITS]; /* a ring */
	size_t recent_exit_next;
	int inotify_fd;		    /* ready markers */
	struct cgroup_base cgroups; /* cgroups.dirfd -1: readyd does not create cgroups */
	int cg_inotify_fd;	    /* cgroup.events of every process cgroup */
	struct loop_source cg_src;
	struct loop_source inotify_src;
	struct loop_timer marker_poll; /* for markers whose directory does not exist yet */
	/* daemon_scan.c: the node's sockets, shared by one moment's scans */
	struct sock_table table;
	uint64_t table_at;
	/* daemon_sockets.c: TcpExt ListenOverflows */
	uint64_t listen_overflows, listen_overflows_at;
	struct loop_timer oneshot_timer; /* daemon_oneshot.c: readyd wait --timeout */
	bool oneshot_said_ready;
};

/* Load config, open the tracer and control socket, start every service. */
int daemon_init(struct daemon *d, const struct daemon_opts *opts);
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* ---- daemon.c ---- */
/* Load the config named by opts; its --control/--textfile win over the file. */
int daemon_load_config(const struct daemon_opts *o, struct config **out, struct config_diag *diag);
/* Something a reader of the textfile cares about changed: export within 5 ms. */
void daemon_mark_dirty(struct daemon *d);
/* Only counters or timings moved: export within a second. */
void daemon_mark_counters(struct daemon *d);
/* Attach the syscall tracepoints if some service waits on a listener, else detach soon. */
void daemon_sync_syscalls(struct daemon *d);
/* During shutdown: exit the loop once no service has a process. */
void daemon_check_shutdown(struct daemon *d);

/* ---- daemon_units.c ---- */
struct unit *unit_new(struct daemon *d, struct config *owner, const struct service_config *cfg);
/* Feed an event to the state machine, carry out what it decides, and say what that was. */
struct svc_actions unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in);
/* Use next_cfg from now on (nothing of the old instance may still run). */
void unit_adopt_next_config(struct unit *u);
/* A removed unit with nothing left running is freed (from a loop job). */
void unit_release_if_gone(struct unit *u);
struct unit *daemon_unit(struct daemon *d, uint32_t id);
struct unit *daemon_unit_named(struct daemon *d, const char *name, bool removed);
void daemon_free_units(struct daemon *d);

/* ---- daemon_procs.c ---- */
/* Become the reaper of orphans, find or make readyd's cgroup. */
int daemon_procs_init(struct daemon *d);
void daemon_procs_close(struct daemon *d);
/* SIGCHLD: reap every exited child (orphans of service trees, too). */
void daemon_reap_children(struct daemon *d);
void unit_procs_init(struct unit *u);
/* Fork every process of the unit. 0, or -errno with fail filled (what could not start). */
int unit_procs_spawn(struct unit *u, struct svc_exit *fail);
/* Signal every process of every tree of the unit. */
void unit_signal(struct unit *u, int sig);
/* Nothing of the unit runs: every main process reaped and every tree empty. */
bool unit_all_down(const struct unit *u);
void unit_procs_close(struct unit *u);
/* A process of the tree of process `idx` exited (BPF): maybe the tree is empty now. */
void unit_tree_exit(struct unit *u, unsigned int idx);
/* MAINPID= from the service: pid (in its tree) is its main process now. */
void unit_set_main(struct unit *u, pid_t pid);
/* Live processes of every tree of the unit; the count. */
size_t unit_tree_pids(struct unit *u, pid_t *pids, size_t max);
/* The process of p's tree to take as its main one (0: none). */
pid_t unit_proc_pick_main(const struct unit_proc *p);
/* pid (with its pidfd) is p's main process from now on. */
int unit_proc_watch_main(struct unit_proc *p, pid_t pid, int pidfd);

/* ---- daemon_scan.c ---- */
void unit_scan_init(struct unit *u);
/*
 * Scan u's sockets now: raise its listener levels and close gone sockets if
 * `levels`, check its accept queues always.
 */
int unit_scan(struct unit *u, bool levels);
/*
 * The node's socket table. Scans of one moment share a dump (at most 20 ms
 * old) until a kernel event arrives: a socket that event reports may be newer
 * than the dump, which would then call it closed.
 */
const struct sock_table *daemon_sock_table(struct daemon *d, uint64_t now, bool with_bound);
/* The next daemon_sock_table() dumps the table afresh. */
void daemon_sock_table_forget(struct daemon *d);

/* ---- daemon_sockets.c ---- */
/* Does u have accept queues to watch now (running, declared stream listeners, accept_stall)? */
bool unit_sockets_watched(const struct unit *u);
/*
 * The scan a queue check needs, from the socket table alone, when every
 * socket on u's declared addresses is one the kernel events named as u's:
 * no /proc reads. false: something else is there (or nothing): scan for real.
 */
bool unit_sockets_known(const struct unit *u, const struct sock_table *t, struct scan *out);
/* After a scan: accept queues, stalls, findings of u's declared listeners. */
void unit_sockets_check(struct unit *u, const struct sock_table *t, const struct scan *sc,
			uint64_t now);
/*
 * Before a spawn: a declared address held by another process fails the start
 * (-EADDRINUSE, why says who holds it); stale unix socket files are removed
 * if the service asks for it (remove_stale = yes).
 */
int unit_sockets_before_spawn(struct unit *u, char *why, size_t size);
/* readyctl sockets [NAME] [--all]. */
struct cJSON *daemon_sockets_json(struct daemon *d, struct unit *only, bool all);
/* Scan periodically when the unit needs it ([watch], poll mode), else stop. */
void unit_scan_sync(struct unit *u);

/* ---- daemon_watch.c ---- */
void unit_watch_init(struct unit *u);
/* Instead of a spawn: find and follow the watched processes. 0, or -errno with fail filled. */
int unit_watch_attach(struct unit *u, struct svc_exit *fail);
void unit_watch_attached(struct unit *u);
/* Failed, and waiting for its pid file or cgroup to name a live process again. */
bool unit_watch_waiting(const struct unit *u);
void unit_watch_sync(struct unit *u);

/* ---- daemon_events.c ---- */
void daemon_on_event(const struct rd_event *e, void *ctx);

/* ---- daemon_probes.c ---- */
void unit_probes_init(struct unit *u);
/* Start or stop the unit's probes to match svc_probing(). */
void unit_probes_sync(struct unit *u);
void unit_probes_stop(struct unit *u);
bool unit_probes_busy(const struct unit *u);
/* SIGCHLD for pid: reap it if it is an exec probe's process (true). */
bool daemon_probe_reap(struct daemon *d, pid_t pid);

/* ---- daemon_control.c ---- */
void daemon_on_request(struct control_client *c, const char *line, const struct control_peer *peer,
		       void *ctx);
/* One transition as a progress line for a control client. */
bool daemon_send_transition(struct control_client *c, const struct unit *u,
			    const struct svc_actions *a);
/* A transition of u: tell control clients waiting on it, answer the settled ones. */
void daemon_wake_waiters(struct unit *u, const struct svc_actions *a);
/* u is going away: answer everyone waiting on it. */
void daemon_drop_waiters(struct unit *u);

/* ---- daemon_reload.c ---- */
struct reload_summary {
	struct strbuf added, removed, changed, unchanged; /* "a b c" */
};
/* Start a unit for every service of the current config that has none (added by a reload). */
void daemon_start_missing(struct daemon *d, struct strbuf *added);
/* Re-read the config file; on any error nothing changes. 0 or -errno. */
int daemon_reload(struct daemon *d, struct reload_summary *sum, struct config_diag *diag);
void reload_summary_free(struct reload_summary *sum);

/* ---- daemon_notify.c ---- */
int unit_notify_open(struct unit *u);
void unit_notify_close(struct unit *u);
/* "NOTIFY_SOCKET=@..." and friends for the environment of a new process. */
void unit_notify_env(struct unit *u, char env[][96], char **out, size_t max);
/* Is pid part of u's process trees (or was it, moments ago)? (daemon_procs.c) */
bool unit_tree_contains(struct unit *u, pid_t pid);
void daemon_note_exit(struct daemon *d, pid_t tgid, uint32_t kid, uint64_t at);
/* Did pid leave a tree of that unit in the last 30 s? */
bool daemon_exited_lately(struct daemon *d, pid_t pid, uint32_t unit);

/* ---- daemon_markers.c ---- */
int daemon_markers_init(struct daemon *d);
void daemon_markers_close(struct daemon *d);
/* Before a spawn: remove a stale marker, watch for the new one. */
void unit_marker_arm(struct unit *u);
void unit_marker_disarm(struct unit *u);
/* Look at the marker now (an adopted service may have written it long ago). */
void unit_marker_check(struct unit *u);

/* ---- daemon_oneshot.c: readyd exec / readyd wait ---- */
void daemon_oneshot_start(struct daemon *d);
/* After anything happened to u: print the ready line, or end the run. */
void daemon_oneshot_observe(struct unit *u);
/* A signal readyd exec forwards to the command (true), or leaves to the daemon. */
bool daemon_oneshot_signal(struct daemon *d, int sig);

/* ---- daemon_resync.c ---- */
void daemon_resync_init(struct daemon *d);
/* Rebuild every running service's listener levels from sock_diag and /proc. */
void daemon_resync_all(struct daemon *d, const char *why);
/* A unix listener is up: make sure the periodic close check runs. */
void daemon_watch_unix(struct daemon *d);

#endif
