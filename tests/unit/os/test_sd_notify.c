// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Datagrams to readyd's own manager: both address kinds, bad ones, a full queue. */
#include "cmocka_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/sd_notify.h"

/* A manager's socket at addr ("@name" or a path). */
static int manager(const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(addr);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, addr, len);
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
			 0);
	return fd;
}

static void roundtrip(const char *addr)
{
	struct sd_notifier n;
	char buf[64];
	int rx = manager(addr);
	ssize_t got;

	assert_int_equal(sd_notifier_open(&n, addr), 0);
	assert_int_equal(sd_notifier_send(&n, "READY=1", 7), 0);
	got = recv(rx, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_int_equal(got, 7);
	buf[got] = '\0';
	assert_string_equal(buf, "READY=1");
	assert_int_equal(n.sent, 1);
	sd_notifier_close(&n);
	assert_int_equal(n.fd, -1);
	close(rx);
}

static void abstract_and_path(void **state)
{
	char abs[64], dir[] = "/tmp/readyd-sdn-XXXXXX", path[96];

	(void)state;
	snprintf(abs, sizeof(abs), "@readyd-test-sdn/%d", (int)getpid());
	roundtrip(abs);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	roundtrip(path);
	unlink(path);
	rmdir(dir);
}

static void bad_addresses(void **state)
{
	struct sd_notifier n;
	char longer[200];

	(void)state;
	assert_int_equal(sd_notifier_open(&n, NULL), -EINVAL);
	assert_int_equal(sd_notifier_open(&n, ""), -EINVAL);
	assert_int_equal(sd_notifier_open(&n, "relative/path"), -EINVAL);
	assert_int_equal(sd_notifier_open(&n, "vsock:2:1234"), -EINVAL);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(sd_notifier_open(&n, longer), -ENAMETOOLONG);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sd_notifier_send(&n, "READY=1", 7), -ENOTCONN);
}

static void full_queue_drops_and_counts(void **state)
{
	struct sd_notifier n;
	char abs[64];
	int rx, err = 0;

	(void)state;
	snprintf(abs, sizeof(abs), "@readyd-test-sdn-full/%d", (int)getpid());
	rx = manager(abs);
	assert_int_equal(sd_notifier_open(&n, abs), 0);
	for (int i = 0; i < 100000 && err == 0; i++) /* nobody reads: the queue fills */
		err = sd_notifier_send(&n, "STATUS=x", 8);
	assert_int_equal(err, -EAGAIN); /* never waits */
	assert_int_equal(n.dropped, 1);
	assert_true(n.sent > 0);
	sd_notifier_close(&n);
	close(rx);
}

static void nobody_listens(void **state)
{
	struct sd_notifier n;

	(void)state;
	assert_int_equal(sd_notifier_open(&n, "@readyd-test-sdn-nobody"), 0);
	assert_int_equal(sd_notifier_send(&n, "READY=1", 7), -ECONNREFUSED);
	sd_notifier_close(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(abstract_and_path),
		cmocka_unit_test(bad_addresses),
		cmocka_unit_test(full_queue_drops_and_counts),
		cmocka_unit_test(nobody_listens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
