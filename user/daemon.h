/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The daemon: wires the pure state machines (service.c) to the world. Every
 * input arrives as an fd in the one loop (loop.c); every svc_actions that
 * comes out is carried out by unit_apply() in daemon.c.
 *   daemon.c          setup, spawn/exit, timers, textfile, signals, shutdown
 *   daemon_events.c   kernel events -> listener levels -> service events
 *   daemon_control.c  control requests -> JSON replies
 *   daemon_resync.c   the kernel's socket table checked against our view
 */
#ifndef READYD_DAEMON_H
#define READYD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "control.h"
#include "loop.h"
#include "service.h"
#include "strbuf.h"
#include "supervisor.h"
#include "textfile.h"
#include "tracer.h"

struct daemon;

struct unit {
	struct daemon *d;
	uint32_t id; /* service id in the kernel maps: index + 1 */
	const struct service_config *cfg;
	struct svc svc;
	struct loop_timer timer; /* mirrors svc.deadline */
	struct loop_job spawn_job;
	struct child child;	 /* pidfd/status_fd are -1 when no process */
	struct loop_source pidfd_src, status_src;
	char spawn_error[128]; /* what the status pipe said, if exec failed */
	uint64_t last_conflict_scan;
};

struct daemon_opts {
	const char *config_path;
	const char *control_path;  /* overrides the config file */
	const char *textfile_path; /* overrides the config file */
	enum tracer_mode mode;
	size_t ringbuf_bytes;
	struct config_defaults defaults; /* built-in, changed by READYD_PROBE_* */
};

struct daemon {
	struct config cfg;
	struct loop *loop;
	struct tracer *tracer;
	struct control *control;
	struct unit *units;
	size_t n_units;
	struct loop_source signal_src, tracer_src, textfile_src;
	struct textfile_writer *textfile;
	struct loop_timer export_timer, refresh_timer;
	struct loop_timer syscall_linger; /* detach the syscall tracepoints when it fires */
	struct loop_timer unix_timer; /* daemon_resync.c */
	struct strbuf export_buf;
	uint64_t events_total;
	bool shutting_down;
};

/* Load config, open the tracer and control socket, start every service. */
int daemon_init(struct daemon *d, const struct daemon_opts *opts);
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* ---- shared by the daemon_*.c files ---- */
void unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in);
struct unit *daemon_unit(struct daemon *d, uint32_t id);
struct unit *daemon_unit_named(struct daemon *d, const char *name);
void daemon_mark_dirty(struct daemon *d);
void daemon_on_event(const struct rd_event *e, void *ctx);
void daemon_on_request(struct control_client *c, const char *line, const struct ucred *peer,
		       void *ctx);
void daemon_resync_init(struct daemon *d);
/* A unix listener is up: make sure the periodic close check runs. */
void daemon_watch_unix(struct daemon *d);
/* Answer control clients waiting on u (after a transition). */
void daemon_wake_waiters(struct unit *u);

#endif
