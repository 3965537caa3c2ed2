// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start order in the daemon (daemon/deps.h). A unit whose spawn job finds a
 * dependency not running is held: it stays `starting`, its cause names the
 * dependency in its own words, its ready_timeout has not begun (that starts
 * at the fork), and any autostart = no dependency that is stopped is started
 * for it. Every transition of a unit re-judges the units held on it, so a
 * dependency becoming running queues their spawn jobs at once.
 */
#include "daemon/deps.h"

#include <stdio.h>
#include <string.h>

#include "daemon/procs.h"
#include "model/deps.h"
#include "base/log.h"
#include "base/util.h"

/* The config its next spawn runs: a reload's pending one, else its own. */
static const struct service_config *next_cfg(const struct unit *u)
{
	return u->next_cfg ? u->next_cfg : u->cfg;
}

size_t deps_count(const struct unit *u)
{
	return next_cfg(u)->n_deps;
}

struct unit *deps_unit(struct unit *u, size_t k, bool *requires)
{
	const struct service_dep *dep = &next_cfg(u)->deps[k];

	if (requires)
	*requires = dep->requires;
	return daemon_unit_named(u->d, dep->name, false);
}

bool deps_waits_for(const struct unit *w, const struct unit *u, bool *requires)
{
	return w != u && !w->removed && config_depends_on(next_cfg(w), u->cfg->name, requires);
}

/* May u spawn now? If not, why in buf. */
static bool judge(struct unit *u, char *buf, size_t size)
{
	struct dep_view v[CONFIG_MAX_DEPS];
	size_t n = deps_count(u);

	for (size_t k = 0; k < n; k++) {
		struct unit *t = deps_unit(u, k, NULL);
		v[k] = (struct dep_view){ .name = next_cfg(u)->deps[k].name,
					  .present = t != NULL,
					  .state = t ? t->svc.state : SVC_STOPPED,
					  .cause = t ? t->svc.cause : "" };
	}
	return deps_verdict(v, n, buf, size);
}

/*
 * Starting a service starts what it waits for that is stopped and autostart =
 * no; an operator's start (or restart) of it also what it requires, as
 * systemd's Requires= pulls its unit in: an operator who stopped db, and so
 * web, starts both with `readyctl start web`. A restart by policy does not:
 * a db the operator stopped, or that ended by itself with restart = no,
 * stays as it is.
 */
static void pull_in(struct unit *u)
{
	char why[SERVICE_NAME_MAX + 40];
	struct svc_input in = { .why = why };

	snprintf(why, sizeof(why), "started as a dependency of %s", u->cfg->name);
	for (size_t k = 0; k < deps_count(u); k++) {
		bool requires;
		struct unit *t = deps_unit(u, k, &requires);
		if (t && (!next_cfg(t)->autostart || (requires && u->deps_pull)) &&
		    t->svc.state == SVC_STOPPED && !t->svc.pid) {
			log_info("service=%s msg=\"starting it: %s waits for it\"", t->cfg->name,
				 u->cfg->name);
			unit_handle(t, SVC_EV_START, &in);
		}
	}
}

/* Its spawn job runs: hold it while a dependency is not running. */
static bool deps_hold(struct unit *u)
{
	char why[SVC_CAUSE_MAX];

	if (!deps_count(u)) { /* a reload may have taken its last one away */
		u->deps_held = u->deps_pull = false;
		return false;
	}
	if (judge(u, why, sizeof(why))) {
		if (u->deps_held) { /* the cause said what it waited for: now that it is over */
			log_info("service=%s msg=\"every dependency is running: spawning it\"",
				 u->cfg->name);
			svc_set_held(&u->svc, "every service it waits for is running: spawned");
		}
		u->deps_held = u->deps_pull = false;
		return false;
	}
	if (!u->deps_held) {
		char text[2 * SVC_CAUSE_MAX];
		log_info("service=%s msg=\"its spawn waits\" cause=\"%s\"", u->cfg->name,
			 log_escape(text, sizeof(text), why));
	}
	u->deps_held = true;
	if (svc_set_held(&u->svc, why))
		unit_observe(u, &(struct unit_news){ .dirty = true });
	pull_in(u);
	u->deps_pull = false; /* what it required is starting: the next judgement waits for it */
	return true;
}

/*
 * u, which w requires, was stopped by the operator (not failed: then w restarts
 * and waits): w stops too, as under systemd's BindsTo=, instead of waiting in
 * `starting` for a service nobody will start.
 */
static void stop_bound(struct unit *w, const struct unit *u)
{
	char why[SVC_CAUSE_MAX];

	snprintf(why, sizeof(why), "stopped: %s, which it requires, was stopped (%s)", u->cfg->name,
		 u->svc.cause);
	log_info("service=%s msg=\"%s was stopped: stopping it too; `readyctl start %s` starts "
		 "both\"",
		 w->cfg->name, u->cfg->name, w->cfg->name);
	unit_handle(w, SVC_EV_STOP, &(struct svc_input){ .why = why });
}

/* w requires u and u left running: w restarts, and starts again once u is back. */
static void restart_bound(struct unit *w, const struct unit *u, const struct svc_actions *a)
{
	char why[SVC_CAUSE_MAX];

	snprintf(why, sizeof(why), "restarted: %s, which it requires, left running (%s: %s)",
		 u->cfg->name, svc_state_name(a->to), u->svc.cause);
	log_info("service=%s msg=\"%s left running: restarting it, it starts again once %s is "
		 "back\"",
		 w->cfg->name, u->cfg->name, u->cfg->name);
	unit_handle(w, SVC_EV_RESTART, &(struct svc_input){ .why = why });
}

/*
 * Up, or on its way (held, starting, stopping to restart, failed with a
 * restart armed): what an operator's stop of a service it requires takes
 * down with it. Not one that ended by itself, nor one failed for good.
 */
static bool on_its_way_up(const struct svc *s)
{
	if (!s->want_up || s->state == SVC_STOPPED)
		return false;
	return s->state != SVC_FAILED || s->deadline_kind == DEADLINE_RESTART;
}

/* A transition of u: what waits for u is judged again; what requires it follows it. */
static void on_transition(struct unit *u, const struct svc_actions *a)
{
	struct daemon *d = u->d;
	/* By the operator (or a stop that followed one): not a failure, not a reload's removal. */
	bool stopped =
		!u->svc.want_up && !u->removed && (a->to == SVC_STOPPING || a->to == SVC_STOPPED);
	char why[SVC_CAUSE_MAX];

	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *w = d->units[i];
		bool requires = false;
		if (!deps_count(w) || !deps_waits_for(w, u, &requires))
			continue;
		if (requires && stopped && on_its_way_up(&w->svc)) {
			stop_bound(w, u);
		} else if (w->deps_held) {
			if (w->svc.state != SVC_STARTING || w->svc.pid)
				w->deps_held = false;
			else if (judge(w, why, sizeof(why))) /* the spawn goes in this iteration */
				loop_job_queue(d->loop, &w->spawn_job);
			else if (svc_set_held(&w->svc, why))
				unit_observe(w, &(struct unit_news){ .dirty = true });
		} else if (requires && deps_left_running(a->from, a->to) && w->svc.pid &&
			   deps_alive(w->svc.state) && w->svc.want_up) {
			restart_bound(w, u, a);
		}
	}
}

/* ---- shutdown: each service after what depends on it ---- */

static bool down(const struct unit *u)
{
	return !u->stop_deferred && !u->svc.pid && unit_all_down(u);
}

static bool dependents_down(const struct unit *u)
{
	for (size_t i = 0; i < u->d->n_units; i++) {
		const struct unit *w = u->d->units[i];
		if (deps_count(w) && deps_waits_for(w, u, NULL) && !down(w))
			return false;
	}
	return true;
}

/* Stop every deferred unit nothing up depends on, until none is left to stop now. */
static void stop_progress(struct daemon *d)
{
	static bool busy; /* a stop's own news comes back here: the outer loop goes on */
	struct svc_input in = { .why = "readyd is shutting down" };
	bool again = true;

	if (busy)
		return;
	busy = true;
	while (again) {
		again = false;
		for (size_t i = 0; i < d->n_units; i++) {
			struct unit *u = d->units[i];
			if (!u->stop_deferred || !dependents_down(u))
				continue;
			u->stop_deferred = false;
			unit_handle(u, SVC_EV_STOP, &in);
			again = true;
		}
	}
	busy = false;
}

void deps_stop_all(struct daemon *d)
{
	/* Without a graph, nothing is deferred: no per-event walk of 10,000 units at shutdown. */
	for (size_t i = 0; i < d->n_units; i++)
		d->units[i]->stop_deferred = d->cfg->has_deps;
	if (d->cfg->has_deps) {
		stop_progress(d);
		return;
	}
	for (size_t i = 0; i < d->n_units; i++)
		unit_handle(d->units[i], SVC_EV_STOP,
			    &(struct svc_input){ .why = "readyd is shutting down" });
}

/* Its remains may go after its transition: any news of a unit may let a stop go. */
static void shutdown_news(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->stop_deferred) {
			stop_progress(d);
			return;
		}
}

static void deps_observe(struct unit *u, const struct unit_news *n)
{
	if (u->svc.state != SVC_STARTING || u->svc.pid)
		u->deps_held = false;
	if (!u->d->cfg->has_deps) /* the config in force has no graph: nothing to follow */
		return;
	if (u->d->shutting_down) {
		shutdown_news(u->d);
		return;
	}
	if (n->a && n->a->changed && n->a->to != SVC_STARTING && n->a->to != SVC_STOPPING)
		u->deps_pull = false; /* that start is over, spawned or not */
	if (n->a && n->a->changed)
		on_transition(u, n->a);
}

/* A reload may have changed what a held unit waits for: its spawn job judges again. */
static void deps_daemon_news(struct daemon *d, const struct unit_news *n)
{
	(void)n;
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->deps_held && !d->shutting_down)
			loop_job_queue(d->loop, &d->units[i]->spawn_job);
}

void deps_boot_start(struct unit *u, const struct svc_input *in)
{
	if (next_cfg(u)->autostart) {
		unit_handle(u, SVC_EV_START, in);
		return;
	}
	svc_set_held(&u->svc, "autostart = no: started by `readyctl start` or as a dependency of "
			      "a service being started");
	log_info("service=%s msg=\"not started: autostart = no\"", u->cfg->name);
	unit_observe(u, &(struct unit_news){ .dirty = true });
}

void deps_operator_start(struct unit *u, bool restart)
{
	const struct svc *s = &u->svc;

	u->deps_pull = restart || u->deps_held || s->state == SVC_STOPPED ||
		       s->state == SVC_FAILED || s->state == SVC_STOPPING;
	if (u->deps_held)
		loop_job_queue(u->d->loop, &u->spawn_job);
}

const struct unit_module deps_module = {
	.name = "deps",
	.hold = deps_hold,
	.observe = deps_observe,
	.daemon_news = deps_daemon_news,
};
