/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers with no better home: clocks, bounded strings, fds. */
#ifndef READYD_UTIL_H
#define READYD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A macro's value as a string literal: STR(ACCEPT_PAUSE_MS) is "250". */
#define STR_(x) #x
#define STR(x)	STR_(x)

/* Copy with truncation, always NUL-terminated; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Append to a NUL-terminated buffer with truncation. */
void str_append(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool str_starts_with(const char *s, const char *prefix);
/* Replace bytes that would break a log line or a label (quotes, controls). */
void str_sanitize(char *s);

/* Human-friendly duration: "850us", "12.3ms", "4.20s", "3m05s", "2h10m". */
void fmt_duration(char *buf, size_t size, uint64_t ns);

/* "exited with status 1", "killed by signal 9 (SIGKILL)" */
void fmt_exit_status(char *buf, size_t size, int code, int signal);

/* close() that keeps errno and accepts -1; returns -1 for `fd = fd_close(fd)`. */
int fd_close(int fd);
/*
 * Read a small file (relative to dirfd, or absolute) into buf, NUL-terminated,
 * O_NOFOLLOW: /proc and cgroup files, pid files. The length read, or -errno;
 * -EINVAL for anything but a regular file (opened O_NONBLOCK, so a FIFO
 * never waits for a writer).
 */
ssize_t file_read_text(int dirfd, const char *path, char *buf, size_t size);
/* mkdir -p with the given mode for directories it creates. */
int mkdir_parents(const char *dir, unsigned int mode);

#endif
