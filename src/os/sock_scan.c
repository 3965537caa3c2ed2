// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/sock_scan.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "os/proc_parse.h"
#include "readyd_event.h"
#include "base/util.h"

#define FDINFO_MAX   65536
#define POLL_FDS_MAX 4096

/* (pid, fd) -> socket inode of one process set; epoll fds kept aside. */
struct fd_ref {
	uint64_t ino;
	pid_t pid;
	int fd;
};

struct fd_map {
	struct fd_ref *v;
	size_t n, cap;
	struct fd_ref *epolls; /* ino unused */
	size_t n_ep, cap_ep;
};

static int push(struct fd_ref **v, size_t *n, size_t *cap, struct fd_ref r)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct fd_ref *g = realloc(*v, c * sizeof(*g));
		if (!g)
			return -ENOMEM;
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = r;
	return 0;
}

static int map_process(struct fd_map *m, pid_t pid)
{
	char path[64], link[64];
	DIR *dir;
	struct dirent *e;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;
	while (!err && (e = readdir(dir))) {
		ssize_t n = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);
		int fd = atoi(e->d_name);
		uint64_t ino;

		if (n <= 0 || e->d_name[0] == '.')
			continue;
		link[n] = '\0';
		ino = proc_socket_inode(link);
		if (ino)
			err = push(&m->v, &m->n, &m->cap, (struct fd_ref){ ino, pid, fd });
		else if (strcmp(link, "anon_inode:[eventpoll]") == 0)
			err = push(&m->epolls, &m->n_ep, &m->cap_ep, (struct fd_ref){ 0, pid, fd });
	}
	closedir(dir);
	return err;
}

static int cmp_ino(const void *a, const void *b)
{
	const struct fd_ref *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static uint64_t ino_of_fd(const struct fd_map *m, pid_t pid, int fd)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pid == pid && m->v[i].fd == fd)
			return m->v[i].ino;
	return 0;
}

static int table_add(const struct sock_entry *e, void *ctx)
{
	struct sock_table *t = ctx;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct sock_entry *g = realloc(t->v, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		t->v = g;
		t->cap = cap;
	}
	t->v[t->n] = *e;
	/* Asked for TCP_BOUND_INACTIVE, the kernel reports their state as it is: TCP_CLOSE. */
	if (e->addr.family != AF_UNIX && e->addr.sock_type == SOCK_STREAM && e->state == TCP_CLOSE)
		t->v[t->n].state = SOCK_STATE_BOUND;
	t->n++;
	return 0;
}

static const struct {
	int family, type;
	uint32_t states;
} dumps[] = {
	{ AF_INET, SOCK_STREAM, 1U << SOCK_STATE_LISTEN | 1U << SOCK_STATE_BOUND },
	{ AF_INET6, SOCK_STREAM, 1U << SOCK_STATE_LISTEN | 1U << SOCK_STATE_BOUND },
	{ AF_UNIX, 0, 1U << SOCK_STATE_LISTEN },
	{ AF_INET, SOCK_DGRAM, ~0U },
	{ AF_INET6, SOCK_DGRAM, ~0U },
};

int sock_table_load(struct sock_table *t, bool with_bound)
{
	memset(t, 0, sizeof(*t));
	t->bound = with_bound;
	for (size_t i = 0; i < ARRAY_SIZE(dumps); i++) {
		uint32_t states = dumps[i].states;
		int err;

		if (!with_bound && dumps[i].type == SOCK_STREAM)
			states &= ~(1U << SOCK_STATE_BOUND);
		err = sockets_dump(dumps[i].family, dumps[i].type, states, table_add, t);
		if (err) {
			sock_table_free(t);
			return err < 0 ? err : -ENOMEM;
		}
	}
	sock_table_index(t); /* (without it, lookups walk the table) */
	return 0;
}

/*
 * The table's sockets that the processes hold: each of their socket fds looked
 * up in the table (m is sorted by inode), not the node's table walked per scan.
 */
static int collect(struct scan *s, const struct sock_table *t, const struct fd_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct fd_ref *r = &m->v[i];
		const struct sock_entry *e;
		if (i && m->v[i - 1].ino == r->ino)
			continue; /* the same socket in another fd or process: the first one's */
		e = sock_table_inode(t, r->ino);
		if (!e || scan_find(s, e->inode))
			continue;
		if (scan_add(s, &(struct scan_sock){ .e = *e, .pid = r->pid, .fd = r->fd }) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void mark(struct scan *s, uint64_t ino, unsigned int via, pid_t pid)
{
	struct scan_sock *k = (struct scan_sock *)scan_find(s, ino);

	if (!k || k->accepting || k->e.state != SOCK_STATE_LISTEN)
		return;
	k->accepting = true;
	k->via = via;
	k->accept_pid = pid;
}

struct epoll_ctx {
	struct scan *s;
	pid_t pid;
};

static void on_epoll_target(uint64_t ino, uint32_t events, void *ctx)
{
	struct epoll_ctx *c = ctx;

	if (events & POLLIN) /* EPOLLIN == POLLIN */
		mark(c->s, ino, RD_VIA_EPOLL, c->pid);
}

static void scan_epolls(struct scan *s, const struct fd_map *m, char *buf)
{
	for (size_t i = 0; i < m->n_ep; i++) {
		struct epoll_ctx c = { s, m->epolls[i].pid };
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)c.pid, m->epolls[i].fd);
		if (file_read_text(AT_FDCWD, path, buf, FDINFO_MAX) > 0)
			proc_parse_epoll_fdinfo(buf, on_epoll_target, &c);
	}
}

/* Read len bytes at addr in pid (the poll/select arguments of a blocked task). */
static bool peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static void scan_poll_args(struct scan *s, const struct fd_map *m, pid_t pid, uint64_t fds,
			   uint64_t nfds)
{
	static struct pollfd set[POLL_FDS_MAX];

	if (nfds > POLL_FDS_MAX)
		nfds = POLL_FDS_MAX;
	if (!nfds || !peek(pid, fds, set, nfds * sizeof(*set)))
		return;
	for (uint64_t i = 0; i < nfds; i++)
		if (set[i].fd >= 0 && (set[i].events & POLLIN))
			mark(s, ino_of_fd(m, pid, set[i].fd), RD_VIA_POLL, pid);
}

static void scan_select_args(struct scan *s, const struct fd_map *m, pid_t pid, uint64_t nfds,
			     uint64_t readfds)
{
	unsigned char bits[1024 / 8];
	size_t len = (size_t)((nfds + 7) / 8);

	if (!readfds || !nfds || len > sizeof(bits) || !peek(pid, readfds, bits, len))
		return;
	for (uint64_t fd = 0; fd < nfds; fd++)
		if (bits[fd / 8] & (1u << (fd % 8)))
			mark(s, ino_of_fd(m, pid, (int)fd), RD_VIA_SELECT, pid);
}

/* What each task of pid is blocked in. */
static void scan_tasks(struct scan *s, const struct fd_map *m, pid_t pid)
{
	char path[64], text[256];
	DIR *dir;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		uint64_t a[6];
		long nr;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/syscall", (int)pid, e->d_name);
		if (file_read_text(AT_FDCWD, path, text, sizeof(text)) <= 0 ||
		    proc_parse_syscall(text, &nr, a) < 0)
			continue;
#ifdef SYS_accept
		if (nr == SYS_accept)
			mark(s, ino_of_fd(m, pid, (int)a[0]), RD_VIA_ACCEPT, pid);
#endif
		if (nr == SYS_accept4)
			mark(s, ino_of_fd(m, pid, (int)a[0]), RD_VIA_ACCEPT, pid);
#ifdef SYS_poll
		if (nr == SYS_poll)
			scan_poll_args(s, m, pid, a[0], a[1]);
#endif
		if (nr == SYS_ppoll)
			scan_poll_args(s, m, pid, a[0], a[1]);
#ifdef SYS_select
		if (nr == SYS_select)
			scan_select_args(s, m, pid, a[0], a[1]);
#endif
		if (nr == SYS_pselect6)
			scan_select_args(s, m, pid, a[0], a[1]);
	}
	if (dir)
		closedir(dir);
}

int sock_scan(const pid_t *pids, size_t n, const struct sock_table *table, bool accepting,
	      struct scan *out)
{
	struct sock_table own = { 0 };
	struct fd_map m = { 0 };
	static char buf[FDINFO_MAX]; /* the loop's thread only; see sockets_dump */
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !err && i < n; i++)
		err = map_process(&m, pids[i]);
	out->n_procs = n;
	if (m.n)
		qsort(m.v, m.n, sizeof(*m.v), cmp_ino);
	if (!err && m.n && !table) {
		err = sock_table_load(&own, true);
		table = &own;
	}
	if (!err && m.n)
		err = collect(out, table, &m);
	if (!err && out->n && accepting) {
		scan_epolls(out, &m, buf);
		for (size_t i = 0; i < n; i++)
			scan_tasks(out, &m, pids[i]);
	}
	for (size_t i = 0; !err && i < out->n; i++)
		proc_comm(out->socks[i].pid, out->socks[i].comm, sizeof(out->socks[i].comm));
	free(m.v);
	free(m.epolls);
	sock_table_free(&own);
	if (err)
		scan_free(out);
	return err;
}

void proc_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (file_read_text(AT_FDCWD, path, comm, size) <= 0)
		str_copy(comm, "?", size);
	comm[strcspn(comm, "\n")] = '\0';
	str_sanitize(comm);
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], text[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read_text(AT_FDCWD, path, text, sizeof(text)) <= 0)
		return -ESRCH;
	return proc_parse_stat(text, st) < 0 ? -EINVAL : 0;
}

int proc_tree(pid_t root, pid_t *pids, size_t max)
{
	struct proc_stat *all = NULL;
	size_t n_all = 0, cap = 0, n = 0;
	DIR *proc;
	struct dirent *e;
	char path[64], text[1024];

	if (kill(root, 0) < 0 && errno == ESRCH)
		return -ESRCH;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((e = readdir(proc))) {
		struct proc_stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/stat", e->d_name);
		if (file_read_text(AT_FDCWD, path, text, sizeof(text)) <= 0 ||
		    proc_parse_stat(text, &st) < 0)
			continue;
		if (n_all == cap) {
			size_t c = cap ? cap * 2 : 512;
			struct proc_stat *g = realloc(all, c * sizeof(*g));
			if (!g)
				break;
			all = g;
			cap = c;
		}
		all[n_all++] = st;
	}
	closedir(proc);
	if (max)
		pids[n++] = root;
	/* Breadth first: pids[] is the queue. */
	for (size_t head = 0; head < n && n < max; head++)
		for (size_t i = 0; i < n_all && n < max; i++)
			if (all[i].ppid == pids[head] && all[i].pid != root)
				pids[n++] = all[i].pid;
	free(all);
	return (int)n;
}
