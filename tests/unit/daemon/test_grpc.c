// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gRPC health service in the real composition (daemon.c's modules over
 * the fakes), asked by a libnghttp2 client over loopback: Check answers
 * from the state; a Watch is told by observe, in the very call that made
 * the transition: its message is in the client's socket before the loop
 * turns again.
 */
#include "cmocka_all.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
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
#include "base/loop.h"
#include "base/util.h"
#include "fakes/fakes.h"

static const uint8_t SERVING[] = { 0, 0, 0, 0, 2, 0x08, 1 };
static const uint8_t NOT_SERVING[] = { 0, 0, 0, 0, 2, 0x08, 2 };

struct client {
	int fd;
	nghttp2_session *session;
	uint8_t body[80];
	size_t body_len, body_off;
	uint8_t got[256];
	size_t got_len;
	int grpc_status; /* -1 until the trailers */
	bool goaway, eof;
	unsigned int refused; /* streams readyd reset with REFUSED_STREAM */
};

struct fixture {
	char dir[64], sock[96];
	int listener;
	uint64_t ino;
	uint16_t port;
	struct config *cfg;
	struct daemon_opts opts;
	struct daemon d;
	struct client c;
};

/* ---- the client ---- */

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	struct client *c = user;

	(void)s, (void)flags, (void)id;
	assert_true(len <= sizeof(c->got) - c->got_len);
	memcpy(c->got + c->got_len, data, len);
	c->got_len += len;
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct client *c = user;

	(void)s, (void)frame, (void)flags, (void)valuelen;
	if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		c->grpc_status = atoi((const char *)value);
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct client *c = user;

	(void)s;
	c->goaway |= frame->hd.type == NGHTTP2_GOAWAY;
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct client *c = user;

	(void)s, (void)id;
	c->refused += code == NGHTTP2_REFUSED_STREAM;
	return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct client *c = user;
	size_t n = c->body_len - c->body_off < length ? c->body_len - c->body_off : length;

	(void)s, (void)id, (void)src;
	memcpy(buf, c->body + c->body_off, n);
	c->body_off += n;
	if (c->body_off == c->body_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void client_open(struct client *c, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* HEADERS and DATA go at once: Nagle would hold the DATA for readyd's delayed ACK */
	assert_int_equal(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)), 0);
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	/* Before readyd's SETTINGS arrive, this client opens as many streams as it likes. */
	assert_int_equal(nghttp2_option_new(&opt), 0);
	nghttp2_option_set_peer_max_concurrent_streams(opt, 1000);
	assert_int_equal(nghttp2_session_client_new2(&c->session, cb, c, opt), 0);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

static void client_close(struct client *c)
{
	if (c->session)
		nghttp2_session_del(c->session);
	if (c->fd > 0)
		close(c->fd);
}

#define NV(k, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE         \
	}

static void client_ask(struct client *c, const char *method, const char *service)
{
	char path[64];
	size_t n = strlen(service);
	nghttp2_data_provider prd = { .read_callback = read_body };

	snprintf(path, sizeof(path), "/grpc.health.v1.Health/%s", method);
	nghttp2_nv nv[] = { NV(":method", "POST"),
			    NV(":scheme", "http"),
			    NV(":path", path),
			    NV(":authority", "localhost"),
			    NV("content-type", "application/grpc"),
			    NV("te", "trailers") };
	memset(c->body, 0, 5);
	c->body[4] = (uint8_t)(n ? n + 2 : 0);
	c->body[5] = 0x0a;
	c->body[6] = (uint8_t)n;
	memcpy(c->body + 7, service, n);
	c->body_len = n ? 7 + n : 5;
	c->body_off = 0;
	c->got_len = 0;
	c->grpc_status = -1;
	assert_true(nghttp2_submit_request(c->session, NULL, nv, 6, &prd, NULL) > 0);
}

/* Send what the session has; take in what readyd sent already (never waits). */
static void client_io(struct client *c)
{
	const uint8_t *data;
	uint8_t buf[4096];
	ssize_t n;

	while ((n = nghttp2_session_mem_send(c->session, &data)) > 0)
		assert_int_equal(send(c->fd, data, (size_t)n, MSG_NOSIGNAL), n);
	assert_int_equal(n, 0);
	while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		assert_int_equal(nghttp2_session_mem_recv(c->session, buf, (size_t)n), n);
	c->eof |= n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Turn readyd's loop and the client's until want bytes came (or the trailers did). */
static void exchange(struct fixture *f, size_t want)
{
	for (int i = 0; i < 200 && f->c.got_len < want && f->c.grpc_status < 0; i++) {
		client_io(&f->c);
		loop_run_once(f->d.loop, 5);
		usleep(1000); /* the fake clock's timers may make each turn return at once */
		client_io(&f->c);
	}
}

/* ---- readyd ---- */

static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_diag diag;
	char text[1024];

	str_copy(f->dir, "/tmp/readyd-unit-grpc-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/web.sock", f->dir);
	f->port = free_port();
	snprintf(text, sizeof(text),
		 "[readyd]\ntextfile = %s/readyd.prom\ncontrol = %s/control.sock\n"
		 "grpc_listen = %u\n\n[service \"web\"]\ncommand = /bin/sleep 30\n"
		 "listen = unix:%s\nready_timeout = 10s\n",
		 f->dir, f->dir, f->port, f->sock);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_int_equal(config_parse_text("test", text, NULL, f->cfg, &diag), 0);
	config_diag_free(&diag);
	f->cfg->refs = 1;
	f->opts = (struct daemon_opts){ .config_path = "test", .config = f->cfg };
	assert_int_equal(daemon_init(&f->d, &f->opts), 0);
	f->listener = -1;
	daemon_start(&f->d);
	loop_run_once(f->d.loop, 0); /* the spawn is a loop job */
	assert_true(f->d.units[0]->svc.pid > 0);
	client_open(&f->c, f->port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[96];

	client_close(&f->c);
	unit_signal(f->d.units[0], SIGKILL);
	daemon_free(&f->d);
	config_unref(f->cfg);
	if (f->listener >= 0)
		close(f->listener);
	unlink(f->sock);
	snprintf(path, sizeof(path), "%s/readyd.prom", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void socket_event(struct fixture *f, enum rd_event_type type, unsigned int via)
{
	struct unit *u = f->d.units[0];
	struct rd_event e = { .type = type,
			      .sk = 0xfeed,
			      .ino = f->ino,
			      .family = AF_UNIX,
			      .sock_type = SOCK_STREAM,
			      .aux = via,
			      .fd = 3 };

	e.kid = RD_KID(u->id, 0);
	e.tgid = e.pid = (uint32_t)u->svc.pid;
	str_copy(e.path, f->sock, sizeof(e.path));
	memcpy(e.comm, "sleep", 6);
	fake_tracer_emit(e);
}

/* The web service's socket, held by the test (sock_diag sees it), bound and listening. */
static void listening(struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	str_copy(sa.sun_path, f->sock, sizeof(sa.sun_path));
	f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listener, 8), 0);
	assert_int_equal(fstat(f->listener, &st), 0);
	f->ino = st.st_ino;
	socket_event(f, RD_EV_BIND, 0);
	socket_event(f, RD_EV_LISTEN, 0);
}

/* ---- tests ---- */

static void check_answers_from_the_state(void **state)
{
	struct fixture *f = *state;

	client_ask(&f->c, "Check", "web");
	exchange(f, sizeof(NOT_SERVING));
	assert_int_equal(f->c.got_len, sizeof(NOT_SERVING));
	assert_memory_equal(f->c.got, NOT_SERVING, sizeof(NOT_SERVING)); /* starting */
	exchange(f, SIZE_MAX);
	assert_int_equal(f->c.grpc_status, 0);
	client_ask(&f->c, "Check", "nope");
	exchange(f, SIZE_MAX);
	assert_int_equal(f->c.grpc_status, 5); /* NOT_FOUND */
	assert_int_equal(f->c.got_len, 0);
	client_ask(&f->c, "List", "");
	exchange(f, SIZE_MAX);
	assert_int_equal(f->c.grpc_status, 12); /* UNIMPLEMENTED */
	listening(f);
	socket_event(f, RD_EV_ACCEPTING, RD_VIA_EPOLL);
	assert_int_equal(f->d.units[0]->svc.state, SVC_RUNNING);
	client_ask(&f->c, "Check", "");
	exchange(f, SIZE_MAX);
	assert_int_equal(f->c.grpc_status, 0);
	assert_memory_equal(f->c.got, SERVING, sizeof(SERVING)); /* all (one) running */
}

static void watch_is_told_in_the_transition_call(void **state)
{
	struct fixture *f = *state;

	client_ask(&f->c, "Watch", "web");
	exchange(f, sizeof(NOT_SERVING));
	assert_int_equal(f->c.got_len, sizeof(NOT_SERVING));
	assert_memory_equal(f->c.got, NOT_SERVING, sizeof(NOT_SERVING));
	listening(f); /* listening is not ready: no change, no message */
	client_io(&f->c);
	assert_int_equal(f->c.got_len, sizeof(NOT_SERVING));
	socket_event(f, RD_EV_ACCEPTING, RD_VIA_EPOLL);
	assert_int_equal(f->d.units[0]->svc.state, SVC_RUNNING);
	client_io(&f->c); /* readyd's loop has not turned: observe sent it */
	assert_int_equal(f->c.got_len, 2 * sizeof(SERVING));
	assert_memory_equal(f->c.got + sizeof(NOT_SERVING), SERVING, sizeof(SERVING));
	socket_event(f, RD_EV_CLOSE, 0); /* the listener goes: unhealthy */
	assert_int_equal(f->d.units[0]->svc.state, SVC_UNHEALTHY);
	client_io(&f->c);
	assert_int_equal(f->c.got_len, 3 * sizeof(SERVING));
	assert_memory_equal(f->c.got + 2 * sizeof(SERVING), NOT_SERVING, sizeof(NOT_SERVING));
	assert_int_equal(f->c.grpc_status, -1); /* the stream goes on */
}

static void streams_over_the_limit_are_refused(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 101; i++) /* all sent before readyd's SETTINGS are read */
		client_ask(&f->c, "Watch", "web");
	for (int i = 0; i < 100 && f->c.refused == 0; i++) {
		client_io(&f->c);
		loop_run_once(f->d.loop, 5);
		usleep(1000);
		client_io(&f->c);
	}
	assert_int_equal(f->c.refused, 1);
	assert_false(f->c.eof); /* the connection and its 100 Watches go on */
}

static void silent_and_idle_connections_are_closed(void **state)
{
	struct fixture *f = *state;
	struct client quiet = { 0 };
	uint8_t buf[64];

	client_open(&quiet, f->port); /* connects, sends nothing (not even its preface) */
	loop_run_once(f->d.loop, 5);
	client_ask(&f->c, "Check", "web");
	exchange(f, SIZE_MAX);
	assert_int_equal(f->c.grpc_status, 0);
	fake_clock_advance(5 * NSEC_PER_SEC);
	loop_expire(f->d.loop);
	usleep(1000);
	/* readyd's SETTINGS (2 of them), then the end: no request within 5 s */
	assert_int_equal(recv(quiet.fd, buf, sizeof(buf), MSG_DONTWAIT), 9 + 2 * 6);
	assert_int_equal(recv(quiet.fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	client_io(&f->c);
	assert_false(f->c.eof); /* it asked: it stays */
	fake_clock_advance(299 * NSEC_PER_SEC);
	loop_expire(f->d.loop);
	client_io(&f->c);
	assert_false(f->c.eof);
	fake_clock_advance(2 * NSEC_PER_SEC); /* 5 min with no stream and no request */
	loop_expire(f->d.loop);
	usleep(1000);
	client_io(&f->c);
	assert_true(f->c.goaway);
	assert_true(f->c.eof);
	client_close(&quiet);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(check_answers_from_the_state, setup, teardown),
		cmocka_unit_test_setup_teardown(watch_is_told_in_the_transition_call, setup,
						teardown),
		cmocka_unit_test_setup_teardown(streams_over_the_limit_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(silent_and_idle_connections_are_closed, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("grpc", tests, NULL, NULL);
}
