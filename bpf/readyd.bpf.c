// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyd kernel side: watch the process trees readyd supervises bind, listen
 * and begin waiting for connections, and tell userspace once per listener.
 *
 * Every program filters first on "is this tgid watched?" (one hash lookup) or
 * "is this socket a known listener?", so the cost for the rest of the node is
 * a few nanoseconds. Programs in three groups, attached separately by
 * user/tracer.c:
 *   - always on (tp_btf, no tracefs needed): fork/exit follow the tree,
 *     tcp_destroy_sock sees a TCP listener go away;
 *   - syscall tracepoints, attached only while a service is starting:
 *     bind, listen, and the ways a server waits on a listener
 *     (accept, epoll_ctl ADD, poll, select);
 *   - fentry/inet_csk_accept where the kernel allows trampolines: sees TCP
 *     accepts in the socket layer (io_uring ones too). The accept
 *     tracepoints stay: unix sockets never reach inet_csk_accept.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "readyd_event.h"

#define AF_UNIX		 1
#define AF_INET		 2
#define AF_INET6	 10
#define TCP_LISTEN	 10
#define TCP_SYN_RECV	 3
#define S_IFMT		 00170000
#define S_IFSOCK	 0140000
#define EPOLL_CTL_ADD	 1
#define POLLIN		 0x0001
#define PF_EXITING	 0x00000004 /* task->flags: in do_exit() */
#define MAX_POLL_FDS	 32	    /* pollfd entries inspected per poll() call */
#define MAX_SELECT_WORDS 2	    /* fd_set words inspected: fds 0..127 */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* resized by userspace before load */
	__type(key, __u32);	    /* tgid */
	__type(value, __u32);	    /* kernel id: RD_KID(unit, process) */
} watched_tgids SEC(".maps");

/*
 * A plain hash, not LRU: it is looked up for every TCP socket destroyed on the
 * node, and an LRU lookup writes its reference bit (measured 150 ns vs ~40).
 * Entries go on close (TCP) or when userspace forgets a service (each spawn).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* resized by userspace before load */
	__type(key, __u64);	   /* struct sock * */
	__type(value, struct rd_listener);
} listeners SEC(".maps");

/*
 * TCP ports whose accept queues userspace samples only when a connection
 * arrives (the event-armed stall check): one event per arming, so a busy
 * listener costs one event per sample, an idle one none.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* resized by userspace before load */
	__type(key, __u32);	   /* local port, host byte order */
	__type(value, struct rd_queue_port);
} queue_ports SEC(".maps");

/* bind()/listen() arguments kept from syscall entry to exit, per thread. */
struct pending_bind {
	char path[RD_UNIX_PATH_MAX]; /* first: see path_finish() */
	__s32 fd;
	__u16 family;
	__u16 port;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending_bind);
} pending_binds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);   /* pid_tgid */
	__type(value, __s32); /* fd */
} pending_listens SEC(".maps");

/* Scratch space: pending_bind is too large to build on the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending_bind);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* resized by userspace before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

static __always_inline __u32 *watched_kid(__u32 tgid)
{
	return bpf_map_lookup_elem(&watched_tgids, &tgid);
}

static __always_inline __u32 *current_kid(void)
{
	return watched_kid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline struct rd_event *event_reserve(__u32 type, __u32 kid)
{
	struct rd_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;

	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&dropped, &zero);
		if (n)
			*n += 1;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->kid = kid;
	e->tgid = id >> 32;
	e->pid = (__u32)id;
	e->fd = -1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* The struct sock behind fd in the current process, or NULL if not a socket. */
static __always_inline struct sock *fd_to_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;
	umode_t mode;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/*
 * Finish a sun_path copied at full size: abstract names (leading NUL) are
 * shown with '@', and the name is cut at its real length. `path` sits at
 * offset 0 of pending_bind (132 bytes) and 24 of rd_event (208 bytes), so
 * the 7-bit mask the verifier needs never leaves the object; the runtime
 * bound is the compare.
 */
static __always_inline void path_finish(char *path, int len)
{
	__u32 n = len; /* one unsigned compare: the verifier keeps the bound */

	if (path[0] == '\0' && len > 1)
		path[0] = '@';
	if (n >= RD_UNIX_PATH_MAX)
		return;
	path[n & 0x7f] = '\0';
}

/* Address and type of sk, as the kernel holds them. */
static __always_inline void fill_sock(struct rd_event *e, struct sock *sk)
{
	struct unix_address *ua;
	int len;

	e->sk = (__u64)sk;
	e->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino); /* 0 once released */
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sock_type = BPF_CORE_READ(sk, sk_type);
	if (e->family == AF_INET) {
		/* Explicit sizes: BPF_CORE_READ_INTO into an array reads one element. */
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		bpf_core_read(e->addr, 4, &sk->__sk_common.skc_rcv_saddr);
	} else if (e->family == AF_INET6) {
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	} else if (e->family == AF_UNIX) {
		ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
		if (!ua)
			return;
		len = BPF_CORE_READ(ua, len) - 2; /* minus sun_family */
		bpf_probe_read_kernel(e->path, sizeof(e->path), ua->name[0].sun_path);
		path_finish(e->path, len);
	}
}

/*
 * sk is being waited on by a watched process. Emit RD_EV_ACCEPTING the first
 * time only: the atomic fetch-or makes concurrent threads agree on who sends.
 * Ring space is reserved before the flag is claimed, so a full ring buffer
 * (counted in `dropped`) leaves the flag clear for the next try.
 */
static __always_inline int note_accepting(struct sock *sk, int fd, __u32 via, __u32 kid)
{
	struct rd_listener fresh = { .kid = kid, .flags = RD_LISTENER_ACCEPT_SENT };
	__u64 key = (__u64)sk;
	struct rd_listener *l;
	struct rd_event *e;

	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN)
		return 0;
	l = bpf_map_lookup_elem(&listeners, &key);
	if (l && (l->flags & RD_LISTENER_ACCEPT_SENT))
		return 0; /* the common case, without touching the ring */
	e = event_reserve(RD_EV_ACCEPTING, l ? l->kid : kid);
	if (!e)
		return 0;
	if (l ? __sync_fetch_and_or(&l->flags, RD_LISTENER_ACCEPT_SENT) & RD_LISTENER_ACCEPT_SENT
	      : bpf_map_update_elem(&listeners, &key, &fresh, BPF_NOEXIST) != 0) {
		bpf_ringbuf_discard(e, 0); /* another CPU sent it */
		return 0;
	}
	e->fd = fd;
	e->aux = via;
	fill_sock(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * The same for a socket fd of the current process. A global function, so the
 * verifier checks it once instead of once per poll/select loop iteration.
 */
__noinline int note_fd_accepting_for(int fd, __u32 via, __u32 kid)
{
	return note_accepting(fd_to_sock(fd), fd, via, kid);
}

static __always_inline int note_fd_accepting(int fd, __u32 via)
{
	__u32 *kid = current_kid();

	return kid ? note_fd_accepting_for(fd, via, *kid) : 0;
}

/* ---- always on: the process tree ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 *kid;
	struct rd_event *e;

	if (child_tgid == parent_tgid) /* a new thread, not a new process */
		return 0;
	kid = watched_kid(parent_tgid);
	if (!kid)
		return 0;
	bpf_map_update_elem(&watched_tgids, &child_tgid, kid, BPF_ANY);
	e = event_reserve(RD_EV_FORK, *kid);
	if (!e)
		return 0;
	e->aux = child_tgid;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 *kid = watched_kid(tgid);
	struct rd_event *e;
	__u32 id;

	/* signal->live reaches 0 when the last thread of the group exits. */
	if (!kid || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	id = *kid;
	bpf_map_delete_elem(&watched_tgids, &tgid);
	e = event_reserve(RD_EV_EXIT, id);
	if (e)
		bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * ---- always on: a TCP listener goes away ----
 * tcp_destroy_sock fires once per TCP socket (twice per connection), where
 * inet_sock_set_state fired on every state change (seven times): measured
 * ~485 ns per loopback connection, now a hash miss on two invocations.
 * Listeners appear via sys_exit_listen, attached whenever one is awaited.
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_tcp_destroy, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct rd_listener *l = bpf_map_lookup_elem(&listeners, &key);
	struct rd_event *e;
	__u32 kid;

	if (!l)
		return 0;
	kid = l->kid;
	bpf_map_delete_elem(&listeners, &key);
	e = event_reserve(RD_EV_CLOSE, kid);
	if (!e)
		return 0;
	fill_sock(e, sk);
	/* Closed because its process is exiting: the exit, not the close, is the news. */
	e->aux = BPF_CORE_READ(bpf_get_current_task_btf(), flags) & PF_EXITING ? 1 : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * ---- always on: a connection queued on a watched port ----
 * inet_csk_clone_lock() makes the child of a listener with its state copied
 * (LISTEN) and sets SYN_RECV: once per passive connection, as it is queued.
 * The other six state changes of a connection cost two compares. The ring
 * space is reserved before the arming is claimed, so a full ring buffer
 * leaves the port armed for the next connection.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_sock_state, struct sock *sk, int oldstate, int newstate)
{
	struct rd_queue_port *q;
	struct rd_event *e;
	__u32 port;

	if (oldstate != TCP_LISTEN || newstate != TCP_SYN_RECV)
		return 0;
	port = BPF_CORE_READ(sk, __sk_common.skc_num);
	q = bpf_map_lookup_elem(&queue_ports, &port);
	if (!q || !q->armed)
		return 0;
	e = event_reserve(RD_EV_QUEUED, q->kid);
	if (!e)
		return 0;
	if (!__sync_fetch_and_and(&q->armed, 0)) {
		bpf_ringbuf_discard(e, 0); /* another CPU sent it */
		return 0;
	}
	fill_sock(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- syscall tracepoints, attached while a service is starting ---- */

SEC("tracepoint/syscalls/sys_enter_bind")
int on_bind_enter(struct trace_event_raw_sys_enter *ctx)
{
	const void *uaddr = (const void *)ctx->args[1];
	int addrlen = (int)ctx->args[2];
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_bind *b;
	__u32 zero = 0;

	if (!watched_kid(id >> 32))
		return 0;
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b)
		return 0;
	__builtin_memset(b, 0, sizeof(*b));
	b->fd = (int)ctx->args[0];
	bpf_probe_read_user(&b->family, sizeof(b->family), uaddr);
	if (b->family == AF_INET) {
		struct sockaddr_in in = {};
		bpf_probe_read_user(&in, sizeof(in), uaddr);
		b->port = bpf_ntohs(in.sin_port);
		__builtin_memcpy(b->addr, &in.sin_addr, 4);
	} else if (b->family == AF_INET6) {
		struct sockaddr_in6 in6 = {};
		bpf_probe_read_user(&in6, sizeof(in6), uaddr);
		b->port = bpf_ntohs(in6.sin6_port);
		__builtin_memcpy(b->addr, &in6.sin6_addr, 16);
	} else if (b->family == AF_UNIX) {
		bpf_probe_read_user(b->path, sizeof(b->path), (const char *)uaddr + 2);
		path_finish(b->path, addrlen - 2);
	}
	bpf_map_update_elem(&pending_binds, &id, b, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int on_bind_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_bind *b = bpf_map_lookup_elem(&pending_binds, &id);
	__u32 *kid;
	struct rd_event *e;
	struct sock *sk;

	if (!b)
		return 0;
	kid = watched_kid(id >> 32);
	if (!kid)
		goto out;
	e = event_reserve(RD_EV_BIND, *kid);
	if (!e)
		goto out;
	e->fd = b->fd;
	e->err = (int)ctx->ret;
	sk = fd_to_sock(b->fd);
	if (sk)
		fill_sock(e, sk);
	/* The caller's address, not the socket's: a failed bind left none. */
	e->family = b->family;
	e->port = b->port;
	__builtin_memcpy(e->addr, b->addr, sizeof(e->addr));
	__builtin_memcpy(e->path, b->path, sizeof(e->path));
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&pending_binds, &id);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_listen")
int on_listen_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__s32 fd = (int)ctx->args[0];

	if (watched_kid(id >> 32))
		bpf_map_update_elem(&pending_listens, &id, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int on_listen_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rd_listener fresh = {};
	__s32 *fd = bpf_map_lookup_elem(&pending_listens, &id);
	__u32 *kid;
	struct rd_event *e;
	struct sock *sk;
	__u64 key;

	if (!fd)
		return 0;
	kid = watched_kid(id >> 32);
	sk = ctx->ret == 0 && kid ? fd_to_sock(*fd) : NULL;
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN)
		goto out;
	key = (__u64)sk;
	fresh.kid = *kid;
	/* A socket that just entered LISTEN starts afresh, even at a reused address. */
	bpf_map_update_elem(&listeners, &key, &fresh, BPF_ANY);
	e = event_reserve(RD_EV_LISTEN, fresh.kid);
	if (!e)
		goto out;
	e->fd = *fd;
	fill_sock(e, sk);
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&pending_listens, &id);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int on_accept_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_fd_accepting((int)ctx->args[0], RD_VIA_ACCEPT);
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int on_accept4_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_fd_accepting((int)ctx->args[0], RD_VIA_ACCEPT);
}

SEC("tracepoint/syscalls/sys_enter_epoll_ctl")
int on_epoll_ctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	if ((int)ctx->args[1] != EPOLL_CTL_ADD)
		return 0;
	return note_fd_accepting((int)ctx->args[2], RD_VIA_EPOLL);
}

static __always_inline int note_pollfds(const struct pollfd *ufds, unsigned int nfds)
{
	__u32 *kid = current_kid();
	struct pollfd p;

	if (!kid)
		return 0;
	for (int i = 0; i < MAX_POLL_FDS; i++) {
		if ((unsigned int)i >= nfds)
			break;
		if (bpf_probe_read_user(&p, sizeof(p), &ufds[i]))
			break;
		if (p.fd >= 0 && (p.events & POLLIN))
			note_fd_accepting_for(p.fd, RD_VIA_POLL, *kid);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_poll")
int on_poll_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_pollfds((const struct pollfd *)ctx->args[0], (unsigned int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_ppoll")
int on_ppoll_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_pollfds((const struct pollfd *)ctx->args[0], (unsigned int)ctx->args[1]);
}

static __always_inline int note_fdset(int nfds, const __u64 *readfds)
{
	__u32 *kid = current_kid();
	__u64 bits;

	if (!kid || !readfds)
		return 0;
	for (int w = 0; w < MAX_SELECT_WORDS; w++) {
		if (w * 64 >= nfds || bpf_probe_read_user(&bits, sizeof(bits), &readfds[w]))
			break;
		for (int b = 0; b < 64 && bits; b++, bits >>= 1) {
			int fd = w * 64 + b;
			if ((bits & 1) && fd < nfds)
				note_fd_accepting_for(fd, RD_VIA_SELECT, *kid);
		}
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_select")
int on_select_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_fdset((int)ctx->args[0], (const __u64 *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_pselect6")
int on_pselect6_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_fdset((int)ctx->args[0], (const __u64 *)ctx->args[1]);
}

/* ---- fentry mode: accept seen in the socket layer ---- */

SEC("fentry/inet_csk_accept")
int BPF_PROG(on_csk_accept, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct rd_listener *l = bpf_map_lookup_elem(&listeners, &key);
	__u32 *kid;

	if (l)
		return note_accepting(sk, -1, RD_VIA_FENTRY, l->kid);
	kid = current_kid();
	return kid ? note_accepting(sk, -1, RD_VIA_FENTRY, *kid) : 0;
}
