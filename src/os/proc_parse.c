// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/proc_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int proc_parse_stat(const char *text, struct proc_stat *st)
{
	/* "42 (my (odd) name) S 1 ..." : comm ends at the LAST ')'. */
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned long long start;
	size_t len;
	int ppid;
	char state;

	memset(st, 0, sizeof(*st));
	if (!open || !close || close < open)
		return -EINVAL;
	st->pid = (pid_t)strtol(text, NULL, 10);
	len = (size_t)(close - open - 1);
	if (len >= sizeof(st->comm))
		len = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, len);
	st->comm[len] = '\0';
	/* fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(close + 1,
		   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
		   "%*d %llu",
		   &state, &ppid, &start) != 3)
		return -EINVAL;
	st->state = state;
	st->ppid = (pid_t)ppid;
	st->start_ticks = start;
	return st->pid > 0 ? 0 : -EINVAL;
}

int proc_parse_epoll_fdinfo(const char *text, epoll_target_fn fn, void *ctx)
{
	int seen = 0;

	/* "tfd:        5 events:       19 data:                5  pos:0 ino:5a1b sdev:8" */
	for (const char *p = strstr(text, "tfd:"); p; p = strstr(p + 4, "tfd:")) {
		const char *ev = strstr(p, "events:"), *ino = strstr(p, "ino:"),
			   *eol = strchr(p, '\n');
		unsigned int events;
		unsigned long long inode;

		if (!ev || !ino || (eol && (ev > eol || ino > eol)))
			continue;
		if (sscanf(ev + 7, "%x", &events) != 1 || sscanf(ino + 4, "%llx", &inode) != 1)
			continue;
		seen++;
		fn(inode, events, ctx);
	}
	return seen;
}

int proc_parse_syscall(const char *text, long *nr, uint64_t args[6])
{
	unsigned long long a[6];
	long n = 0;
	int got;

	if (str_starts_with(text, "running"))
		return -EAGAIN;
	got = sscanf(text, "%ld 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx", &n, &a[0], &a[1], &a[2],
		     &a[3], &a[4], &a[5]);
	if (got >= 1 && n < 0)
		return -EAGAIN; /* "-1 sp pc": blocked, but not in a system call */
	if (got != 7)
		return -EINVAL;
	*nr = n;
	for (int i = 0; i < 6; i++)
		args[i] = a[i];
	return 0;
}

uint64_t proc_socket_inode(const char *link)
{
	unsigned long long ino;
	char end;

	if (sscanf(link, "socket:[%llu%c", &ino, &end) != 2 || end != ']')
		return 0;
	return ino;
}

/*
 * The col-th value of a values line ("TcpExt: 1 2 3", past the group's
 * colon), or NULL if the line has fewer: a file read as it changes may end
 * anywhere, and the next line's numbers are not this one's.
 */
static const char *nth_value(const char *v, size_t col)
{
	for (size_t i = 0;; i++) {
		while (*v == ' ')
			v++;
		if (*v == '\n' || *v == '\0')
			return NULL;
		if (i == col)
			return v;
		v += strcspn(v, " \n");
	}
}

int proc_parse_netstat(const char *text, const char *group, const char *name, uint64_t *value)
{
	size_t glen = strlen(group), nlen = strlen(name);

	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');
		size_t col = 0;

		/* "TcpExt: a b c" and, on the next line, "TcpExt: 1 2 3". */
		if (strncmp(line, group, glen) != 0 || line[glen] != ':' || !next) {
			line = next ? next + 1 : NULL;
			continue;
		}
		for (const char *p = line + glen + 1; p < next;) {
			while (*p == ' ')
				p++;
			if (p >= next)
				break;
			if (strncmp(p, name, nlen) == 0 && (p[nlen] == ' ' || p + nlen == next)) {
				const char *values = next + 1, *v;
				/* Not "TcpExt" alone: the text may end right after the name. */
				if (strncmp(values, group, glen) != 0 || values[glen] != ':')
					return -ENOENT;
				v = nth_value(values + glen + 1, col);
				if (!v)
					return -ENOENT;
				*value = strtoull(v, NULL, 10);
				return 0;
			}
			p += strcspn(p, " \n");
			col++;
		}
		line = next + 1;
	}
	return -ENOENT;
}
