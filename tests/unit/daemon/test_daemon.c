// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The daemon layer with a fake kernel, a fake clock and a fake control
 * client (tests/fakes/): a real readyd composition (daemon.c's modules, in
 * order) spawns a real /bin/sleep; the test plays the ring buffer and the
 * operator, and checks what every module made of it: the unit's state,
 * the syscall window, the textfile, control replies and progress lines.
 */
#include "cmocka_all.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/unit.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/util.h"
#include "fakes/fakes.h"

#define MS  NSEC_PER_MSEC
#define SEC NSEC_PER_SEC

struct fixture {
	char dir[64], sock[96], textfile[96];
	int listener; /* the socket events talk about: real, so sock_diag agrees */
	uint64_t ino;
	struct config *cfg;
	struct daemon_opts opts;
	struct daemon d;
	bool up;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_diag diag;
	char text[1024];

	str_copy(f->dir, "/tmp/readyd-unit-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/web.sock", f->dir);
	snprintf(f->textfile, sizeof(f->textfile), "%s/readyd.prom", f->dir);
	snprintf(text, sizeof(text),
		 "[readyd]\ntextfile = %s\ncontrol = %s/control.sock\n\n"
		 "[service \"web\"]\ncommand = /bin/sleep 30\nlisten = unix:%s\n"
		 "ready_timeout = 10s\nstop_timeout = 5s\n",
		 f->textfile, f->dir, f->sock);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_int_equal(config_parse_text("test", text, NULL, f->cfg, &diag), 0);
	config_diag_free(&diag);
	f->cfg->refs = 1;
	f->opts = (struct daemon_opts){ .config_path = "test", .config = f->cfg };
	assert_int_equal(daemon_init(&f->d, &f->opts), 0);
	f->up = true;
	f->listener = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; f->up && i < f->d.n_units; i++) /* a failed test leaves no process */
		unit_signal(f->d.units[i], SIGKILL);
	if (f->up)
		daemon_free(&f->d);
	config_unref(f->cfg);
	if (f->listener >= 0)
		close(f->listener);
	unlink(f->sock);
	unlink(f->textfile);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct unit *web(struct fixture *f)
{
	return f->d.units[0];
}

/* Run the loop until cond holds, for real fd events (a child's exit, a datagram). */
static bool run_until(struct fixture *f, bool (*cond)(struct fixture *f), int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && !cond(f); waited += 10) {
		loop_expire(f->d.loop);
		loop_run_once(f->d.loop, 10);
	}
	return cond(f);
}

/* An event of the web service's first process tree about its socket. */
static void socket_event(struct fixture *f, enum rd_event_type type, unsigned int via)
{
	struct rd_event e = { .type = type,
			      .sk = 0xfeed,
			      .ino = f->ino,
			      .family = AF_UNIX,
			      .sock_type = SOCK_STREAM,
			      .aux = via,
			      .fd = 3 };

	e.kid = RD_KID(web(f)->id, 0);
	e.tgid = e.pid = (uint32_t)web(f)->svc.pid;
	str_copy(e.path, f->sock, sizeof(e.path));
	memcpy(e.comm, "sleep", 6);
	fake_tracer_emit(e);
}

static void spawned(struct fixture *f)
{
	daemon_start(&f->d);
	assert_int_equal(web(f)->svc.state, SVC_STARTING);
	loop_run_once(f->d.loop, 0); /* the spawn is a loop job */
	assert_true(web(f)->svc.pid > 0);
	assert_int_equal(fake_tracer_kid(web(f)->svc.pid), RD_KID(web(f)->id, 0));
}

/* The socket the events are about, held by this test (readyd's sock_diag checks see it). */
static void open_listener(struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	str_copy(sa.sun_path, f->sock, sizeof(sa.sun_path));
	f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listener >= 0);
	assert_int_equal(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listener, 8), 0);
	assert_int_equal(fstat(f->listener, &st), 0);
	f->ino = st.st_ino;
}

static void running(struct fixture *f)
{
	spawned(f);
	open_listener(f);
	socket_event(f, RD_EV_BIND, 0);
	socket_event(f, RD_EV_LISTEN, 0);
	assert_int_equal(web(f)->svc.state, SVC_STARTING); /* listening is not ready */
	socket_event(f, RD_EV_ACCEPTING, RD_VIA_EPOLL);
	assert_int_equal(web(f)->svc.state, SVC_RUNNING);
}

static bool textfile_says_running(struct fixture *f)
{
	char text[65536];

	return file_read_text(AT_FDCWD, f->textfile, text, sizeof(text)) > 0 &&
	       strstr(text, "readyd_service_state{service=\"web\",state=\"running\"} 1\n");
}

static void kernel_events_make_it_running(void **state)
{
	struct fixture *f = *state;
	char want[160];

	running(f);
	snprintf(want, sizeof(want), "accepting on unix:%s (epoll by pid %d)", f->sock,
		 (int)web(f)->svc.pid);
	assert_non_null(strstr(web(f)->svc.cause, want));
	/* The export module heard of it: the textfile says so within 5 ms. */
	assert_false(textfile_says_running(f));
	fake_clock_advance(5 * MS);
	assert_true(run_until(f, textfile_says_running, 2000));
}

static void the_syscall_window_closes_after_the_start(void **state)
{
	struct fixture *f = *state;

	running(f);
	assert_true(fake_tracer_syscalls()); /* they linger a while: a crash loop keeps them */
	fake_clock_advance(1900 * MS);
	loop_expire(f->d.loop);
	assert_true(fake_tracer_syscalls());
	fake_clock_advance(200 * MS);
	loop_expire(f->d.loop);
	assert_false(fake_tracer_syscalls());
	/* A lost listener: waiting for it to come back needs them again. */
	socket_event(f, RD_EV_CLOSE, 0);
	assert_int_equal(web(f)->svc.state, SVC_UNHEALTHY);
	assert_true(fake_tracer_syscalls());
}

static void events_of_an_earlier_instance_do_not_count(void **state)
{
	struct fixture *f = *state;
	struct rd_event e = { .type = RD_EV_ACCEPTING,
			      .sk = 0xfeed,
			      .family = AF_UNIX,
			      .sock_type = SOCK_STREAM,
			      .aux = RD_VIA_EPOLL };

	spawned(f);
	e.kid = RD_KID(web(f)->id, 0);
	e.ts_ns = web(f)->svc.spawned_at - 1;
	str_copy(e.path, f->sock, sizeof(e.path));
	fake_tracer_emit(e);
	assert_int_equal(web(f)->svc.state, SVC_STARTING);
	assert_int_equal(web(f)->svc.listeners[0].level, LEVEL_ABSENT);
}

static bool stopped(struct fixture *f)
{
	return web(f)->svc.state == SVC_STOPPED;
}

static void operators_are_root_and_see_every_transition(void **state)
{
	struct fixture *f = *state;
	struct control_client *c;

	running(f);
	c = fake_control_request("{\"cmd\":\"stop\",\"service\":\"web\"}", 1000);
	assert_true(fake_control_answered(c));
	assert_non_null(strstr(fake_control_output(c), "\"refused\":true"));
	assert_non_null(strstr(fake_control_output(c), "permission denied: stop needs root"));
	assert_int_equal(web(f)->svc.state, SVC_RUNNING);
	fake_control_free(c);

	c = fake_control_request("{\"cmd\":\"stop\",\"service\":\"web\"}", 0);
	assert_false(fake_control_answered(c)); /* it waits until the process is gone */
	assert_non_null(strstr(fake_control_output(c), "\"from\":\"running\",\"to\":\"stopping\""));
	assert_true(run_until(f, stopped, 5000)); /* SIGTERM reaches the real sleep */
	assert_true(fake_control_answered(c));
	assert_non_null(strstr(fake_control_output(c), "\"from\":\"stopping\",\"to\":\"stopped\""));
	assert_non_null(strstr(fake_control_output(c), "\"ok\":true"));
	fake_control_free(c);
}

static bool rejected_one(struct fixture *f)
{
	return web(f)->svc.notify_rejected[REJECT_FOREIGN] == 1;
}

static void a_stranger_cannot_speak_for_the_service(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	f->cfg->services[0].ready = READY_NOTIFY;
	spawned(f);
	len = strlen(web(f)->notify_name);
	memcpy(sa.sun_path + 1, web(f)->notify_name, len); /* abstract */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* This test process is not in the service's tree. */
	assert_true(sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) == 7);
	close(fd);
	assert_true(run_until(f, rejected_one, 2000));
	assert_false(web(f)->svc.notified_ready);
	assert_int_equal(web(f)->svc.state, SVC_STARTING);
}

/* Each of needles in text, in that order. */
static void in_order(const char *text, const char *const *needles, size_t n)
{
	const char *at = text;

	for (size_t i = 0; i < n; i++) {
		const char *found = strstr(at, needles[i]);
		if (!found)
			fail_msg("\"%s\" not after what came before in:\n%s", needles[i], text);
		at = found + strlen(needles[i]);
	}
}

static void a_stream_and_the_timeline_see_the_boot_in_order(void **state)
{
	static const char *const stream[] = {
		"{\"event\":\"subscribed\"",
		"\"event\":\"transition\",\"service\":\"web\"",
		"\"from\":\"stopped\",\"to\":\"starting\"",
		"\"event\":\"spawn\"",
		"\"level\":\"bound\"",
		"\"level\":\"listening\"",
		"\"level\":\"accepting\"",		    /* the level, then */
		"\"from\":\"starting\",\"to\":\"running\"", /* the transition */
	};
	static const char *const timeline[] = { "\"kind\":\"starting\"",  "\"kind\":\"spawn\"",
						"\"kind\":\"bound\"",	  "\"kind\":\"listening\"",
						"\"kind\":\"accepting\"", "\"kind\":\"running\"" };
	struct fixture *f = *state;
	struct control_client *c, *bad, *t;

	/* Read-only: any uid the socket lets in may stream. */
	c = fake_control_request("{\"cmd\":\"events\"}", 1000);
	assert_false(fake_control_answered(c));
	bad = fake_control_request("{\"cmd\":\"events\",\"services\":[\"web\",\"nope\"]}", 0);
	assert_true(fake_control_answered(bad));
	assert_non_null(strstr(fake_control_output(bad), "no service named \\\"nope\\\""));
	fake_control_free(bad);
	running(f);
	in_order(fake_control_output(c), stream, ARRAY_SIZE(stream));
	assert_false(fake_control_answered(c)); /* a stream has no end of its own */
	t = fake_control_request("{\"cmd\":\"timeline\"}", 1000);
	assert_true(fake_control_answered(t));
	in_order(fake_control_output(t), timeline, ARRAY_SIZE(timeline));
	assert_non_null(strstr(fake_control_output(t), "\"started_mono_ns\""));
	fake_control_free(t);
	fake_control_free(c);
}

int main(void)
{
	log_init("readyd", getenv("READYD_TEST_VERBOSE") ? LOG_DEBUG : LOG_WARNING);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(kernel_events_make_it_running),
		T(the_syscall_window_closes_after_the_start),
		T(events_of_an_earlier_instance_do_not_count),
		T(operators_are_root_and_see_every_transition),
		T(a_stranger_cannot_speak_for_the_service),
		T(a_stream_and_the_timeline_see_the_boot_in_order),
	};
	return cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
}
