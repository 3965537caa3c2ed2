/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Directories no other user can redirect, as OpenSSH's StrictModes and
 * systemd's safe path walk check them: every component from / down is a
 * real directory (opened O_PATH|O_NOFOLLOW, one openat at a time, so no
 * symlink is ever followed), owned by root or by the caller's euid, and not
 * writable by group or others unless it is root's and sticky (/tmp). A path
 * that passes can only be changed by root or by us: what readyd creates or
 * connects to under it cannot be swapped by another user later.
 */
#ifndef READYD_SAFE_PATH_H
#define READYD_SAFE_PATH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Create missing components (mode 0755) on the way, each checked like the rest. */
#define SAFE_PATH_CREATE 1u
/*
 * Only no symlink, owners and modes aside: to act in a service's own
 * directory (its marker, its socket file) exactly where the path says, not
 * where a link its user planted on the way would lead.
 */
#define SAFE_PATH_ANY_OWNER 2u

/* Room for any reason safe_path_dir() gives. */
#define SAFE_PATH_WHY_MAX 512

/*
 * Open the absolute directory `dir` (O_PATH, usable as the dirfd of the *at
 * calls): the fd, or -errno with `why` naming the component and the fix
 * ("/tmp/D is owned by uid 65534, not root: ..."). -ENOENT when a component
 * is missing (and SAFE_PATH_CREATE is not given), -ELOOP for a symlink,
 * -EPERM for a component another user controls.
 */
int safe_path_dir(const char *dir, unsigned int flags, char *why, size_t size);
/*
 * The same for the directory holding the file `path` ("/run/readyd" of
 * "/run/readyd/control.sock"); *base points at the file's name in path.
 */
int safe_path_parent(const char *path, unsigned int flags, const char **base, char *why,
		     size_t size);
/*
 * The pure rule, for one component already opened: NULL if `st` (a
 * directory) is safe for a caller whose euid is `me`, else the reason,
 * written into buf with `shown` as the component's name.
 */
const char *safe_path_unsafe(const struct stat *st, uid_t me, const char *shown, char *buf,
			     size_t size);

#endif
