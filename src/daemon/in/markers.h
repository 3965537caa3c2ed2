/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The `.ready` marker contract (ready = file:/path): before each spawn a
 * stale marker is removed (not for a [watch]: that file is not readyd's);
 * the file appearing means ready, disappearing means not ready. One inotify
 * fd watches the markers' directories; any event there re-checks the
 * markers (a few stat() calls). A directory that does not exist yet is
 * polled once a second until it does.
 */
#ifndef READYD_IN_MARKERS_H
#define READYD_IN_MARKERS_H

struct daemon;
struct unit_module;

extern const struct unit_module markers_module;

int markers_open(struct daemon *d);
void markers_close(struct daemon *d);

#endif
