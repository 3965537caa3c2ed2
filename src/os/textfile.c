// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int tmp_path(char *tmp, size_t size, const char *path)
{
	return snprintf(tmp, size, "%s.tmp", path) >= (int)size ? -ENAMETOOLONG : 0;
}

/*
 * Create PATH.tmp holding data; returns the open fd or -errno. Whatever sits
 * at that name is removed first and the file is created O_EXCL: a planted
 * symlink, FIFO or hard link is never opened, only unlinked.
 */
static int write_tmp(const char *tmp, const char *data, size_t len)
{
	size_t done = 0;
	int fd;

	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			close(fd);
			unlink(tmp);
			return err;
		}
		done += (size_t)n;
	}
	return fd;
}

/* fsync done (err 0) or failed: close, and rename or clean up. */
static int finish(int fd, int err, const char *tmp, const char *path)
{
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int textfile_write(const char *path, const char *data, size_t len)
{
	char tmp[4096 + 8];
	int fd, err = tmp_path(tmp, sizeof(tmp), path);

	if (err)
		return err;
	fd = write_tmp(tmp, data, len);
	if (fd < 0)
		return fd;
	return finish(fd, fsync(fd) < 0 ? -errno : 0, tmp, path);
}

/* ---- asynchronous writer ---- */

struct textfile_writer {
	char path[4096], tmp[4096 + 8];
	aio_context_t aio;
	int efd;	 /* eventfd signalled by AIO completion; -1: synchronous */
	int inflight_fd; /* tmp file being fsynced, -1 if none */
	char *pending;	 /* next version to write */
	size_t pending_len;
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

int textfile_writer_new(const char *path, struct textfile_writer **out)
{
	struct textfile_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path) ||
	    tmp_path(w->tmp, sizeof(w->tmp), path)) {
		free(w);
		return -ENAMETOOLONG;
	}
	w->inflight_fd = -1;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd >= 0 && sys_io_setup(1, &w->aio) < 0) {
		close(w->efd);
		w->efd = -1; /* no AIO here: fsync inline */
	}
	*out = w;
	return 0;
}

int textfile_writer_fd(const struct textfile_writer *w)
{
	return w->efd;
}

static int start(struct textfile_writer *w, const char *data, size_t len)
{
	struct iocb cb, *cbs[1] = { &cb };
	int fd = write_tmp(w->tmp, data, len);

	if (fd < 0)
		return fd;
	if (w->efd < 0)
		return finish(fd, fsync(fd) < 0 ? -errno : 0, w->tmp, w->path);
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = (__u32)fd;
	cb.aio_lio_opcode = IOCB_CMD_FSYNC;
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (__u32)w->efd;
	if (sys_io_submit(w->aio, 1, cbs) != 1) /* e.g. a filesystem without async fsync */
		return finish(fd, fsync(fd) < 0 ? -errno : 0, w->tmp, w->path);
	w->inflight_fd = fd;
	return 0;
}

int textfile_writer_submit(struct textfile_writer *w, const char *data, size_t len)
{
	char *copy;

	if (w->inflight_fd < 0)
		return start(w, data, len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(w->pending);
	w->pending = copy;
	w->pending_len = len;
	return 0;
}

/* The write in flight finished with `res`: rename it, then start the pending version. */
static int land(struct textfile_writer *w, long res)
{
	int err = finish(w->inflight_fd, (int)res, w->tmp, w->path), next = 0;
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

	if (read(w->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
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
