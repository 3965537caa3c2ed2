// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyd's side of its services' ends, for all of them at once: it is the
 * child subreaper (a daemon that forks into the background is still its
 * child), it reaps every orphan, it watches every process cgroup's
 * cgroup.events on one inotify fd, and it remembers which processes left a
 * tree lately (an sd_notify sender is often gone by the time its datagram
 * is read).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/procs.h"
#include "daemon/unit.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define REAP_PER_SIGNAL 1024
#define RECENT_EXITS	256
#define RECENT_EXIT_NS	(30 * NSEC_PER_SEC)

struct recent_exit {
	pid_t tgid;
	uint32_t kid;
	uint64_t at;
};

struct reaper {
	struct cgroup_base cgroups; /* dirfd -1: readyd does not create cgroups */
	int cg_inotify_fd;	    /* cgroup.events of every process cgroup */
	struct loop_source cg_src;
	struct recent_exit recent[RECENT_EXITS]; /* a ring */
	size_t recent_next;
};

static const struct cgroup_base no_cgroups = { .dirfd = -1 };

const struct cgroup_base *reaper_cgroups(const struct daemon *d)
{
	return d->reaper ? &d->reaper->cgroups : &no_cgroups;
}

int reaper_cgroup_events_fd(const struct daemon *d)
{
	return d->reaper ? d->reaper->cg_inotify_fd : -1;
}

/* ---- processes that left a tree lately ---- */

void reaper_note_exit(struct daemon *d, pid_t tgid, uint32_t kid, uint64_t at)
{
	struct reaper *r = d->reaper;

	r->recent[r->recent_next++ % RECENT_EXITS] =
		(struct recent_exit){ .tgid = tgid, .kid = kid, .at = at };
}

bool reaper_exited_lately(struct daemon *d, pid_t pid, uint32_t unit)
{
	uint64_t now = now_mono_ns();

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < RECENT_EXITS; i++) {
			const struct recent_exit *x = &d->reaper->recent[i];
			if (x->tgid == pid && RD_KID_UNIT(x->kid) == unit &&
			    now - x->at < RECENT_EXIT_NS)
				return true;
		}
		/* Its EXIT may still wait in the ring buffer: read it, then look again. */
		if (pass == 0 && d->tracer)
			tracer_consume(d->tracer);
	}
	return false;
}

/* ---- cgroup events ---- */

static struct unit_proc *proc_by_wd(struct daemon *d, int wd)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t j = 0; j < d->units[i]->procs.n; j++) {
			struct unit_proc *p = &d->units[i]->procs.v[j];
			if (p->cg.wd == wd && p->cg.dirfd >= 0)
				return p;
		}
	return NULL;
}

static void on_cgroup_events(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)loop, (void)events;
	while ((n = read(src->fd, buf, sizeof(buf))) > 0) {
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)at;
			struct unit_proc *p = proc_by_wd(d, ev->wd);
			at += sizeof(*ev) + ev->len;
			if (p)
				unit_proc_tree_emptied(p);
		}
	}
}

/* ---- SIGCHLD ---- */

static struct unit_proc *proc_by_main(struct daemon *d, pid_t pid)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t j = 0; j < d->units[i]->procs.n; j++) {
			struct unit_proc *p = &d->units[i]->procs.v[j];
			if (p->main_alive && p->child.pid == pid && p->child.pidfd >= 0)
				return p;
		}
	return NULL;
}

/* A group leader is being reaped: its number may be reused, never signal that group again. */
static void forget_pgid(struct daemon *d, pid_t pid)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t j = 0; j < d->units[i]->procs.n; j++)
			if (d->units[i]->procs.v[j].pgid == pid)
				d->units[i]->procs.v[j].pgid = 0;
}

/* A module's own child (an exec probe): reaped by the module. */
static bool module_reaps(struct daemon *d, pid_t pid)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t m = 0; m < d->n_modules; m++)
			if (d->modules[m]->reap && d->modules[m]->reap(d->units[i], pid))
				return true;
	return false;
}

void reaper_reap_children(struct daemon *d)
{
	for (int i = 0; i < REAP_PER_SIGNAL; i++) {
		siginfo_t si = { 0 };
		struct unit_proc *p;
		pid_t pid;

		/* Look first: a child someone watches is reaped by its owner, who wants its status.
		 */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			return;
		pid = si.si_pid;
		p = proc_by_main(d, pid);
		if (p) {
			unit_proc_main_ended(p);
			if (!p->main_alive || p->child.pid != pid)
				continue;
		} else if (module_reaps(d, pid)) {
			continue;
		}
		/* An orphan of some service's tree (or an owner that failed to reap): reap it. */
		log_debug("msg=\"reaped an orphan\" pid=%d", (int)pid);
		forget_pgid(d, pid);
		waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
	}
}

/* ---- open, close ---- */

static void open_cgroups(struct daemon *d, struct reaper *r)
{
	const char *why = NULL;
	int err = cgroup_base_open(&r->cgroups, &why);

	if (err) {
		log_info("msg=\"services run without cgroups: process trees are followed with BPF "
			 "and process groups\" reason=\"%s\" err=\"%s\"",
			 why, strerror(-err));
		return;
	}
	r->cg_inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->cg_inotify_fd < 0) {
		log_warn("msg=\"no inotify for cgroup.events: cgroups not used\" err=\"%s\"",
			 strerror(errno));
		cgroup_base_close(&r->cgroups);
		return;
	}
	r->cg_src =
		(struct loop_source){ .fd = r->cg_inotify_fd, .fn = on_cgroup_events, .data = d };
	log_info("msg=\"each service process runs in its own cgroup\" cgroup=%s", r->cgroups.path);
}

int reaper_open(struct daemon *d)
{
	struct reaper *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cgroups.dirfd = r->cg_inotify_fd = r->cg_src.fd = -1;
	d->reaper = r;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("msg=\"cannot become the reaper of orphans: daemons that fork into the "
			 "background cannot be followed as readyd's children\" err=\"%s\"",
			 strerror(errno));
	open_cgroups(d, r);
	return r->cg_src.fd >= 0 ? loop_add(d->loop, &r->cg_src, EPOLLIN) : 0;
}

void reaper_close(struct daemon *d)
{
	struct reaper *r = d->reaper;

	if (!r)
		return;
	if (r->cg_src.fd >= 0)
		loop_del(d->loop, &r->cg_src);
	fd_close(r->cg_inotify_fd);
	cgroup_base_close(&r->cgroups);
	free(r);
	d->reaper = NULL;
}
