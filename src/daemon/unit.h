/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One service in the daemon: its state machine, its processes, and the
 * slots of the modules that follow it. Every input reaches the machine
 * through unit_handle(); what the machine decides about processes and
 * timers is carried out here; then every module hears of it in the order
 * daemon.c registered them (unit_module), so the daemon's calls point down:
 * sensors and reporters call the unit, the unit calls no sensor or reporter.
 */
#ifndef READYD_UNIT_H
#define READYD_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"
#include "daemon/daemon.h"
#include "daemon/procs.h"
#include "model/service.h"

#define UNIT_NOTIFY_NAME_MAX 64

/* Where a unit taken back from an earlier readyd was (daemon/handover.c). */
struct unit_origin {
	uint32_t id;				/* its id then: kernel ids and socket names */
	char notify_name[UNIT_NOTIFY_NAME_MAX]; /* its services know this NOTIFY_SOCKET */
	int notify_fd;				/* kept across an exec of readyd, or -1 */
};

struct unit {
	struct daemon *d;
	uint32_t id;	      /* service id in the kernel maps; never reused */
	struct config *owner; /* the config cfg points into (a reference) */
	const struct service_config *cfg;
	struct config *next_owner; /* reload: the config to use from the next spawn */
	const struct service_config *next_cfg;
	bool removed; /* reload dropped it: freed once nothing of it runs */
	/*
	 * This instance started while the syscall tracepoints could not attach
	 * (a detach still in the kernel): its bind and listen went unseen, so
	 * scans make its levels (in/scan.c) until it runs (daemon/syscalls.c).
	 */
	bool blind_start;
	bool needs_syscalls; /* as daemon/syscalls.c last counted it */
	bool in_kernel;	     /* its id was handed to the tracer: the maps may hold its entries */
	bool deps_held;	     /* its spawn waits for a dependency to run (daemon/deps.c) */
	bool deps_pull;	     /* an operator's start: it starts what it requires (deps.c) */
	bool stop_deferred;  /* shutdown: it stops once what depends on it has (daemon/deps.c) */
	struct svc svc;
	struct loop_timer timer;	    /* mirrors svc.deadline */
	struct loop_timer crosscheck_timer; /* mirrors svc.crosscheck_at */
	struct loop_job spawn_job;
	struct loop_job free_job; /* a removed unit goes at a clean point, never mid-callback */
	struct unit_procs procs;
	/* Its sd_notify socket's abstract name, "" while it has none (in/notify.c). */
	char notify_name[UNIT_NOTIFY_NAME_MAX];
	int notify_fd;			  /* that socket (in/notify.c), -1 while it has none */
	const struct unit_origin *origin; /* while the modules add it: taken back from where */
	bool handover_dirty;		  /* its state file is behind (daemon/handover_save.c) */
	/* What each module keeps for this unit. */
	struct unit_probes *probes;   /* in/probes.c */
	struct unit_scan *scan;	      /* in/scan.c */
	struct unit_watch *watch;     /* in/watch.c */
	struct unit_notify *notify;   /* in/notify.c */
	struct unit_marker *marker;   /* in/markers.c */
	struct unit_fdready *fdready; /* in/fdready.c */
	struct unit_output *output;   /* output.c: its last lines */
	struct timeline *timeline;    /* out/timeline.c: since readyd started */
};

/* What happened to a unit, for the modules that follow it. */
struct unit_news {
	const struct svc_actions *a; /* what the machine did (NULL: it was not asked) */
	bool spawned;		     /* its processes were just forked (or attached) */
	bool dirty;		     /* something outside the machine changed (its main process) */
	bool counters;		     /* only a counter moved */
	bool output;		     /* it printed something (a serving check may pass now) */
	bool resumed; /* taken back from an earlier readyd: what it did before, the kernel shows */
};

/* What a module does with each unit's life; any hook may be NULL. */
struct unit_module {
	const char *name;
	/* A new unit: make the module's state for it. 0 or -errno. */
	int (*add)(struct unit *u);
	/* The unit is freed. */
	void (*remove)(struct unit *u);
	/* After every event (and spawn), in module order: follow what the unit is now. */
	void (*observe)(struct unit *u, const struct unit_news *n);
	/*
	 * Before a spawn, in module order: true holds it (the unit stays starting,
	 * and the module queues its spawn job again when it may go).
	 */
	bool (*hold)(struct unit *u);
	/* Before a spawn, in module order: 0, or -errno with fail filled (the start fails). */
	int (*before_spawn)(struct unit *u, struct svc_exit *fail);
	/* A reload left its behaviour equal: only pointers into the config moved. */
	void (*rebind)(struct unit *u);
	/* Its next config is in force from now (nothing of the old instance runs). */
	void (*reconfigure)(struct unit *u);
	/* Something of the module's still runs for it: a removed unit waits. */
	bool (*busy)(const struct unit *u);
	/* SIGCHLD for pid: true if it was the module's process, now reaped. */
	bool (*reap)(struct unit *u, pid_t pid);
	/* Something of the whole daemon changed (kernel events lost, a reload). */
	void (*daemon_news)(struct daemon *d, const struct unit_news *n);
};

/* A new unit (from: NULL, or where an earlier readyd left it; see unit_resumed). */
struct unit *unit_new(struct daemon *d, struct config *owner, const struct service_config *cfg,
		      const struct unit_origin *from);
/*
 * Its state and processes are back (daemon/handover.c): judge what ended
 * meanwhile, re-arm its timers, start what was about to start, and tell
 * every module.
 */
void unit_resumed(struct unit *u);
/* Feed an event to the state machine, carry out what it decides, and say what that was. */
struct svc_actions unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in);
/* Tell every module something happened to u outside the machine (see unit_news). */
void unit_observe(struct unit *u, const struct unit_news *n);
/* Tell every module something of the whole daemon changed (n->a is NULL). */
void daemon_observe(struct daemon *d, const struct unit_news *n);
/* A reload's equal config: point into it (keeps everything running). */
void unit_rebind(struct unit *u, struct config *owner, const struct service_config *cfg);
/* Use next_cfg from now on (nothing of the old instance may still run). */
void unit_adopt_next_config(struct unit *u);
/* A removed unit with nothing left running is freed (from a loop job). */
void unit_release_if_gone(struct unit *u);

struct unit *daemon_unit(struct daemon *d, uint32_t id);
/* The configured service of that name; else, with `removed`, one a reload is still stopping. */
struct unit *daemon_unit_named(struct daemon *d, const char *name, bool removed);
void daemon_free_units(struct daemon *d);

#endif
