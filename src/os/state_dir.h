/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A directory only root may change, holding small files replaced whole:
 * what readyd leaves for the next readyd (daemon/handover.c). What is read
 * from it decides which processes readyd signals, so it is trusted only as
 * far as the kernel vouches for it: the directory is readyd's own (made
 * 0700 by root, not a symlink, writable by nobody else), and each file is a
 * regular file owned by root, read O_NOFOLLOW|O_NONBLOCK up to a size limit.
 */
#ifndef READYD_STATE_DIR_H
#define READYD_STATE_DIR_H

#include <stddef.h>

#define STATE_FILE_MAX (4 << 20) /* one file: a config (1 MiB) and some JSON around it */

/*
 * Open (making it, 0700) the directory at path, every directory above it
 * one no other user can change (base/safe_path.h; missing ones are made):
 * its fd, or -errno with why filled.
 */
int state_dir_open(const char *path, char *why, size_t size);
/* Replace name in dir with data: name.tmp written, then renamed over it. 0 or -errno. */
int state_dir_write(int dirfd, const char *name, const char *data, size_t len);
/* name's whole text, NUL-terminated, malloc'd into *out: its length, or -errno. */
long state_dir_read(int dirfd, const char *name, char **out);
/* Remove name (absent is fine). */
void state_dir_remove(int dirfd, const char *name);

#endif
