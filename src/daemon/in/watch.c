// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * [watch "NAME"]: services readyd did not start. Instead of a fork, "spawn"
 * attaches to the processes named by pid, pid_file or cgroup: their tree
 * joins the BPF watched set (what they do from now on is seen as events),
 * and a socket scan (in/scan.c) judges what they did before readyd
 * looked. readyd never signals, restarts or stops them; when they are gone
 * the watch is `failed`, and a pid_file or cgroup watch attaches again as
 * soon as the file or cgroup names a live process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>

#include "daemon/in/watch.h"
#include "daemon/unit.h"
#include "os/sock_scan.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define REATTACH_POLL_NS (1 * NSEC_PER_SEC)
#define WATCH_TREE_MAX	 4096

struct unit_watch {
	struct loop_timer reattach;
};

/* The pid in a pid file: the first number in it. */
static int read_pid_file(const char *path, pid_t *pid, char *why, size_t size)
{
	char text[64], *end;
	ssize_t n = file_read_text(AT_FDCWD, path, text, sizeof(text));
	long v;

	if (n == -EINVAL) {
		snprintf(why, size, "pid file %s is not a regular file", path);
		return (int)n;
	}
	if (n < 0) {
		snprintf(why, size, "pid file %s: %s", path, strerror((int)-n));
		return (int)n;
	}
	v = strtol(text, &end, 10);
	if (end == text || v <= 1 || v > 4194304) {
		snprintf(why, size, "pid file %s does not hold a process id", path);
		return -EINVAL;
	}
	*pid = (pid_t)v;
	return 0;
}

/* Which process is the watched service's main one now. */
static int resolve(struct unit *u, pid_t *pid, char *why, size_t size)
{
	struct unit_proc *p = &u->procs.v[0];
	const struct service_config *c = u->cfg;
	int err;

	switch (c->watch.kind) {
	case WATCH_PID:
		*pid = c->watch.pid;
		return 0;
	case WATCH_PID_FILE:
		return read_pid_file(c->watch.path, pid, why, size);
	case WATCH_CGROUP:
		if (p->cg.dirfd < 0) {
			err = cgroup_open(reaper_cgroups(u->d), c->watch.path,
					  reaper_cgroup_events_fd(u->d), &p->cg);
			if (err) {
				snprintf(why, size, "cgroup %s: %s", c->watch.path, strerror(-err));
				return err;
			}
			p->cg_foreign = true; /* never removed by readyd */
		}
		*pid = unit_proc_pick_main(p);
		if (!*pid) {
			snprintf(why, size, "cgroup %s has no process", c->watch.path);
			return -ESRCH;
		}
		return 0;
	case WATCH_NONE:
		break;
	}
	snprintf(why, size, "nothing to watch");
	return -EINVAL;
}

/* From now on the kernel reports what the tree does. */
static void follow_tree(struct unit_proc *p, pid_t main)
{
	static pid_t pids[WATCH_TREE_MAX];
	struct daemon *d = p->u->d;
	int n;

	if (!d->tracer || tracer_mode(d->tracer) == TRACER_POLL)
		return;
	n = p->cg.dirfd >= 0 ? cgroup_pids(&p->cg, pids, ARRAY_SIZE(pids))
			     : proc_tree(main, pids, ARRAY_SIZE(pids));
	p->u->in_kernel = true;
	for (int i = 0; i < n; i++)
		tracer_watch(d->tracer, pids[i], RD_KID(p->u->id, p->idx));
}

/* A watched postgres or redis accepts before it serves; readyd did not start it, so it
 * cannot tell from the config's command: it says so, once per attach, with the fix. */
static void hint_serving_check(const struct unit *u, const char *comm)
{
	char line[PROBE_TEXT_MAX + 16];

	if (config_watch_hint(u->cfg, comm, line, sizeof(line)))
		log_warn("service=%s msg=\"%s accepts before it can serve, so running means only "
			 "accepting: add %s to its [watch] section (docs/configuration.md)\"",
			 u->cfg->name, comm, line);
}

int watch_attach(struct unit *u, struct svc_exit *fail)
{
	struct unit_proc *p = &u->procs.v[0];
	char why[sizeof(fail->spawn_error)], comm[16];
	pid_t pid = 0;
	int pidfd, err;

	memset(fail, 0, sizeof(*fail));
	err = resolve(u, &pid, why, sizeof(why));
	if (!err) {
		pidfd = pidfd_open(pid, 0);
		if (pidfd < 0) {
			err = -errno;
			snprintf(why, sizeof(why), "process %d: %s", (int)pid, strerror(errno));
		}
	}
	if (err) {
		str_copy(fail->spawn_error, why, sizeof(fail->spawn_error));
		return err;
	}
	memset(&p->exit, 0, sizeof(p->exit));
	p->followed = false;
	unit_proc_watch_main(p, pid, pidfd);
	follow_tree(p, pid);
	proc_comm(pid, comm, sizeof(comm));
	log_info("service=%s msg=\"watching a process readyd did not start\" pid=%d comm=%s%s%s",
		 u->cfg->name, (int)pid, comm, p->cg.dirfd >= 0 ? " cgroup=" : "",
		 p->cg.dirfd >= 0 ? p->cg.path + p->cg.mount_len : "");
	hint_serving_check(u, comm);
	return 0;
}

/* Failed and still wanted: waiting for its pid file or cgroup to name a live process again. */
static bool waiting(const struct unit *u)
{
	return u->cfg->adopted && u->cfg->watch.kind != WATCH_PID && u->svc.state == SVC_FAILED &&
	       u->svc.want_up && !u->d->shutting_down;
}

/* Failed and still wanted: attach again once the pid file or cgroup names a live process. */
static void on_reattach(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;
	char why[128];
	pid_t pid;

	(void)loop;
	if (!waiting(u))
		return;
	if (resolve(u, &pid, why, sizeof(why)) == 0 && kill(pid, 0) == 0) {
		struct svc_input in = { .why = "its process is back" };
		unit_handle(u, SVC_EV_START, &in);
		return;
	}
	loop_timer_arm(u->d->loop, t, now_mono_ns() + REATTACH_POLL_NS);
}

static void observe(struct unit *u, const struct unit_news *n)
{
	struct loop_timer *t;

	(void)n;
	if (!u->watch)
		return;
	t = &u->watch->reattach;
	if (!waiting(u))
		loop_timer_cancel(u->d->loop, t);
	else if (!loop_timer_armed(t))
		loop_timer_arm(u->d->loop, t, now_mono_ns() + REATTACH_POLL_NS);
}

static int add(struct unit *u)
{
	u->watch = calloc(1, sizeof(*u->watch));
	if (!u->watch)
		return -ENOMEM;
	u->watch->reattach = (struct loop_timer){ .fn = on_reattach, .data = u };
	return 0;
}

static void remove_unit(struct unit *u)
{
	if (!u->watch)
		return;
	loop_timer_cancel(u->d->loop, &u->watch->reattach);
	free(u->watch);
	u->watch = NULL;
}

const struct unit_module watch_module = {
	.name = "watch",
	.add = add,
	.remove = remove_unit,
	.observe = observe,
};
