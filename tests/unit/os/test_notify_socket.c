// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A real datagram through the sd_notify socket: credentials, fds, oversize. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/notify_socket.h"

static void datagram_with_credentials_and_fds(void **state)
{
	char name[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static struct notify_datagram dg;
	int rx, tx, p[2];
	union {
		struct cmsghdr align;
		/* cppcheck-suppress unusedStructMember ; the union's size is the point */
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = "BARRIER=1", .iov_len = 9 };
	struct msghdr msg = { .msg_name = &sa,
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;

	(void)state;
	snprintf(name, sizeof(name), "readyd-test/%d", (int)getpid());
	rx = notify_socket_open(name);
	assert_true(rx >= 0);
	memcpy(sa.sun_path + 1, name, strlen(name));
	msg.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	assert_int_equal(pipe(p), 0);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[1], sizeof(int));
	tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(sendmsg(tx, &msg, 0), 9);
	close(p[1]);
	assert_int_equal(notify_recv(rx, &dg), 1);
	assert_int_equal(dg.len, 9);
	assert_false(dg.truncated);
	assert_true(dg.has_cred);
	assert_int_equal(dg.cred.pid, getpid());
	assert_int_equal(dg.n_fds, 1);
	/* The barrier: the sender sees POLLHUP only once our copy is closed. */
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	notify_close_fds(&dg);
	{
		char b;
		assert_int_equal(read(p[0], &b, 1), 0); /* EOF: every write end is gone */
	}
	assert_int_equal(notify_recv(rx, &dg), 0); /* nothing more */
	close(p[0]);
	close(tx);
	close(rx);
}

static void oversized_datagrams_are_flagged(void **state)
{
	char name[64], big[NOTIFY_DATAGRAM_MAX + 100];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static struct notify_datagram dg;
	int rx, tx;

	(void)state;
	snprintf(name, sizeof(name), "readyd-test-big/%d", (int)getpid());
	rx = notify_socket_open(name);
	memcpy(sa.sun_path + 1, name, strlen(name));
	memset(big, 'A', sizeof(big));
	tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(
		sendto(tx, big, sizeof(big), 0, (struct sockaddr *)&sa,
		       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
		(ssize_t)sizeof(big));
	assert_int_equal(notify_recv(rx, &dg), 1);
	assert_true(dg.truncated);
	close(tx);
	close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(datagram_with_credentials_and_fds),
		cmocka_unit_test(oversized_datagrams_are_flagged),
	};
	return cmocka_run_group_tests_name("notify_socket", tests, NULL, NULL);
}
