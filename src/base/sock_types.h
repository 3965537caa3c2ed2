/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The vocabulary of sockets: what the kernel reports about one (an address,
 * a state, an inode, its queues), a table of them, and which of them a set
 * of processes holds. Plain data with no readyd concept: the os layer fills
 * it (sock_diag, /proc), the model judges it against declared listeners.
 */
#ifndef READYD_SOCK_TYPES_H
#define READYD_SOCK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SOCK_ADDR_TEXT_MAX 128

/* An address as the kernel reported it (see struct rd_event). */
struct sock_addr {
	int family;
	int sock_type; /* SOCK_STREAM, SOCK_DGRAM, ... or 0 if unknown */
	uint8_t addr[16];
	uint16_t port;
	char path[108];
};

#define SOCK_STATE_LISTEN 10 /* TCP_LISTEN; unix listeners use it too */
/* TCP_BOUND_INACTIVE: bound, neither listening nor connected (dumped since Linux 6.8). */
#define SOCK_STATE_BOUND 13

struct sock_entry {
	struct sock_addr addr; /* local address (family, type, port/path) */
	int state;	       /* TCP state number */
	uint32_t inode;
	uint32_t rqueue, wqueue; /* listeners: accept queue length and backlog */
};

/* A socket of the table that a process of some set holds (os/sock_scan.c finds them). */
struct scan_sock {
	struct sock_entry e; /* address, state, inode, queues */
	pid_t pid;	     /* a process of the set holding it */
	int fd;		     /* its fd there */
	char comm[16];
	bool accepting;
	unsigned int via; /* enum rd_accept_via, when accepting */
	pid_t accept_pid; /* who waits on it */
};

/* The sockets a set of processes holds. */
struct scan {
	struct scan_sock *socks;
	size_t n, cap;
	size_t n_procs; /* processes looked at */
};

/*
 * The node's listening TCP (v4, v6) and UNIX sockets and its UDP sockets,
 * from sock_diag: loaded once, then matched against any number of process
 * sets (poll mode scans every service from one load).
 */
struct sock_table {
	struct sock_entry *v;
	size_t n, cap;
	bool bound; /* also TCP sockets bound but not listening (TCP_BOUND_INACTIVE) */
	/* v's indices by sock_addr_key (sock_table_index): a service asks about its ports only. */
	uint32_t *by_key;
	uint64_t *keys;	    /* the key of each by_key entry, ascending */
	uint32_t *by_inode; /* v's indices by inode, ascending */
};

void sock_table_free(struct sock_table *t);
/*
 * The key two addresses that may match share: the port (TCP and UDP, any
 * address, v4 or v6), or a hash of the path (unix).
 */
uint64_t sock_addr_key(const struct sock_addr *a);
uint64_t sock_path_key(const char *path);
/* Index the table by key: 0, or -ENOMEM (lookups then walk it whole). */
int sock_table_index(struct sock_table *t);
/*
 * The entries that may have this key: *n of them from *first, in by_key
 * order (all of v when the table has no index). Returns by_key or NULL (then
 * the i-th is v[*first + i]).
 */
const uint32_t *sock_table_lookup(const struct sock_table *t, uint64_t key, size_t *first,
				  size_t *n);
/* The entry with that inode, or NULL (also without an index: then it is looked for). */
const struct sock_entry *sock_table_inode(const struct sock_table *t, uint64_t ino);
/* Append k to s: 0 or -ENOMEM. */
int scan_add(struct scan *s, const struct scan_sock *k);
void scan_free(struct scan *s);
/* The socket with that inode, or NULL. */
const struct scan_sock *scan_find(const struct scan *s, uint64_t ino);

/* "tcp:127.0.0.1:8080", "tcp:[::1]:8080", "unix:/run/x.sock", "udp:0.0.0.0:53". */
void sock_addr_format(char *buf, unsigned long size, const struct sock_addr *a);

#endif
