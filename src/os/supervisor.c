// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "os/nofile.h"
#include "os/vm_clone.h"

/*
 * What runs in a child between clone and exec is not instrumented: a child
 * of CLONE_VM runs on a stack ASan does not know (its no-return handling
 * warns, on the service's output), and nothing there allocates.
 */
#define CHILD_CODE __attribute__((no_sanitize("address")))

/* Its own, readyd's, and (readyd exec) up to 1024 inherited variables. */
#define ENV_MAX (CONFIG_MAX_ENV + 16 + 1024)
static char DEFAULT_PATH[] = "PATH=" CONFIG_SERVICE_PATH;

struct spawn_failure {
	int err;
	char stage[96];
};

/* Add KEY=VALUE unless KEY is there already: what is added first wins. */
static void put_env(char **env, size_t *n, char *kv)
{
	size_t len = strcspn(kv, "=");

	if (*n >= ENV_MAX)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strncmp(env[i], kv, len) == 0 && env[i][len] == '=')
			return;
	env[(*n)++] = kv;
}

/*
 * What readyd's own service manager told readyd: a service that inherits
 * readyd's environment must not ping readyd's watchdog or say READY=1 for
 * readyd (it gets its own NOTIFY_SOCKET and WATCHDOG_USEC, or none).
 */
static bool managers_own(const char *kv)
{
	static const char *const keys[] = { "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strncmp(kv, keys[i], strlen(keys[i])) == 0)
			return true;
	return false;
}

/*
 * The environment a service starts with: clean, like systemd's, unless it
 * inherits readyd's (readyd exec). Its own `environment` wins, then what
 * readyd sets (NOTIFY_SOCKET, READYD_SERVICE, ...), then the defaults.
 */
static size_t build_env(const struct process_config *cfg, char *const *extra, char **env,
			char store[][4096 + 8])
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < cfg->n_env; i++)
		put_env(env, &n, cfg->environment[i]);
	snprintf(store[k], sizeof(store[k]), "READYD_SERVICE=%s", cfg->service);
	put_env(env, &n, store[k++]);
	if (cfg->user) {
		snprintf(store[k], sizeof(store[k]), "USER=%s", cfg->user);
		put_env(env, &n, store[k++]);
		snprintf(store[k], sizeof(store[k]), "LOGNAME=%s", cfg->user);
		put_env(env, &n, store[k++]);
		snprintf(store[k], sizeof(store[k]), "HOME=%s", cfg->home ? cfg->home : "/");
		put_env(env, &n, store[k++]);
	}
	if (strcmp(cfg->name, cfg->service) != 0) { /* one process of several */
		snprintf(store[k], sizeof(store[k]), "READYD_PROCESS=%s", cfg->name);
		put_env(env, &n, store[k++]);
	}
	for (; extra && *extra; extra++)
		put_env(env, &n, *extra);
	for (char **e = environ; cfg->inherit_env && *e; e++)
		if (!managers_own(*e))
			put_env(env, &n, *e);
	put_env(env, &n, DEFAULT_PATH);
	env[n] = NULL;
	return n;
}

/* How a child is set up between fork and exec. */
struct child_setup {
	char *const *argv;
	char **env;
	int go_fd;		 /* wait for a byte here before exec; -1: don't */
	int status_fd;		 /* failures before exec are written here */
	int stdin_fd, stdout_fd; /* dup2'ed to 0 and 1 (and 2 when capture) */
	bool capture;		 /* stderr goes where stdout goes (probes, captured services) */
	bool fail_text;		 /* failures before exec as a line of text (probes) */
	int pass_fd, pass_as;	 /* this fd becomes fd pass_as across exec (-1: none) */
	bool die_with_readyd;	 /* SIGTERM when readyd dies (see spawn_fds) */
	int watch_map;		 /* enter the tracer's map under watch_kid (-1: no) */
	uint32_t watch_kid;
	pid_t parent;
	const struct rlimit *nofile; /* the fd limit it gets back; NULL: readyd's */
};

/*
 * Report why the child could not exec, and exit. Services: a binary record
 * for supervisor_exec_status(). Probes: a text line, which becomes the
 * probe's failure reason. (strerrordesc_np: no locale, no allocation.)
 */
static void CHILD_CODE __attribute__((noreturn))
child_fail(const struct child_setup *c, const char *stage, const char *arg)
{
	struct spawn_failure f = { .err = errno };
	char line[160];
	int n;

	snprintf(f.stage, sizeof(f.stage), "%s%s%s", stage, arg ? " " : "", arg ? arg : "");
	if (c->fail_text) {
		n = snprintf(line, sizeof(line), "%s: %s\n", f.stage, strerrordesc_np(f.err));
		if (write(c->status_fd, line, (size_t)n) < 0)
			_exit(126);
	} else if (write(c->status_fd, &f, sizeof(f)) < 0) {
		_exit(126);
	}
	_exit(127);
}

/* "KEY=@self" in the environment becomes the child's pid (WATCHDOG_PID). */
static void CHILD_CODE fill_self_pid(char **env, char *buf, size_t size)
{
	for (; *env; env++) {
		char *eq = strchr(*env, '=');
		if (!eq || strcmp(eq + 1, SUPERVISOR_SELF_PID) != 0)
			continue;
		snprintf(buf, size, "%.*s=%d", (int)(eq - *env), *env, (int)getpid());
		*env = buf;
		return;
	}
}

/* In the child: from fork to exec, async-signal-safe calls only. */
/* The fd the service was promised (ready = fd:N): the status pipe moves out of its way. */
static void CHILD_CODE pass_fd(struct child_setup *c)
{
	if (c->pass_fd < 0)
		return;
	if (c->status_fd == c->pass_as)
		c->status_fd = fcntl(c->status_fd, F_DUPFD_CLOEXEC, c->pass_as + 1);
	if (c->pass_fd == c->pass_as ? fcntl(c->pass_fd, F_SETFD, 0) < 0
				     : dup2(c->pass_fd, c->pass_as) < 0)
		child_fail(c, "the notification fd", NULL);
}

/* The fd limit readyd was started with: its services get it back (select() wants < 1024). */
/*
 * The child enters itself in the tracer's map of watched processes (a
 * map fd is all bpf() asks for), so that what it does after exec is seen
 * without readyd's go-ahead. The raw call: no errno of libbpf's.
 */
static void CHILD_CODE enter_watch(const struct child_setup *c)
{
	uint32_t tgid = (uint32_t)syscall(SYS_getpid), kid = c->watch_kid;
	union bpf_attr attr;

	if (c->watch_map < 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)c->watch_map;
	attr.key = (uint64_t)(uintptr_t)&tgid;
	attr.value = (uint64_t)(uintptr_t)&kid;
	attr.flags = BPF_ANY;
	if (syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr)) < 0)
		child_fail(c, "following it in the kernel (bpf)", NULL);
}

static void CHILD_CODE __attribute__((noreturn))
child_run(const struct process_config *cfg, struct child_setup *c)
{
	char self_pid[64];
	sigset_t none;
	char go;

	enter_watch(c); /* before anything it could fork */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* readyd blocks signals for its signalfd */
	if (c->nofile)
		setrlimit(RLIMIT_NOFILE, c->nofile);
	signal(SIGPIPE, c->die_with_readyd ? SIG_DFL : SIG_IGN);
	setpgid(0, 0);
	if (c->go_fd >= 0 && read(c->go_fd, &go, 1) != 1) /* readyd gave up on this child */
		_exit(127);
	if (dup2(c->stdin_fd, STDIN_FILENO) < 0 ||
	    (c->stdout_fd >= 0 && dup2(c->stdout_fd, STDOUT_FILENO) < 0) ||
	    (c->capture && dup2(c->stdout_fd, STDERR_FILENO) < 0))
		child_fail(c, "stdio", NULL);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* no fd of readyd's leaks into a service */
	pass_fd(c);
	if (cfg->working_directory && chdir(cfg->working_directory) < 0)
		child_fail(c, "chdir", cfg->working_directory);
	/*
	 * The raw calls: glibc's would signal readyd's other threads to change
	 * theirs too, and a child of clone3() has none (only a copy of their list).
	 */
	if (cfg->user && syscall(SYS_setgroups, cfg->n_groups, cfg->groups) < 0)
		child_fail(c, "setgroups for", cfg->user);
	if ((cfg->user || cfg->group) && syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0)
		child_fail(c, "setgid for", cfg->group ? cfg->group : cfg->user);
	if (cfg->user && syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0)
		child_fail(c, "setuid to", cfg->user);
	/* Set after the credential change, which clears it. */
	if (c->die_with_readyd && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != c->parent))
		_exit(127);
	fill_self_pid(c->env, self_pid, sizeof(self_pid));
	execve(c->argv[0], c->argv, c->env);
	child_fail(c, "exec", c->argv[0]);
}

/* clone3() needs 5.3, CLONE_INTO_CGROUP 5.7: fork() and the hook moves it, before. */
static bool no_clone3, no_into_cgroup;

static long clone3_with(struct clone_args *args)
{
	return syscall(SYS_clone3, args, sizeof(*args));
}

/*
 * fork(), born in the cgroup (cgroup_fd >= 0) and with its pidfd: moving a
 * process into a cgroup afterwards takes the kernel's cgroup rwsem for
 * writing (15-24 ms per start, measured, on the loop); clone3 with
 * CLONE_INTO_CGROUP places it at birth (0.27 ms). -1 with errno, 0 in the
 * child, else the pid (*pidfd set, -1 if fork() had to do).
 */
static pid_t fork_into(int cgroup_fd, int *pidfd, bool *in_cgroup)
{
	struct clone_args args = { .flags = CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)pidfd,
				   .exit_signal = SIGCHLD };
	long pid = -1;
	int err;

	*pidfd = -1;
	*in_cgroup = false;
	if (no_clone3)
		return fork();
	if (cgroup_fd >= 0 && !no_into_cgroup) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
		pid = clone3_with(&args);
		if (pid >= 0) {
			*in_cgroup = pid > 0;
			return (pid_t)pid;
		}
		/* 5.3-5.6 know no CLONE_INTO_CGROUP (EINVAL, E2BIG); else that cgroup refuses
		 * it (EBUSY, EACCES...): born in readyd's, the hook moves it and says why. */
		err = errno;
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = clone3_with(&args);
		if (pid >= 0 && (err == EINVAL || err == E2BIG))
			no_into_cgroup = true;
	} else {
		pid = clone3_with(&args);
	}
	if (pid >= 0 || (errno != ENOSYS && errno != EINVAL && errno != E2BIG))
		return (pid_t)pid;
	no_clone3 = true; /* before 5.3: fork() from now on */
	*pidfd = -1;
	return fork();
}

/* ---- sharing readyd's memory until exec ---- */

struct vm_child {
	const struct process_config *cfg;
	struct child_setup *setup;
};

/* One at a time: the parent waits for each child's exec (CLONE_VFORK). */
static char vm_stack[64 * 1024] __attribute__((aligned(64)));
static bool no_vm_clone;

static int CHILD_CODE vm_child_main(void *arg)
{
	struct vm_child *v = arg;

	child_run(v->cfg, v->setup);
}

/*
 * The child of CLONE_VM | CLONE_VFORK, born in its cgroup, enters the tracer's
 * map itself: nothing of readyd's is copied and the hook runs after the exec.
 * -1 with errno when this cannot be (the caller forks instead).
 */
static pid_t spawn_vm(const struct process_config *cfg, struct child_setup *setup, int cgroup_fd,
		      int *pidfd)
{
	struct vm_child v = { .cfg = cfg, .setup = setup };
	struct clone_args args = { .flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)pidfd,
				   .exit_signal = SIGCHLD,
				   .stack = (uint64_t)(uintptr_t)vm_stack,
				   .stack_size = sizeof(vm_stack) };
	pid_t pid;

	if (no_vm_clone || no_clone3 || (cgroup_fd >= 0 && no_into_cgroup) ||
	    !vm_clone_available()) {
		errno = ENOSYS;
		return -1;
	}
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	setup->go_fd = -1; /* nothing to wait for */
	pid = vm_clone3(&args, vm_child_main, &v);
	/* A kernel without clone3 or CLONE_INTO_CGROUP: fork() learns which, for good. */
	if (pid < 0 && (errno == ENOSYS || errno == EINVAL || errno == E2BIG))
		no_vm_clone = true;
	return pid;
}

/* The vfork-like path: the child has exec'd (or failed) when this runs. */
static int finish_vm(pid_t pid, const struct spawn_fds *fds, spawn_hook hook, void *ctx,
		     struct child *out, int status_fd)
{
	int err;

	setpgid(pid, pid); /* the child did: EACCES after its exec is fine */
	out->pid = pid;
	out->status_fd = status_fd;
	err = hook(pid, fds->cgroup_fd >= 0, ctx);
	if (err) { /* it runs already: it must not run unwatched */
		syscall(SYS_pidfd_send_signal, out->pidfd, SIGKILL, NULL, 0);
		waitpid(pid, NULL, 0);
		out->pidfd = fd_close(out->pidfd);
		out->status_fd = fd_close(out->status_fd);
		return err;
	}
	fcntl(out->status_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

int supervisor_spawn(const struct process_config *cfg, char *const *extra_env,
		     const struct spawn_fds *fds, spawn_hook hook, void *ctx, struct child *out)
{
	char *env[ENV_MAX + 1], store[5][4096 + 8];
	int go[2] = { -1, -1 }, status[2] = { -1, -1 }, devnull, err;
	struct child_setup setup;
	bool in_cgroup;
	pid_t pid;

	out->pidfd = -1;
	build_env(cfg, extra_env, env, store);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail;
	}
	setup = (struct child_setup){ .argv = cfg->argv,
				      .env = env,
				      .go_fd = go[0],
				      .status_fd = status[1],
				      .stdin_fd = devnull,
				      .stdout_fd = fds ? fds->output : -1,
				      .capture = fds && fds->output >= 0,
				      .pass_fd = fds ? fds->ready : -1,
				      .pass_as = fds ? fds->ready_as : -1,
				      .die_with_readyd = fds && fds->die_with_readyd,
				      .watch_map = fds ? fds->watch_map : -1,
				      .watch_kid = fds ? fds->watch_kid : 0,
				      .parent = getpid(),
				      .nofile = nofile_given() };
	if (fds) {
		pid = spawn_vm(cfg, &setup, fds->cgroup_fd, &out->pidfd);
		if (pid > 0) {
			err = finish_vm(pid, fds, hook, ctx, out, status[0]);
			status[0] = -1; /* out's now, or closed */
			goto fail;
		}
		setup.go_fd = go[0];
		out->pidfd = -1;
	}
	pid = fork_into(fds ? fds->cgroup_fd : -1, &out->pidfd, &in_cgroup);
	if (pid < 0) {
		err = -errno;
		goto fail;
	}
	if (pid == 0) {
		close(go[1]);
		close(status[0]);
		child_run(cfg, &setup);
	}
	setpgid(pid, pid); /* also done by the child: whoever runs first wins */
	out->pid = pid;
	if (out->pidfd < 0)
		out->pidfd = pidfd_open(pid, 0);
	out->status_fd = status[0];
	status[0] = -1;
	err = out->pidfd < 0 ? -errno : hook(pid, in_cgroup, ctx);
	if (!err && write(go[1], "g", 1) != 1)
		err = -errno;
	if (err) { /* the child never execs: it sees EOF on the go pipe and exits */
		fd_close(go[1]);
		go[1] = -1;
		waitpid(pid, NULL, 0);
		out->pidfd = fd_close(out->pidfd);
		out->status_fd = fd_close(out->status_fd);
		goto fail;
	}
	fcntl(out->status_fd, F_SETFL, O_NONBLOCK);
	err = 0;
fail:
	fd_close(go[0]);
	fd_close(go[1]);
	fd_close(status[0]);
	fd_close(status[1]);
	fd_close(devnull);
	return err;
}

int supervisor_spawn_probe(const struct process_config *cfg, char *const *argv, struct child *out,
			   int *output_fd)
{
	char *env[ENV_MAX + 1], store[5][4096 + 8];
	int outp[2] = { -1, -1 }, devnull, err = 0;
	struct child_setup setup;
	pid_t pid;

	build_env(cfg, NULL, env, store);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		err = -errno;
		goto out;
	}
	/* Failures before exec land on the output pipe: they are the probe's reason. */
	setup = (struct child_setup){ .argv = argv,
				      .env = env,
				      .go_fd = -1,
				      .watch_map = -1, /* a probe is not the service */
				      .status_fd = outp[1],
				      .stdin_fd = devnull,
				      .stdout_fd = outp[1],
				      .capture = true,
				      .fail_text = true,
				      .die_with_readyd =
					      true, /* a probe is readyd's, not the service's */
				      .pass_fd = -1,
				      .pass_as = -1,
				      .parent = getpid(),
				      .nofile = nofile_given() };
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0) {
		close(outp[0]);
		child_run(cfg, &setup);
	}
	setpgid(pid, pid);
	out->pid = pid;
	out->status_fd = -1;
	out->pidfd = pidfd_open(pid, 0);
	if (out->pidfd < 0) {
		err = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	*output_fd = outp[0];
	outp[0] = -1;
out:
	fd_close(outp[0]);
	fd_close(outp[1]);
	fd_close(devnull);
	return err;
}

int supervisor_exec_status(int status_fd, char *why, size_t size)
{
	struct spawn_failure f;
	ssize_t n = read(status_fd, &f, sizeof(f));

	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	if (n == 0)
		return 0;
	if (n != sizeof(f)) {
		snprintf(why, size, "failed before exec");
		return 1;
	}
	f.stage[sizeof(f.stage) - 1] = '\0';
	snprintf(why, size, "%s: %s", f.stage, strerror(f.err));
	return 1;
}

int supervisor_reap(int pidfd, struct child_exit *exit)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) < 0)
		return -errno;
	if (info.si_pid == 0)
		return -EAGAIN;
	memset(exit, 0, sizeof(*exit));
	if (info.si_code == CLD_EXITED) {
		exit->code = info.si_status;
	} else {
		exit->code = -1;
		exit->signal = info.si_status;
	}
	return 0;
}

int supervisor_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1)
		return -EINVAL; /* never kill(-1) or kill(0) */
	if (kill(-pgid, sig) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}
