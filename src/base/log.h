/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One-line logs on stderr, logfmt-style after a level word. Under journald
 * (JOURNAL_STREAM set) each line starts with a <N> syslog priority instead,
 * which journald turns into the entry's priority.
 */
#ifndef READYD_LOG_H
#define READYD_LOG_H

#include <stddef.h>
#include <syslog.h>

void log_init(const char *ident, int max_level);
int log_level(void);
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
