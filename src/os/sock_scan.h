/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the kernel shows, right now, about the sockets of a set of
 * processes, without BPF. Used for processes readyd did not see start
 * (adopted with [watch]), for poll mode, and to check the event-built view.
 *
 *   listening  sock_diag dumps (TCP v4/v6 LISTEN, UNIX listeners, UDP) whose
 *              inode one of the processes holds (/proc/PID/fd)
 *   accepting  the listener's inode is in an epoll set of one of them
 *              (/proc/PID/fdinfo/<epfd>, "tfd:" lines), or a task of one of
 *              them is blocked in accept()/accept4() on it, or in poll()/
 *              ppoll()/select()/pselect6() with it in the read set
 *              (/proc/PID/task/TID/syscall, the fd array read with
 *              process_vm_readv)
 *
 * Needs the rights of ptrace-read on the processes (root, or their owner).
 */
#ifndef READYD_SOCK_SCAN_H
#define READYD_SOCK_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "os/sockets.h"

struct scan_sock {
	struct sock_entry e; /* address, state, inode, queues */
	pid_t pid;	     /* a process of the set holding it */
	int fd;		     /* its fd there */
	char comm[16];
	bool accepting;
	unsigned int via; /* enum rd_accept_via, when accepting */
	pid_t accept_pid; /* who waits on it */
};

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
};

/*
 * with_bound adds the TCP sockets that are bound and not listening. It is
 * the expensive part: the kernel walks its whole bind hash for them (measured
 * 1.1 ms per family here, against 9 us for the listeners), so only a start
 * (its "bound" level, a holder of the port) asks for them.
 */
int sock_table_load(struct sock_table *t, bool with_bound);
void sock_table_free(struct sock_table *t);

/*
 * Scan the sockets of pids[0..n) against table (NULL: load one just for
 * this). `accepting`: also find which are accepting (epoll sets, blocked
 * tasks); without it only which sockets the processes hold, half the reads.
 * 0 or -errno (a process that vanished meanwhile is not an error).
 */
int sock_scan(const pid_t *pids, size_t n, const struct sock_table *table, bool accepting,
	      struct scan *out);
/* Append k to s: 0 or -ENOMEM. */
int scan_add(struct scan *s, const struct scan_sock *k);
void scan_free(struct scan *s);
/* The socket with that inode, or NULL. */
const struct scan_sock *scan_find(const struct scan *s, uint64_t ino);

/*
 * A process and every descendant (by /proc/PID/stat ppid), up to max.
 * The count, or -ESRCH if root does not exist.
 */
int proc_tree(pid_t root, pid_t *pids, size_t max);
/* comm of pid, "?" if unknown. */
void proc_comm(pid_t pid, char *comm, size_t size);

#endif
