// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One service's life in the daemon: what its state machine decides about
 * processes and timers is carried out here (the processes themselves are
 * procs.c's), then every module hears of it, in the order daemon.c gave.
 */
#include "daemon/procs.h"
#include "daemon/unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

static void on_free_job(struct loop *loop, struct loop_job *job);
static void unit_detach(struct unit *u);

struct unit *daemon_unit(struct daemon *d, uint32_t id)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->id == id)
			return d->units[i];
	return NULL;
}

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
	char cause[2 * SVC_CAUSE_MAX], pid[24] = "";

	if (u->svc.pid) /* no pid=0: a service with no process says so by leaving it out */
		snprintf(pid, sizeof(pid), " pid=%d", (int)u->svc.pid);
	log_escape(cause, sizeof(cause), u->svc.cause);
	/* failed->failed is no transition: the same state with a new cause */
	if (a->from == a->to)
		log_msg(level, "service=%s state=%s%s msg=\"updated\" cause=\"%s\"", u->cfg->name,
			svc_state_name(a->to), pid, cause);
	else
		log_msg(level, "service=%s transition=%s->%s%s cause=\"%s\"", u->cfg->name,
			svc_state_name(a->from), svc_state_name(a->to), pid, cause);
}

/* A socket event changed a listener's level: said before the transition it may cause. */
static void log_level_change(struct unit *u, const struct svc_sock *k, const struct listener *l)
{
	char label[2 * SOCK_ADDR_TEXT_MAX], took[32], comm[16];

	fmt_duration(took, sizeof(took), k->at > u->svc.spawned_at ? k->at - u->svc.spawned_at : 0);
	/* An observed unix path is the service's choice: escaped, it cannot forge log lines. */
	log_escape(label, sizeof(label), l->label);
	str_copy(comm, k->comm && k->comm[0] ? k->comm : "-", sizeof(comm));
	str_sanitize(comm);
	log_info("service=%s listener=\"%s\" sock_level=%s%s%s pid=%d comm=%s after=%s%s%s",
		 u->cfg->name, label, level_name(l->level),
		 l->level == LEVEL_ACCEPTING ? " via=" : "",
		 l->level == LEVEL_ACCEPTING ? accept_via_name(l->via) : "", (int)k->pid, comm,
		 took, k->seen_by ? " seen_by=" : "", k->seen_by ? k->seen_by : "");
}

/* The cross-check found a self-report the kernel did not bear out in time. */
static void log_mismatch(struct unit *u)
{
	uint64_t accepted = svc_phase_at(&u->svc, LEVEL_ACCEPTING);
	char levels[SVC_CAUSE_MAX], late[32] = "never";

	svc_describe_listeners(&u->svc, levels, sizeof(levels));
	if (accepted > u->svc.report_at)
		fmt_duration(late, sizeof(late), accepted - u->svc.report_at);
	log_warn("service=%s msg=\"it says it is ready, the kernel disagrees\" listeners=\"%s\" "
		 "accepting_after_report=%s",
		 u->cfg->name, levels, late);
}

/* The machine's two moments: its deadline, and when to judge a self-report. */
static void unit_sync_timer(struct unit *u)
{
	if (u->svc.deadline)
		loop_timer_arm(u->d->loop, &u->timer, u->svc.deadline);
	else
		loop_timer_cancel(u->d->loop, &u->timer);
	if (u->svc.crosscheck_at)
		loop_timer_arm(u->d->loop, &u->crosscheck_timer, u->svc.crosscheck_at);
	else
		loop_timer_cancel(u->d->loop, &u->crosscheck_timer);
}

void unit_observe(struct unit *u, const struct unit_news *n)
{
	struct daemon *d = u->d;

	for (size_t i = 0; i < d->n_modules; i++)
		if (d->modules[i]->observe)
			d->modules[i]->observe(u, n);
	unit_release_if_gone(u);
}

void daemon_observe(struct daemon *d, const struct unit_news *n)
{
	for (size_t i = 0; i < d->n_modules; i++)
		if (d->modules[i]->daemon_news)
			d->modules[i]->daemon_news(d, n);
}

static void unit_apply(struct unit *u, const struct svc_input *in, const struct svc_actions *a)
{
	if (a->level_changed && in->sock)
		log_level_change(u, in->sock, a->listener);
	if (a->mismatch)
		log_mismatch(u);
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
	if (a->spawn) /* forks run as loop jobs: events are read in between */
		loop_job_queue(u->d->loop, &u->spawn_job);
	unit_sync_timer(u);
	unit_observe(u, &(struct unit_news){ .a = a });
}

/*
 * The restart jitter's randomness: xorshift32, seeded once from the kernel.
 * (A getrandom() per event was 300 system calls a second for 300 idle services.)
 */
static uint32_t jitter_random(void)
{
	static uint32_t x;

	if (!x && (getrandom(&x, sizeof(x), GRND_NONBLOCK) < 0 || !x))
		x = (uint32_t)now_mono_ns() | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

struct svc_actions unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in)
{
	struct svc_input local = in ? *in : (struct svc_input){ 0 };
	struct svc_actions a;

	local.random = jitter_random();
	svc_handle(&u->svc, ev, &local, now_mono_ns(), &a);
	unit_apply(u, &local, &a);
	return a;
}

/* A watch lets go of its processes: they keep running, readyd stops looking. */
static void unit_detach(struct unit *u)
{
	struct svc_input in = { .exit = { .detached = true } };

	log_info("service=%s msg=\"no longer watching it; it keeps running\" pid=%d", u->cfg->name,
		 (int)u->svc.pid);
	unit_procs_close(u);
	if (unit_procs_init(u) < 0)
		log_err("service=%s msg=\"out of memory\"", u->cfg->name);
	unit_handle(u, SVC_EV_EXIT, &in);
}

/* Events of the grace that are still in the ring buffer count: read them first. */
static void on_crosscheck_timer(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;

	(void)loop;
	if (u->d->tracer)
		tracer_consume(u->d->tracer);
	unit_handle(u, SVC_EV_CROSSCHECK, NULL);
}

static void on_unit_timer(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;

	(void)loop;
	unit_handle(u, svc_deadline_event(&u->svc), NULL);
}

/* ---- configs ---- */

void unit_rebind(struct unit *u, struct config *owner, const struct service_config *cfg)
{
	struct daemon *d = u->d;

	if (u->next_cfg) { /* a restart onto an older reload is pending: aim it at this one */
		config_unref(u->next_owner);
		u->next_owner = config_ref(owner);
		u->next_cfg = cfg;
		return;
	}
	config_unref(u->owner);
	u->owner = config_ref(owner);
	u->cfg = cfg;
	svc_rebind(&u->svc, cfg);
	for (size_t i = 0; i < d->n_modules; i++)
		if (d->modules[i]->rebind)
			d->modules[i]->rebind(u);
}

void unit_adopt_next_config(struct unit *u)
{
	struct daemon *d = u->d;

	if (!u->next_cfg)
		return;
	if (svc_set_config(&u->svc, u->next_cfg) < 0) {
		log_err("service=%s msg=\"out of memory: it keeps its configuration for now\"",
			u->cfg->name);
		return;
	}
	for (size_t i = 0; i < d->n_modules; i++) /* what points into the old config lets go */
		if (d->modules[i]->reconfigure)
			d->modules[i]->reconfigure(u);
	config_unref(u->owner);
	u->owner = u->next_owner;
	u->cfg = u->next_cfg;
	u->next_owner = NULL;
	u->next_cfg = NULL;
	unit_procs_close(u); /* nothing runs: cgroups are made anew, for the new processes */
	if (unit_procs_init(u) < 0)
		log_err("service=%s msg=\"out of memory\"", u->cfg->name);
	log_info("service=%s msg=\"now running its reloaded configuration\"", u->cfg->name);
}

/* ---- spawning ---- */

static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	struct daemon *d = u->d;

	for (size_t i = 0; i < d->n_modules; i++) {
		int err = d->modules[i]->before_spawn ? d->modules[i]->before_spawn(u, fail) : 0;
		if (err)
			return err;
	}
	return 0;
}

/*
 * Can the kernel's maps still hold entries of u's previous instance? A first
 * start has none (its id is new). The kernel drops a process's entry when it
 * exits and a TCP listener's when it closes; only a unix listener's stays
 * (no hook sees it close). A forget walks both maps: a storm of 1,000
 * restarts had made that 1,000 walks of every entry.
 */
static bool may_have_leftovers(const struct unit *u)
{
	if (!u->in_kernel) /* a first spawn (svc.spawned_at is set before it) */
		return false;
	for (size_t i = 0; i < u->svc.n_listeners; i++)
		if (u->svc.listeners[i].spec->proto == LISTEN_UNIX)
			return true;
	for (size_t i = 0; i < u->svc.n_observed; i++)
		if (u->svc.observed[i].has_bound && u->svc.observed[i].bound.family == AF_UNIX)
			return true;
	return !unit_has_cgroups(u); /* without one, a tree's end is the events' word alone */
}

static void unit_spawn(struct unit *u)
{
	struct daemon *d = u->d;
	struct svc_input in = { 0 };
	uint64_t forked_at;
	int err;

	unit_adopt_next_config(u);
	if (d->tracer && may_have_leftovers(u))
		tracer_forget_unit(d->tracer, u->id);
	err = before_spawn(u, &in.exit);
	forked_at = now_mono_ns(); /* before the fork: no event of the child can be older */
	if (!err)
		err = u->cfg->adopted ? d->adopt(u, &in.exit) : unit_procs_spawn(u, &in.exit);
	if (err) {
		unit_handle(u, SVC_EV_EXIT, &in); /* what did start is stopped as remains */
		return;
	}
	svc_spawned(&u->svc, u->procs.v[0].child.pid, forked_at);
	unit_sync_timer(u);
	unit_observe(u, &(struct unit_news){ .spawned = true });
}

static void on_spawn_job(struct loop *loop, struct loop_job *job)
{
	struct unit *u = job->data;

	(void)loop;
	if (u->svc.state != SVC_STARTING || u->svc.pid || u->d->shutting_down) {
		unit_release_if_gone(u); /* stopped while queued: a removed one may go now */
		return;
	}
	for (size_t i = 0; i < u->d->n_modules; i++) /* waiting for a dependency */
		if (u->d->modules[i]->hold && u->d->modules[i]->hold(u))
			return;
	if (!unit_all_down(u)) { /* one instance at a time: after the last one is gone */
		u->procs.spawn_waiting = true;
		log_info("service=%s msg=\"starts once what is left of the last instance is gone\"",
			 u->cfg->name);
		return;
	}
	unit_spawn(u);
}

/* ---- creation and removal ---- */

/* A daemon readyd recognized: what makes it running is readyd's choice, so it says so. */
static void log_readiness(const struct unit *u)
{
	const struct service_config *c = u->cfg;

	for (size_t i = 0; c->recognized[0] && i < c->n_probes; i++)
		if (c->probes[i].until_ready)
			log_info("service=%s msg=\"recognized %s: it is running once the kernel "
				 "shows it accepting and it answers the serving check (a ready = "
				 "line overrides this)\" check=%s",
				 c->name, c->recognized, c->probes[i].text);
}

static void unit_free(struct unit *u)
{
	struct daemon *d = u->d;

	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i] == u) {
			memmove(&d->units[i], &d->units[i + 1],
				(d->n_units - i - 1) * sizeof(*d->units));
			d->n_units--;
			break;
		}
	for (size_t i = d->n_modules; i-- > 0;)
		if (d->modules[i]->remove)
			d->modules[i]->remove(u);
	loop_timer_cancel(d->loop, &u->timer);
	loop_timer_cancel(d->loop, &u->crosscheck_timer);
	loop_job_cancel(d->loop, &u->spawn_job);
	loop_job_cancel(d->loop, &u->free_job);
	unit_procs_close(u);
	svc_free(&u->svc);
	output_free(u);
	/*
	 * NULL when start-up failed before the tracer opened. At shutdown the maps
	 * go with the tracer: a walk of both per unit made stopping N units O(N²).
	 */
	if (d->tracer && u->in_kernel && !d->shutting_down)
		tracer_forget_unit(d->tracer, u->id);
	config_unref(u->owner);
	config_unref(u->next_owner);
	free(u);
}

struct unit *unit_new(struct daemon *d, struct config *owner, const struct service_config *cfg,
		      const struct unit_origin *from)
{
	/* Doubling: 10,000 services are not 10,000 copies of a growing array. */
	bool grow = !(d->n_units & (d->n_units - 1));
	struct unit **grown =
		grow ? realloc(d->units, (d->n_units ? 2 * d->n_units : 1) * sizeof(*grown))
		     : d->units;
	struct unit *u = calloc(1, sizeof(*u));

	if (grown)
		d->units = grown;
	if (!grown || !u) {
		free(u);
		return NULL;
	}
	u->d = d;
	u->id = ++d->next_id;
	u->origin = from;
	u->notify_fd = -1;
	u->owner = config_ref(owner);
	u->cfg = cfg;
	u->timer = (struct loop_timer){ .fn = on_unit_timer, .data = u };
	u->crosscheck_timer = (struct loop_timer){ .fn = on_crosscheck_timer, .data = u };
	u->spawn_job = (struct loop_job){ .fn = on_spawn_job, .data = u };
	u->free_job = (struct loop_job){ .fn = on_free_job, .data = u };
	if (svc_init(&u->svc, cfg) < 0) {
		svc_free(&u->svc);
		config_unref(u->owner);
		free(u);
		return NULL;
	}
	if (unit_procs_init(u) < 0) {
		svc_free(&u->svc);
		config_unref(u->owner);
		free(u);
		return NULL;
	}
	d->units[d->n_units++] = u;
	log_readiness(u);
	for (size_t i = 0; i < d->n_modules; i++) {
		if (d->modules[i]->add && d->modules[i]->add(u) < 0) {
			log_err("service=%s msg=\"out of memory\" module=%s", cfg->name,
				d->modules[i]->name);
			unit_free(u);
			return NULL;
		}
	}
	u->origin = NULL;
	return u;
}

void unit_resumed(struct unit *u)
{
	unit_procs_settle_resumed(u);
	if (u->svc.state == SVC_STARTING && !u->svc.pid) /* its spawn was queued */
		loop_job_queue(u->d->loop, &u->spawn_job);
	unit_sync_timer(u);
	unit_observe(u, &(struct unit_news){ .resumed = true, .dirty = true });
}

static bool modules_busy(const struct unit *u)
{
	for (size_t i = 0; i < u->d->n_modules; i++)
		if (u->d->modules[i]->busy && u->d->modules[i]->busy(u))
			return true;
	return false;
}

static bool unit_gone(const struct unit *u)
{
	return u->removed && !u->svc.pid && !u->spawn_job.queued && !modules_busy(u) &&
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
	if (d->unit_freed)
		d->unit_freed(d);
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
