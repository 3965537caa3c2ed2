// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/sockets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/proc_parse.h"
#include "os/sock_diag.h"
#include "base/clock.h"
#include "base/util.h"

#define DIAG_BUF 32768

static int diag_send(int fd, const void *req, size_t len)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct iovec iov = { .iov_base = (void *)req, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &nl, .msg_namelen = sizeof(nl), .msg_iov = &iov, .msg_iovlen = 1
	};

	return sendmsg(fd, &msg, 0) < 0 ? -errno : 0;
}

static int diag_request(int fd, int family, int sock_type, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		union {
			struct inet_diag_req_v2 inet;
			struct unix_diag_req unx;
		};
	} req;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (family == AF_UNIX) {
		req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.unx));
		req.unx.sdiag_family = AF_UNIX;
		req.unx.udiag_states = states;
		req.unx.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_RQLEN;
	} else {
		req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.inet));
		req.inet.sdiag_family = (uint8_t)family;
		req.inet.sdiag_protocol = sock_type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
		req.inet.idiag_states = states;
	}
	return diag_send(fd, &req, req.nlh.nlmsg_len);
}

int sockets_dump(int family, int sock_type, uint32_t states_mask, sock_visit_fn fn, void *ctx)
{
	/* Static: only the event loop's thread dumps, and a dump never nests. A
	 * buffer malloc'd and freed per dump was a brk round trip, several per scan. */
	static char buf[DIAG_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	bool done = false;
	int err;

	if (fd < 0)
		return -errno;
	err = diag_request(fd, family, sock_type, states_mask);
	while (!err && !done) {
		ssize_t n = recv(fd, buf, DIAG_BUF, 0);

		if (n < 0)
			err = errno == EINTR ? 0 : -errno;
		else
			err = sock_diag_parse(buf, (size_t)n, family, sock_type, fn, ctx, &done);
	}
	fd_close(fd);
	return err;
}

int sockets_inode_owner(uint32_t inode, pid_t *pid, char *comm, size_t comm_size)
{
	DIR *proc = opendir("/proc");
	char want[32], path[64], link[64];
	struct dirent *d;
	int found = -ENOENT;

	if (!proc)
		return -errno;
	snprintf(want, sizeof(want), "socket:[%u]", inode);
	while (found && (d = readdir(proc))) {
		DIR *fds;
		struct dirent *f;
		char *end;
		long p = strtol(d->d_name, &end, 10);

		if (*end || p <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", p);
		fds = opendir(path);
		while (fds && found && (f = readdir(fds))) {
			ssize_t n;
			snprintf(path, sizeof(path), "/proc/%ld/fd/%.16s", p, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0)
				found = 0, *pid = (pid_t)p;
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	if (!found && comm) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)*pid);
		f = fopen(path, "re");
		if (!f || !fgets(comm, (int)comm_size, f))
			str_copy(comm, "?", comm_size);
		comm[strcspn(comm, "\n")] = '\0';
		str_sanitize(comm);
		if (f)
			fclose(f);
	}
	return found;
}

struct holder_search {
	const struct sock_addr *want;
	uint32_t inode;
};

static int match_holder(const struct sock_entry *e, void *ctx)
{
	struct holder_search *s = ctx;
	const struct sock_addr *w = s->want;

	if (w->family == AF_UNIX) {
		if (strcmp(e->addr.path, w->path) != 0)
			return 0;
	} else if (e->addr.port != w->port) {
		return 0;
	}
	s->inode = e->inode;
	return 1;
}

int sockets_describe_holder(const struct sock_addr *a, char *buf, size_t size)
{
	struct holder_search s = { .want = a };
	bool udp = a->sock_type == SOCK_DGRAM;
	uint32_t states = udp ? ~0U : 1U << SOCK_STATE_LISTEN;
	char label[SOCK_ADDR_TEXT_MAX], comm[32];
	pid_t pid;

	sock_addr_format(label, sizeof(label), a);
	if (a->family == AF_UNIX) {
		sockets_dump(AF_UNIX, 0, ~0U, match_holder, &s);
	} else {
		/* A v4 bind can collide with a v6 wildcard and the reverse: look at both. */
		if (sockets_dump(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, states, match_holder,
				 &s) != 1)
			sockets_dump(AF_INET6, udp ? SOCK_DGRAM : SOCK_STREAM, states, match_holder,
				     &s);
	}
	if (!s.inode) {
		snprintf(buf, size, "%s is in use%s", label,
			 a->family == AF_UNIX ? " (the path exists: a stale socket file?)" : "");
		return -ENOENT;
	}
	if (sockets_inode_owner(s.inode, &pid, comm, sizeof(comm)) < 0) {
		snprintf(buf, size,
			 "%s is held by socket inode %u, no process of this namespace owns it",
			 label, s.inode);
		return -ENOENT;
	}
	snprintf(buf, size, "%s is held by pid %d (%s)", label, (int)pid, comm);
	return 0;
}

/* "pid 812 (nginx), running for 3m05s" or why nobody can be named. */
void sockets_describe_owner(uint32_t inode, char *buf, size_t size)
{
	char comm[32], path[64], text[512], age[32];
	struct proc_stat st;
	uint64_t up_ms = 0;
	double uptime;
	pid_t pid;

	if (sockets_inode_owner(inode, &pid, comm, sizeof(comm)) < 0) {
		snprintf(buf, size, "socket inode %u, which no process of this namespace holds",
			 inode);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read_text(AT_FDCWD, path, text, sizeof(text)) > 0 &&
	    proc_parse_stat(text, &st) == 0 &&
	    file_read_text(AT_FDCWD, "/proc/uptime", path, sizeof(path)) > 0 &&
	    sscanf(path, "%lf", &uptime) == 1)
		up_ms = (uint64_t)(uptime * 1000) -
			st.start_ticks * 1000 / (uint64_t)sysconf(_SC_CLK_TCK);
	fmt_duration(age, sizeof(age), up_ms * NSEC_PER_MSEC);
	snprintf(buf, size, "pid %d (%s)%s%s", (int)pid, comm, up_ms ? ", running for " : "",
		 up_ms ? age : "");
}

bool sockets_is_socket_file(const char *path)
{
	struct stat st;

	return path[0] == '/' && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}
