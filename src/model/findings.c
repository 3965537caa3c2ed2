// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/findings.h"

#include <string.h>
#include <sys/socket.h>

bool listener_is_stream(const struct listener *l)
{
	return l->spec && l->spec->proto != LISTEN_UDP;
}

bool sock_serves(const struct listen_spec *spec, const struct sock_entry *e)
{
	if (!listen_spec_matches(spec, &e->addr))
		return false;
	return spec->proto == LISTEN_UDP || e->state == SOCK_STATE_LISTEN ||
	       e->state == SOCK_STATE_BOUND;
}

/* Same protocol and port (or path), another address: 0.0.0.0 vs 127.0.0.1, v4 vs v6. */
static bool near_miss(const struct listen_spec *spec, const struct sock_entry *e)
{
	int type = spec->proto == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (spec->proto == LISTEN_UNIX || e->addr.family == AF_UNIX || e->addr.sock_type != type)
		return false;
	return e->addr.port == spec->port && !listen_spec_matches(spec, &e->addr);
}

void sock_match(const struct listener *l, const struct sock_table *t, const struct scan *sc,
		socket_file_fn is_socket_file, struct sock_match *m)
{
	const uint32_t *idx;
	size_t first, n;

	memset(m, 0, sizeof(*m));
	m->l = l;
	for (size_t i = 0; sc && i < sc->n; i++) {
		const struct scan_sock *k = &sc->socks[i];
		if (sock_serves(l->spec, &k->e) && m->n_own < MATCH_MAX) {
			m->own[m->n_own++] = k;
			if (k->e.state == SOCK_STATE_LISTEN) {
				m->depth += k->e.rqueue;
				m->backlog = k->e.wqueue > m->backlog ? k->e.wqueue : m->backlog;
			}
		} else if (near_miss(l->spec, &k->e) && m->n_elsewhere < MATCH_MAX) {
			m->elsewhere[m->n_elsewhere++] = k;
		}
	}
	/* Only the table's sockets on its port (or path): a node of 10,000 listeners, each. */
	idx = sock_table_lookup(t, listen_spec_key(l->spec), &first, &n);
	for (size_t k = 0; k < n; k++) {
		const struct sock_entry *e = &t->v[idx ? idx[first + k] : first + k];
		if (sock_serves(l->spec, e) && !(sc && scan_find(sc, e->inode)) &&
		    m->n_foreign < MATCH_MAX)
			m->foreign[m->n_foreign++] = e;
	}
	m->stale_file = l->spec->proto == LISTEN_UNIX && !m->n_own && !m->n_foreign &&
			is_socket_file(l->spec->path);
}

uint32_t sock_match_findings(const struct sock_match *m)
{
	uint32_t f = 0;

	if (m->stale_file)
		f |= 1U << FINDING_STALE_FILE;
	if (m->n_foreign)
		f |= 1U << FINDING_FOREIGN_OWNER;
	if (!m->n_own)
		f |= 1U << FINDING_ABSENT;
	if (m->n_elsewhere && !m->n_own)
		f |= 1U << FINDING_OTHER_ADDRESS;
	return f;
}

size_t sock_undeclared(const struct listener *ls, size_t n, const struct scan *sc,
		       const struct scan_sock **out, size_t max)
{
	size_t found = 0;

	for (size_t i = 0; sc && i < sc->n && found < max; i++) {
		const struct scan_sock *k = &sc->socks[i];
		bool declared = false;
		if (k->e.state != SOCK_STATE_LISTEN)
			continue; /* bound only: a client's, as likely as a server's */
		for (size_t j = 0; j < n && !declared; j++)
			declared = listen_spec_matches(ls[j].spec, &k->e.addr) ||
				   near_miss(ls[j].spec, &k->e);
		if (!declared)
			out[found++] = k;
	}
	return found;
}
