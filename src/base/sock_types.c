// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/sock_types.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void sock_table_free(struct sock_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
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
