/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event ABI between bpf/readyd.bpf.c and src/os/tracer.c: the only
 * contract between the two sides. Fixed-width types only, no libc includes,
 * so the header compiles both against vmlinux.h and against glibc.
 * src/os/tracer.c asserts sizeof(struct rd_event) matches RD_EVENT_SIZE.
 */
#ifndef READYD_EVENT_H
#define READYD_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define RD_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define RD_COMM_LEN	 16

enum rd_event_type {
	RD_EV_BIND = 1,	 /* bind() returned; err = 0 or -errno */
	RD_EV_LISTEN,	 /* listen() returned 0 on a socket (TCP or unix) */
	RD_EV_ACCEPTING, /* first sign a listener is being waited on; aux = rd_accept_via */
	RD_EV_CLOSE,	 /* a known TCP listener was destroyed (unix: userspace checks) */
	RD_EV_FORK,	 /* a watched process forked a new process; aux = child tgid */
	RD_EV_EXIT,	 /* the last thread of a watched process exited */
	RD_EV_QUEUED,	 /* a connection was queued on an armed port (queue_ports); disarmed */
};

/*
 * A kernel id (rd_event.kid, the maps' values): (unit id << RD_PROC_BITS) |
 * the index of the process (of a multi-process service) whose tree it is.
 */
#define RD_PROC_BITS	   3
#define RD_KID(unit, proc) (((unit) << RD_PROC_BITS) | (proc))
#define RD_KID_UNIT(kid)   ((kid) >> RD_PROC_BITS)
#define RD_KID_PROC(kid)   ((kid) & ((1u << RD_PROC_BITS) - 1))

/* How the kernel showed that a listener is being waited on. */
enum rd_accept_via {
	RD_VIA_ACCEPT = 1, /* entered accept()/accept4() on it */
	RD_VIA_EPOLL,	   /* epoll_ctl(EPOLL_CTL_ADD) of it */
	RD_VIA_POLL,	   /* it is in a poll()/ppoll() set with POLLIN */
	RD_VIA_SELECT,	   /* it is in a select()/pselect6() read set */
	RD_VIA_FENTRY,	   /* inet_csk_accept() ran on it (also io_uring accepts) */
};

/* Per-listener flags kept in the kernel's `listeners` map. */
#define RD_LISTENER_ACCEPT_SENT 0x1 /* RD_EV_ACCEPTING already emitted (dedup) */

struct rd_listener {
	__u32 kid;
	__u32 pad;
	__u64 flags; /* 64-bit: atomic fetch-or on it needs no -mcpu=v3 */
};

/* queue_ports' values: whom a port's connections concern, and whether to say so. */
#define RD_KID_SHARED 0xffffffffu /* several services declare the port */

struct rd_queue_port {
	__u32 kid;   /* RD_KID(unit, 0), or RD_KID_SHARED */
	__u32 refs;  /* declared listeners on the port (userspace's count) */
	__u64 armed; /* 1: send the next RD_EV_QUEUED; 64-bit for the atomic fetch-and */
};

struct rd_event {
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sk;    /* kernel struct sock address: a listener's identity while it lives */
	__u64 ino;   /* socket inode, as sock_diag and /proc/PID/fd show it (0: unknown) */
	/*
	 * AF_UNIX path; abstract names start with '@'. Kept near the start (offset
	 * 24) so that a 7-bit index into it stays inside the struct (BPF verifier).
	 */
	char path[RD_UNIX_PATH_MAX];
	__u32 type; /* enum rd_event_type */
	__u32 kid;  /* kernel id the tgid was registered with: RD_KID(unit, process) */
	__u32 tgid; /* process that caused the event */
	__u32 pid;  /* thread that caused the event */
	__s32 fd;   /* socket fd in tgid, -1 when unknown */
	__s32 err;  /* BIND: 0 or -errno */
	__u32 aux;  /* ACCEPTING: rd_accept_via; FORK: child tgid; CLOSE: 1 if the closer is exiting
		     */
	__u16 family;	 /* AF_INET, AF_INET6, AF_UNIX */
	__u16 port;	 /* host byte order */
	__u16 sock_type; /* SOCK_STREAM, SOCK_DGRAM, ... (0 when unknown) */
	__u16 pad16;
	__u8 addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
	char comm[RD_COMM_LEN];
	__u8 pad[4];
};

#define RD_EVENT_SIZE 208

#endif /* READYD_EVENT_H */
