// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/sock_diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Does h carry a whole payload of `size` bytes? */
static bool holds(const struct nlmsghdr *h, size_t size)
{
	return h->nlmsg_len >= NLMSG_LENGTH(size);
}

static void parse_inet(const struct nlmsghdr *h, int sock_type, struct sock_entry *e)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	memset(e, 0, sizeof(*e));
	e->addr.family = m->idiag_family;
	e->addr.sock_type = sock_type;
	e->addr.port = ntohs(m->id.idiag_sport);
	memcpy(e->addr.addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	e->state = m->idiag_state;
	e->inode = m->idiag_inode;
	e->rqueue = m->idiag_rqueue;
	e->wqueue = m->idiag_wqueue;
}

static void parse_unix(const struct nlmsghdr *h, struct sock_entry *e)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	const struct rtattr *a = (const struct rtattr *)(m + 1);

	memset(e, 0, sizeof(*e));
	e->addr.family = AF_UNIX;
	e->addr.sock_type = m->udiag_type;
	e->state = m->udiag_state;
	e->inode = m->udiag_ino;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_NAME) {
			size_t n = (size_t)RTA_PAYLOAD(a) < sizeof(e->addr.path) - 1
					   ? (size_t)RTA_PAYLOAD(a)
					   : sizeof(e->addr.path) - 1;
			memcpy(e->addr.path, RTA_DATA(a), n);
			e->addr.path[n] = '\0';
			if (n && e->addr.path[0] == '\0')
				e->addr.path[0] = '@'; /* abstract */
		} else if (a->rta_type == UNIX_DIAG_RQLEN &&
			   RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
			const struct unix_diag_rqlen *q = RTA_DATA(a);
			e->rqueue = q->udiag_rqueue;
			e->wqueue = q->udiag_wqueue;
		}
	}
}

/*
 * The message after h, and what is left of the datagram. NLMSG_NEXT takes
 * the padding of a last message whose length is not aligned from a
 * length that has no padding left: the length wrapped, NLMSG_OK passed,
 * and the walk read past the datagram (found by tests/fuzz/sock_diag.c).
 */
static const struct nlmsghdr *next_message(const struct nlmsghdr *h, size_t *len)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	if (step > *len) {
		*len = 0; /* that was the last one: NLMSG_OK fails on 0 */
		return h;
	}
	*len -= step;
	return (const struct nlmsghdr *)((const char *)h + step);
}

int sock_diag_parse(const void *buf, size_t len, int family, int sock_type, sock_visit_fn fn,
		    void *ctx, bool *done)
{
	const struct nlmsghdr *h = buf;
	int rc;

	*done = true;
	for (; NLMSG_OK(h, len); h = next_message(h, &len)) {
		struct sock_entry e;
		if (h->nlmsg_type == NLMSG_DONE)
			return 0;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *ne = NLMSG_DATA(h);
			/* -errno; anything else (cut short, 0, positive) must not pass for
			 * a visitor's return: sockets_describe_holder's 1 is "found". */
			return holds(h, sizeof(*ne)) && ne->error < 0 ? ne->error : -EIO;
		}
		if (family == AF_UNIX && holds(h, sizeof(struct unix_diag_msg)))
			parse_unix(h, &e);
		else if (family != AF_UNIX && holds(h, sizeof(struct inet_diag_msg)))
			parse_inet(h, sock_type, &e);
		else
			continue; /* truncated: nothing to read in it */
		if (family == AF_UNIX && sock_type && e.addr.sock_type != sock_type)
			continue;
		rc = fn(&e, ctx);
		if (rc)
			return rc;
	}
	*done = false;
	return 0;
}
