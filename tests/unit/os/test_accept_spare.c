// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Out of file descriptors, a waiting connection is closed unanswered (its
 * client sees the end at once) instead of staying queued and waking the loop
 * forever; with fds back, accepting goes on as before.
 */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loop.h"
#include "os/accept_spare.h"

#define LIMIT 256

static int fillers[LIMIT];
static struct loop *loop;
static struct loop_source src;
static struct accept_pause the_pause;
static int woken;
static int n_fillers;
static struct rlimit saved;

static int listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

static void on_listener(struct loop *l, struct loop_source *s, uint32_t events)
{
	(void)l, (void)s, (void)events;
	woken++;
}

/* The listener watched by a loop, as readyd's are. */
static struct accept_pause *watched(int lfd)
{
	assert_int_equal(loop_new(&loop), 0);
	src = (struct loop_source){ .fd = lfd, .fn = on_listener };
	assert_int_equal(loop_add(loop, &src, EPOLLIN), 0);
	accept_pause_init(&the_pause, loop, &src);
	return &the_pause;
}

static void unwatched(void)
{
	accept_pause_cancel(&the_pause);
	loop_free(loop);
	loop = NULL;
}

static int client(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)addr, sizeof(*addr)), 0);
	return fd;
}

/* Every fd below the soft limit in use: the next open fails with EMFILE. */
static void exhaust(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = (struct rlimit){ .rlim_cur = LIMIT, .rlim_max = saved.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
		fillers[n_fillers++] = fd;
	assert_int_equal(errno, EMFILE);
}

static void give_back(void)
{
	while (n_fillers)
		close(fillers[--n_fillers]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

/* (a failed assertion leaves the fds taken: LeakSanitizer needs some at exit) */
static int teardown(void **state)
{
	(void)state;
	if (n_fillers)
		give_back();
	return 0;
}

/* A connection waiting while no fd is left: shed, the count now `total`. */
static void one_is_shed(struct accept_pause *p, const struct sockaddr_in *addr, uint64_t total)
{
	int cl = client(addr);

	exhaust();
	assert_int_equal(accept_or_shed(p, "test"), -EMFILE);
	assert_int_equal(accept_shed_total(), total);
	give_back();
	close(cl);
}

/* With fds, the connection that waits (cl) is accepted as before. */
static void accepted(struct accept_pause *p, int cl)
{
	int fd = accept_or_shed(p, "test");

	assert_true(fd >= 0);
	close(fd);
	close(cl);
}

static void done(int lfd)
{
	close(lfd);
	accept_spare_close();
	unwatched();
}

static void out_of_fds_a_waiting_connection_is_closed(void **state)
{
	struct sockaddr_in addr;
	int lfd = listener(&addr), cl;
	struct accept_pause *p = watched(lfd);
	uint64_t before = accept_shed_total();
	char b;

	(void)state;
	assert_int_equal(accept_spare_open(), 0);
	cl = client(&addr);
	exhaust();
	assert_int_equal(accept_or_shed(p, "test"), -EMFILE);
	assert_int_equal(accept_shed_total(), before + 1);
	/* None waits now: the listener does not wake the loop again, and this is no shed. */
	assert_int_equal(accept_or_shed(p, "test"), -EAGAIN);
	give_back();
	assert_int_equal(recv(cl, &b, 1, 0), 0); /* the client saw the end, not a hang */
	close(cl);

	/* fds back: a connection is accepted as before, and the spare is there again. */
	accepted(p, client(&addr));
	one_is_shed(p, &addr, before + 2);
	done(lfd);
}

static void without_a_spare_the_connection_waits(void **state)
{
	struct sockaddr_in addr;
	int lfd = listener(&addr), cl;
	struct accept_pause *p = watched(lfd);
	uint64_t before = accept_shed_total();
	uint64_t t0;

	(void)state;
	accept_spare_close();
	cl = client(&addr);
	exhaust();
	assert_int_equal(accept_or_shed(p, "test"), -EMFILE);
	assert_int_equal(accept_shed_total(), before);
	/* The listener rests: its waiting connection does not wake the loop. */
	assert_true(loop_timer_armed(&p->timer));
	woken = 0;
	t0 = now_mono_ns();
	assert_true(loop_run_once(loop, 100) >= 0);
	assert_int_equal(woken, 0);
	give_back();
	/* Then it is watched again, the spare taken back, the connection still queued. */
	while (!woken && now_mono_ns() - t0 < 2 * NSEC_PER_SEC)
		loop_run_once(loop, 50);
	assert_int_equal(woken, 1);
	assert_true(now_mono_ns() - t0 >= ACCEPT_PAUSE_MS * NSEC_PER_MSEC);
	accepted(p, cl);
	one_is_shed(p, &addr, before + 1);
	done(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(out_of_fds_a_waiting_connection_is_closed, teardown),
		cmocka_unit_test_teardown(without_a_spare_the_connection_waits, teardown),
	};
	return cmocka_run_group_tests_name("accept_spare", tests, NULL, NULL);
}
