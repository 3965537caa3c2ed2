/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus textfile, replaced atomically: write a fresh PATH.tmp
 * (whatever was at that name is unlinked, the file created O_EXCL, so no
 * planted symlink, FIFO or hard link is ever written through), fsync, rename
 * over PATH. Readers see the old file or the new one, never a part;
 * node_exporter ignores the .tmp name. Each write first checks PATH's
 * directory (base/safe_path.h: no symlink, nothing another user can
 * change, from / down) and then acts only through that directory's fd.
 */
#ifndef READYD_TEXTFILE_H
#define READYD_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Synchronous replace. Returns 0 or -errno with `why` saying what failed. */
int textfile_write(const char *path, const char *data, size_t len, char *why, size_t size);

/*
 * The same without blocking the event loop. Under I/O load fsync took
 * 6-21 ms here, during which no kernel event was read; the fsync now runs as
 * Linux AIO (IOCB_CMD_FSYNC, done by a kernel worker) and completes on an
 * eventfd the loop watches. One write is in flight at a time; data
 * submitted meanwhile replaces any older pending version.
 */
struct textfile_writer;

/*
 * Falls back to synchronous fsync (fd -1) where AIO is unavailable. Refuses
 * (-errno, `why` naming the component and the fix) a directory another user
 * could change; one that does not exist yet is reported by each write.
 */
int textfile_writer_new(const char *path, struct textfile_writer **out, char *why, size_t size);
/* What the last failed call failed on: the path and the reason. */
const char *textfile_writer_error(const struct textfile_writer *w);
void textfile_writer_free(struct textfile_writer *w);
/* eventfd to watch for EPOLLIN, or -1 in synchronous mode. */
int textfile_writer_fd(const struct textfile_writer *w);
/* Start replacing the file with data (copied), or queue it behind the write in flight. */
int textfile_writer_submit(struct textfile_writer *w, const char *data, size_t len);
/* The eventfd fired: finish the write in flight (rename), start a queued one. */
int textfile_writer_complete(struct textfile_writer *w);
/* Block until everything submitted is on disk (shutdown). */
int textfile_writer_flush(struct textfile_writer *w);

#endif
