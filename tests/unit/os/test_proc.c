// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc and cgroup parsers on real samples, and a socket scan of this very
 * process: a listener in an epoll set, one a thread blocks in accept() on,
 * one in a poll() set, and one nobody waits on.
 */
#include "cmocka_all.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/cgroup.h"
#include "os/proc_parse.h"
#include "readyd_event.h"
#include "os/sock_scan.h"

static void stat_with_odd_comm(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_parse_stat("4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 "
					 "3 4 0 0 20 0 1 0 987654 1000 100",
					 &st),
			 0);
	assert_int_equal(st.pid, 4242);
	assert_int_equal(st.ppid, 17);
	assert_string_equal(st.comm, "my (odd) name");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.start_ticks, 987654);
	assert_int_equal(proc_parse_stat("garbage", &st), -EINVAL);
}

/* A real /proc/net/netstat, cut short: a file read as it changes ends anywhere. */
static void netstat_counters(void **state)
{
	static const char sample[] =
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\n"
		"TcpExt: 0 17 23 5126\n"
		"IpExt: InNoRoutes InOctets\n"
		"IpExt: 0 26967943\n";
	/* Found by tests/fuzz/proc.c: the values line is only the group's name, at the end of
	 * the text, and the value was looked for past the NUL (a heap over-read). */
	static const char cut_at_group[] = "Udp: InDatagrams InErrors\nUdp";
	uint64_t v = 0;
	char *heap;

	(void)state;
	assert_int_equal(proc_parse_netstat(sample, "TcpExt", "ListenOverflows", &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(proc_parse_netstat(sample, "TcpExt", "TCPHPHits", &v), 0);
	assert_int_equal(v, 5126);
	assert_int_equal(proc_parse_netstat(sample, "IpExt", "InOctets", &v), 0);
	assert_int_equal(v, 26967943);
	assert_int_equal(proc_parse_netstat(sample, "TcpExt", "Nope", &v), -ENOENT);
	assert_int_equal(proc_parse_netstat(sample, "Tcp", "ListenDrops", &v), -ENOENT);
	/* Heap copies of exactly their size: ASan sees a byte read past them. */
	heap = strdup(cut_at_group);
	assert_non_null(heap);
	assert_int_equal(proc_parse_netstat(heap, "Udp", "InErrors", &v), -ENOENT);
	free(heap);
	/* The values line ends before the column: not the next line's number. */
	heap = strdup("TcpExt: A B ListenOverflows\nTcpExt: 1 2\nIpExt: 99\n");
	assert_non_null(heap);
	assert_int_equal(proc_parse_netstat(heap, "TcpExt", "ListenOverflows", &v), -ENOENT);
	free(heap);
	/* Names with no values line at all. */
	heap = strdup("TcpExt: ListenOverflows\n");
	assert_non_null(heap);
	assert_int_equal(proc_parse_netstat(heap, "TcpExt", "ListenOverflows", &v), -ENOENT);
	free(heap);
}

struct seen {
	uint64_t ino[4];
	uint32_t events[4];
	int n;
};

static void note(uint64_t ino, uint32_t events, void *ctx)
{
	struct seen *s = ctx;

	s->ino[s->n] = ino;
	s->events[s->n++] = events;
}

static void epoll_fdinfo_lines(void **state)
{
	struct seen s = { 0 };
	const char *text =
		"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
		"tfd:        6 events:       19 data:                6  pos:0 ino:5a1b sdev:8\n"
		"tfd:        7 events:        4 data:                7  pos:0 ino:7f sdev:8\n";

	(void)state;
	assert_int_equal(proc_parse_epoll_fdinfo(text, note, &s), 2);
	assert_int_equal(s.ino[0], 0x5a1b);
	assert_int_equal(s.events[0], 0x19);
	assert_int_equal(s.ino[1], 0x7f);
	assert_int_equal(s.events[1], 0x4);
	assert_int_equal(proc_parse_epoll_fdinfo("pos: 0\n", note, &s), 0);
}

static void syscall_lines(void **state)
{
	uint64_t a[6];
	long nr;

	(void)state;
	assert_int_equal(
		proc_parse_syscall("288 0x3 0x0 0x0 0x80800 0x0 0x0 0x7ffd1 0x7f12\n", &nr, a), 0);
	assert_int_equal(nr, 288);
	assert_int_equal(a[0], 3);
	assert_int_equal(a[3], 0x80800);
	assert_int_equal(proc_parse_syscall("running\n", &nr, a), -EAGAIN);
	assert_int_equal(proc_parse_syscall("-1 0x7ffd1 0x7f12\n", &nr, a), -EAGAIN);
	assert_int_equal(proc_parse_syscall("nonsense", &nr, a), -EINVAL);
	assert_int_equal(proc_socket_inode("socket:[123456]"), 123456);
	assert_int_equal(proc_socket_inode("pipe:[123]"), 0);
	assert_int_equal(proc_socket_inode("socket:[12"), 0);
}

static void cgroup_texts(void **state)
{
	char out[256];
	const char *hybrid =
		"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	const char *bind_only = "50 22 0:37 /sub /mnt/cg rw - cgroup2 cgroup2 rw\n";

	(void)state;
	assert_int_equal(cgroup_parse_mountinfo(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup_parse_mountinfo(bind_only, out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_parse_proc_cgroup("9:name=systemd:/\n1:cpu:/\n0::/system.slice/x\n",
						  out, sizeof(out)),
			 0);
	assert_string_equal(out, "/system.slice/x");
	assert_int_equal(cgroup_parse_proc_cgroup("1:cpu:/\n", out, sizeof(out)), -ENOENT);
}

static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void *block_in_accept(void *arg)
{
	accept(*(int *)arg, NULL, NULL);
	return NULL;
}

static void *block_in_poll(void *arg)
{
	struct pollfd p = { .fd = *(int *)arg, .events = POLLIN };

	poll(&p, 1, 10000);
	return NULL;
}

static const struct scan_sock *on_port(const struct scan *s, uint16_t port)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->socks[i].e.addr.port == port && s->socks[i].e.addr.sock_type == SOCK_STREAM)
			return &s->socks[i];
	return NULL;
}

static void scan_of_this_process(void **state)
{
	uint16_t p_epoll, p_accept, p_poll, p_idle;
	int l_epoll = listener(&p_epoll), l_accept = listener(&p_accept);
	int l_poll = listener(&p_poll), l_idle = listener(&p_idle);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t self = getpid();
	pthread_t t1, t2;
	struct scan s;
	const struct scan_sock *k;

	(void)state;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, l_epoll, &ev), 0);
	pthread_create(&t1, NULL, block_in_accept, &l_accept);
	pthread_create(&t2, NULL, block_in_poll, &l_poll);
	usleep(100 * 1000); /* let both threads block */
	assert_int_equal(sock_scan(&self, 1, NULL, true, &s), 0);
	k = on_port(&s, p_epoll);
	assert_non_null(k);
	assert_true(k->accepting);
	assert_int_equal(k->via, RD_VIA_EPOLL);
	assert_int_equal(k->pid, self);
	assert_int_equal(k->fd, l_epoll);
	k = on_port(&s, p_accept);
	assert_non_null(k);
	assert_true(k->accepting);
	assert_int_equal(k->via, RD_VIA_ACCEPT);
	k = on_port(&s, p_poll);
	assert_non_null(k);
	assert_true(k->accepting);
	assert_int_equal(k->via, RD_VIA_POLL);
	k = on_port(&s, p_idle);
	assert_non_null(k);
	assert_false(k->accepting); /* listening: nobody waits on it */
	assert_int_equal(k->e.state, SOCK_STATE_LISTEN);
	scan_free(&s);
	pthread_cancel(t1);
	pthread_cancel(t2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	close(ep);
	close(l_epoll);
	close(l_accept);
	close(l_poll);
	close(l_idle);
}

static void tree_of_a_forked_child(void **state)
{
	pid_t kids[8], child = fork();
	int n;

	(void)state;
	if (child == 0) {
		pause();
		_exit(0);
	}
	n = proc_tree(getpid(), kids, 8);
	assert_true(n >= 2);
	assert_int_equal(kids[0], getpid());
	bool found = false;
	for (int i = 1; i < n; i++)
		found |= kids[i] == child;
	assert_true(found);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(proc_tree(child, kids, 8), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_with_odd_comm),	cmocka_unit_test(epoll_fdinfo_lines),
		cmocka_unit_test(syscall_lines),	cmocka_unit_test(cgroup_texts),
		cmocka_unit_test(scan_of_this_process), cmocka_unit_test(tree_of_a_forked_child),
		cmocka_unit_test(netstat_counters),
	};
	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
