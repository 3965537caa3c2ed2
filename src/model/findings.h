/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A declared listener against the node's sockets: which of them are the
 * service's and serve it, who else holds its address, which of the
 * service's are bound elsewhere than declared, and whether a unix socket
 * file is left with nobody listening. Pure but for the one question a
 * socket table cannot answer (is that path a socket file?), which the
 * caller answers.
 */
#ifndef READYD_FINDINGS_H
#define READYD_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sock_types.h"
#include "model/listener.h"

#define MATCH_MAX 8

struct sock_match {
	const struct listener *l;
	const struct scan_sock *own[MATCH_MAX]; /* the service's sockets that serve it */
	size_t n_own;
	const struct sock_entry *foreign[MATCH_MAX]; /* others' sockets on its address */
	size_t n_foreign;
	const struct scan_sock *elsewhere[MATCH_MAX]; /* the service's, same port, other address */
	size_t n_elsewhere;
	uint32_t depth, backlog; /* of its own listening sockets: summed, and the largest */
	bool stale_file;
};

/* Is this path a socket file (never following a symlink)? */
typedef bool (*socket_file_fn)(const char *path);

/*
 * Match a declared listener (l->spec set) against the node's table and the
 * sockets the service holds (sc; NULL: it runs nothing, every holder is
 * foreign).
 */
void sock_match(const struct listener *l, const struct sock_table *t, const struct scan *sc,
		socket_file_fn is_socket_file, struct sock_match *m);
/* Does socket e serve spec: a listener there, or bound there for connectionless ones? */
bool sock_serves(const struct listen_spec *spec, const struct sock_entry *e);
/* 1 << enum sock_finding for what the match alone shows (absent: none of it is the service's). */
uint32_t sock_match_findings(const struct sock_match *m);
/*
 * The sockets of sc listening where no declared listener of ls[0..n) is,
 * not even at another address of its port (that is sock_match's
 * elsewhere): a service declared on one port that listens on another.
 * Up to max in out; returns how many.
 */
size_t sock_undeclared(const struct listener *ls, size_t n, const struct scan *sc,
		       const struct scan_sock **out, size_t max);
/* A stream listener (TCP, unix stream) whose accept queue can be watched. */
bool listener_is_stream(const struct listener *l);

#endif
