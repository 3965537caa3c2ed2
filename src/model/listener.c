// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/listener.h"

#include <string.h>

#include "base/util.h"

static const char *const level_names[LEVEL_COUNT] = {
	[LEVEL_ABSENT] = "absent",	 [LEVEL_BOUND] = "bound",   [LEVEL_LISTENING] = "listening",
	[LEVEL_ACCEPTING] = "accepting", [LEVEL_CLOSED] = "closed",
};

const char *level_name(enum level level)
{
	return level < LEVEL_COUNT ? level_names[level] : "?";
}

void listener_init(struct listener *l, const struct listen_spec *spec, const char *label)
{
	memset(l, 0, sizeof(*l));
	l->spec = spec;
	str_copy(l->label, label, sizeof(l->label));
	l->connectionless = spec && spec->proto == LISTEN_UDP;
}

const char *sock_finding_name(enum sock_finding f)
{
	static const char *const names[FINDING_COUNT] = {
		[FINDING_STALE_FILE] = "stale_unix_socket",
		[FINDING_FOREIGN_OWNER] = "foreign_owner",
		[FINDING_ABSENT] = "absent",
		[FINDING_OTHER_ADDRESS] = "different_address",
		[FINDING_STALLED] = "stalled_acceptor",
		[FINDING_OVERFLOW] = "queue_overflow",
	};
	return f < FINDING_COUNT ? names[f] : "?";
}

void listener_reset(struct listener *l)
{
	const struct listen_spec *spec = l->spec;
	char label[sizeof(l->label)];

	uint64_t overflows = l->queue.overflows; /* a counter: it outlives instances */

	str_copy(label, l->label, sizeof(label));
	listener_init(l, spec, label);
	l->queue.overflows = overflows;
}

static struct listener_sock *find_sock(struct listener *l, uint64_t sk)
{
	for (size_t i = 0; i < l->n_socks; i++)
		if (l->socks[i].sk == sk)
			return &l->socks[i];
	return NULL;
}

bool listener_has_sock(const struct listener *l, uint64_t sk)
{
	const struct listener_sock *s = find_sock((struct listener *)l, sk);

	return s && s->level != LEVEL_CLOSED; /* a closed one's address may serve anyone next */
}

void listener_set_ino(struct listener *l, uint64_t sk, uint64_t ino)
{
	struct listener_sock *s = find_sock(l, sk);

	if (s && ino)
		s->ino = ino;
}

static struct listener_sock *add_sock(struct listener *l, uint64_t sk)
{
	struct listener_sock *s = NULL;

	if (l->n_socks < LISTENER_MAX_SOCKS) {
		s = &l->socks[l->n_socks++];
	} else {
		for (size_t i = 0; i < l->n_socks && !s; i++) /* reuse a closed slot */
			if (l->socks[i].level == LEVEL_CLOSED)
				s = &l->socks[i];
		if (!s)
			return NULL;
	}
	s->sk = sk;
	s->ino = 0;
	s->level = LEVEL_ABSENT;
	return s;
}

/* Highest level among live sockets; closed once every socket is closed. */
static enum level aggregate(const struct listener *l)
{
	enum level best = LEVEL_ABSENT;
	bool any_closed = false;

	for (size_t i = 0; i < l->n_socks; i++) {
		if (l->socks[i].level == LEVEL_CLOSED)
			any_closed = true;
		else if (l->socks[i].level > best)
			best = l->socks[i].level;
	}
	return best == LEVEL_ABSENT && any_closed ? LEVEL_CLOSED : best;
}

bool listener_note(struct listener *l, uint64_t sk, enum level level, uint64_t now)
{
	struct listener_sock *s = find_sock(l, sk);
	enum level before = l->level;

	if (!s) {
		if (level == LEVEL_CLOSED)
			return false; /* never knew it */
		s = add_sock(l, sk);
		if (!s)
			return false;
	} else if (s->level == LEVEL_CLOSED && level != LEVEL_CLOSED) {
		/* The kernel reused a closed socket's address for a new socket. */
		s->level = LEVEL_ABSENT;
		s->ino = 0;
	}
	if (level == LEVEL_CLOSED || level > s->level)
		s->level = level;
	l->level = aggregate(l);
	/* Reaching a level implies the ones below it: keep the phases monotone. */
	for (int i = LEVEL_BOUND; i <= LEVEL_ACCEPTING && l->level != LEVEL_CLOSED; i++)
		if (i <= (int)l->level && !l->at[i])
			l->at[i] = now;
	if (l->level == LEVEL_CLOSED && !l->at[LEVEL_CLOSED])
		l->at[LEVEL_CLOSED] = now;
	if (l->level != LEVEL_CLOSED)
		l->at[LEVEL_CLOSED] = 0;
	return l->level != before;
}

bool listener_ready(const struct listener *l)
{
	if (l->connectionless)
		return l->level >= LEVEL_BOUND && l->level != LEVEL_CLOSED;
	return l->level == LEVEL_ACCEPTING && !l->stall[0];
}
