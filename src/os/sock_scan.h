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

#include "os/proc_parse.h"

#include "os/sockets.h"

/*
 * with_bound adds the TCP sockets that are bound and not listening. It is
 * the expensive part: the kernel walks its whole bind hash for them (measured
 * 1.1 ms per family here, against 9 us for the listeners), so only a start
 * (its "bound" level, a holder of the port) asks for them.
 */
int sock_table_load(struct sock_table *t, bool with_bound);

/*
 * Scan the sockets of pids[0..n) against table (NULL: load one just for
 * this). `accepting`: also find which are accepting (epoll sets, blocked
 * tasks); without it only which sockets the processes hold, half the reads.
 * 0 or -errno (a process that vanished meanwhile is not an error).
 */
int sock_scan(const pid_t *pids, size_t n, const struct sock_table *table, bool accepting,
	      struct scan *out);

/*
 * A process and every descendant (by /proc/PID/stat ppid), up to max.
 * The count, or -ESRCH if root does not exist.
 */
int proc_tree(pid_t root, pid_t *pids, size_t max);
/* comm of pid, "?" if unknown. */
void proc_comm(pid_t pid, char *comm, size_t size);
/* pid's /proc/PID/stat: 0, or -errno (-ESRCH: no such process). */
int proc_read_stat(pid_t pid, struct proc_stat *st);

#endif
