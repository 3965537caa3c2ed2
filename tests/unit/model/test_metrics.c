// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The textfile's exposition: metric families, one-hot states, timings, escaping (pure). */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/metrics.h"
#include "base/clock.h"
#include "base/util.h"

#define SEC NSEC_PER_SEC

static struct service_config cfg;
static struct listen_spec listen_store[1];
static struct svc svc;

static void make_service(const char *listen)
{
	const char *why;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = listen_store;
	str_copy(cfg.name, "web", sizeof(cfg.name));
	cfg.ready_timeout_ns = 30 * SEC;
	cfg.stop_timeout_ns = SEC;
	cfg.backoff = backoff_default;
	cfg.ready = READY_ACCEPT;
	if (listen) {
		assert_int_equal(listen_spec_parse(listen, &cfg.listen[0], &why), 0);
		cfg.n_listen = 1;
	}
	svc_free(&svc);
	svc_init(&svc, &cfg);
}

static char *render(uint64_t events)
{
	static struct strbuf b;
	const struct svc *list[] = { &svc };
	struct metrics_global g = { .version = "1.2.3",
				    .mode = "tracepoint",
				    .events_total = events };

	metrics_render(&b, &g, list, 1);
	assert_false(b.oom);
	return b.data;
}

static void contains(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing line:\n%s\nin:\n%s", line, text);
}

static void every_family_has_help_and_type(void **state)
{
	static const char *const families[] = {
		"readyd_build_info",
		"readyd_tracer_mode",
		"readyd_events_total",
		"readyd_events_dropped_total",
		"readyd_service_state",
		"readyd_service_restarts_total",
		"readyd_service_ready_seconds",
		"readyd_service_phase_seconds",
		"readyd_listener_state",
	};
	char *text;
	char want[128];

	(void)state;
	make_service("tcp:8080");
	text = render(0);
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		snprintf(want, sizeof(want), "# HELP %s ", families[i]);
		contains(text, want);
		snprintf(want, sizeof(want), "# TYPE %s ", families[i]);
		contains(text, want);
	}
}

static void state_is_one_hot(void **state)
{
	char *text;

	(void)state;
	make_service("tcp:8080");
	text = render(7);
	contains(text, "readyd_service_state{service=\"web\",state=\"stopped\"} 1\n");
	contains(text, "readyd_service_state{service=\"web\",state=\"running\"} 0\n");
	contains(text, "readyd_tracer_mode{mode=\"tracepoint\"} 1\n");
	contains(text, "readyd_tracer_mode{mode=\"fentry\"} 0\n");
	contains(text, "readyd_events_total 7\n");
	contains(text,
		 "readyd_listener_state{service=\"web\",listen=\"tcp:8080\",state=\"absent\"} 1\n");
	assert_null(strstr(text, "readyd_service_ready_seconds{")); /* not ready: absent */
}

/* Socket 1 of the service, on 0.0.0.0:8080, reached lv at `at` (the kernel's stamp and now). */
static void socket_at(enum level lv, uint64_t at)
{
	struct sock_addr addr = { .family = AF_INET, .sock_type = SOCK_STREAM, .port = 8080 };
	struct svc_sock k = { .sk = 1, .addr = &addr, .level = lv, .at = at };
	struct svc_actions a;

	svc_handle(&svc, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k }, at, &a);
	assert_true(a.level_changed);
}

static void timings_after_ready(void **state)
{
	struct svc_actions a;
	char *text;

	(void)state;
	make_service("tcp:8080");
	svc_handle(&svc, SVC_EV_START, NULL, 100 * SEC, &a);
	socket_at(LEVEL_BOUND, 100 * SEC + 10000000);
	socket_at(LEVEL_LISTENING, 100 * SEC + 20000000);
	socket_at(LEVEL_ACCEPTING, 100 * SEC + 1500000000);
	text = render(0);
	contains(text, "readyd_service_ready_seconds{service=\"web\"} 1.500000\n");
	contains(text, "readyd_service_phase_seconds{service=\"web\",phase=\"bind\"} 0.010000\n");
	contains(text, "readyd_service_phase_seconds{service=\"web\",phase=\"listen\"} 0.020000\n");
	contains(text, "readyd_service_phase_seconds{service=\"web\",phase=\"accept\"} 1.500000\n");
	contains(text, "readyd_service_state{service=\"web\",state=\"running\"} 1\n");
	contains(text, "listen=\"tcp:8080\",state=\"accepting\"} 1\n");
}

static void label_values_are_escaped(void **state)
{
	struct strbuf b = { 0 };

	(void)state;
	strbuf_label_value(&b, "unix:/run/a\"b\\c\nd");
	assert_string_equal(b.data, "unix:/run/a\\\"b\\\\c\\nd");
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_family_has_help_and_type),
		cmocka_unit_test(state_is_one_hot),
		cmocka_unit_test(timings_after_ready),
		cmocka_unit_test(label_values_are_escaped),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
