/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus textfile, re-rendered within 5 ms of a change a reader
 * cares about (transitions, listener levels, a probe flipping pass/fail)
 * and within a second when only counters moved; rewritten every 15 s even
 * when nothing did, so node_textfile_mtime_seconds stays fresh.
 */
#ifndef READYD_OUT_EXPORT_H
#define READYD_OUT_EXPORT_H

#include <stddef.h>

struct daemon;
struct unit_module;

extern const struct unit_module export_module;

/* Open the writer of the config's textfile (none: readyd exec/wait without --textfile). */
int export_open(struct daemon *d);
void export_close(struct daemon *d);
/* Render and write now; export_flush waits until it is on disk (shutdown). */
void export_now(struct daemon *d);
void export_flush(struct daemon *d);
/*
 * A reload moved the textfile: write there from now on. 0, or -errno with
 * `why` naming what is wrong with the new path (the textfile stays).
 */
int export_move(struct daemon *d, const char *path, char *why, size_t size);

#endif
