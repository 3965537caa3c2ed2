// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sock_diag_parse() on datagrams built as the kernel sends them, and on
 * the malformed ones tests/fuzz/sock_diag.c found: a message cut short,
 * a last message whose length is not aligned.
 */
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "os/sock_diag.h"

struct seen {
	struct sock_entry e[4];
	int n;
};

static int collect(const struct sock_entry *e, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 4)
		s->e[s->n] = *e;
	s->n++;
	return 0;
}

/* Appends a message of type with payload[len] at buf+*off; its header. */
static struct nlmsghdr *put(char *buf, size_t *off, int type, const void *payload, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);

	memset(h, 0, NLMSG_SPACE(len));
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = (unsigned short)type;
	memcpy(NLMSG_DATA(h), payload, len);
	*off += NLMSG_SPACE(len);
	return h;
}

static void inet_listeners_and_done(void **state)
{
	char buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct inet_diag_msg m = { .idiag_family = AF_INET, .idiag_state = 10 };
	struct seen s = { .n = 0 };
	size_t off = 0;
	bool done;

	(void)state;
	m.id.idiag_sport = htons(8080);
	m.id.idiag_src[0] = htonl(0x7f000001);
	m.idiag_inode = 1234;
	m.idiag_rqueue = 3;
	m.idiag_wqueue = 128;
	put(buf, &off, SOCK_DIAG_BY_FAMILY, &m, sizeof(m));
	put(buf, &off, SOCK_DIAG_BY_FAMILY, &m, 8); /* cut short: skipped, not read past */
	assert_int_equal(sock_diag_parse(buf, off, AF_INET, SOCK_STREAM, collect, &s, &done), 0);
	assert_false(done); /* no NLMSG_DONE yet: read on */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].addr.port, 8080);
	assert_int_equal(s.e[0].inode, 1234);
	assert_int_equal(s.e[0].rqueue, 3);
	assert_int_equal(s.e[0].wqueue, 128);
	assert_memory_equal(s.e[0].addr.addr, "\x7f\0\0\x01", 4);

	off = 0;
	put(buf, &off, NLMSG_DONE, "\0\0\0\0", 4);
	assert_int_equal(sock_diag_parse(buf, off, AF_INET, SOCK_STREAM, collect, &s, &done), 0);
	assert_true(done);
}

static void unix_names_and_errors(void **state)
{
	char buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct {
		struct unix_diag_msg m;
		struct rtattr name_hdr;
		char name[12];
	} u;
	struct nlmsgerr ne = { .error = -EPERM };
	struct seen s = { .n = 0 };
	size_t off = 0;
	bool done;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.m.udiag_family = AF_UNIX;
	u.m.udiag_type = SOCK_STREAM;
	u.m.udiag_state = 10;
	u.m.udiag_ino = 99;
	u.name_hdr.rta_type = UNIX_DIAG_NAME;
	u.name_hdr.rta_len = RTA_LENGTH(9);
	memcpy(u.name, "\0abstract", 9);
	put(buf, &off, SOCK_DIAG_BY_FAMILY, &u, sizeof(u));
	put(buf, &off, NLMSG_ERROR, &ne, sizeof(ne));
	assert_int_equal(sock_diag_parse(buf, off, AF_UNIX, SOCK_STREAM, collect, &s, &done),
			 -EPERM);
	assert_true(done);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.e[0].addr.path, "@abstract");
	assert_int_equal(s.e[0].inode, 99);

	/* Found by tests/fuzz/sock_diag.c: a positive "error" passed for a visitor's return. */
	off = 0;
	ne.error = 1;
	put(buf, &off, NLMSG_ERROR, &ne, sizeof(ne));
	assert_int_equal(sock_diag_parse(buf, off, AF_UNIX, 0, collect, &s, &done), -EIO);
	assert_true(done);
}

/* Found by tests/fuzz/sock_diag.c: an 18-byte message, all the datagram holds. */
static void unaligned_last_message(void **state)
{
	struct seen s = { .n = 0 };
	struct nlmsghdr *h;
	bool done;
	char *buf;

	(void)state;
	buf = calloc(1, 18); /* exactly: ASan sees a byte read past it */
	assert_non_null(buf);
	h = (struct nlmsghdr *)buf;
	h->nlmsg_len = 18;
	h->nlmsg_type = 0x6500;
	assert_int_equal(sock_diag_parse(buf, 18, AF_INET, SOCK_STREAM, collect, &s, &done), 0);
	assert_false(done);
	assert_int_equal(s.n, 0); /* shorter than an inet_diag_msg: nothing in it */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inet_listeners_and_done),
		cmocka_unit_test(unix_names_and_errors),
		cmocka_unit_test(unaligned_last_message),
	};
	return cmocka_run_group_tests_name("sock_diag", tests, NULL, NULL);
}
