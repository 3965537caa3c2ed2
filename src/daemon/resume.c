// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Taking back the processes an earlier readyd started (handover.c reads
 * what it left). A process is its pid AND its start time: a pid alone may
 * have been reused while no readyd looked. Its cgroup is opened where that
 * readyd made it; its tree joins the BPF watched set again; its output pipe
 * is read again — kept across an exec of readyd, or, after a crash, opened
 * anew through /proc/PID/fd/1: a pipe opened there is the same pipe, and
 * until then the service's writes failed with EPIPE (it ignores SIGPIPE)
 * instead of killing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/procs.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "base/util.h"
#include "os/proc_parse.h"
#include "os/sock_scan.h"

#define RESUME_TREE_MAX 4096

void unit_proc_save(const struct unit_proc *p, struct proc_saved *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = p->child.pid;
	out->start_ticks = p->start_ticks;
	out->pgid = p->pgid;
	out->alive = p->main_alive && p->start_ticks;
	out->followed = p->followed;
	if (p->cg.dirfd >= 0)
		str_copy(out->cgroup, p->cg.path + p->cg.mount_len, sizeof(out->cgroup));
	out->out_ino = p->out.src.fd >= 0 ? p->out.ino : 0;
	out->out_fd = -1;
}

/*
 * The process it names, if it is still that one: a pidfd, else -errno. A
 * child of readyd's own (after an exec) may have ended meanwhile: as a
 * zombie it is still that one, and reaping it tells how it ended.
 */
static int open_same_process(const struct proc_saved *s, bool children)
{
	struct proc_stat st;
	int pidfd;

	if (!s->alive || s->pid <= 1 || !s->start_ticks)
		return -ESRCH;
	pidfd = pidfd_open(s->pid, 0);
	if (pidfd < 0)
		return -errno;
	if (proc_read_stat(s->pid, &st) < 0 || (st.state == 'Z' && !children) ||
	    st.start_ticks != s->start_ticks) {
		fd_close(pidfd);
		return -ESRCH; /* gone, or its number was reused: not the service's */
	}
	return pidfd;
}

/* From now on the kernel reports what its tree does. */
static void follow_tree(struct unit_proc *p)
{
	static pid_t pids[RESUME_TREE_MAX];
	struct daemon *d = p->u->d;
	int n;

	if (!d->tracer || tracer_mode(d->tracer) == TRACER_POLL)
		return;
	n = p->cg.dirfd >= 0 ? cgroup_pids(&p->cg, pids, ARRAY_SIZE(pids))
	    : p->main_alive  ? proc_tree(p->child.pid, pids, ARRAY_SIZE(pids))
			     : 0;
	p->u->in_kernel = true;
	for (int i = 0; i < n; i++)
		tracer_watch(d->tracer, pids[i], RD_KID(p->u->id, p->idx));
}

/* Its output again: the kept read end, else its stdout as /proc shows it. */
static void reattach_output(struct unit_proc *p, const struct proc_saved *s)
{
	char path[64];
	int fd = s->out_fd, err;

	struct stat st;

	if (!s->out_ino)
		return;
	/* A kept fd must be that pipe: otherwise the number is some other file's now. */
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_ino != s->out_ino))
		fd = -1;
	if (fd < 0 && p->main_alive) {
		snprintf(path, sizeof(path), "/proc/%d/fd/1", (int)p->child.pid);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	err = fd < 0 ? -ENOENT : output_adopt(p, fd, s->out_ino);
	if (err)
		log_info("service=%s process=%s msg=\"its output is not readyd's any more: not "
			 "logged until it restarts\" err=\"%s\"",
			 p->u->cfg->name, p->u->cfg->procs[p->idx].name, strerror(-err));
}

static void resume_proc(struct unit_proc *p, const struct proc_saved *s, bool children)
{
	struct unit *u = p->u;
	int pidfd, err;

	if (s->cgroup[0]) {
		err = cgroup_open(reaper_cgroups(u->d), s->cgroup, reaper_cgroup_events_fd(u->d),
				  &p->cg);
		if (err)
			log_warn(
				"service=%s msg=\"its cgroup is gone: following its tree without\" "
				"cgroup=%s err=\"%s\"",
				u->cfg->name, s->cgroup, strerror(-err));
	}
	p->followed = s->followed;
	p->child.pid = s->pid;
	pidfd = open_same_process(s, children);
	if (pidfd >= 0 && p->cg.dirfd >= 0 && !cgroup_holds(&p->cg, s->pid)) {
		fd_close(pidfd); /* it left the cgroup readyd made for it: not the service's */
		pidfd = -ESRCH;
	}
	if (pidfd >= 0) {
		unit_proc_watch_main(p, s->pid, pidfd);
		p->pgid = children && s->pgid == s->pid ? s->pgid : 0;
	} else if (s->pid) {
		memset(&p->exit, 0, sizeof(p->exit));
		p->exit.code = -1;
		p->exit.unknown = p->exit.away = true;
		p->resumed_gone = true;
	}
	follow_tree(p);
	reattach_output(p, s);
}

void unit_procs_resume(struct unit *u, const struct proc_saved *v, size_t n, bool children)
{
	for (size_t i = 0; i < n && i < u->procs.n; i++)
		resume_proc(&u->procs.v[i], &v[i], children);
}
