// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The processes of each service, and the trees they grow.
 *
 * Each process of a service is forked into its own cgroup where readyd can
 * make them (else its tree is what BPF followed from its fork). readyd is
 * the child subreaper of everything it starts: orphans of a tree are
 * reparented to it, so a daemon that forks into the background is still
 * readyd's child, and every orphan is reaped (SIGCHLD).
 *
 * When a main process ends:
 *   - with status 0 while its tree still runs and nobody asked it to stop,
 *     it went into the background: the oldest process of the tree (readyd's
 *     child first) is followed as the main process;
 *   - otherwise the service's instance has ended: EXIT goes to the state
 *     machine at once (naming the process, for a service of several), and
 *     whatever is left of the service (the other processes, leftovers of the
 *     tree) gets SIGTERM, then SIGKILL after stop_timeout. No new instance
 *     starts before all of it is gone.
 * While stopping, EXIT waits until nothing of the service runs.
 *
 * (reaper.c has readyd's side of it: SIGCHLD, cgroup.events, and the
 * processes that left a tree lately.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/handover.h"
#include "daemon/procs.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "os/proc_parse.h"
#include "os/sock_scan.h"
#include "base/clock.h"
#include "base/util.h"

#define TREE_MAX	1024
#define REAP_PER_SIGNAL 1024

static void settle(struct unit *u, struct unit_proc *ended);

uint32_t unit_proc_kid(const struct unit_proc *p)
{
	return RD_KID(p->u->id, p->idx);
}

/* ---- the trees ---- */

/* Live processes of p's tree (its main included while it runs). */
static int proc_tree_pids(const struct unit_proc *p, pid_t *pids, size_t max)
{
	struct daemon *d = p->u->d;
	int n = -ENOENT;

	if (p->cg.dirfd >= 0)
		n = cgroup_pids(&p->cg, pids, max);
	if (n < 0 && d->tracer && tracer_mode(d->tracer) != TRACER_POLL)
		n = tracer_tree(d->tracer, unit_proc_kid(p), false, pids, max);
	if (n < 0 && p->main_alive) /* no cgroup, no BPF: what /proc shows below the main */
		n = proc_tree(p->child.pid, pids, max);
	return n < 0 ? 0 : n;
}

static bool proc_tree_alive(const struct unit_proc *p)
{
	pid_t pids[4];

	/* What a [watch] leaves behind is not readyd's: it never waits for it. */
	if (p->main_alive || p->u->cfg->adopted)
		return p->main_alive;
	/* Never started (a boot's first spawn): nothing to look for, and no map to walk. */
	if (!p->child.pid && p->cg.dirfd < 0)
		return false;
	if (p->cg.dirfd >= 0) {
		int populated = cgroup_populated(&p->cg);
		if (populated >= 0)
			return populated;
	}
	return proc_tree_pids(p, pids, ARRAY_SIZE(pids)) > 0;
}

bool unit_all_down(const struct unit *u)
{
	for (size_t i = 0; i < u->procs.n; i++)
		if (proc_tree_alive(&u->procs.v[i]))
			return false;
	return true;
}

size_t unit_tree_pids(struct unit *u, pid_t *pids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < u->procs.n && n < max; i++) {
		const struct unit_proc *p = &u->procs.v[i];
		int k = p->cg.dirfd >= 0 ? cgroup_pids(&p->cg, pids + n, max - n) : -ENOENT;
		if (k < 0 && u->d->tracer && tracer_mode(u->d->tracer) != TRACER_POLL)
			k = tracer_tree(u->d->tracer, unit_proc_kid(p), false, pids + n, max - n);
		if (k <= 0 &&
		    p->main_alive) /* no cgroup, no BPF: what /proc shows below the main */
			k = proc_tree(p->child.pid, pids + n, max - n);
		n += k > 0 ? (size_t)k : 0;
	}
	return n;
}

/* ---- signals ---- */

static void signal_proc(struct unit_proc *p, int sig)
{
	pid_t pids[TREE_MAX];
	int n;

	if (p->cg.dirfd >= 0 && cgroup_signal(&p->cg, sig) == 0)
		return;
	/* The group only while its leader is unreaped: after that its number may be reused. */
	if (p->pgid)
		supervisor_kill_group(p->pgid, sig);
	if (p->main_alive && p->child.pidfd >= 0)
		pidfd_send_signal(p->child.pidfd, sig, NULL, 0);
	n = proc_tree_pids(p, pids, ARRAY_SIZE(pids)); /* setsid()ed ones left the group */
	for (int i = 0; i < n; i++)
		kill(pids[i], sig);
}

void unit_signal(struct unit *u, int sig)
{
	if (u->cfg->adopted) /* never a process readyd did not start, not even on a second SIGTERM
			      */
		return;
	for (size_t i = 0; i < u->procs.n; i++)
		signal_proc(&u->procs.v[i], sig);
}

static void on_remains_timer(struct loop *loop, struct loop_timer *t)
{
	struct unit *u = t->data;

	(void)loop;
	if (unit_all_down(u))
		return;
	log_warn("service=%s msg=\"what is left of it ignored SIGTERM for stop_timeout: SIGKILL\"",
		 u->cfg->name);
	unit_signal(u, SIGKILL);
}

/* The instance ended but some of it runs: SIGTERM now, SIGKILL at stop_timeout. */
static void stop_remains(struct unit *u)
{
	if (u->procs.remains_signalled)
		return;
	u->procs.remains_signalled = true;
	log_info("service=%s msg=\"stopping what is left of it\"", u->cfg->name);
	unit_signal(u, SIGTERM);
	loop_timer_arm(u->d->loop, &u->procs.remains_timer,
		       now_mono_ns() + u->cfg->stop_timeout_ns);
}

/* ---- main processes ---- */

static void close_status(struct unit_proc *p)
{
	if (p->child.status_fd < 0)
		return;
	loop_del(p->u->d->loop, &p->status_src);
	p->child.status_fd = fd_close(p->child.status_fd);
}

static void close_pidfd(struct unit_proc *p)
{
	if (p->child.pidfd < 0)
		return;
	loop_del(p->u->d->loop, &p->pidfd_src);
	p->child.pidfd = fd_close(p->child.pidfd);
}

/* The status pipe says whether exec worked; a failure is kept for the exit cause. */
static void read_exec_status(struct unit_proc *p)
{
	int rc = supervisor_exec_status(p->child.status_fd, p->spawn_error, sizeof(p->spawn_error));
	char text[256];

	if (rc == -EAGAIN)
		return;
	if (rc == 1)
		log_warn("service=%s process=%s msg=\"command could not be started\" error=\"%s\"",
			 p->u->cfg->name, p->u->cfg->procs[p->idx].name,
			 log_escape(text, sizeof(text), p->spawn_error));
	close_status(p);
}

static void on_status_fd(struct loop *loop, struct loop_source *src, uint32_t events)
{
	(void)loop, (void)events;
	read_exec_status(src->data);
}

void unit_proc_watch_exec(struct unit_proc *p, int status_fd)
{
	p->child.status_fd = status_fd;
	p->status_src = (struct loop_source){ .fd = status_fd, .fn = on_status_fd, .data = p };
	loop_add(p->u->d->loop, &p->status_src, EPOLLIN);
}

static void on_pidfd(struct loop *loop, struct loop_source *src, uint32_t events);

/* Its start time, read while the pidfd says it lives: then the number was not reused. */
static uint64_t start_ticks_of(pid_t pid, int pidfd)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) == 0 && pidfd_send_signal(pidfd, 0, NULL, 0) == 0
		       ? st.start_ticks
		       : 0;
}

int unit_proc_watch_main(struct unit_proc *p, pid_t pid, int pidfd)
{
	p->child.pid = pid;
	p->child.pidfd = pidfd;
	p->main_alive = true;
	p->resumed_gone = false;
	p->start_ticks = start_ticks_of(pid, pidfd);
	p->pidfd_src = (struct loop_source){ .fd = pidfd, .fn = on_pidfd, .data = p };
	return loop_add(p->u->d->loop, &p->pidfd_src, EPOLLIN);
}

/* The process of the tree to follow as the main one: readyd's child first, then the oldest. */
pid_t unit_proc_pick_main(const struct unit_proc *p)
{
	pid_t pids[TREE_MAX], best = 0;
	int n = proc_tree_pids(p, pids, ARRAY_SIZE(pids));
	uint64_t best_start = UINT64_MAX;
	bool best_ours = false;

	for (int i = 0; i < n; i++) {
		struct proc_stat st;
		bool ours;

		if (proc_read_stat(pids[i], &st) < 0 || st.state == 'Z')
			continue;
		ours = st.ppid == getpid();
		if ((ours && !best_ours) || (ours == best_ours && st.start_ticks < best_start)) {
			best = pids[i];
			best_start = st.start_ticks;
			best_ours = ours;
		}
	}
	return best;
}

static void set_main(struct unit_proc *p, pid_t pid, int pidfd, const char *why)
{
	struct unit *u = p->u;
	char comm[16];

	close_pidfd(p);
	unit_proc_watch_main(p, pid, pidfd);
	if (p->idx == 0)
		svc_main_changed(&u->svc, pid);
	proc_comm(pid, comm, sizeof(comm));
	log_info("service=%s process=%s msg=\"%s\" pid=%d comm=%s", u->cfg->name,
		 u->cfg->procs[p->idx].name, why, (int)pid, comm);
	unit_observe(u, &(struct unit_news){ .dirty = true });
}

/* Its main process exited 0 and left its tree: follow the tree's main process. */
static bool follow(struct unit_proc *p)
{
	for (int tries = 0; tries < 3; tries++) {
		pid_t pid = unit_proc_pick_main(p);
		int pidfd;

		if (!pid)
			return false;
		pidfd = pidfd_open(pid, 0);
		if (pidfd < 0)
			continue; /* gone meanwhile: look again */
		p->followed = true;
		set_main(p, pid, pidfd,
			 "it went into the background: following its tree's main process");
		return true;
	}
	return false;
}

/* A clean exit of a main process readyd forked (or any end of a watched one). */
static bool may_follow(const struct unit_proc *p)
{
	const struct svc *s = &p->u->svc;
	const struct svc_exit *e = &p->exit;
	bool clean = !e->spawn_error[0] && !e->signal && !e->unknown && e->code == 0;

	/* (A main that ended while no readyd ran: its tree, if any, is what is left of it.) */
	return (clean || p->u->cfg->adopted || e->away) && s->pid && s->state != SVC_STOPPING &&
	       !s->liveness_restart && !p->u->d->shutting_down;
}

/* Reap it (if it is readyd's child) and decide what its end means. */
void unit_proc_main_ended(struct unit_proc *p)
{
	struct unit *u = p->u;
	struct child_exit how;
	char text[160];
	int err;

	err = supervisor_reap(p->child.pidfd, &how);
	if (err == -EAGAIN)
		return;
	memset(&p->exit, 0, sizeof(p->exit));
	p->exit.code = how.code;
	p->exit.signal = how.signal;
	if (err == -ECHILD) { /* MAINPID= or a followed process that is not our child */
		memset(&p->exit, 0, sizeof(p->exit));
		p->exit.code = -1;
		p->exit.unknown = true;
	} else if (err) {
		log_err("service=%s msg=\"cannot reap process\" pid=%d err=\"%s\"", u->cfg->name,
			(int)p->child.pid, strerror(-err));
		p->exit.code = -1;
	}
	if (p->child.status_fd >= 0)
		read_exec_status(p);
	str_copy(p->exit.spawn_error, p->spawn_error, sizeof(p->exit.spawn_error));
	output_drain(p); /* its last words may still be in the pipe */
	str_copy(p->exit.last_words, output_last_words(u), sizeof(p->exit.last_words));
	if (u->procs.n > 1)
		str_copy(p->exit.process, u->cfg->procs[p->idx].name, sizeof(p->exit.process));
	if (p->child.pid == p->pgid)
		p->pgid = 0;
	p->main_alive = false;
	close_pidfd(p);
	close_status(p);
	svc_exit_describe(&p->exit, text, sizeof(text));
	log_info("service=%s msg=\"process exited\" pid=%d status=\"%s\"", u->cfg->name,
		 (int)p->child.pid, text);
	if (may_follow(p) && follow(p))
		return;
	settle(u, p);
}

static void on_pidfd(struct loop *loop, struct loop_source *src, uint32_t events)
{
	(void)loop, (void)events;
	unit_proc_main_ended(src->data);
}

/*
 * Something of the unit ended (`ended`: that process's main, without a
 * tree to follow; NULL: a tree emptied). Tell the state machine when the
 * instance is over, stop what is left of it, and let a waiting start go
 * once nothing runs.
 */
static void settle(struct unit *u, struct unit_proc *ended)
{
	bool down = unit_all_down(u);

	if (u->svc.pid && (u->svc.state == SVC_STOPPING ? down : ended != NULL)) {
		struct svc_input in = { 0 };
		in.exit = ended && u->svc.state != SVC_STOPPING ? ended->exit : u->procs.v[0].exit;
		unit_handle(u, SVC_EV_EXIT, &in);
		down = unit_all_down(u);
	}
	if (!u->svc.pid && !down) {
		stop_remains(u);
		return;
	}
	if (!down)
		return;
	loop_timer_cancel(u->d->loop, &u->procs.remains_timer);
	u->procs.remains_signalled = false;
	if (u->procs.spawn_waiting) {
		u->procs.spawn_waiting = false;
		loop_job_queue(u->d->loop, &u->spawn_job);
	}
	unit_observe(u, &(struct unit_news){ 0 });
}

void unit_procs_settle_resumed(struct unit *u)
{
	bool alive = false, gone = false;

	for (size_t i = 0; i < u->procs.n; i++) {
		alive |= u->procs.v[i].main_alive;
		gone |= u->procs.v[i].resumed_gone;
	}
	if (u->svc.pid && !alive && !gone && u->procs.n) { /* its processes were not saved */
		struct unit_proc *p = &u->procs.v[0];
		memset(&p->exit, 0, sizeof(p->exit));
		p->exit.code = -1;
		p->exit.unknown = p->exit.away = true;
		p->resumed_gone = true;
	}
	for (size_t i = 0; i < u->procs.n; i++) {
		struct unit_proc *p = &u->procs.v[i];
		if (!p->resumed_gone)
			continue;
		p->resumed_gone = false;
		log_info(
			"service=%s process=%s msg=\"it ended while no readyd was running\" pid=%d",
			u->cfg->name, u->cfg->procs[p->idx].name, (int)p->child.pid);
		if (may_follow(p) && follow(p))
			continue;
		settle(u, p);
	}
}

void unit_proc_tree_emptied(struct unit_proc *p)
{
	if (!p->main_alive && cgroup_populated(&p->cg) == 0)
		settle(p->u, NULL);
}

void unit_tree_exit(struct unit *u, unsigned int idx)
{
	struct unit_proc *p = idx < u->procs.n ? &u->procs.v[idx] : NULL;

	/* Trees in cgroups are watched through cgroup.events. */
	if (p && !p->main_alive && p->cg.dirfd < 0 && !proc_tree_alive(p))
		settle(u, NULL);
}

void unit_set_main(struct unit *u, pid_t pid)
{
	struct unit_proc *p = &u->procs.v[0];
	int pidfd;

	for (size_t i = 0; i < u->procs.n; i++) /* the process whose tree holds it */
		if (u->procs.v[i].cg.dirfd >= 0 && cgroup_holds(&u->procs.v[i].cg, pid))
			p = &u->procs.v[i];
	if (p->main_alive && p->child.pid == pid)
		return;
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		log_warn("service=%s msg=\"MAINPID= names a process that is gone\" pid=%d",
			 u->cfg->name, (int)pid);
		return;
	}
	/* The old main is not watched anymore: if it is readyd's child, the SIGCHLD path reaps it.
	 */
	set_main(p, pid, pidfd, "MAINPID= names the main process");
}

int unit_procs_init(struct unit *u)
{
	size_t cap = u->cfg->n_procs ? u->cfg->n_procs : 1; /* v[0] is asked of every unit */

	u->procs.remains_timer = (struct loop_timer){ .fn = on_remains_timer, .data = u };
	u->procs.v = calloc(cap, sizeof(*u->procs.v));
	if (!u->procs.v)
		return -ENOMEM;
	u->procs.cap = cap;
	u->procs.n = u->cfg->n_procs;
	for (size_t i = 0; i < cap; i++) {
		struct unit_proc *p = &u->procs.v[i];
		*p = (struct unit_proc){ .u = u, .idx = (unsigned int)i };
		p->child.pidfd = p->child.status_fd = p->ready_fd = p->out.src.fd = -1;
		p->cg.dirfd = p->cg.wd = -1;
	}
	return 0;
}

void unit_procs_close(struct unit *u)
{
	loop_timer_cancel(u->d->loop, &u->procs.remains_timer);
	for (size_t i = 0; i < u->procs.cap; i++) {
		struct unit_proc *p = &u->procs.v[i];
		close_pidfd(p);
		close_status(p);
		output_release(p);
		p->ready_fd = fd_close(p->ready_fd);
		if (p->cg.dirfd >= 0 || p->cg.path[0])
			cgroup_close(&p->cg, reaper_cgroup_events_fd(u->d), !p->cg_foreign);
		p->cg_foreign = false;
	}
	free(u->procs.v);
	u->procs.v = NULL;
	u->procs.n = u->procs.cap = 0;
}
