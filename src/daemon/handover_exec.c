// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Exec'ing a new readyd binary in place of this one (`readyctl reexec`,
 * SIGUSR2). The pid stays, so every service stays readyd's child: nothing
 * is reaped by anyone else meanwhile, and exits during the exec are seen
 * (with their status) by the new image. Each service's notify socket and
 * output pipes are kept open across the exec (their numbers are in the
 * state files), so nothing a service says meanwhile is lost. The kernel
 * side (BPF) is loaded anew: what happened meanwhile is read back from
 * the kernel's socket table, as after any lost events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/handover.h"
#include "daemon/handover_internal.h"
#include "daemon/unit.h"
#include "os/bpf_holder.h"
#include "os/nofile.h"
#include "os/tracer.h"
#include "base/log.h"
#include "base/util.h"

extern char **environ;

/* Mark (or unmark) close-on-exec every fd the new image keeps. */
static void keep_fds(struct daemon *d, bool keep)
{
	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *u = d->units[i];
		int fd = u->notify_fd;
		if (fd >= 0)
			fcntl(fd, F_SETFD, keep ? 0 : FD_CLOEXEC);
		for (size_t j = 0; j < u->procs.n; j++)
			if (u->procs.v[j].out.src.fd >= 0)
				fcntl(u->procs.v[j].out.src.fd, F_SETFD, keep ? 0 : FD_CLOEXEC);
	}
}

/*
 * readyd's environment for the new image, with the fd limit its services get
 * (os/nofile.h): environ itself if there is nothing to add or no memory.
 */
static char **exec_env(char *entry, size_t size)
{
	size_t n = 0, k = 0;
	char **env;

	if (!nofile_env(entry, size))
		return environ;
	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return environ;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], NOFILE_ENV "=", strlen(NOFILE_ENV) + 1) != 0)
			env[k++] = environ[i];
	env[k] = entry;
	return env;
}

void handover_on_exec(struct loop *loop, struct loop_job *job)
{
	struct daemon *d = job->data;
	struct handover *h = d->handover;
	char nofile[96], **env;
	int err, holder;

	(void)loop;
	log_info("msg=\"exec'ing a new readyd: services keep running\" binary=%s", h->exec_path);
	keep_fds(d, true);
	h->exec_fds = true;
	handover_save_all(d);
	/* The kernel's release of the tracepoints (~1 s) is the holder's wait, not the exec's. */
	holder = d->tracer && tracer_mode(d->tracer) != TRACER_POLL ? bpf_holder_for_exec() : -1;
	env = exec_env(nofile, sizeof(nofile));
	execve(h->exec_path, d->opts->argv, env);
	err = -errno;
	if (env != environ)
		free(env);
	if (holder >= 0)
		close(holder);
	h->exec_fds = false;
	keep_fds(d, false);
	handover_save_all(d);
	log_err("msg=\"exec failed: this readyd carries on\" binary=%s err=\"%s\"", h->exec_path,
		strerror(-err));
	snprintf(h->exec_error, sizeof(h->exec_error), "exec %s: %s", h->exec_path, strerror(-err));
	h->exec_failures++;
}

/* What execve would take: an ELF binary or a script (the exec failing is still handled). */
static bool looks_runnable(const char *path)
{
	char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, magic, sizeof(magic)) >= 2 &&
		  (memcmp(magic, "\177ELF", 4) == 0 || memcmp(magic, "#!", 2) == 0);

	fd_close(fd);
	return ok;
}

unsigned int handover_exec_failures(const struct daemon *d, const char **why)
{
	*why = d->handover ? d->handover->exec_error : "";
	return d->handover ? d->handover->exec_failures : 0;
}

int handover_reexec(struct daemon *d, const char *path, char *why, size_t size)
{
	struct handover *h = d->handover;
	struct stat st;

	if (!handover_on(d) || !d->opts->argv) {
		snprintf(why, size,
			 "this readyd keeps no state directory (`state = none`, or readyd exec): "
			 "its services could not be taken back");
		return -EOPNOTSUPP;
	}
	if (d->shutting_down) {
		snprintf(why, size, "readyd is shutting down");
		return -ESHUTDOWN;
	}
	if (!path || !path[0])
		path = h->exe;
	if (path[0] != '/' || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    access(path, X_OK) < 0) {
		snprintf(why, size, "%s is not an executable file (give an absolute path)", path);
		return -ENOEXEC;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(why, size, "%s must be owned by root and writable by root only", path);
		return -EPERM;
	}
	if (!looks_runnable(path)) {
		snprintf(why, size, "%s is not a program (neither ELF nor #!)", path);
		return -ENOEXEC;
	}
	str_copy(h->exec_path, path, sizeof(h->exec_path));
	loop_job_queue(d->loop, &h->exec_job);
	return 0;
}
