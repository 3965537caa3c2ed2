// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct strbuf *b, size_t more)
{
	size_t want = b->len + more + 1, cap = b->cap ? b->cap : 1024;
	char *grown;

	if (b->oom)
		return false;
	if (want <= b->cap)
		return true;
	while (cap < want)
		cap *= 2;
	grown = realloc(b->data, cap);
	if (!grown) {
		b->oom = true;
		return false;
	}
	b->data = grown;
	b->cap = cap;
	return true;
}

void strbuf_append(struct strbuf *b, const char *data, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/*
 * Formatted once into the room there is, and again only when it did not
 * fit: the textfile of 1,000 services is ~100,000 of these, and measuring
 * each first doubled what rendering it cost.
 */
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (!reserve(b, 0))
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (!reserve(b, (size_t)n)) {
			b->data[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void strbuf_label_value(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		if (!reserve(b, 2))
			return;
		if (*s == '\\' || *s == '"')
			b->data[b->len++] = '\\', b->data[b->len++] = *s;
		else if (*s == '\n')
			b->data[b->len++] = '\\', b->data[b->len++] = 'n';
		else
			b->data[b->len++] = *s;
		b->data[b->len] = '\0';
	}
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

void strbuf_free(struct strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
