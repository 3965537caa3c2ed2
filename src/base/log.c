// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "readyd";
static int log_max = LOG_INFO;
static bool log_journal;

void log_init(const char *ident, int max_level)
{
	log_ident = ident;
	log_max = max_level;
	log_journal = log_stderr_is_journal();
}

bool log_journal_stream_is(const char *env, unsigned long long dev, unsigned long long ino)
{
	unsigned long long d, i;
	int end = 0;

	if (!env || sscanf(env, "%llu:%llu%n", &d, &i, &end) != 2 || env[end])
		return false;
	return d == dev && i == ino;
}

/*
 * systemd sets JOURNAL_STREAM for the stream it gave as stderr; a child
 * whose stderr was redirected (readyd 2>file under a unit) inherits the
 * variable, but not the stream: only the same device and inode count.
 */
bool log_stderr_is_journal(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return log_journal_stream_is(getenv("JOURNAL_STREAM"), (unsigned long long)st.st_dev,
				     (unsigned long long)st.st_ino);
}

int log_format_ts(char *buf, size_t size, const struct timespec *t)
{
	struct tm tm;
	char day[32];

	if (!gmtime_r(&t->tv_sec, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm))
		return snprintf(buf, size, "ts=? ");
	return snprintf(buf, size, "ts=%s.%03ldZ ", day, t->tv_nsec / 1000000);
}

int log_level(void)
{
	return log_max;
}

static const char *level_word(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warn";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(int level, const char *fmt, ...)
{
	char line[1024];
	struct timespec now;
	va_list ap;
	int n;

	if (level > log_max)
		return;
	/* journald stamps each line itself; elsewhere the line carries its time (UTC) */
	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>", level);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		n = log_format_ts(line, sizeof(line), &now);
		n += snprintf(line + n, sizeof(line) - n, "%s: ", log_ident);
	}
	n += snprintf(line + n, sizeof(line) - n, "level=%s ", level_word(level));
	va_start(ap, fmt);
	if (n < (int)sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from readyd and its children never interleave. */
	n = strlen(line);
	if (n == sizeof(line) - 1)
		line[n - 1] = '\n';
	else
		line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere left to report it */
}

const char *log_escape(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	return buf;
}
