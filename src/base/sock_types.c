// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/sock_types.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Back to no index: lookups walk the table. */
static void unindex(struct sock_table *t)
{
	free(t->by_key);
	free(t->keys);
	free(t->by_inode);
	t->by_key = t->by_inode = NULL;
	t->keys = NULL;
}

void sock_table_free(struct sock_table *t)
{
	free(t->v);
	unindex(t);
	memset(t, 0, sizeof(*t));
}

uint64_t sock_path_key(const char *path)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 1099511628211ULL;
	return h | (1ULL << 63); /* never a port */
}

uint64_t sock_addr_key(const struct sock_addr *a)
{
	return a->family == AF_UNIX ? sock_path_key(a->path) : a->port;
}

/* Index i's key, for sorting: keys[] is filled (by v's order) before the sort. */
static int by_key(const void *a, const void *b, void *keys)
{
	uint64_t ka = ((const uint64_t *)keys)[*(const uint32_t *)a];
	uint64_t kb = ((const uint64_t *)keys)[*(const uint32_t *)b];

	return ka < kb ? -1 : ka > kb;
}

static int by_inode(const void *a, const void *b, void *table)
{
	const struct sock_entry *v = ((const struct sock_table *)table)->v;
	uint32_t ia = v[*(const uint32_t *)a].inode, ib = v[*(const uint32_t *)b].inode;

	return ia < ib ? -1 : ia > ib;
}

int sock_table_index(struct sock_table *t)
{
	size_t size = t->n ? t->n : 1;
	uint64_t *raw = malloc(size * sizeof(*raw)); /* keys in v's order */

	unindex(t);
	t->by_key = malloc(size * sizeof(*t->by_key));
	t->keys = malloc(size * sizeof(*t->keys));
	t->by_inode = malloc(size * sizeof(*t->by_inode));
	if (!raw || !t->by_key || !t->keys || !t->by_inode) {
		free(raw);
		unindex(t);
		return -ENOMEM;
	}
	/* Each key computed once (a unix path is hashed), then put in by_key's order. */
	for (size_t i = 0; i < t->n; i++) {
		t->by_key[i] = t->by_inode[i] = (uint32_t)i;
		raw[i] = sock_addr_key(&t->v[i].addr);
	}
	qsort_r(t->by_key, t->n, sizeof(*t->by_key), by_key, raw);
	qsort_r(t->by_inode, t->n, sizeof(*t->by_inode), by_inode, t);
	for (size_t i = 0; i < t->n; i++)
		t->keys[i] = raw[t->by_key[i]];
	free(raw);
	return 0;
}

const uint32_t *sock_table_lookup(const struct sock_table *t, uint64_t key, size_t *first,
				  size_t *n)
{
	size_t lo = 0, hi = t->n;

	if (!t->by_key) {
		*first = 0;
		*n = t->n;
		return NULL;
	}
	while (lo < hi) { /* the first key >= key */
		size_t mid = lo + (hi - lo) / 2;
		if (t->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo; hi < t->n && t->keys[hi] == key; hi++)
		;
	*n = hi - lo;
	return t->by_key;
}

int scan_add(struct scan *s, const struct scan_sock *k)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct scan_sock *g = realloc(s->socks, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		s->socks = g;
		s->cap = cap;
	}
	s->socks[s->n++] = *k;
	return 0;
}

void scan_free(struct scan *s)
{
	free(s->socks);
	memset(s, 0, sizeof(*s));
}

const struct scan_sock *scan_find(const struct scan *s, uint64_t ino)
{
	for (size_t i = 0; ino && i < s->n; i++)
		if (s->socks[i].e.inode == ino)
			return &s->socks[i];
	return NULL;
}

void sock_addr_format(char *buf, unsigned long size, const struct sock_addr *a)
{
	const char *proto = a->sock_type == SOCK_DGRAM ? "udp" : "tcp";
	char host[INET6_ADDRSTRLEN];

	switch (a->family) {
	case AF_INET:
		inet_ntop(AF_INET, a->addr, host, sizeof(host));
		snprintf(buf, size, "%s:%s:%u", proto, host, a->port);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, a->addr, host, sizeof(host));
		snprintf(buf, size, "%s:[%s]:%u", proto, host, a->port);
		break;
	case AF_UNIX:
		snprintf(buf, size, "unix:%s", a->path[0] ? a->path : "(unnamed)");
		break;
	default:
		snprintf(buf, size, "family%d:%u", a->family, a->port);
	}
}

const struct sock_entry *sock_table_inode(const struct sock_table *t, uint64_t ino)
{
	size_t lo = 0, hi = t->n;

	if (!t->by_inode) {
		for (size_t i = 0; i < t->n; i++)
			if (t->v[i].inode == ino)
				return &t->v[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sock_entry *e = &t->v[t->by_inode[mid]];
		if (e->inode == ino)
			return e;
		if (e->inode < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
