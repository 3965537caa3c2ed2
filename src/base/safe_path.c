// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

const char *safe_path_unsafe(const struct stat *st, uid_t me, const char *shown, char *buf,
			     size_t size)
{
	char owners[48];
	bool group = st->st_mode & S_IWGRP, others = st->st_mode & S_IWOTH;

	snprintf(owners, sizeof(owners), me ? "root or uid %u" : "root", (unsigned int)me);
	if (!S_ISDIR(st->st_mode)) {
		snprintf(buf, size, "%s is not a directory", shown);
		return buf;
	}
	if (st->st_uid != 0 && st->st_uid != me) {
		snprintf(buf, size,
			 "%s is owned by uid %u, not %s: that user could swap what is in it; "
			 "chown root %s, or use a directory only %s can write to",
			 shown, (unsigned int)st->st_uid, owners, shown, owners);
		return buf;
	}
	/* /tmp: others write in it, but only an entry's owner (or root) may rename or remove it. */
	if ((group || others) && !(st->st_uid == 0 && (st->st_mode & S_ISVTX))) {
		snprintf(buf, size,
			 "%s is writable by %s (mode %04o): chmod go-w %s, or use a directory only "
			 "%s can write to",
			 shown,
			 group && others ? "its group and others"
			 : group	 ? "its group"
					 : "others",
			 (unsigned int)(st->st_mode & 07777), shown, owners);
		return buf;
	}
	return NULL;
}

/* Why `name` under dirfd could not be opened as a directory, into why; returns -err. */
static int explain(int dirfd, const char *name, const char *shown, int err, char *why, size_t size)
{
	char target[256];
	struct stat st;
	ssize_t n;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		snprintf(why, size,
			 "%s is a symlink (to %s): write the path it stands for; a link can be "
			 "repointed",
			 shown, target);
		return -ELOOP;
	}
	if (err == ENOTDIR)
		snprintf(why, size, "%s is not a directory", shown);
	else if (err == ENOENT)
		snprintf(why, size, "%s does not exist", shown);
	else
		snprintf(why, size, "%s: %s", shown, strerror(err));
	return -err;
}

/* The next component, below the checked dirfd (created first if asked); its fd or -errno. */
static int open_component(int dirfd, const char *name, unsigned int flags, const char *shown,
			  char *why, size_t size)
{
	int fd = openat(dirfd, name, DIR_FLAGS);

	if (fd < 0 && errno == ENOENT && (flags & SAFE_PATH_CREATE)) {
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
			snprintf(why, size, "cannot create %s: %s", shown, strerror(errno));
			return -errno;
		}
		fd = openat(dirfd, name, DIR_FLAGS);
	}
	if (fd < 0)
		return explain(dirfd, name, shown, errno, why, size);
	return fd;
}

static int check(int fd, unsigned int flags, const char *shown, char *why, size_t size)
{
	struct stat st;

	if (flags & SAFE_PATH_ANY_OWNER)
		return 0; /* O_DIRECTORY|O_NOFOLLOW made it a real directory: all that is asked */
	if (fstat(fd, &st) < 0) {
		snprintf(why, size, "%s: %s", shown, strerror(errno));
		return -errno;
	}
	return safe_path_unsafe(&st, geteuid(), shown, why, size) ? -EPERM : 0;
}

/* Copy the component at *p into name, advance *p past it and append it to shown. */
static int next_name(const char **p, char *name, char *shown, size_t shown_size)
{
	size_t len, used = strlen(shown);

	while (**p == '/')
		(*p)++;
	len = strcspn(*p, "/");
	if (len > NAME_MAX || used + 1 + len >= shown_size)
		return -ENAMETOOLONG;
	memcpy(name, *p, len);
	name[len] = '\0';
	snprintf(shown + used, shown_size - used, "%s%s", used > 1 ? "/" : "", name);
	*p += len;
	return 0;
}

int safe_path_dir(const char *dir, unsigned int flags, char *why, size_t size)
{
	char name[NAME_MAX + 1], shown[PATH_MAX] = "/";
	const char *p = dir;
	int fd, next, err;

	if (dir[0] != '/') {
		snprintf(why, size, "%s is not an absolute path", dir);
		return -EINVAL;
	}
	fd = open("/", DIR_FLAGS);
	if (fd < 0) {
		snprintf(why, size, "/: %s", strerror(errno));
		return -errno;
	}
	err = check(fd, flags, shown, why, size);
	while (!err && p[strspn(p, "/")]) {
		err = next_name(&p, name, shown, sizeof(shown));
		if (err) {
			snprintf(why, size, "%s: path too long", dir);
		} else if (strcmp(name, "..") == 0) {
			snprintf(why, size, "%s: write the path without \"..\"", dir);
			err = -EINVAL;
		} else if (strcmp(name, ".") != 0) {
			next = open_component(fd, name, flags, shown, why, size);
			close(fd);
			fd = next;
			err = fd < 0 ? fd : check(fd, flags, shown, why, size);
		}
	}
	if (err) {
		fd_close(fd);
		return err;
	}
	return fd;
}

int safe_path_parent(const char *path, unsigned int flags, const char **base, char *why,
		     size_t size)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (path[0] != '/' || !slash || !slash[1]) {
		snprintf(why, size, "%s is not an absolute path to a file", path);
		return -EINVAL;
	}
	if ((size_t)(slash - path) >= sizeof(dir)) {
		snprintf(why, size, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	*base = slash + 1;
	return safe_path_dir(dir, flags, why, size);
}
