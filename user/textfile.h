/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_TEXTFILE_H
#define READYD_TEXTFILE_H

#include <stddef.h>

/*
 * Replace `path` atomically with `data`: write PATH.tmp (O_NOFOLLOW, so a
 * planted symlink is refused), fsync, rename over PATH. Readers see the old
 * file or the new one, never a part. node_exporter ignores the .tmp name.
 * Returns 0 or -errno.
 */
int textfile_write(const char *path, const char *data, size_t len);

#endif
