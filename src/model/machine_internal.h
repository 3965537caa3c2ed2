/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by the files of the machine (machine.c, machine_common.c, service_sockets.c). */
#ifndef READYD_MACHINE_INTERNAL_H
#define READYD_MACHINE_INTERNAL_H

#include "model/service.h"

void set_state(struct svc *s, enum svc_state to, uint64_t now, struct svc_actions *out,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void set_deadline(struct svc *s, enum svc_deadline kind, uint64_t at);
const char *why_or(const struct svc_input *in, const char *fallback);

/* A new instance: everything of the old one is forgotten; starting. */
void spawn(struct svc *s, bool is_restart, const char *why, uint64_t now, struct svc_actions *out);
void forget_failures(struct svc *s);
/* SIGTERM now, SIGKILL at stop_timeout. */
void terminate(struct svc *s, uint64_t now, struct svc_actions *out);
/* Restart after the backoff delay (the cause says so), if the policy wants one. */
/* What an unhealthy cause ends with while on_unhealthy = restart restarts it. */
#define RESTARTING_CLAUSE "; restarting it (on_unhealthy = restart)"

bool schedule_restart(struct svc *s, const struct svc_input *in, uint64_t now);
void maybe_schedule_restart(struct svc *s, bool clean, const struct svc_input *in, uint64_t now);
/* A restart is due: unless more than start_limit_burst starts fell in the window. */
void restart_or_limit(struct svc *s, uint64_t now, struct svc_actions *out);
void record_exit(struct svc *s, const struct svc_input *in, uint64_t now);
/* Entering unhealthy: with on_unhealthy = restart, also stop it for a restart. */
void go_unhealthy(struct svc *s, uint64_t now, struct svc_actions *out, const char *why);

/* Every condition holds now? Then running (from starting, or back from unhealthy). */
void ready_from_starting(struct svc *s, uint64_t now, struct svc_actions *out);
void ready_from_unhealthy(struct svc *s, uint64_t now, struct svc_actions *out);
void arm_watchdog(struct svc *s, uint64_t now);
/* No WATCHDOG=1 in time, or WATCHDOG=trigger: running -> unhealthy. */
void watchdog_failed(struct svc *s, uint64_t now, struct svc_actions *out, bool triggered);

/* It says (at `at`) it is ready: if the kernel disagrees, judge it at crosscheck_at. */
void report_ready(struct svc *s, uint64_t at);
/* The grace is over: did the kernel show it accepting in time? */
void judge_report(struct svc *s, struct svc_actions *out);
/* A listener's level rose: the kernel may have caught up with a READY=1. */
void kernel_caught_up(struct svc *s);
/* A datagram from its tree was accepted. */
void count_notify(struct svc *s, struct svc_actions *out);
/* ... and what it says is recorded. */
void record_notify(struct svc *s, const struct notify_msg *m, uint64_t now, uint64_t at,
		   struct svc_actions *out);
/* A probe result; true if it just turned failing. */
bool record_probe(struct svc *s, const struct svc_input *in, uint64_t now, struct svc_actions *out);

/* service_sockets.c: record what a sensor saw; the listener it concerned, or NULL. */
struct listener *record_socket(struct svc *s, const struct svc_sock *k, struct svc_actions *out);
/* The socket closed a listener that served, and that loses it readiness. */
bool socket_lost_listener(const struct svc *s, const struct svc_sock *k,
			  const struct svc_actions *out);
struct listener *record_queue(struct svc *s, const struct svc_queue *q, struct svc_actions *out);

/* machine_inputs.c: the cells for what the world reports. */
void on_socket_record(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);
void on_socket_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_socket_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);
void on_socket_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out);
void on_queue_running(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);
void on_queue_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_probe_starting(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);
void on_probe_running(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);
void on_probe_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_notify_record(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);
void on_notify_count(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out);
void on_notify_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_notify_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);
void on_notify_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out);
void on_marker_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_marker_running(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);
void on_marker_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
			 struct svc_actions *out);
void on_fd_ready_record(struct svc *s, const struct svc_input *in, uint64_t now,
			struct svc_actions *out);
void on_fd_ready_starting(struct svc *s, const struct svc_input *in, uint64_t now,
			  struct svc_actions *out);
void on_crosscheck(struct svc *s, const struct svc_input *in, uint64_t now,
		   struct svc_actions *out);
void on_exit_starting(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);
void on_exit_running(struct svc *s, const struct svc_input *in, uint64_t now,
		     struct svc_actions *out);
void on_exit_unhealthy(struct svc *s, const struct svc_input *in, uint64_t now,
		       struct svc_actions *out);
void on_exit_failed(struct svc *s, const struct svc_input *in, uint64_t now,
		    struct svc_actions *out);
void on_exit_stopping(struct svc *s, const struct svc_input *in, uint64_t now,
		      struct svc_actions *out);

#endif
