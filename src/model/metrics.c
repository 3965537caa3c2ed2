// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/metrics.h"

#include <string.h>

#include "base/clock.h"
#include "base/util.h"

static const char *const modes[] = { "fentry", "tracepoint", "poll" };
static const char *const phases[] = {
	[LEVEL_BOUND] = "bind", [LEVEL_LISTENING] = "listen", [LEVEL_ACCEPTING] = "accept"
};

static void family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void seconds(struct strbuf *b, uint64_t ns)
{
	strbuf_printf(b, "%.6f\n", (double)ns / NSEC_PER_SEC);
}

/* `name{service="x"` — the caller closes the brace. */
static void with_service(struct strbuf *b, const char *name, const struct svc *s)
{
	strbuf_printf(b, "%s{service=\"", name);
	strbuf_label_value(b, s->cfg->name);
	strbuf_printf(b, "\"");
}

static void render_global(struct strbuf *b, const struct metrics_global *g)
{
	family(b, "readyd_build_info", "gauge", "readyd version, always 1.");
	strbuf_printf(b, "readyd_build_info{version=\"");
	strbuf_label_value(b, g->version);
	strbuf_printf(b, "\"} 1\n");
	family(b, "readyd_tracer_mode", "gauge",
	       "How readyd observes sockets: 1 for the mode in use (fentry, tracepoint, poll).");
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		strbuf_printf(b, "readyd_tracer_mode{mode=\"%s\"} %d\n", modes[i],
			      strcmp(modes[i], g->mode) == 0);
	family(b, "readyd_events_total", "counter", "Kernel events received from the ring buffer.");
	strbuf_printf(b, "readyd_events_total %llu\n", (unsigned long long)g->events_total);
	family(b, "readyd_events_dropped_total", "counter",
	       "Kernel events lost because the ring buffer was full.");
	strbuf_printf(b, "readyd_events_dropped_total %llu\n",
		      (unsigned long long)g->events_dropped);
	family(b, "readyd_connections_shed_total", "counter",
	       "Connections to readyd's own listeners closed unanswered: readyd was out of file "
	       "descriptors.");
	strbuf_printf(b, "readyd_connections_shed_total %llu\n",
		      (unsigned long long)g->connections_shed);
}

static void render_states(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	family(b, "readyd_service_state", "gauge",
	       "Service state, one-hot over stopped, starting, running, unhealthy, failed, "
	       "stopping.");
	for (size_t i = 0; i < n; i++)
		for (int st = 0; st < SVC_STATE_COUNT; st++) {
			with_service(b, "readyd_service_state", svcs[i]);
			strbuf_printf(b, ",state=\"%s\"} %d\n", svc_state_name(st),
				      svcs[i]->state == (enum svc_state)st);
		}
	family(b, "readyd_service_restarts_total", "counter",
	       "Restarts: by the restart policy, by on_unhealthy = restart, or by an operator.");
	for (size_t i = 0; i < n; i++) {
		with_service(b, "readyd_service_restarts_total", svcs[i]);
		strbuf_printf(b, "} %llu\n", (unsigned long long)svcs[i]->restarts);
	}
	family(b, "readyd_service_transitions_total", "counter", "Transitions into each state.");
	for (size_t i = 0; i < n; i++)
		for (int st = 0; st < SVC_STATE_COUNT; st++) {
			with_service(b, "readyd_service_transitions_total", svcs[i]);
			strbuf_printf(b, ",to=\"%s\"} %llu\n", svc_state_name(st),
				      (unsigned long long)svcs[i]->transitions[st]);
		}
	family(b, "readyd_service_start_limit_hit", "gauge",
	       "1 while the start limit holds the service failed (until reset or started).");
	for (size_t i = 0; i < n; i++) {
		with_service(b, "readyd_service_start_limit_hit", svcs[i]);
		strbuf_printf(b, "} %d\n", svcs[i]->start_limit_hit);
	}
}

/* A countdown in a file written on changes: from its writing (its mtime says when). */
static void render_next_start(struct strbuf *b, const struct svc *const *svcs, size_t n,
			      uint64_t now)
{
	family(b, "readyd_service_next_start_seconds", "gauge",
	       "Held by the start limit: seconds from this file's writing until the one more try "
	       "start_limit_cooldown allows (add node_textfile_mtime_seconds for when).");
	for (size_t i = 0; i < n; i++) {
		uint64_t left;
		if (!svc_next_try(svcs[i], now, &left))
			continue;
		with_service(b, "readyd_service_next_start_seconds", svcs[i]);
		strbuf_printf(b, "} %.3f\n", (double)left / 1e9);
	}
}

/* `name{service="x",probe="..."` — the caller closes the brace. */
static void with_probe(struct strbuf *b, const char *name, const struct svc *s, size_t i)
{
	with_service(b, name, s);
	strbuf_printf(b, ",probe=\"");
	strbuf_label_value(b, s->cfg->probes[i].text);
	strbuf_printf(b, "\"");
}

static void render_probes(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	family(b, "readyd_probe_success", "gauge", "1 if the probe's last run passed, else 0.");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < svcs[i]->cfg->n_probes; j++)
			if (svcs[i]->probes[j].has_result) {
				with_probe(b, "readyd_probe_success", svcs[i], j);
				strbuf_printf(b, "} %d\n", svcs[i]->probes[j].last_ok);
			}
	family(b, "readyd_probe_duration_seconds", "gauge", "How long the probe's last run took.");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < svcs[i]->cfg->n_probes; j++)
			if (svcs[i]->probes[j].has_result) {
				with_probe(b, "readyd_probe_duration_seconds", svcs[i], j);
				strbuf_printf(b, "} ");
				seconds(b, svcs[i]->probes[j].last_duration_ns);
			}
	family(b, "readyd_probe_runs_total", "counter", "Probe runs, passed or failed.");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < svcs[i]->cfg->n_probes; j++) {
			with_probe(b, "readyd_probe_runs_total", svcs[i], j);
			strbuf_printf(b, "} %llu\n", (unsigned long long)svcs[i]->probes[j].runs);
		}
	family(b, "readyd_probe_failures_total", "counter", "Probe runs that failed.");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < svcs[i]->cfg->n_probes; j++) {
			with_probe(b, "readyd_probe_failures_total", svcs[i], j);
			strbuf_printf(b, "} %llu\n",
				      (unsigned long long)svcs[i]->probes[j].failures);
		}
}

static void render_timings(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	family(b, "readyd_service_ready_seconds", "gauge",
	       "Seconds from spawn to running for the current instance (absent until ready).");
	for (size_t i = 0; i < n; i++)
		if (svcs[i]->ready_at) {
			with_service(b, "readyd_service_ready_seconds", svcs[i]);
			strbuf_printf(b, "} ");
			seconds(b, svcs[i]->ready_at - svcs[i]->spawned_at);
		}
	family(b, "readyd_service_phase_seconds", "gauge",
	       "Seconds from spawn until every declared listener was bound (bind), listening "
	       "(listen) and accepting (accept), for the current instance.");
	for (size_t i = 0; i < n; i++)
		for (int lv = LEVEL_BOUND; lv <= LEVEL_ACCEPTING; lv++) {
			uint64_t at = svc_phase_at(svcs[i], lv);
			if (!at || !svcs[i]->spawned_at || at < svcs[i]->spawned_at)
				continue;
			with_service(b, "readyd_service_phase_seconds", svcs[i]);
			strbuf_printf(b, ",phase=\"%s\"} ", phases[lv]);
			seconds(b, at - svcs[i]->spawned_at);
		}
}

static void render_listener(struct strbuf *b, const struct svc *s, const struct listener *l)
{
	for (int lv = 0; lv < LEVEL_COUNT; lv++) {
		with_service(b, "readyd_listener_state", s);
		strbuf_printf(b, ",listen=\"");
		strbuf_label_value(b, l->label);
		strbuf_printf(b, "\",state=\"%s\"} %d\n", level_name(lv),
			      l->level == (enum level)lv);
	}
}

static void render_listeners(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	family(b, "readyd_listener_state", "gauge",
	       "Listener level, one-hot over absent, bound, listening, accepting, closed.");
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < svcs[i]->n_listeners; j++)
			render_listener(b, svcs[i], &svcs[i]->listeners[j]);
		for (size_t j = 0; j < svcs[i]->n_observed; j++)
			render_listener(b, svcs[i], &svcs[i]->observed[j]);
	}
}

/* One line of a per-listener family: readyd_x{service,listen} value. */
static void listener_line(struct strbuf *b, const char *name, const struct svc *s,
			  const struct listener *l, unsigned long long v)
{
	with_service(b, name, s);
	strbuf_printf(b, ",listen=\"");
	strbuf_label_value(b, l->label);
	strbuf_printf(b, "\"} %llu\n", v);
}

static bool queue_known(const struct listener *l)
{
	return l->spec && !l->connectionless && l->queue.sampled;
}

static bool stream_declared(const struct listener *l)
{
	return l->spec && !l->connectionless;
}

static unsigned long long queue_depth(const struct listener *l)
{
	return l->queue.depth;
}

static unsigned long long queue_backlog(const struct listener *l)
{
	return l->queue.backlog;
}

static unsigned long long queue_overflows(const struct listener *l)
{
	return l->queue.overflows;
}

/* A per-listener family over the declared listeners `want` picks. */
static void listener_family(struct strbuf *b, const struct svc *const *svcs, size_t n,
			    const char *name, const char *type, const char *help,
			    bool (*want)(const struct listener *),
			    unsigned long long (*value)(const struct listener *))
{
	family(b, name, type, help);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < svcs[i]->n_listeners; j++)
			if (want(&svcs[i]->listeners[j]))
				listener_line(b, name, svcs[i], &svcs[i]->listeners[j],
					      value(&svcs[i]->listeners[j]));
}

/* Accept queues of declared stream listeners, as last sampled (daemon_sockets.c). */
static void render_queues(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	listener_family(b, svcs, n, "readyd_listener_accept_queue", "gauge",
			"Connections waiting in the accept queue of a declared listener (sock_diag "
			"rqueue).",
			queue_known, queue_depth);
	listener_family(
		b, svcs, n, "readyd_listener_backlog", "gauge",
		"The accept queue's limit (listen() backlog, capped by net.core.somaxconn).",
		queue_known, queue_backlog);
	listener_family(
		b, svcs, n, "readyd_listener_overflows_total", "counter",
		"Connections the node dropped (TcpExt ListenOverflows) while this listener's "
		"queue was full.",
		stream_declared, queue_overflows);
	family(b, "readyd_socket_findings", "gauge",
	       "Declared listeners with each kind of socket finding (readyctl sockets explains "
	       "them).");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < FINDING_COUNT; k++) {
			unsigned int count = 0;
			for (size_t j = 0; j < svcs[i]->n_listeners; j++)
				count += !!(svcs[i]->listeners[j].findings & (1U << k));
			with_service(b, "readyd_socket_findings", svcs[i]);
			strbuf_printf(b, ",kind=\"%s\"} %u\n", sock_finding_name(k), count);
		}
}

static void render_reports(struct strbuf *b, const struct svc *const *svcs, size_t n)
{
	family(b, "readyd_service_ready_mismatch", "gauge",
	       "1 while the service says it is ready (READY=1 or its marker) and the kernel shows "
	       "a "
	       "declared listener not accepting.");
	for (size_t i = 0; i < n; i++) {
		with_service(b, "readyd_service_ready_mismatch", svcs[i]);
		strbuf_printf(b, "} %d\n", svcs[i]->ready_mismatch);
	}
	family(b, "readyd_service_ready_mismatches_total", "counter",
	       "Self-reports (READY=1, a marker, the fd line) the kernel did not bear out within "
	       "25 ms: no declared listener accepting by then.");
	for (size_t i = 0; i < n; i++) {
		with_service(b, "readyd_service_ready_mismatches_total", svcs[i]);
		strbuf_printf(b, "} %llu\n", (unsigned long long)svcs[i]->ready_mismatches);
	}
	family(b, "readyd_notify_messages_total", "counter", "sd_notify messages accepted.");
	for (size_t i = 0; i < n; i++) {
		with_service(b, "readyd_notify_messages_total", svcs[i]);
		strbuf_printf(b, "} %llu\n", (unsigned long long)svcs[i]->notify_accepted);
	}
	family(b, "readyd_notify_rejected_total", "counter",
	       "sd_notify datagrams dropped: malformed, oversized, foreign_sender, "
	       "no_credentials.");
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < REJECT_COUNT; r++) {
			with_service(b, "readyd_notify_rejected_total", svcs[i]);
			strbuf_printf(b, ",reason=\"%s\"} %llu\n", notify_reject_name(r),
				      (unsigned long long)svcs[i]->notify_rejected[r]);
		}
}

void metrics_render(struct strbuf *out, const struct metrics_global *g,
		    const struct svc *const *svcs, size_t n)
{
	strbuf_reset(out);
	render_global(out, g);
	render_states(out, svcs, n);
	render_next_start(out, svcs, n, g->now);
	render_timings(out, svcs, n);
	render_listeners(out, svcs, n);
	render_queues(out, svcs, n);
	render_probes(out, svcs, n);
	render_reports(out, svcs, n);
}
