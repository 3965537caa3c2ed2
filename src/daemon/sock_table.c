// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/sock_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "daemon/daemon.h"
#include "os/proc_parse.h"
#include "os/sock_scan.h"
#include "base/clock.h"
#include "base/util.h"

#define TABLE_FRESH_NS (20 * NSEC_PER_MSEC)

struct sock_cache {
	struct sock_table table;
	uint64_t table_at;
	/* The starts' own: kernel events do not date it (a newer socket changes no verdict). */
	struct sock_table since;
	uint64_t since_at;
	uint64_t overflows, overflows_at;
};

int sock_cache_open(struct daemon *d)
{
	d->socks = calloc(1, sizeof(*d->socks));
	return d->socks ? 0 : -ENOMEM;
}

void sock_cache_close(struct daemon *d)
{
	if (!d->socks)
		return;
	sock_table_free(&d->socks->table);
	sock_table_free(&d->socks->since);
	free(d->socks);
	d->socks = NULL;
}

void daemon_sock_table_forget(struct daemon *d)
{
	d->socks->table_at = 0;
}

const struct sock_table *daemon_sock_table(struct daemon *d, uint64_t now, bool with_bound)
{
	struct sock_cache *c = d->socks;

	if (c->table_at && now - c->table_at < TABLE_FRESH_NS && (c->table.bound || !with_bound))
		return &c->table;
	sock_table_free(&c->table);
	c->table_at = 0;
	if (sock_table_load(&c->table, with_bound) < 0)
		return NULL;
	c->table_at = now;
	return &c->table;
}

const struct sock_table *daemon_sock_table_since(struct daemon *d, uint64_t since)
{
	struct sock_cache *c = d->socks;

	if (c->since_at && c->since_at >= since)
		return &c->since;
	sock_table_free(&c->since);
	c->since_at = 0;
	if (sock_table_load(&c->since, true) < 0)
		return NULL;
	c->since_at = now_mono_ns();
	return &c->since;
}

uint64_t daemon_listen_overflows(struct daemon *d, uint64_t now)
{
	static char text[16384];
	struct sock_cache *c = d->socks;
	uint64_t v;

	if (c->overflows_at && now - c->overflows_at < TABLE_FRESH_NS)
		return c->overflows;
	if (file_read_text(AT_FDCWD, "/proc/net/netstat", text, sizeof(text)) > 0 &&
	    proc_parse_netstat(text, "TcpExt", "ListenOverflows", &v) == 0)
		c->overflows = v;
	c->overflows_at = now;
	return c->overflows;
}
