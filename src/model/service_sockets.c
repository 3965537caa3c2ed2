// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What sensors see of a service's sockets, recorded on its listeners: one
 * place that knows which listener a socket serves, how a level is reached,
 * who holds an address a bind failed on, and when an accept queue stalls.
 * The cells of machine.c call these, then decide.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/machine_internal.h"
#include "base/util.h"

static struct listener *find_by_sock(struct listener *ls, size_t n, uint64_t sk)
{
	for (size_t i = 0; sk && i < n; i++)
		if (listener_has_sock(&ls[i], sk))
			return &ls[i];
	return NULL;
}

struct listener *svc_listener_for(struct svc *s, uint64_t sk, const struct sock_addr *a,
				  bool create)
{
	struct listener *l;
	char label[SOCK_ADDR_TEXT_MAX];

	if (s->n_listeners) {
		l = find_by_sock(s->listeners, s->n_listeners, sk);
		for (size_t i = 0; !l && a && i < s->n_listeners; i++)
			if (listen_spec_matches(s->listeners[i].spec, a))
				l = &s->listeners[i];
		return l;
	}
	l = find_by_sock(s->observed, s->n_observed, sk);
	if (l || !a || !create)
		return l;
	sock_addr_format(label, sizeof(label), a);
	for (size_t i = 0; i < s->n_observed; i++)
		if (strcmp(s->observed[i].label, label) == 0)
			return &s->observed[i];
	l = svc_observed_add(s);
	if (l)
		listener_init(l, NULL, label);
	return l;
}

struct listener *svc_observed_add(struct svc *s)
{
	if (s->n_listeners || s->n_observed == SVC_OBSERVED_MAX)
		return NULL;
	if (!s->observed) { /* only a service that declares no listener has some */
		s->observed = calloc(SVC_OBSERVED_MAX, sizeof(*s->observed));
		if (!s->observed)
			return NULL;
	}
	memset(&s->observed[s->n_observed], 0, sizeof(*s->observed));
	return &s->observed[s->n_observed++];
}

const struct listener_sock *svc_sock_by_ino(const struct svc *s, uint64_t ino)
{
	const struct listener *sets[2] = { s->listeners, s->observed };
	const size_t counts[2] = { s->n_listeners, s->n_observed };

	for (int k = 0; ino && k < 2; k++)
		for (size_t i = 0; i < counts[k]; i++)
			for (size_t j = 0; j < sets[k][i].n_socks; j++)
				if (sets[k][i].socks[j].ino == ino)
					return &sets[k][i].socks[j];
	return NULL;
}

/* A bind on a declared address failed: who holds it is kept once per instance. */
static struct listener *record_bind_failure(struct svc *s, const struct svc_sock *k,
					    struct svc_actions *out)
{
	struct listener *l = svc_listener_for(s, 0, k->addr, false);

	if (!l)
		return NULL;
	out->listener = l;
	if (k->bind_errno != EADDRINUSE) {
		l->bind_errno = k->bind_errno;
		return l;
	}
	if (l->bind_errno == EADDRINUSE)
		return l;
	l->bind_errno = EADDRINUSE;
	snprintf(l->conflict, sizeof(l->conflict), "port conflict: %s",
		 k->holder ? k->holder : "?");
	out->dirty = true;
	return l;
}

struct listener *record_socket(struct svc *s, const struct svc_sock *k, struct svc_actions *out)
{
	const struct sock_addr *a = k->level == LEVEL_CLOSED ? NULL : k->addr;
	struct listener *l;

	if (k->bind_errno)
		return record_bind_failure(s, k, out);
	l = svc_listener_for(s, k->sk, a, k->may_observe);
	if (!l && s->n_listeners && a && k->may_observe && !k->declared_only)
		sock_addr_format(s->undeclared, sizeof(s->undeclared), a); /* a wrong port? */
	/* Bound-only sockets make no observed listener: clients have them too. */
	if (!l || (k->declared_only && !l->spec))
		return NULL;
	out->listener = l;
	if (a && !l->has_bound) {
		l->bound = *a;
		l->has_bound = true;
	}
	if (a && a->sock_type == SOCK_DGRAM) /* UDP, unix datagram: ready once bound */
		l->connectionless = true;
	if (k->level == LEVEL_BOUND && (l->conflict[0] || l->bind_errno)) { /* this bind worked */
		l->bind_errno = 0;
		l->conflict[0] = '\0';
		out->dirty = true;
	}
	if (k->level == LEVEL_ACCEPTING && l->level != LEVEL_ACCEPTING) {
		l->pid = k->pid;
		l->via = k->via;
		str_copy(l->comm, k->comm ? k->comm : "", sizeof(l->comm));
	}
	out->level_changed = listener_note(l, k->sk, k->level, k->at);
	listener_set_ino(l, k->sk, k->ino);
	out->dirty |= out->level_changed;
	return l;
}

bool socket_lost_listener(const struct svc *s, const struct svc_sock *k,
			  const struct svc_actions *out)
{
	/*
	 * Lost only if it mattered (another observed listener may still serve),
	 * and not when its main process is exiting: the exit is the news, and
	 * must be judged as an exit (on_unhealthy = restart would otherwise turn
	 * a crash into a liveness restart).
	 */
	return out->listener && k->level == LEVEL_CLOSED && !k->main_exiting &&
	       out->listener->level == LEVEL_CLOSED && !svc_listeners_ready(s);
}

/* Drops counted by the node while this queue was full are, as best we know, its own. */
static void count_overflows(struct listener *l, uint64_t node)
{
	if (l->queue.verdict == QUEUE_FULL && l->overflow_mark && node > l->overflow_mark)
		l->queue.overflows += node - l->overflow_mark;
	l->overflow_mark = node;
}

static uint32_t queue_findings(const struct accept_queue *q)
{
	return (q->verdict == QUEUE_STALLED ? 1U << FINDING_STALLED : 0) |
	       (q->verdict == QUEUE_FULL ? 1U << FINDING_OVERFLOW : 0);
}

struct listener *record_queue(struct svc *s, const struct svc_queue *q, struct svc_actions *out)
{
	struct listener *l;
	enum queue_verdict before;
	uint32_t depth_before, findings;
	char text[sizeof(l->stall)], stall[sizeof(l->stall)];

	if (q->listener >= s->n_listeners)
		return NULL;
	l = &s->listeners[q->listener];
	out->listener = l;
	before = l->queue.verdict;
	depth_before = l->queue.depth;
	if (q->sampled) {
		accept_queue_sample(&l->queue, q->depth, q->backlog, q->at,
				    s->cfg->accept_stall_ns);
		count_overflows(l, q->node_overflows);
	} else {
		l->queue.verdict = QUEUE_OK;
		l->queue.depth = l->queue.backlog = 0;
		l->queue.waiting_since = 0;
	}
	findings = q->findings | queue_findings(&l->queue);
	out->counters = findings != l->findings || l->queue.depth != depth_before;
	l->findings = findings;
	if ((before == QUEUE_OK) == (l->queue.verdict == QUEUE_OK))
		return l;
	/* A stall began or ended: the listener is not ready meanwhile. */
	out->queue_changed = out->dirty = true;
	if (l->queue.verdict == QUEUE_OK) {
		l->stall[0] = '\0';
	} else {
		accept_queue_describe(&l->queue, q->at, text, sizeof(text));
		snprintf(stall, sizeof(stall), "listener %s: %s", l->label, text);
		str_copy(l->stall, stall, sizeof(l->stall));
	}
	return l;
}
