// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One service's life in the daemon: what its state machine decides is
 * carried out here (spawn, signals, timers; the processes themselves are
 * daemon_procs.c's), and a reload can hand it a new configuration.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

static void unit_spawn(struct unit *u);
static void on_free_job(struct loop *loop, struct loop_job *job);
static void unit_detach(struct unit *u);

struct unit *daemon_unit(struct daemon *d, uint32_t id)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->id == id)
			return d->units[i];
	return NULL;
}

/* The configured service of that name; else, with `removed`, one a reload is still stopping. */
struct unit *daemon_unit_named(struct daemon *d, const char *name, bool removed)
{
	struct unit *going = NULL;

	for (size_t i = 0; i < d->n_units; i++) {
		if (strcmp(d->units[i]->cfg->name, name) != 0)
			continue;
		if (!d->units[i]->removed)
			return d->units[i];
		going = d->units[i];
	}
	return removed ? going : NULL;
}

/* ---- carrying out what the state machine decided ---- */

static void log_transition(struct unit *u, const struct svc_actions *a)
{
	int level = a->to == SVC_FAILED || a->to == SVC_UNHEALTHY ? LOG_WARNING : LOG_INFO;
	char cause[2 * SVC_CAUSE_MAX];

	log_msg(level, "service=%s transition=%s->%s pid=%d cause=\"%s\"", u->cfg->name,
		svc_state_name(a->from), svc_state_name(a->to), (int)u->svc.pid,
		log_escape(cause, sizeof(cause), u->svc.cause));
}

static void unit_sync_timer(struct unit *u)
{
	if (u->svc.deadline)
		loop_timer_arm(u->d->loop, &u->timer, u->svc.deadline);
	else
		loop_timer_cancel(u->d->loop, &u->timer);
}

static void unit_apply(struct unit *u, const struct svc_actions *a)
{
	struct daemon *d = u->d;

	if (a->changed)
		log_transition(u, a);
	if (u->cfg->adopted && u->svc.state == SVC_STOPPING) {
		unit_detach(u); /* never signalled: "stopping" a watch is letting go of it */
		return;
	}
	if (a->signal && u->svc.pid) {
		log_info("service=%s msg=\"sending SIG%s to its processes\" pid=%d", u->cfg->name,
			 sigabbrev_np(a->signal), (int)u->svc.pid);
		unit_signal(u, a->signal);
	}
	if (a->spawn) /* one fork per loop iteration: events are read in between */
		loop_job_queue(d->loop, &u->spawn_job);
	unit_sync_timer(u);
	unit_probes_sync(u);
	unit_scan_sync(u);
	unit_watch_sync(u);
	daemon_sync_syscalls(d);
	daemon_wake_waiters(u, a); /* after any event: a wait may settle without a transition */
	if (a->changed)
		daemon_mark_dirty(d);
	daemon_oneshot_observe(u);
	unit_release_if_gone(u);
	if (d->shutting_down)
		daemon_check_shutdown(d);
}

struct svc_actions unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in)
{
	struct svc_input local = in ? *in : (struct svc_input){ 0 };
	struct svc_actions a;

	if (getrandom(&local.random, sizeof(local.random), GRND_NONBLOCK) < 0)
		local.random = (uint32_t)now_mono_ns();
	svc_handle(&u->svc, ev, &local, now_mono_ns(), &a);
	unit_apply(u, &a);
	return a;
}

/* A watch lets go of its processes: they keep running, readyd stops looking. */
static void unit_detach(struct unit *u)
{
	struct svc_input in = { .exit = { .detached = true } };

	log_info("service=%s msg=\"no longer watching it; it keeps running\" pid=%d", u->cfg->name,
		 (int)u->svc.pid);
	unit_procs_close(u);
	unit_procs_init(u);
	unit_handle(u, SVC_EV_EXIT, &in);
}

static void on_unit_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	unit_handle(t->data, SVC_EV_DEADLINE, NULL);
}

/* ---- spawning ---- */

void unit_adopt_next_config(struct unit *u)
{
	if (!u->next_cfg)
		return;
	unit_probes_stop(u); /* a running probe points into the old config */
	config_unref(u->owner);
	u->owner = u->next_owner;
	u->cfg = u->next_cfg;
	u->next_owner = NULL;
	u->next_cfg = NULL;
	svc_set_config(&u->svc, u->cfg);
	unit_procs_close(u); /* nothing runs: cgroups are made anew, for the new processes */
	unit_procs_init(u);
	log_info("service=%s msg=\"now running its reloaded configuration\"", u->cfg->name);
}

static void unit_spawn(struct unit *u)
{
	struct daemon *d = u->d;
	struct svc_input in = { 0 };
	uint64_t forked_at;
	int err;

	unit_adopt_next_config(u);
	if (d->tracer)
		tracer_forget_unit(d->tracer, u->id); /* leftovers of the previous instance */
	unit_marker_arm(u);
	err = d->tracer ? tracer_set_syscalls(d->tracer, true) : 0; /* before the child can bind */
	if (err)
		snprintf(in.exit.spawn_error, sizeof(in.exit.spawn_error), "%s", strerror(-err));
	forked_at = now_mono_ns(); /* before the fork: no event of the child can be older */
	if (!err && !u->cfg->adopted) /* a foreign holder of its address: no crash loop on EADDRINUSE */
		err = unit_sockets_before_spawn(u, in.exit.spawn_error, sizeof(in.exit.spawn_error));
	if (!err)
		err = u->cfg->adopted ? unit_watch_attach(u, &in.exit) : unit_procs_spawn(u, &in.exit);
	if (err) {
		unit_handle(u, SVC_EV_EXIT, &in); /* what did start is stopped as remains */
		return;
	}
	svc_spawned(&u->svc, u->procs[0].child.pid, forked_at);
	unit_sync_timer(u);
	unit_probes_sync(u); /* ready = probe: probes start with the process */
	unit_scan_sync(u);   /* poll mode: scans start with the process */
	if (u->cfg->adopted)
		unit_watch_attached(u);
}

static void on_spawn_job(struct loop *loop, struct loop_job *job)
{
	struct unit *u = job->data;

	(void)loop;
	if (u->svc.state != SVC_STARTING || u->svc.pid || u->d->shutting_down) {
		unit_release_if_gone(u); /* stopped while queued: a removed one may go now */
		return;
	}
	if (!unit_all_down(u)) { /* one instance at a time: after the last one is gone */
		u->spawn_waiting = true;
		log_info("service=%s msg=\"starts once what is left of the last instance is gone\"",
			 u->cfg->name);
		return;
	}
	unit_spawn(u);
}

/* ---- creation and removal ---- */

struct unit *unit_new(struct daemon *d, struct config *owner, const struct service_config *cfg)
{
	struct unit **grown = realloc(d->units, (d->n_units + 1) * sizeof(*grown));
	struct unit *u = calloc(1, sizeof(*u));

	if (grown)
		d->units = grown;
	if (!grown || !u) {
		free(u);
		return NULL;
	}
	u->d = d;
	u->id = ++d->next_id;
	u->owner = config_ref(owner);
	u->cfg = cfg;
	u->notify_src.fd = -1;
	u->marker_wd = -1;
	u->timer = (struct loop_timer){ .fn = on_unit_timer, .data = u };
	u->spawn_job = (struct loop_job){ .fn = on_spawn_job, .data = u };
	u->free_job = (struct loop_job){ .fn = on_free_job, .data = u };
	svc_init(&u->svc, cfg);
	unit_procs_init(u);
	unit_probes_init(u);
	unit_scan_init(u);
	unit_watch_init(u);
	d->units[d->n_units++] = u;
	/* Without its notify socket it cannot start when ready = notify; otherwise only a warning. */
	if (!cfg->adopted && unit_notify_open(u) < 0 && (cfg->ready & READY_NOTIFY))
		log_err("service=%s msg=\"it waits for READY=1 but has no notify socket\"", cfg->name);
	return u;
}

static void unit_free(struct unit *u)
{
	struct daemon *d = u->d;

	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i] == u) {
			memmove(&d->units[i], &d->units[i + 1], (d->n_units - i - 1) * sizeof(*d->units));
			d->n_units--;
			break;
		}
	daemon_drop_waiters(u);
	unit_probes_stop(u);
	loop_timer_cancel(d->loop, &u->timer);
	loop_timer_cancel(d->loop, &u->scan_timer);
	loop_timer_cancel(d->loop, &u->reattach_timer);
	loop_job_cancel(d->loop, &u->spawn_job);
	loop_job_cancel(d->loop, &u->free_job);
	unit_procs_close(u);
	unit_notify_close(u);
	unit_marker_disarm(u);
	if (d->tracer) /* NULL when start-up failed before the tracer opened */
		tracer_forget_unit(d->tracer, u->id);
	config_unref(u->owner);
	config_unref(u->next_owner);
	free(u);
}

static bool unit_gone(const struct unit *u)
{
	return u->removed && !u->svc.pid && !u->spawn_job.queued && !unit_probes_busy(u) &&
	       (u->svc.state == SVC_STOPPED || u->svc.state == SVC_FAILED) && unit_all_down(u);
}

/* Freed from a job, never from inside a callback that may still use the unit. */
static void on_free_job(struct loop *loop, struct loop_job *job)
{
	struct unit *u = job->data;
	struct daemon *d = u->d;

	(void)loop;
	if (!unit_gone(u))
		return; /* something started again; unit_release_if_gone will requeue */
	log_info("service=%s msg=\"removed, as the reloaded config asks\"", u->cfg->name);
	unit_free(u);
	daemon_mark_dirty(d);
	if (d->shutting_down)
		daemon_check_shutdown(d);
	else
		daemon_start_missing(d, NULL); /* a reload may have re-added that name */
}

void unit_release_if_gone(struct unit *u)
{
	if (unit_gone(u))
		loop_job_queue(u->d->loop, &u->free_job);
}

void daemon_free_units(struct daemon *d)
{
	while (d->n_units)
		unit_free(d->units[d->n_units - 1]);
	free(d->units);
	d->units = NULL;
}
