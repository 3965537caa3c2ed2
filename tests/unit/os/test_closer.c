// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The closer thread: fds handed to it are closed off the caller's thread,
 * and a socket's SO_LINGER never makes that close wait.
 */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "os/closer.h"

static void fds_are_closed_by_the_thread(void **state)
{
	struct closer *c;
	int p[2];
	char b;

	(void)state;
	assert_int_equal(closer_start(&c), 0);
	assert_int_equal(pipe(p), 0);
	closer_push_fds(c, &p[1], 1);
	for (int i = 0; i < 1000 && !closer_idle(c); i++)
		usleep(1000); /* (a second at most: a pipe closes at once) */
	assert_true(closer_idle(c));
	assert_int_equal(closer_backlog(c), 0);
	assert_int_equal(read(p[0], &b, 1), 0); /* EOF: the write end is gone */
	close(p[0]);
	closer_stop(c);
}

/*
 * A connection with unsent data towards a peer whose window stays shut, and
 * SO_LINGER 3 s: its last close would wait the 3 s.
 */
static void a_lingering_socket_closes_at_once(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct linger lg = { .l_onoff = 1, .l_linger = 3 };
	static char junk[65536];
	int sink, cl, small = 4096, tiny = 1;
	uint64_t t0;

	(void)state;
	sink = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)); /* its connections' too */
	assert_int_equal(bind(sink, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(sink, 1), 0);
	assert_int_equal(getsockname(sink, (struct sockaddr *)&sa, &len), 0);
	cl = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(cl, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	assert_int_equal(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(cl, F_SETFL, O_NONBLOCK);
	while (send(cl, junk, sizeof(junk), 0) > 0)
		; /* until the peer (never accepted, never read) has no room left */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(setsockopt(cl, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	fcntl(cl, F_SETFL, 0);
	t0 = now_mono_ns();
	closer_close_now(&cl, 1);
	assert_true(now_mono_ns() - t0 < 1000 * NSEC_PER_MSEC);
	close(sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fds_are_closed_by_the_thread),
		cmocka_unit_test(a_lingering_socket_closes_at_once),
	};
	return cmocka_run_group_tests_name("closer", tests, NULL, NULL);
}
