/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Spawning and reaping service processes. A child waits on a pipe until the
 * caller's hook has run (readyd puts the pid in the BPF watched map there),
 * so not one bind() of the new process can be missed. Failures between fork
 * and exec come back on a CLOEXEC pipe as text ("chdir /x: No such file").
 */
#ifndef READYD_SUPERVISOR_H
#define READYD_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

/* In extra_env, "KEY=" SUPERVISOR_SELF_PID becomes "KEY=<the child's pid>" before exec. */
#define SUPERVISOR_SELF_PID "@self"

struct child {
	pid_t pid;     /* also the process group id */
	int pidfd;     /* readable once the process has exited */
	int status_fd; /* readable: EOF once exec succeeded, or the failure */
};

/* How a child ended. */
struct child_exit {
	int code;   /* exit status, or -1 if a signal ended it */
	int signal; /* terminating signal, or 0 */
};

/* Called in readyd before the child may exec; in_cgroup: it was born in fds->cgroup_fd's. */
typedef int (*spawn_hook)(pid_t pid, bool in_cgroup, void *ctx);

/* What a service's fds become, besides /dev/null on stdin. */
struct spawn_fds {
	int output;   /* its stdout and stderr (-1: readyd's own) */
	int ready;    /* passed as fd ready_as: its notification fd (-1: none) */
	int ready_as; /* ready = fd:N */
	/*
	 * readyd exec: the command gets SIGTERM when readyd dies. A daemon's
	 * services outlive it instead (the next readyd takes them back) and
	 * ignore SIGPIPE, as systemd's do: a write to readyd's end of their
	 * output pipe while no readyd reads it fails with EPIPE, not death.
	 */
	bool die_with_readyd;
	int cgroup_fd; /* the cgroup to be born in (-1: readyd's; the hook may move it) */
	/*
	 * The tracer's map of watched processes (tracer_watch_map_fd, -1: none):
	 * the child enters itself under watch_kid before it execs, so that no
	 * go-ahead from the hook is needed and the child can share readyd's
	 * memory until exec (CLONE_VM | CLONE_VFORK: no page tables copied).
	 */
	int watch_map;
	uint32_t watch_kid;
};

/*
 * Start a child for `cfg` in a new process group and call hook(pid) in the
 * parent. Where the child can enter the tracer's map itself and be born in
 * its cgroup (fds->watch_map, clone3 with CLONE_INTO_CGROUP, x86_64), it
 * shares readyd's memory until it execs and the hook runs after the exec;
 * else it is forked and waits for the hook before it execs. extra_env:
 * NULL-terminated KEY=VALUE strings added after the defaults (may be NULL);
 * fds: NULL, or its output and notification fd. 0 or -errno.
 */
int supervisor_spawn(const struct process_config *cfg, char *const *extra_env,
		     const struct spawn_fds *fds, spawn_hook hook, void *ctx, struct child *out);
/*
 * Fork an exec probe with the service's user, group, working directory and
 * environment, in its own process group, stdout and stderr on a pipe
 * (*output_fd, non-blocking). A failure before exec is written to that pipe
 * too. Not watched by the tracer: a probe's sockets are not the service's.
 */
int supervisor_spawn_probe(const struct process_config *cfg, char *const *argv, struct child *out,
			   int *output_fd);
/* 0: exec succeeded; 1: the child failed before exec (why filled); -EAGAIN: not yet. */
int supervisor_exec_status(int status_fd, char *why, size_t size);
/* 0: reaped, *exit filled; -EAGAIN: still running; -errno. */
int supervisor_reap(int pidfd, struct child_exit *exit);
/* Signal a whole process group; ESRCH (already gone) is not an error. */
int supervisor_kill_group(pid_t pgid, int sig);

#endif
