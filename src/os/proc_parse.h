/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Parsers for the /proc files readyd reads when it cannot (or did not) see
 * events: /proc/PID/stat, /proc/PID/fdinfo/<epoll fd>, /proc/PID/syscall.
 * Pure: text in, values out; unit-tested on real samples.
 */
#ifndef READYD_PROC_PARSE_H
#define READYD_PROC_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	pid_t pid, ppid;
	char comm[16];
	char state;	      /* R, S, D, Z, ... */
	uint64_t start_ticks; /* since boot, in clock ticks */
};

/*
 * A counter of /proc/net/netstat or /proc/net/snmp, where each group is a
 * header line of names and a line of values: ("TcpExt", "ListenOverflows").
 * 0, or -ENOENT if it is not there.
 */
int proc_parse_netstat(const char *text, const char *group, const char *name, uint64_t *value);

/* "/proc/PID/stat": comm may hold spaces and parentheses. 0 or -EINVAL. */
int proc_parse_stat(const char *text, struct proc_stat *st);

/*
 * Call fn(ino, events) for each "tfd:" line of an epoll fd's fdinfo: the
 * inode of every file registered in the set and the events asked for.
 * Returns the number of lines seen.
 */
typedef void (*epoll_target_fn)(uint64_t ino, uint32_t events, void *ctx);
int proc_parse_epoll_fdinfo(const char *text, epoll_target_fn fn, void *ctx);

/*
 * "/proc/PID/syscall" of a blocked task: "nr arg0 ... arg5 sp pc".
 * 0 with nr and args; -EAGAIN if it is running (or not in a syscall); -EINVAL.
 */
int proc_parse_syscall(const char *text, long *nr, uint64_t args[6]);

/* "socket:[1234]" -> 1234; 0 if the link is not a socket. */
uint64_t proc_socket_inode(const char *link);

#endif
