// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel events -> listener levels -> service state machine events. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "os/sockets.h"
#include "base/util.h"

_Static_assert((int)VIA_ACCEPT == RD_VIA_ACCEPT && (int)VIA_EPOLL == RD_VIA_EPOLL &&
		       (int)VIA_POLL == RD_VIA_POLL && (int)VIA_SELECT == RD_VIA_SELECT &&
		       (int)VIA_FENTRY == RD_VIA_FENTRY,
	       "the model's accept_via names the kernel's rd_accept_via");

static void event_addr(const struct rd_event *e, struct sock_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = e->family;
	a->sock_type = e->sock_type;
	a->port = e->port;
	memcpy(a->addr, e->addr, sizeof(a->addr));
	memcpy(a->path, e->path, sizeof(a->path) - 1);
}

static void event_comm(const struct rd_event *e, char *comm, size_t size)
{
	char raw[RD_COMM_LEN + 1];

	memcpy(raw, e->comm, RD_COMM_LEN);
	raw[RD_COMM_LEN] = '\0';
	str_sanitize(raw);
	str_copy(comm, raw, size);
}

static void log_level_change(struct unit *u, const struct listener *l, const struct rd_event *e)
{
	char comm[RD_COMM_LEN + 1], took[32], label[2 * SOCK_ADDR_TEXT_MAX];

	event_comm(e, comm, sizeof(comm));
	fmt_duration(took, sizeof(took),
		     e->ts_ns > u->svc.spawned_at ? e->ts_ns - u->svc.spawned_at : 0);
	/* An observed unix path is the service's choice: escaped, it cannot forge log lines. */
	log_escape(label, sizeof(label), l->label);
	if (l->level == LEVEL_ACCEPTING)
		log_info(
		    "service=%s listener=\"%s\" level=accepting via=%s pid=%d comm=%s after=%s",
		    u->cfg->name, label, accept_via_name(l->via), (int)e->tgid, comm, took);
	else
		log_info("service=%s listener=\"%s\" level=%s pid=%d comm=%s after=%s",
			 u->cfg->name, label, level_name(l->level), (int)e->tgid, comm, took);
}

/* A failed bind on a declared address: name who holds it, once per instance. */
static void on_bind_failed(struct unit *u, const struct rd_event *e, const struct sock_addr *a)
{
	struct listener *l = svc_listener_for(&u->svc, 0, a, false);
	char text[160];

	if (-e->err != EADDRINUSE) {
		if (l)
			l->bind_errno = -e->err;
		return;
	}
	if (l && l->bind_errno == EADDRINUSE)
		return;
	char quoted[2 * sizeof(text)];

	sockets_describe_holder(a, text, sizeof(text));
	log_warn("service=%s msg=\"port conflict\" detail=\"%s\" pid=%d", u->cfg->name,
		 log_escape(quoted, sizeof(quoted), text), (int)e->tgid);
	if (!l)
		return;
	l->bind_errno = EADDRINUSE;
	snprintf(l->conflict, sizeof(l->conflict), "port conflict: %s", text);
	daemon_mark_dirty(u->d);
}

static void on_bind(struct unit *u, const struct rd_event *e)
{
	struct sock_addr a;
	struct listener *l;
	bool changed;

	event_addr(e, &a);
	if (e->err) {
		on_bind_failed(u, e, &a);
		return;
	}
	/* Binds alone make no observed listener: clients bind too. */
	l = svc_listener_for(&u->svc, e->sk, &a, false);
	if (!l)
		return;
	if (l->spec && listen_spec_connectionless(l->spec, e->sock_type))
		l->connectionless = true;
	if (!l->has_bound) {
		l->bound = a;
		l->has_bound = true;
	}
	l->bind_errno = 0;
	l->conflict[0] = '\0';
	changed = listener_note(l, e->sk, LEVEL_BOUND, e->ts_ns);
	listener_set_ino(l, e->sk, e->ino);
	if (changed) {
		log_level_change(u, l, e);
		unit_handle(u, SVC_EV_PROGRESS, NULL);
	}
	daemon_mark_dirty(u->d);
}

static void on_level(struct unit *u, const struct rd_event *e, enum level level)
{
	struct sock_addr a;
	struct listener *l;
	bool changed;

	event_addr(e, &a);
	l = svc_listener_for(&u->svc, e->sk, &a, true);
	if (!l) {
		char label[SOCK_ADDR_TEXT_MAX], esc[2 * SOCK_ADDR_TEXT_MAX];
		sock_addr_format(label, sizeof(label), &a);
		log_debug("service=%s msg=\"undeclared listener ignored\" listener=\"%s\" level=%s",
			  u->cfg->name, log_escape(esc, sizeof(esc), label), level_name(level));
		return;
	}
	if (!l->has_bound) {
		l->bound = a;
		l->has_bound = true;
	}
	if (level == LEVEL_ACCEPTING) {
		l->pid = (pid_t)e->tgid;
		l->via = e->aux;
		event_comm(e, l->comm, sizeof(l->comm));
	}
	changed = listener_note(l, e->sk, level, e->ts_ns);
	listener_set_ino(l, e->sk, e->ino);
	if (changed) {
		log_level_change(u, l, e);
		unit_handle(u, SVC_EV_PROGRESS, NULL);
	}
	if (e->family == AF_UNIX)
		daemon_watch_unix(u->d);
	daemon_mark_dirty(u->d);
}

/* Is pid the main process of one of u's processes? */
static bool unit_is_main(pid_t pid, const struct unit *u)
{
	for (size_t i = 0; i < u->n_procs; i++)
		if (u->procs[i].child.pid == pid)
			return true;
	return false;
}

static void on_close(struct unit *u, const struct rd_event *e)
{
	struct listener *l = svc_listener_for(&u->svc, e->sk, NULL, false);
	struct svc_input in = {0};

	if (!l || !listener_note(l, e->sk, LEVEL_CLOSED, e->ts_ns))
		return;
	log_level_change(u, l, e);
	daemon_mark_dirty(u->d);
	/*
	 * Lost only if it mattered (another observed listener may still serve),
	 * and not when its main process is exiting: the exit is the news, and
	 * must be judged as an exit (on_unhealthy = restart would otherwise
	 * turn a crash into a liveness restart).
	 */
	if (e->aux && unit_is_main((pid_t)e->tgid, u))
		return;
	if (l->level == LEVEL_CLOSED && !svc_listeners_ready(&u->svc)) {
		in.why = l->label;
		unit_handle(u, SVC_EV_LISTENER_LOST, &in);
	}
}

void daemon_on_event(const struct rd_event *e, void *ctx)
{
	struct daemon *d = ctx;
	struct unit *u = daemon_unit(d, RD_KID_UNIT(e->service));

	d->events_total++;
	daemon_sock_table_forget(d); /* a dump from before this event must not judge it */
	if (!u) {
		log_debug("msg=\"event for unknown service id\" id=%u type=%u", e->service,
			  e->type);
		return;
	}
	if (e->type == RD_EV_EXIT) /* from any instance: an sd_notify sender may be it */
		daemon_note_exit(d, (pid_t)e->tgid, e->service, e->ts_ns);
	/* Still queued from the previous instance: it must not count for this one. */
	if (e->ts_ns < u->svc.spawned_at) {
		log_debug("service=%s msg=\"event from a previous instance ignored\" type=%u",
			  u->cfg->name, e->type);
		return;
	}
	switch (e->type) {
	case RD_EV_BIND:
		on_bind(u, e);
		break;
	case RD_EV_LISTEN:
		on_level(u, e, LEVEL_LISTENING);
		break;
	case RD_EV_ACCEPTING:
		on_level(u, e, LEVEL_ACCEPTING);
		break;
	case RD_EV_CLOSE:
		on_close(u, e);
		break;
	case RD_EV_FORK:
		log_debug("service=%s msg=\"process forked\" parent=%u child=%u", u->cfg->name,
			  e->tgid, e->aux);
		break;
	case RD_EV_EXIT:
		log_debug("service=%s msg=\"process exited\" pid=%u", u->cfg->name, e->tgid);
		unit_tree_exit(u, RD_KID_PROC(e->service));
		break;
	default:
		log_debug("msg=\"unknown event type\" type=%u", e->type);
	}
}
