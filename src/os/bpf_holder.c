// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/bpf_holder.h"

#include <dirent.h> /* struct dirent64: what getdents64 returns */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"

#define HOLD_MAX_MS 30000 /* a readyd that never exits is not waited for longer */

/* The kernel's BPF objects: maps, programs, links, and the perf events links hold. */
static bool is_bpf(int dir, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);

	if (n <= 0)
		return false;
	target[n] = '\0';
	return strncmp(target, "anon_inode:bpf", 14) == 0 ||
	       strcmp(target, "anon_inode:[perf_event]") == 0;
}

static int fd_of(const char *name)
{
	int fd = 0;

	if (!*name)
		return -1;
	for (; *name; name++) {
		if (*name < '0' || *name > '9')
			return -1;
		fd = fd * 10 + (*name - '0');
	}
	return fd;
}

/*
 * In the holder, a child of a threaded process: system calls only, no malloc.
 * `until` is readable once it may go: readyd's pidfd, or a pipe an exec closes.
 */
static void __attribute__((noreturn)) hold(int until)
{
	char buf[4096];
	struct pollfd p = { .fd = until, .events = POLLIN };
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	while (dir >= 0 && (n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			const struct dirent64 *e = (const void *)(buf + off);
			int fd = fd_of(e->d_name);
			if (fd >= 0 && fd != dir && fd != until && !is_bpf(dir, e->d_name))
				close(fd);
			off += e->d_reclen;
		}
	if (dir >= 0)
		close(dir);
	poll(&p, 1, HOLD_MAX_MS); /* until readyd has let go of them */
	_exit(0);
}

void bpf_holder_start(void)
{
	int parent = pidfd_open(getpid(), 0);
	pid_t pid;

	if (parent < 0)
		return;
	pid = fork();
	if (pid == 0)
		hold(parent);
	close(parent);
	if (pid < 0)
		log_debug("msg=\"no BPF holder: this exit waits for the kernel\"");
}

int bpf_holder_for_exec(void)
{
	struct rlimit r;
	int p[2], high;
	pid_t pid;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur < 128 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* Above every fd readyd has: closed after all of them by the exec. */
	high = fcntl(p[1], F_DUPFD_CLOEXEC, (int)(r.rlim_cur > 65536 ? 65536 : r.rlim_cur) - 64);
	close(p[1]);
	if (high < 0) {
		close(p[0]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(high);
		hold(p[0]);
	}
	close(p[0]);
	if (pid < 0) {
		close(high);
		return -1;
	}
	return high;
}
