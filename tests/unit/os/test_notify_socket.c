// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A real datagram through the sd_notify socket: credentials, fds, oversize. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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
	close(dg.fds[0]); /* (the daemon hands them to its closer thread) */
	notify_done(&dg);
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

/* A socket of name's, and an address to send to it. */
static int open_named(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	int rx = notify_socket_open(name);

	assert_true(rx >= 0);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path + 1, name, strlen(name));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	return rx;
}

/* As many fds as the kernel lets one datagram carry: every one reaches readyd. */
static void the_most_fds_a_datagram_carries_all_arrive(void **state)
{
	char name[64];
	struct sockaddr_un sa;
	static struct notify_datagram dg;
	static union {
		struct cmsghdr align;
		/* cppcheck-suppress unusedStructMember ; the union's size is the point */
		char buf[CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
	} control;
	int fds[NOTIFY_FDS_MAX], p[2], rx, tx;
	struct iovec iov = { .iov_base = "X=1", .iov_len = 3 };
	struct msghdr msg = { .msg_name = &sa,
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;

	(void)state;
	snprintf(name, sizeof(name), "readyd-test-fds/%d", (int)getpid());
	rx = open_named(name, &sa, &msg.msg_namelen);
	assert_int_equal(pipe(p), 0);
	for (size_t i = 0; i < NOTIFY_FDS_MAX; i++)
		fds[i] = p[0];
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(sendmsg(tx, &msg, 0), 3);
	assert_int_equal(notify_recv(rx, &dg), 1);
	assert_false(dg.truncated); /* MSG_CTRUNC: the kernel would have closed some itself */
	assert_int_equal(dg.n_fds, NOTIFY_FDS_MAX);
	for (size_t i = 0; i < dg.n_fds; i++)
		close(dg.fds[i]);
	notify_done(&dg);
	close(p[0]);
	close(p[1]);
	close(tx);
	close(rx);
}

/* The sender's pidfd: alive while it runs, gone once reaped, its pid then no proof. */
static void the_sender_is_known_by_its_pidfd(void **state)
{
	char name[64];
	struct sockaddr_un sa;
	socklen_t len;
	static struct notify_datagram dg;
	int rx, tx;
	pid_t kid;

	(void)state;
	snprintf(name, sizeof(name), "readyd-test-pidfd/%d", (int)getpid());
	rx = open_named(name, &sa, &len);
	tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(sendto(tx, "READY=1", 7, 0, (struct sockaddr *)&sa, len), 7);
	assert_int_equal(notify_recv(rx, &dg), 1);
	if (dg.sender.pidfd < 0) {
		notify_done(&dg);
		close(tx);
		close(rx);
		print_message("skipped: no SO_PASSPIDFD on this kernel (before 6.5)\n");
		skip();
	}
	assert_false(dg.sender.gone);
	assert_true(notify_sender_alive(&dg.sender));
	notify_done(&dg);
	assert_int_equal(dg.sender.pidfd, -1);

	kid = fork();
	if (kid == 0) {
		sendto(tx, "READY=1", 7, 0, (struct sockaddr *)&sa, len);
		_exit(0);
	}
	assert_int_equal(waitpid(kid, NULL, 0), kid);
	assert_int_equal(notify_recv(rx, &dg), 1);
	assert_int_equal(dg.cred.pid, kid);
	assert_true(dg.sender.gone);
	assert_false(notify_sender_alive(&dg.sender));
	notify_done(&dg);
	close(tx);
	close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(datagram_with_credentials_and_fds),
		cmocka_unit_test(oversized_datagrams_are_flagged),
		cmocka_unit_test(the_most_fds_a_datagram_carries_all_arrive),
		cmocka_unit_test(the_sender_is_known_by_its_pidfd),
	};
	return cmocka_run_group_tests_name("notify_socket", tests, NULL, NULL);
}
