// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sd_notify message parser, and a real datagram through the socket side. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "model/notify.h"

static struct notify_msg parse_ok(const char *text)
{
	struct notify_msg m;
	const char *why = NULL;

	assert_int_equal(notify_parse(text, strlen(text), &m, &why), 0);
	return m;
}

static void parse_bad(const char *text, size_t len, const char *reason)
{
	struct notify_msg m;
	const char *why = NULL;

	assert_int_equal(notify_parse(text, len, &m, &why), -EINVAL);
	assert_string_equal(why, reason);
}

static void every_known_key(void **state)
{
	struct notify_msg m = parse_ok("READY=1\nSTATUS=Processing 42 requests\nERRNO=2\n"
				       "MAINPID=4321\nWATCHDOG=1\nWATCHDOG_USEC=5000000\n"
				       "EXTEND_TIMEOUT_USEC=30000000\nBARRIER=1\nX_FUTURE_KEY=ignored\n");

	(void)state;
	assert_true(m.ready);
	assert_true(m.has_status);
	assert_string_equal(m.status, "Processing 42 requests");
	assert_int_equal(m.err_no, 2);
	assert_int_equal(m.mainpid, 4321);
	assert_true(m.watchdog_ping);
	assert_int_equal(m.watchdog_usec, 5000000);
	assert_int_equal(m.extend_usec, 30000000);
	assert_true(m.barrier);
	assert_false(m.reloading);
}

static void flags_need_exactly_one(void **state)
{
	struct notify_msg m = parse_ok("READY=0\nRELOADING=1\nSTOPPING=yes\nWATCHDOG=trigger");

	(void)state;
	assert_false(m.ready);
	assert_true(m.reloading);
	assert_false(m.stopping);
	assert_true(m.watchdog_trigger);
	assert_false(m.watchdog_ping);
	m = parse_ok("");
	assert_false(m.ready);
	m = parse_ok("\n\nREADY=1"); /* no trailing newline, empty lines */
	assert_true(m.ready);
}

static void malformed_messages(void **state)
{
	(void)state;
	parse_bad("READY=1\0STATUS=x", 16, "a NUL byte");
	parse_bad("READY", 5, "a line that is not KEY=VALUE");
	parse_bad("ready=1", 7, "a line that is not KEY=VALUE");
	parse_bad("=1", 2, "a line that is not KEY=VALUE");
	parse_bad("MAINPID=abc", 11, "a value that should be a number is not one");
	parse_bad("MAINPID=0", 9, "a value that should be a number is not one");
	parse_bad("ERRNO=99999", 11, "a value that should be a number is not one");
	parse_bad("WATCHDOG_USEC=99999999999999999999", 34, "a value that should be a number is not one");
}

static void status_is_made_safe(void **state)
{
	struct notify_msg m = parse_ok("STATUS=a \"quoted\"\tstatus");

	(void)state;
	assert_string_equal(m.status, "a ?quoted??status");
}

static void datagram_with_credentials_and_fds(void **state)
{
	char name[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static struct notify_datagram dg;
	int rx, tx, p[2];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = "BARRIER=1", .iov_len = 9 };
	struct msghdr msg = { .msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = &control, .msg_controllen = sizeof(control) };
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
	assert_int_equal(sendto(tx, big, sizeof(big), 0, (struct sockaddr *)&sa,
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
		cmocka_unit_test(every_known_key),
		cmocka_unit_test(flags_need_exactly_one),
		cmocka_unit_test(malformed_messages),
		cmocka_unit_test(status_is_made_safe),
		cmocka_unit_test(datagram_with_credentials_and_fds),
		cmocka_unit_test(oversized_datagrams_are_flagged),
	};
	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
