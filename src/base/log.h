/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One-line logs on stderr, logfmt-style: "ts=2026-12-02T09:40:01.123Z
 * readyd: level=info ...", the time in UTC to the millisecond. Under
 * journald (JOURNAL_STREAM naming stderr's device and inode) each line
 * starts with a <N> syslog priority instead, which journald turns into the
 * entry's priority, and no ts=: journald stamps the entry.
 */
#ifndef READYD_LOG_H
#define READYD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>
#include <time.h>

void log_init(const char *ident, int max_level);
int log_level(void);
/* JOURNAL_STREAM's "DEV:INO" names this device and inode. */
bool log_journal_stream_is(const char *env, unsigned long long dev, unsigned long long ino);
/* stderr is the stream systemd connected to the journal. */
bool log_stderr_is_journal(void);
/* "ts=2026-12-02T09:40:01.123Z " (UTC), as snprintf returns. */
int log_format_ts(char *buf, size_t size, const struct timespec *t);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * s made safe inside a quoted logfmt value: \ and " escaped, control bytes
 * as \xNN. Returns buf (truncated to size).
 */
const char *log_escape(char *buf, size_t size, const char *s);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
