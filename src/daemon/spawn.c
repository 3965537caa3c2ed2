// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Starting the processes of a service (procs.h): each in its cgroup, with its
 * output pipe, its sd_notify socket and watchdog variables, entered in the
 * kernel's map of watched processes before it execs (os/supervisor.c).
 */
#include <stdio.h>
#include <string.h>

#include "daemon/handover.h"
#include "daemon/output.h"
#include "daemon/procs.h"
#include "daemon/unit.h"
#include "os/supervisor.h"
#include "base/log.h"
#include "base/util.h"

static int on_forked(pid_t pid, bool in_cgroup, void *ctx)
{
	struct unit_proc *p = ctx;
	struct daemon *d = p->u->d;
	int err;

	if (p->cg.dirfd >= 0 && !in_cgroup && (err = cgroup_attach(&p->cg, pid)) < 0) {
		log_warn("service=%s msg=\"cannot move the process into its cgroup: following it "
			 "without\" cgroup=%s err=\"%s\"",
			 p->u->cfg->name, p->cg.path, strerror(-err));
		cgroup_close(&p->cg, reaper_cgroup_events_fd(d), true);
	}
	if (d->tracer && tracer_mode(d->tracer) != TRACER_POLL) {
		p->u->in_kernel = true;
		return tracer_watch(d->tracer, pid, unit_proc_kid(p));
	}
	return 0;
}

static void make_cgroup(struct unit_proc *p)
{
	struct daemon *d = p->u->d;
	int err;

	if (reaper_cgroups(d)->dirfd < 0 || p->cg.dirfd >= 0)
		return;
	err = cgroup_create(reaper_cgroups(d), p->u->cfg->name, p->u->cfg->procs[p->idx].name,
			    reaper_cgroup_events_fd(d), &p->cg);
	if (err)
		log_warn("service=%s msg=\"no cgroup for it: its tree is followed by BPF only\" "
			 "err=\"%s\"",
			 p->u->cfg->name, strerror(-err));
}

/* NOTIFY_SOCKET and the watchdog's variables for a new process of u. */
static void unit_env(struct unit *u, char env[][96], char **out, size_t max)
{
	size_t n = 0;

	if (u->notify_name[0] && n + 1 < max) {
		snprintf(env[n], sizeof(env[n]), "NOTIFY_SOCKET=@%s", u->notify_name);
		out[n] = env[n];
		n++;
	}
	if (u->cfg->watchdog_ns && n + 3 < max) {
		snprintf(env[n], sizeof(env[n]), "WATCHDOG_USEC=%llu",
			 (unsigned long long)(u->cfg->watchdog_ns / 1000));
		out[n] = env[n];
		n++;
		/* The child writes its own pid here: see supervisor.c. */
		snprintf(env[n], sizeof(env[n]), "WATCHDOG_PID=%s", SUPERVISOR_SELF_PID);
		out[n] = env[n];
		n++;
	}
	out[n] = NULL;
}

static int spawn_proc(struct unit_proc *p)
{
	struct unit *u = p->u;
	char env_store[4][96], *env[5];
	/* Without a state directory no readyd could take them back: they go with this one. */
	struct spawn_fds fds = { .output = -1,
				 .ready = -1,
				 .cgroup_fd = -1,
				 .watch_map = -1,
				 .die_with_readyd = !handover_keeps_services(u->d) };
	struct child child;
	int err;

	p->spawn_error[0] = '\0';
	p->followed = false;
	memset(&p->exit, 0, sizeof(p->exit));
	make_cgroup(p);
	fds.cgroup_fd = p->cg.dirfd; /* born there (clone3), not moved there */
	if (u->d->tracer && tracer_mode(u->d->tracer) != TRACER_POLL) {
		fds.watch_map = tracer_watch_map_fd(u->d->tracer); /* it enters itself */
		fds.watch_kid = unit_proc_kid(p);
		u->in_kernel = true;
	}
	unit_env(u, env_store, env, ARRAY_SIZE(env));
	output_release(p); /* the last instance's pipe: every writer is gone */
	fds.output = output_capture(p);
	if (p->ready_fd >= 0) { /* ready = fd:N: in/fdready.c made the pipe */
		fds.ready = p->ready_fd;
		fds.ready_as = u->cfg->ready_fd;
	}
	err = supervisor_spawn(&u->cfg->procs[p->idx], env, &fds, on_forked, p, &child);
	fd_close(fds.output); /* the child has them now */
	p->ready_fd = fd_close(p->ready_fd);
	if (err)
		return err;
	p->pgid = child.pid;
	unit_proc_watch_exec(p, child.status_fd);
	unit_proc_watch_main(p, child.pid, child.pidfd);
	log_info("service=%s process=%s msg=spawned pid=%d%s%s", u->cfg->name,
		 u->cfg->procs[p->idx].name, (int)child.pid, p->cg.dirfd >= 0 ? " cgroup=" : "",
		 p->cg.dirfd >= 0 ? p->cg.path + p->cg.mount_len : "");
	return 0;
}

int unit_procs_spawn(struct unit *u, struct svc_exit *fail)
{
	output_new_instance(u);
	for (size_t i = 0; i < u->procs.n; i++) {
		int err = spawn_proc(&u->procs.v[i]);
		if (!err)
			continue;
		memset(fail, 0, sizeof(*fail));
		snprintf(fail->spawn_error, sizeof(fail->spawn_error), "%s", strerror(-err));
		if (u->procs.n > 1)
			str_copy(fail->process, u->cfg->procs[i].name, sizeof(fail->process));
		log_err("service=%s process=%s msg=\"cannot spawn\" err=\"%s\"", u->cfg->name,
			u->cfg->procs[i].name, strerror(-err));
		return err; /* the ones already forked are what is left: settle() stops them */
	}
	return 0;
}
