// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safe_path.h"
#include "base/util.h"

/* Root's, a directory, and no one else may add, remove or rename what is in it. */
static int check_dir(int fd, char *why, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, size, "cannot stat it");
		return -errno;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(why, size,
			 "it must be owned by root and writable by root only (chmod 700, chown "
			 "root)");
		return -EPERM;
	}
	return 0;
}

int state_dir_open(const char *path, char *why, size_t size)
{
	const char *base;
	int parent = safe_path_parent(path, SAFE_PATH_CREATE, &base, why, size), fd, err;

	if (parent < 0)
		return parent; /* a directory on the way another user could change (why says) */
	if (mkdirat(parent, base, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, size, "cannot create it");
		close(parent);
		return err;
	}
	fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	close(parent);
	if (err) {
		snprintf(why, size,
			 err == -ELOOP || err == -ENOTDIR ? "it is not a directory"
							  : "cannot open it");
		return err;
	}
	err = check_dir(fd, why, size);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int state_dir_write(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[256];
	size_t done = 0;
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (done < len && !err) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	/* No fsync: this outlives readyd, not the machine (its processes would not either). */
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err)
		unlinkat(dirfd, tmp, 0);
	return err;
}

long state_dir_read(int dirfd, const char *name, char **out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	size_t done = 0;
	char *buf;
	long err = 0;

	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != 0)
		err = -EPERM;
	else if (st.st_size > STATE_FILE_MAX)
		err = -EFBIG;
	buf = err ? NULL : malloc((size_t)st.st_size + 1);
	if (!err && !buf)
		err = -ENOMEM;
	while (!err && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* it shrank: what is there is what counts */
		done += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[done] = '\0';
	*out = buf;
	return (long)done;
}

void state_dir_remove(int dirfd, const char *name)
{
	unlinkat(dirfd, name, 0);
}
