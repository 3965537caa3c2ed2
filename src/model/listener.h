/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Readiness level of one declared listener, aggregated over the sockets
 * that satisfy it (SO_REUSEPORT servers open one per worker).
 * absent -> bound -> listening -> accepting, and closed once every socket
 * that served it is gone. Pure: no I/O, time passed in.
 */
#ifndef READYD_LISTENER_H
#define READYD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/accept_queue.h"
#include "config/listen_spec.h"

#define LISTENER_MAX_SOCKS 16

enum level {
	LEVEL_ABSENT,
	LEVEL_BOUND,
	LEVEL_LISTENING,
	LEVEL_ACCEPTING,
	LEVEL_CLOSED,
	LEVEL_COUNT
};

/* How the kernel showed a listener being waited on: the values of rd_accept_via (readyd_event.h).
 */
enum accept_via { VIA_UNKNOWN, VIA_ACCEPT, VIA_EPOLL, VIA_POLL, VIA_SELECT, VIA_FENTRY };

struct listener_sock {
	uint64_t sk;  /* kernel identity */
	uint64_t ino; /* socket inode (sock_diag's name for it), 0 if unknown */
	enum level level;
};

struct listener {
	const struct listen_spec *spec; /* NULL: observed, not declared */
	char label[SOCK_ADDR_TEXT_MAX]; /* spec text, or the observed address */
	enum level level;
	uint64_t at[LEVEL_COUNT]; /* first time each level was reached (0: never) */
	bool connectionless;	  /* UDP / unix datagram: ready once bound */
	struct sock_addr bound;	  /* address the kernel reported (first socket) */
	bool has_bound;
	struct listener_sock socks[LISTENER_MAX_SOCKS];
	size_t n_socks;
	/* Who showed it accepting, and how. */
	pid_t pid;
	char comm[16];
	unsigned int via; /* enum accept_via */
	/* Last failed bind for this address: errno and who holds it. */
	int bind_errno;
	char conflict[160];
	/* Non-empty while its accept queue is stalled or overflowing: not ready. */
	char stall[160];
	struct accept_queue queue; /* sampled while it runs (daemon_sockets.c) */
	uint32_t findings;	   /* 1 << enum sock_finding, from the last check */
	uint64_t overflow_mark;	   /* the node's ListenOverflows at the last sample */
};

/* What readyd can tell an operator about a declared listener's sockets (daemon_sockets.c). */
enum sock_finding {
	FINDING_STALE_FILE,    /* a unix socket file nothing listens on */
	FINDING_FOREIGN_OWNER, /* the address is held by a process outside the service */
	FINDING_ABSENT,	       /* the service runs, the socket is not there */
	FINDING_OTHER_ADDRESS, /* bound, but not where it was declared */
	FINDING_STALLED,       /* connections wait, none is accepted */
	FINDING_OVERFLOW,      /* the accept queue is full: connections are dropped */
	FINDING_COUNT
};
/* "stale_unix_socket", "foreign_owner", ... (the metric's kind label) */
const char *sock_finding_name(enum sock_finding f);

void listener_init(struct listener *l, const struct listen_spec *spec, const char *label);
/* Forget the previous instance's sockets and times; keeps spec and label. */
void listener_reset(struct listener *l);
/*
 * Socket sk (of this listener) reached `level` at `now`. Levels of a socket
 * only rise, except to LEVEL_CLOSED. Returns true when the listener's own
 * level changed.
 */
bool listener_note(struct listener *l, uint64_t sk, enum level level, uint64_t now);
/* Does a live (not closed) socket of this listener have address sk? */
bool listener_has_sock(const struct listener *l, uint64_t sk);
/* Remember the inode of socket sk (known once the kernel reported it). */
void listener_set_ino(struct listener *l, uint64_t sk, uint64_t ino);
/* Accepting, or bound for connectionless sockets. */
bool listener_ready(const struct listener *l);
const char *level_name(enum level level);

#endif
