// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The /proc and cgroup files readyd reads, each parser on every input:
 * /proc/PID/stat, /proc/net/netstat (and snmp), an epoll fd's fdinfo,
 * /proc/PID/syscall, a /proc/PID/fd link, /proc/self/mountinfo and
 * /proc/PID/cgroup. A file read while it changes may be cut anywhere.
 */
#include "fuzz.h"

#include "os/cgroup.h"
#include "os/proc_parse.h"

static void on_target(uint64_t ino, uint32_t events, void *ctx)
{
	(void)ino;
	(void)events;
	++*(int *)ctx;
}

static void fuzz_netstat(const char *text)
{
	/* What readyd asks for (daemon/sock_table.c), and others of each group. */
	static const char *const pairs[][2] = {
		{ "TcpExt", "ListenOverflows" }, { "TcpExt", "ListenDrops" },
		{ "TcpExt", "SyncookiesSent" },	 { "Tcp", "ActiveOpens" },
		{ "IpExt", "InOctets" },	 { "Udp", "InErrors" },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		(void)proc_parse_netstat(text, pairs[i][0], pairs[i][1], &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[CGROUP_PATH_MAX];
	struct proc_stat st;
	uint64_t args[6];
	int targets = 0;
	char *text;
	long nr;

	if (!(text = fuzz_text(data, size)))
		return 0;
	if (proc_parse_stat(text, &st) == 0)
		FUZZ_ASSERT(st.pid > 0 && memchr(st.comm, '\0', sizeof(st.comm)));
	fuzz_netstat(text);
	FUZZ_ASSERT(proc_parse_epoll_fdinfo(text, on_target, &targets) == targets);
	(void)proc_parse_syscall(text, &nr, args);
	(void)proc_socket_inode(text);
	if (cgroup_parse_mountinfo(text, path, sizeof(path)) == 0)
		FUZZ_ASSERT(memchr(path, '\0', sizeof(path)));
	if (cgroup_parse_proc_cgroup(text, path, sizeof(path)) == 0)
		FUZZ_ASSERT(memchr(path, '\0', sizeof(path)));
	free(text);
	return 0;
}
