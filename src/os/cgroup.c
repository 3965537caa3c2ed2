// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define READ_MAX 65536
/* cgroup.procs: 4 Mi pids (the kernel's PID_MAX_LIMIT) of up to 8 bytes each. */
#define CGROUP_PROCS_MAX (32u << 20)
/* Nested cgroups followed below a process's own (the kernel allows more; readyd makes none). */
#define CGROUP_DEPTH_MAX 32
/* Passes of cgroup_signal, each catching what forked during the one before. */
#define CGROUP_SIGNAL_PASSES 16

static int write_small(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	fd_close(fd);
	return err;
}

int cgroup_parse_mountinfo(const char *text, char *mount, size_t size)
{
	/* "36 25 0:31 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char root[256], point[CGROUP_PATH_MAX], fstype[32];
		const char *dash = strstr(line, " - ");
		const char *eol = strchr(line, '\n');

		if (!dash || (eol && dash > eol))
			continue;
		if (sscanf(line, "%*s %*s %*s %255s %511s", root, point) != 2 ||
		    sscanf(dash + 3, "%31s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup2") != 0 || strcmp(root, "/") != 0)
			continue;
		if (str_copy(mount, point, size) >= size)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

int cgroup_parse_proc_cgroup(const char *text, char *path, size_t size)
{
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len;

		if (!str_starts_with(line, "0::"))
			continue;
		line += 3;
		len = strcspn(line, "\n");
		if (len + 1 > size)
			return -ENAMETOOLONG;
		memcpy(path, line, len);
		path[len] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* Remove `name` under dirfd and everything below it that is empty. */
static int remove_tree(int parentfd, const char *name)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *dir;
	struct dirent *e;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		fd_close(fd);
		return -errno;
	}
	while ((e = readdir(dir)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			remove_tree(dirfd(dir), e->d_name);
	closedir(dir);
	return unlinkat(parentfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* Leftovers of a readyd that did not exit cleanly: readyd.<pid> of a dead pid. */
static void remove_leftovers(int parentfd)
{
	int fd = dup(parentfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dir) {
		fd_close(fd);
		return;
	}
	while ((e = readdir(dir))) {
		char *end;
		long pid;

		if (!str_starts_with(e->d_name, "readyd."))
			continue;
		pid = strtol(e->d_name + 7, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (remove_tree(dirfd(dir), e->d_name) < 0)
			log_info("msg=\"a cgroup of an earlier readyd still holds processes: kept "
				 "(its services outlived it)\" cgroup=%s",
				 e->d_name);
	}
	closedir(dir);
}

int cgroup_base_open(struct cgroup_base *b, const char **why)
{
	char *text = malloc(READ_MAX), mount[CGROUP_PATH_MAX], own[CGROUP_PATH_MAX],
	     parent[CGROUP_PATH_MAX];
	int rootfd = -1, parentfd = -1, err;

	b->dirfd = -1;
	b->mount[0] = '\0';
	if (!text)
		return -ENOMEM;
	rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = rootfd < 0 ? -errno
			 : (int)file_read_text(rootfd, "proc/self/mountinfo", text, READ_MAX);
	if (err >= 0)
		err = cgroup_parse_mountinfo(text, mount, sizeof(mount));
	if (err < 0) {
		*why = "no cgroup2 hierarchy is mounted";
		goto out;
	}
	str_copy(b->mount, mount, sizeof(b->mount));
	err = (int)file_read_text(rootfd, "proc/self/cgroup", text, READ_MAX);
	if (err >= 0)
		err = cgroup_parse_proc_cgroup(text, own, sizeof(own));
	if (err < 0) {
		*why = "readyd's own cgroup2 path is unknown";
		goto out;
	}
	snprintf(parent, sizeof(parent), "%s%s", mount, strcmp(own, "/") ? own : "");
	if ((size_t)snprintf(b->path, sizeof(b->path), "%s/readyd.%d", parent, (int)getpid()) >=
	    sizeof(b->path)) {
		err = -ENAMETOOLONG;
		*why = "the cgroup path is too long";
		goto out;
	}
	parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parentfd < 0 ||
	    (mkdirat(parentfd, strrchr(b->path, '/') + 1, 0755) < 0 && errno != EEXIST)) {
		err = -errno;
		*why = "the cgroup2 hierarchy is not writable here";
		goto out;
	}
	remove_leftovers(parentfd);
	b->dirfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	err = b->dirfd < 0 ? -errno : 0;
	if (err)
		*why = "the new cgroup cannot be opened";
out:
	fd_close(parentfd);
	fd_close(rootfd);
	free(text);
	return err < 0 ? err : 0;
}

void cgroup_base_close(struct cgroup_base *b)
{
	char *slash = strrchr(b->path, '/');
	int parentfd;

	if (b->dirfd < 0)
		return;
	b->dirfd = fd_close(b->dirfd);
	*slash = '\0';
	parentfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (parentfd >= 0 && remove_tree(parentfd, slash + 1) < 0 && errno != ENOENT)
		log_warn("msg=\"cgroup not removed\" cgroup=%s err=\"%s\"", b->path,
			 strerror(errno));
	fd_close(parentfd);
}

static int cgroup_watch(struct cgroup *cg, int inotify_fd)
{
	char events[CGROUP_PATH_MAX + 16];

	struct stat st;

	cg->dirfd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (cg->dirfd < 0)
		return -errno;
	cg->id = fstat(cg->dirfd, &st) == 0 ? (uint64_t)st.st_ino : 0;
	snprintf(events, sizeof(events), "%s/cgroup.events", cg->path);
	cg->wd = inotify_fd >= 0 ? inotify_add_watch(inotify_fd, events, IN_MODIFY) : -1;
	if (inotify_fd >= 0 && cg->wd < 0) {
		int err = -errno;
		cg->dirfd = fd_close(cg->dirfd);
		return err;
	}
	return 0;
}

int cgroup_create(const struct cgroup_base *b, const char *service, const char *process,
		  int inotify_fd, struct cgroup *cg)
{
	cg->dirfd = cg->wd = -1;
	if (b->dirfd < 0)
		return -ENOTSUP;
	/* Names are [A-Za-z0-9_.-@], never "cgroup.*" interface files: checked by config.c. */
	if (mkdirat(b->dirfd, service, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s/%s/%s", b->path, service, process) >=
	    sizeof(cg->path))
		return -ENAMETOOLONG;
	cg->mount_len = strlen(b->mount);
	if (mkdir(cg->path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return cgroup_watch(cg, inotify_fd);
}

int cgroup_open(const struct cgroup_base *b, const char *path, int inotify_fd, struct cgroup *cg)
{
	size_t mount_len = strlen(b->mount);

	cg->dirfd = cg->wd = -1;
	if (!mount_len)
		return -ENOENT;
	/* Either below the mount point already, or a cgroup path ("/system.slice/x.service"). */
	if (str_starts_with(path, b->mount) && path[mount_len] == '/')
		path += mount_len;
	if (path[0] != '/' || !path[1])
		return -EINVAL;
	if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s%s", b->mount, path) >=
	    sizeof(cg->path))
		return -ENAMETOOLONG;
	cg->mount_len = mount_len;
	return cgroup_watch(cg, inotify_fd);
}

void cgroup_close(struct cgroup *cg, int inotify_fd, bool remove)
{
	if (cg->wd >= 0 && inotify_fd >= 0)
		inotify_rm_watch(inotify_fd, cg->wd);
	cg->wd = -1;
	cg->dirfd = fd_close(cg->dirfd);
	if (!remove || !cg->path[0])
		return;
	if (rmdir(cg->path) < 0 && errno != ENOENT)
		log_debug("msg=\"cgroup not removed\" cgroup=%s err=\"%s\"", cg->path,
			  strerror(errno));
	char *slash = strrchr(cg->path, '/');
	if (slash) { /* the service directory, once its last process cgroup is gone */
		*slash = '\0';
		rmdir(cg->path);
		*slash = '/';
	}
}

int cgroup_attach(const struct cgroup *cg, pid_t pid)
{
	char text[24];

	snprintf(text, sizeof(text), "%d", (int)pid);
	return cg->dirfd < 0 ? -EBADF : write_small(cg->dirfd, "cgroup.procs", text);
}

int cgroup_populated(const struct cgroup *cg)
{
	char text[256];
	const char *p;
	ssize_t n = cg->dirfd < 0 ? -EBADF
				  : file_read_text(cg->dirfd, "cgroup.events", text, sizeof(text));

	if (n < 0)
		return (int)n;
	p = strstr(text, "populated ");
	return p ? p[10] == '1' : -EINVAL;
}

/*
 * cgroup.procs, read whole into a buffer that grows: a fixed one cut the
 * list (and what was signalled) at the first 64 KiB. The kernel's own limit
 * on pids bounds it. NUL-terminated; free() it.
 */
static int read_procs(int cgfd, char **out)
{
	int fd = openat(cgfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *grown;
	ssize_t n = 0;

	if (fd < 0 || !buf) {
		int err = fd < 0 ? -errno : -ENOMEM;
		fd_close(fd);
		free(buf);
		return err;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len + 1 < cap)
			continue;
		grown = cap < CGROUP_PROCS_MAX ? realloc(buf, cap * 2) : NULL;
		if (!grown) {
			n = -1;
			errno = ENOMEM;
			break;
		}
		buf = grown;
		cap *= 2;
	}
	if (n < 0) {
		int err = -errno;
		fd_close(fd);
		free(buf);
		return err;
	}
	fd_close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/*
 * fn(pid, ctx) for each process of the cgroup at cgfd and of every cgroup
 * below it. 0; 1 once fn returned false (it has enough); -errno. A cgroup
 * removed meanwhile holds nothing.
 */
static int each_pid(int cgfd, int depth, bool (*fn)(pid_t pid, void *ctx), void *ctx)
{
	char *text = NULL;
	int fd, err = read_procs(cgfd, &text);
	DIR *dir;
	struct dirent *e;

	if (err == -ENOENT || err == -ENODEV)
		return 0;
	for (char *p = text, *end; !err && *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && !fn((pid_t)v, ctx))
			err = 1;
	}
	free(text);
	if (err || depth >= CGROUP_DEPTH_MAX)
		return err;
	fd = dup(cgfd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		fd_close(fd);
		return -errno;
	}
	while (!err && (e = readdir(dir))) {
		int sub;
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = openat(dirfd(dir), e->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub >= 0) {
			err = each_pid(sub, depth + 1, fn, ctx);
			fd_close(sub);
		}
	}
	closedir(dir);
	return err;
}

struct pid_list {
	pid_t *pids;
	size_t n, max;
};

static bool add_pid(pid_t pid, void *ctx)
{
	struct pid_list *l = ctx;

	l->pids[l->n++] = pid;
	return l->n < l->max;
}

int cgroup_pids(const struct cgroup *cg, pid_t *pids, size_t max)
{
	struct pid_list l = { .pids = pids, .max = max };
	int err;

	if (cg->dirfd < 0)
		return -EBADF;
	if (!max)
		return 0;
	err = each_pid(cg->dirfd, 0, add_pid, &l);
	return err < 0 ? err : (int)l.n;
}

/* The pids signalled so far: open addressing, grown at half full. */
struct pid_set {
	pid_t *slots; /* 0: empty */
	size_t cap, n;
	int sig;
	size_t fresh; /* signalled in this pass */
	int err;
};

static bool pid_set_insert(struct pid_set *s, pid_t pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (s->cap - 1);

	while (s->slots[i] && s->slots[i] != pid)
		i = (i + 1) & (s->cap - 1);
	if (s->slots[i])
		return false;
	s->slots[i] = pid;
	s->n++;
	return true;
}

static int pid_set_grow(struct pid_set *s)
{
	struct pid_set bigger = *s;

	bigger.cap = s->cap ? s->cap * 2 : 1024;
	bigger.n = 0;
	bigger.slots = calloc(bigger.cap, sizeof(pid_t));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			pid_set_insert(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
	return 0;
}

/* Signal pid unless an earlier pass did. */
static bool signal_once(pid_t pid, void *ctx)
{
	struct pid_set *s = ctx;

	if (2 * (s->n + 1) > s->cap && (s->err = pid_set_grow(s)) < 0)
		return false;
	if (pid_set_insert(s, pid)) {
		kill(pid, s->sig);
		s->fresh++;
	}
	return true;
}

int cgroup_signal(const struct cgroup *cg, int sig)
{
	struct pid_set s = { .sig = sig };
	int err = 0;

	if (cg->dirfd < 0)
		return -EBADF;
	if (sig == SIGKILL && write_small(cg->dirfd, "cgroup.kill", "1") == 0)
		return 0; /* the kernel kills them all, forks racing it included */
	/*
	 * A process may fork while a pass runs: pass again until one finds
	 * no process it has not signalled. Bounded, so that a tree forking
	 * faster than this cannot hold the loop: SIGKILL (cgroup.kill) ends
	 * whatever is left at stop_timeout.
	 */
	for (int pass = 0; pass < CGROUP_SIGNAL_PASSES && !err; pass++) {
		s.fresh = 0;
		err = each_pid(cg->dirfd, 0, signal_once, &s);
		err = s.err ? s.err : err < 0 ? err : 0;
		if (!s.fresh)
			break;
	}
	free(s.slots);
	return err;
}

bool cgroup_holds(const struct cgroup *cg, pid_t pid)
{
	char file[64], text[1024], own[CGROUP_PATH_MAX];
	const char *want = cg->path + cg->mount_len; /* "/readyd.1/web/web" */
	size_t len = strlen(want);
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	fd_close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	if (cgroup_parse_proc_cgroup(text, own, sizeof(own)) < 0)
		return false;
	return len > 1 && strncmp(own, want, len) == 0 && (own[len] == '\0' || own[len] == '/');
}

/* A sub-cgroup of dirfd, at most depth levels down, whose inode is id. */
static bool below_has_id(int dirfd, uint64_t id, int depth)
{
	bool found = false;
	struct dirent *e;
	DIR *dir;
	int fd;

	if (depth <= 0)
		return false;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		fd_close(fd);
		return false;
	}
	while (!found && (e = readdir(dir))) {
		int sub;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue; /* interface files; "." and ".." */
		if ((uint64_t)e->d_ino == id)
			found = true;
		else if ((sub = openat(dirfd, e->d_name,
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			found = below_has_id(sub, id, depth - 1);
			close(sub);
		}
	}
	closedir(dir);
	return found;
}

bool cgroup_has_id(const struct cgroup *cg, uint64_t id)
{
	if (cg->dirfd < 0 || !id)
		return false;
	return id == cg->id || below_has_id(cg->dirfd, id, 8);
}
