/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable text buffer for rendering the textfile and control replies. */
#ifndef READYD_STRBUF_H
#define READYD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data; /* always NUL-terminated once anything was added */
	size_t len, cap;
	bool oom; /* an append failed: the content is incomplete */
};

/* Append len bytes of data (a copy; big bodies go faster than through printf). */
void strbuf_append(struct strbuf *b, const char *data, size_t len);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a Prometheus label value: \ " and newline escaped. */
void strbuf_label_value(struct strbuf *b, const char *s);
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif
