// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The accept queues of a running service's declared listeners, sampled
 * after each scan with no probe traffic: a queue nobody drains
 * (model/accept_queue.c) makes the listener not ready, and what else the
 * node's table shows (stale files, foreign owners, addresses bound
 * elsewhere) goes with it as findings.
 */
#include <string.h>

#include "daemon/in/scan.h"
#include "daemon/sock_table.h"
#include "daemon/unit.h"
#include "model/findings.h"
#include "os/sockets.h"
#include "base/log.h"
#include "base/util.h"

bool scan_queue_known(const struct unit *u, const struct sock_table *t, struct scan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		size_t own = 0, first, n;
		const uint32_t *idx = sock_table_lookup(t, listen_spec_key(l->spec), &first, &n);

		for (size_t k = 0; k < n; k++) {
			const struct sock_entry *e = &t->v[idx ? idx[first + k] : first + k];
			if (!sock_serves(l->spec, e))
				continue;
			/* Someone the events did not name is there: only /proc can say who. */
			if (!svc_sock_by_ino(&u->svc, e->inode) ||
			    scan_add(out, &(struct scan_sock){ .e = *e }) < 0)
				goto unknown;
			own++;
		}
		if (!own) /* gone, elsewhere, a stale file: the full scan describes it */
			goto unknown;
	}
	return true;
unknown:
	scan_free(out);
	return false;
}

static void log_queue_change(struct unit *u, const struct listener *l, uint64_t now)
{
	char text[sizeof(l->stall)], esc[2 * sizeof(l->stall)];

	if (l->queue.verdict == QUEUE_OK) {
		log_info("service=%s listener=\"%s\" msg=\"accept queue moving again\"",
			 u->cfg->name, l->label);
		return;
	}
	accept_queue_describe(&l->queue, now, text, sizeof(text));
	log_warn("service=%s listener=\"%s\" msg=\"%s\"", u->cfg->name, l->label,
		 log_escape(esc, sizeof(esc), text));
}

bool scan_queue_check(struct unit *u, const struct sock_table *t, const struct scan *sc,
		      uint64_t now)
{
	struct sock_match m;
	bool busy = false;

	for (size_t i = 0; i < u->svc.n_listeners && svc_queues_watched(&u->svc); i++) {
		const struct listener *l = &u->svc.listeners[i];
		struct svc_queue q = { .listener = i, .at = now };
		struct svc_actions a;

		sock_match(l, t, sc, sockets_is_socket_file, &m);
		q.sampled = listener_is_stream(l) && m.backlog;
		if (q.sampled) {
			q.depth = m.depth;
			q.backlog = m.backlog;
			q.node_overflows = daemon_listen_overflows(u->d, now);
		}
		q.findings = sock_match_findings(&m);
		/* Something to watch: connections waiting, a finding, a listener not up. */
		busy |= (q.sampled && q.depth) || q.findings || !listener_ready(l);
		a = unit_handle(u, SVC_EV_QUEUE, &(struct svc_input){ .queue = &q });
		if (q.sampled)
			log_debug(
				"service=%s listener=\"%s\" accept_queue=%u backlog=%u verdict=%d",
				u->cfg->name, l->label, m.depth, m.backlog, l->queue.verdict);
		if (a.queue_changed)
			log_queue_change(u, l, now);
	}
	return busy;
}
