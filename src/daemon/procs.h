/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The processes of each service, and the trees they grow (procs.c); readyd's
 * side of their ends: SIGCHLD, cgroup.events, processes that left a tree
 * lately (reaper.c).
 */
#ifndef READYD_PROCS_H
#define READYD_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"
#include "daemon/output.h"
#include "config/config.h"
#include "model/service.h"
#include "os/cgroup.h"
#include "os/supervisor.h"

struct daemon;
struct unit;

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
	char spawn_error[128];	/* what the status pipe said, if exec failed */
	struct cgroup cg;	/* dirfd -1: no cgroup */
	bool cg_foreign;	/* a [watch]ed cgroup: never removed by readyd */
	bool main_alive;	/* child.pid not reaped yet */
	bool followed;		/* its first process exited 0 and left its tree: following that */
	struct svc_exit exit;	/* how its last main process ended */
	struct output_pipe out; /* its stdout and stderr */
	int ready_fd; /* ready = fd:N: the write end for the next spawn (in/fdready.c), or -1 */
	uint64_t
		start_ticks; /* its main process's start (/proc/PID/stat): its identity, with pid */
	bool resumed_gone;   /* taken back from an earlier readyd: its main had ended meanwhile */
};

/*
 * What a next readyd needs to take one process back (resume.c): which
 * process (a pid is not enough: it may be reused), in which cgroup, and
 * where its output goes.
 */
struct proc_saved {
	pid_t pid;
	uint64_t start_ticks;
	pid_t pgid;
	bool alive, followed;
	char cgroup[CGROUP_PATH_MAX]; /* below the cgroup2 mount, "" if none */
	uint64_t out_ino;	      /* its output pipe */
	int out_fd;		      /* an exec of readyd: the pipe's read end, kept; else -1 */
};

struct unit_procs {
	struct unit_proc *v; /* cap of them (at least one), n used: made by unit_procs_init */
	size_t n, cap;
	/* What is left of an instance that ended (or one process of which ended) is stopped. */
	struct loop_timer remains_timer; /* SIGKILL for them at stop_timeout */
	bool remains_signalled;
	bool spawn_waiting; /* a start waits for the remains to go */
};

/* ---- procs.c ---- */
/* The kernel id of p's tree (rd_event.kid, the maps' values). */
uint32_t unit_proc_kid(const struct unit_proc *p);
/* Slots for every process of u->cfg (0, or -ENOMEM); unit_procs_close frees them. */
int unit_procs_init(struct unit *u);
void unit_procs_close(struct unit *u);
/* Signal every process of every tree of the unit. */
void unit_signal(struct unit *u, int sig);
/* Nothing of the unit runs: every main process reaped and every tree empty. */
bool unit_all_down(const struct unit *u);
/* Live processes of every tree of the unit; the count. */
size_t unit_tree_pids(struct unit *u, pid_t *pids, size_t max);
/* Is pid a live process of u's trees (its main, in its cgroups, or followed by BPF)? */
bool unit_tree_holds(struct unit *u, pid_t pid);
/*
 * ... or was it, moments ago? By pid alone: the number may be another
 * process's since (in/notify.c asks the pidfd first where it can).
 */
bool unit_tree_contains(struct unit *u, pid_t pid);
/* Does some process of u run in a cgroup readyd made or opened? */
bool unit_has_cgroups(const struct unit *u);
/* Is id (a cgroup id, PIDFD_GET_INFO) one of u's cgroups or below one? */
bool unit_cgroup_has_id(const struct unit *u, uint64_t id);
/* A process of the tree of process `idx` exited (BPF): maybe the tree is empty now. */
void unit_tree_exit(struct unit *u, unsigned int idx);
/* MAINPID= from the service: pid (in its tree) is its main process now. */
void unit_set_main(struct unit *u, pid_t pid);
/* The process of p's tree to take as its main one (0: none). */
pid_t unit_proc_pick_main(const struct unit_proc *p);
/* The exec status pipe of p's new process: a failure before exec is read from it. */
void unit_proc_watch_exec(struct unit_proc *p, int status_fd);
/* pid (with its pidfd) is p's main process from now on. */
int unit_proc_watch_main(struct unit_proc *p, pid_t pid, int pidfd);
/* p's main process ended (its pidfd, or SIGCHLD): reap it and judge what that means. */
void unit_proc_main_ended(struct unit_proc *p);
/* p's cgroup is empty now. */
void unit_proc_tree_emptied(struct unit_proc *p);

/* After resume.c took a unit back: a main process that ended meanwhile is judged now. */
void unit_procs_settle_resumed(struct unit *u);

/* ---- spawn.c ---- */
/* Fork every process of the unit. 0, or -errno with fail filled (what could not start). */
int unit_procs_spawn(struct unit *u, struct svc_exit *fail);

/* ---- resume.c ---- */
/* What a next readyd needs of p. */
void unit_proc_save(const struct unit_proc *p, struct proc_saved *out);
/*
 * Take back the processes an earlier readyd started (v: one per process,
 * cfg order). children: they are readyd's own (an exec of readyd). What is
 * gone is noted, not judged: unit_procs_settle_resumed() does that once the
 * unit's state is back too.
 */
void unit_procs_resume(struct unit *u, const struct proc_saved *v, size_t n, bool children);

/* ---- reaper.c ---- */
/* Become the reaper of orphans, find or make readyd's cgroup. */
int reaper_open(struct daemon *d);
void reaper_close(struct daemon *d);
/* SIGCHLD: reap every exited child (orphans of service trees, too). */
void reaper_reap_children(struct daemon *d);
/* readyd's cgroups (dirfd -1: it makes none), and the inotify fd of their cgroup.events. */
const struct cgroup_base *reaper_cgroups(const struct daemon *d);
int reaper_cgroup_events_fd(const struct daemon *d);
/* A process of some unit's tree exited (a kernel event). */
void reaper_note_exit(struct daemon *d, pid_t tgid, uint32_t kid, uint64_t at);
/* Did pid leave a tree of that unit in the last 30 s? */
bool reaper_exited_lately(struct daemon *d, pid_t pid, uint32_t unit);

#endif
