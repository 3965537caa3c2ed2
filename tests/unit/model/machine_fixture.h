/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A service, a fake clock and helpers that feed the machine events the way the daemon's sensors do.
 */
#ifndef READYD_TEST_MACHINE_FIXTURE_H
#define READYD_TEST_MACHINE_FIXTURE_H

#include "cmocka_all.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/service.h"
#include "base/clock.h"
#include "base/util.h"

#define SEC NSEC_PER_SEC
#define MS  NSEC_PER_MSEC

struct fixture {
	struct service_config cfg;
	/* The config's arrays (config.c allocates them; a test's are here). */
	struct listen_spec listen[4];
	unsigned int listen_proc[4];
	struct probe_spec probes[4];
	struct svc svc;
	struct svc_actions act;
	uint64_t now;
};

static inline void add_listen(struct service_config *cfg, const char *text)
{
	const char *why;

	assert_int_equal(listen_spec_parse(text, &cfg->listen[cfg->n_listen++], &why), 0);
}

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->cfg.listen = f->listen;
	f->cfg.listen_proc = f->listen_proc;
	f->cfg.probes = f->probes;
	str_copy(f->cfg.name, "web", sizeof(f->cfg.name));
	f->cfg.ready_timeout_ns = 30 * SEC;
	f->cfg.stop_timeout_ns = 10 * SEC;
	f->cfg.restart = RESTART_ON_FAILURE;
	f->cfg.backoff = backoff_default;
	f->cfg.ready = READY_ACCEPT;
	f->cfg.failure_threshold = 3;
	f->cfg.success_threshold = 1;
	f->cfg.probe_interval_ns = 10 * SEC;
	f->cfg.probe_timeout_ns = 1 * SEC;
	f->cfg.start_limit_burst = 0; /* tests that want one set it */
	f->cfg.start_limit_interval_ns = 60 * SEC;
	add_listen(&f->cfg, "tcp:127.0.0.1:8080");
	f->now = 1000 * SEC;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	svc_free(&f->svc);
	free(f);
	return 0;
}

static inline void init(struct fixture *f)
{
	svc_free(&f->svc); /* a test may start over */
	assert_int_equal(svc_init(&f->svc, &f->cfg), 0);
}

static inline void ev(struct fixture *f, enum svc_event e, const struct svc_input *in)
{
	svc_handle(&f->svc, e, in, f->now, &f->act);
}

static inline void start(struct fixture *f)
{
	struct svc_input in = { .why = "boot" };

	ev(f, SVC_EV_START, &in);
	assert_true(f->act.spawn);
	assert_int_equal(f->svc.state, SVC_STARTING);
	svc_spawned(&f->svc, 4242, f->now);
}

static inline void exit_with(struct fixture *f, int code, int sig)
{
	struct svc_input in = { .exit = { .code = code, .signal = sig } };

	ev(f, SVC_EV_EXIT, &in);
}

/* What a sensor saw of socket sk (as in/events.c reports it). */
static inline void sock_event(struct fixture *f, uint64_t sk, const struct sock_addr *a,
			      enum level lv)
{
	struct svc_sock k = { .sk = sk,
			      .addr = lv == LEVEL_CLOSED ? NULL : a,
			      .level = lv,
			      .may_observe = lv == LEVEL_LISTENING || lv == LEVEL_ACCEPTING,
			      .pid = 4242,
			      .comm = "web",
			      .via = VIA_EPOLL,
			      .at = f->now };

	ev(f, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
}

/* A TCP socket of the service bound to addr:8080 reached `level`. */
static inline void level(struct fixture *f, uint64_t sk, const char *addr, enum level lv)
{
	struct sock_addr a = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };

	inet_pton(AF_INET, addr, a.addr);
	sock_event(f, sk, &a, lv);
}

static inline void deadline(struct fixture *f)
{
	assert_true(f->svc.deadline > 0);
	f->now = f->svc.deadline;
	ev(f, svc_deadline_event(&f->svc), NULL);
}

static inline void add_probe(struct service_config *cfg, const char *text)
{
	const char *why;

	assert_int_equal(probe_spec_parse(text, &cfg->probes[cfg->n_probes++], &why), 0);
}

static inline void probe(struct fixture *f, unsigned int idx, bool ok, const char *why)
{
	struct svc_input in = { .probe = idx, .ok = ok, .why = why, .duration_ns = 3 * MS };

	f->now += 10 * SEC;
	ev(f, SVC_EV_PROBE, &in);
}

static inline void running(struct fixture *f)
{
	start(f);
	level(f, 0xa, "127.0.0.1", LEVEL_ACCEPTING);
	assert_int_equal(f->svc.state, SVC_RUNNING);
}

static inline void notify(struct fixture *f, const char *text)
{
	struct notify_msg m;
	const char *why;
	struct svc_input in = { .notify = &m };

	assert_int_equal(notify_parse(text, strlen(text), &m, &why), 0);
	ev(f, SVC_EV_NOTIFY, &in);
}

/* ---- ways into each state ---- */

static inline void unhealthy(struct fixture *f)
{
	running(f);
	level(f, 0xa, "127.0.0.1", LEVEL_CLOSED);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
}

/* Unhealthy with on_unhealthy = restart: SIGTERM sent, the kill timeout armed. */
static inline void unhealthy_restarting(struct fixture *f)
{
	f->cfg.on_unhealthy = ON_UNHEALTHY_RESTART;
	unhealthy(f);
	assert_int_equal(f->act.signal, SIGTERM);
}

/* ... and its process gone: the restart waits out the backoff, pid 0. */
static inline void unhealthy_waiting(struct fixture *f)
{
	unhealthy_restarting(f);
	exit_with(f, -1, SIGTERM);
	assert_int_equal(f->svc.state, SVC_UNHEALTHY);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_RESTART);
}

/* Failed and waiting to restart: nothing runs. */
static inline void failed(struct fixture *f)
{
	start(f);
	exit_with(f, 1, 0);
	assert_int_equal(f->svc.state, SVC_FAILED);
}

/* Failed at the ready timeout: SIGTERM sent, it still runs. */
static inline void failed_killing(struct fixture *f)
{
	start(f);
	deadline(f);
	assert_int_equal(f->svc.state, SVC_FAILED);
	assert_int_equal(f->svc.deadline_kind, DEADLINE_KILL);
}

static inline void stopping(struct fixture *f)
{
	running(f);
	ev(f, SVC_EV_STOP, NULL);
	assert_int_equal(f->svc.state, SVC_STOPPING);
}

static inline void expect(struct fixture *f, enum svc_state st)
{
	assert_int_equal(f->svc.state, st);
}

#endif
