// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/safe_path.h"
#include "base/util.h"

/* Where one version is written: the checked directory, the file's name and its temp name. */
struct target {
	int dirfd;
	const char *base;
	char tmp[NAME_MAX + 1];
};

/*
 * Open path's directory for one write, refusing one another user could
 * change (base/safe_path.h): the *at calls below then act in that
 * directory whatever its path comes to name. -errno with why set.
 */
static int target_open(struct target *t, const char *path, char *why, size_t size)
{
	t->dirfd = safe_path_parent(path, 0, &t->base, why, size);
	if (t->dirfd < 0)
		return t->dirfd;
	if (snprintf(t->tmp, sizeof(t->tmp), "%s.tmp", t->base) >= (int)sizeof(t->tmp)) {
		snprintf(why, size, "%s: file name too long", path);
		t->dirfd = fd_close(t->dirfd);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Create the temp file holding data; returns the open fd or -errno.
 * Whatever sits at that name is removed first and the file is created
 * O_EXCL: a planted symlink, FIFO or hard link is never opened, only
 * unlinked.
 */
static int write_tmp(const struct target *t, const char *data, size_t len)
{
	size_t done = 0;
	int fd;

	if (unlinkat(t->dirfd, t->tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(t->dirfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			close(fd);
			unlinkat(t->dirfd, t->tmp, 0);
			return err;
		}
		done += (size_t)n;
	}
	return fd;
}

/* fsync done (err 0) or failed: close, and rename or clean up; the directory is closed. */
static int finish(struct target *t, int fd, int err)
{
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(t->dirfd, t->tmp, t->dirfd, t->base) < 0)
		err = -errno;
	if (err)
		unlinkat(t->dirfd, t->tmp, 0);
	t->dirfd = fd_close(t->dirfd);
	return err;
}

/* Write a version: the fd being fsynced (the caller finishes it), or -errno with why set. */
static int begin(struct target *t, const char *path, const char *data, size_t len, char *why,
		 size_t size)
{
	int fd = target_open(t, path, why, size);

	if (fd < 0)
		return fd;
	fd = write_tmp(t, data, len);
	if (fd < 0) {
		snprintf(why, size, "%s/%s: %s", path, t->tmp, strerror(-fd));
		t->dirfd = fd_close(t->dirfd);
	}
	return fd;
}

int textfile_write(const char *path, const char *data, size_t len, char *why, size_t size)
{
	struct target t;
	int fd = begin(&t, path, data, len, why, size), err;

	if (fd < 0)
		return fd;
	err = finish(&t, fd, fsync(fd) < 0 ? -errno : 0);
	if (err)
		snprintf(why, size, "%s: %s", path, strerror(-err));
	return err;
}

/* ---- asynchronous writer ---- */

struct textfile_writer {
	char path[4096];
	struct target inflight; /* where the write in flight goes */
	aio_context_t aio;
	int efd;	 /* eventfd signalled by AIO completion; -1: synchronous */
	int inflight_fd; /* tmp file being fsynced, -1 if none */
	char *pending;	 /* next version to write */
	size_t pending_len;
	char why[SAFE_PATH_WHY_MAX + 64]; /* the last failure */
};

static long sys_io_setup(unsigned int n, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, n, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
	return syscall(SYS_io_submit, ctx, n, cbs);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev,
			     struct timespec *timeout)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, timeout);
}

int textfile_writer_new(const char *path, struct textfile_writer **out, char *why, size_t size)
{
	struct textfile_writer *w = calloc(1, sizeof(*w));
	struct target t;
	int err;

	if (!w)
		return -ENOMEM;
	if (str_copy(w->path, path, sizeof(w->path)) >= sizeof(w->path)) {
		snprintf(why, size, "path longer than %zu bytes", sizeof(w->path) - 1);
		free(w);
		return -ENAMETOOLONG;
	}
	/* A directory not there yet is said at each write (it may come); an unsafe one, now. */
	err = target_open(&t, path, why, size);
	if (err && err != -ENOENT) {
		free(w);
		return err;
	}
	fd_close(t.dirfd);
	w->inflight_fd = -1;
	w->inflight.dirfd = -1;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd >= 0 && sys_io_setup(1, &w->aio) < 0) {
		close(w->efd);
		w->efd = -1; /* no AIO here: fsync inline */
	}
	*out = w;
	return 0;
}

const char *textfile_writer_error(const struct textfile_writer *w)
{
	return w->why;
}

int textfile_writer_fd(const struct textfile_writer *w)
{
	return w->efd;
}

/* The write in flight is synced (err 0) or failed: rename it into place, or say why not. */
static int land_fd(struct textfile_writer *w, int fd, int err)
{
	err = finish(&w->inflight, fd, err);
	if (err)
		snprintf(w->why, sizeof(w->why), "%s: %s", w->path, strerror(-err));
	return err;
}

static int start(struct textfile_writer *w, const char *data, size_t len)
{
	struct iocb cb, *cbs[1] = { &cb };
	int fd = begin(&w->inflight, w->path, data, len, w->why, sizeof(w->why));

	if (fd < 0)
		return fd;
	if (w->efd < 0)
		return land_fd(w, fd, fsync(fd) < 0 ? -errno : 0);
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = (__u32)fd;
	cb.aio_lio_opcode = IOCB_CMD_FSYNC;
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (__u32)w->efd;
	if (sys_io_submit(w->aio, 1, cbs) != 1) /* e.g. a filesystem without async fsync */
		return land_fd(w, fd, fsync(fd) < 0 ? -errno : 0);
	w->inflight_fd = fd;
	return 0;
}

int textfile_writer_submit(struct textfile_writer *w, const char *data, size_t len)
{
	char *copy;

	if (w->inflight_fd < 0)
		return start(w, data, len);
	copy = malloc(len ? len : 1);
	if (!copy) {
		snprintf(w->why, sizeof(w->why), "%s: out of memory", w->path);
		return -ENOMEM;
	}
	memcpy(copy, data, len);
	free(w->pending);
	w->pending = copy;
	w->pending_len = len;
	return 0;
}

/* The write in flight finished with `res`: rename it, then start the pending version. */
static int land(struct textfile_writer *w, long res)
{
	int err = land_fd(w, w->inflight_fd, (int)res), next = 0;
	char *data = w->pending;

	w->inflight_fd = -1;
	w->pending = NULL;
	if (data) {
		next = start(w, data, w->pending_len);
		free(data);
	}
	return err ? err : next;
}

int textfile_writer_complete(struct textfile_writer *w)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev;
	uint64_t count;

	if (read(w->efd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
		snprintf(w->why, sizeof(w->why), "%s: AIO eventfd: %s", w->path, strerror(errno));
		return -errno;
	}
	if (w->inflight_fd < 0 || sys_io_getevents(w->aio, 1, 1, &ev, &zero) != 1)
		return 0;
	return land(w, ev.res);
}

int textfile_writer_flush(struct textfile_writer *w)
{
	struct io_event ev;
	int err = 0;

	while (w->inflight_fd >= 0) {
		if (sys_io_getevents(w->aio, 1, 1, &ev, NULL) != 1)
			return -errno;
		err = land(w, ev.res);
	}
	return err;
}

void textfile_writer_free(struct textfile_writer *w)
{
	if (!w)
		return;
	textfile_writer_flush(w);
	if (w->efd >= 0) {
		syscall(SYS_io_destroy, w->aio);
		close(w->efd);
	}
	free(w->pending);
	free(w);
}
