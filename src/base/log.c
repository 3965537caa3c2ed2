// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_ident = "readyd";
static int log_max = LOG_INFO;
static bool log_journal;

void log_init(const char *ident, int max_level)
{
	log_ident = ident;
	log_max = max_level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
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
	va_list ap;
	int n;

	if (level > log_max)
		return;
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", level);
	else
		n = snprintf(line, sizeof(line), "%s: ", log_ident);
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
