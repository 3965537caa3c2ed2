/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup v2 for process trees: each process of a service runs in its own
 * cgroup, <base>/<service>/<process>, under readyd's own cgroup
 * (base = <readyd's cgroup>/readyd.<pid>). A cgroup holds every descendant,
 * however it forked, double-forked or setsid()ed, so its `populated` flag
 * (cgroup.events, watched with inotify) says when a tree is gone and
 * cgroup.kill ends all of it at once.
 *
 * Used only where a cgroup2 hierarchy is mounted and writable; everything
 * here fails cleanly otherwise and the caller falls back to process groups
 * and the BPF fork-following tree.
 */
#ifndef READYD_CGROUP_H
#define READYD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_PATH_MAX 512

struct cgroup_base {
	char mount[CGROUP_PATH_MAX]; /* the cgroup2 mount point, "" if none */
	char path[CGROUP_PATH_MAX];  /* absolute, e.g. /sys/fs/cgroup/unified/readyd.1234 */
	int dirfd;		     /* -1: readyd does not create cgroups */
};

struct cgroup {
	char path[CGROUP_PATH_MAX]; /* absolute: mount point + cgroup path */
	size_t mount_len;	    /* path + mount_len is the cgroup path, "/readyd.1/web/web" */
	int dirfd;		    /* -1 if none */
	int wd;			    /* inotify watch on cgroup.events, -1 if none */
	uint64_t id;		    /* the kernel's cgroup id: its directory's inode number */
};

/*
 * Find the cgroup2 mount and readyd's own cgroup, create base under it, and
 * remove empty leftovers of readyd instances that no longer run. 0, or
 * -errno with *why saying what is missing ("no cgroup2 hierarchy mounted").
 */
int cgroup_base_open(struct cgroup_base *b, const char **why);
/* Remove base (empty directories only) and close it. */
void cgroup_base_close(struct cgroup_base *b);

/* Create (or reuse) base/<service>/<process>, watched through inotify_fd. */
int cgroup_create(const struct cgroup_base *b, const char *service, const char *process,
		  int inotify_fd, struct cgroup *cg);
/*
 * Open an existing cgroup to watch it: a path below the mount point, or a
 * cgroup path as /proc/PID/cgroup shows it ("/system.slice/pg.service").
 * Needs only b->mount (readyd may not be allowed to create cgroups).
 */
int cgroup_open(const struct cgroup_base *b, const char *path, int inotify_fd, struct cgroup *cg);
/* Stop watching; with `remove`, rmdir it and its service directory if empty. */
void cgroup_close(struct cgroup *cg, int inotify_fd, bool remove);

/* Move pid into the cgroup. */
int cgroup_attach(const struct cgroup *cg, pid_t pid);
/* 1 if a process lives in it (or a sub-cgroup), 0 if empty, -errno. */
int cgroup_populated(const struct cgroup *cg);
/* Up to max process ids in it (sub-cgroups included); the count, or -errno. */
int cgroup_pids(const struct cgroup *cg, pid_t *pids, size_t max);
/*
 * Send sig to every process in it, however many (cgroup.procs read whole),
 * passing again while a pass finds processes forked meanwhile (at most 16
 * passes). SIGKILL uses cgroup.kill where the kernel has it (5.14+).
 */
int cgroup_signal(const struct cgroup *cg, int sig);
/* Is pid a member of the cgroup or one below it? (reads /proc/PID/cgroup) */
bool cgroup_holds(const struct cgroup *cg, pid_t pid);
/*
 * Is id (a pidfd's cgroup id, PIDFD_GET_INFO) the cgroup's, or one's below
 * it (at most 8 levels down)? Answers for a process that has exited too.
 */
bool cgroup_has_id(const struct cgroup *cg, uint64_t id);

/*
 * Pure helpers, unit-tested: the cgroup2 mount point from a mountinfo text,
 * and the v2 path from a /proc/PID/cgroup text ("0::/a/b").
 */
int cgroup_parse_mountinfo(const char *text, char *mount, size_t size);
int cgroup_parse_proc_cgroup(const char *text, char *path, size_t size);

#endif
