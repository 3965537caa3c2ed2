// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel events (the ring buffer): what a socket of a service's trees did, as machine events. */
#include "daemon/in/events.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/procs.h"
#include "daemon/sock_table.h"
#include "daemon/unit.h"
#include "os/sockets.h"
#include "os/tracer_event.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

_Static_assert((int)VIA_ACCEPT == RD_VIA_ACCEPT && (int)VIA_EPOLL == RD_VIA_EPOLL &&
		       (int)VIA_POLL == RD_VIA_POLL && (int)VIA_SELECT == RD_VIA_SELECT &&
		       (int)VIA_FENTRY == RD_VIA_FENTRY,
	       "the model's accept_via names the kernel's rd_accept_via");

/* A failed bind on a declared address: who holds it is looked up once per instance. */
static void on_bind_failed(struct unit *u, const struct rd_event *e, const struct svc_sock *k)
{
	const struct listener *l = svc_listener_for(&u->svc, 0, k->addr, false);
	char holder[160], quoted[2 * sizeof(holder)];
	struct svc_sock failed = *k;

	if (-e->err == EADDRINUSE) {
		if (l && l->bind_errno == EADDRINUSE)
			return;
		sockets_describe_holder(k->addr, holder, sizeof(holder));
		log_warn("service=%s msg=\"port conflict\" detail=\"%s\" pid=%d", u->cfg->name,
			 log_escape(quoted, sizeof(quoted), holder), (int)e->tgid);
		failed.holder = holder;
	}
	if (!l)
		return;
	failed.bind_errno = -e->err;
	unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &failed });
}

/* Is pid the main process of one of u's processes? */
static bool unit_is_main(pid_t pid, const struct unit *u)
{
	for (size_t i = 0; i < u->procs.n; i++)
		if (u->procs.v[i].child.pid == pid)
			return true;
	return false;
}

static void on_socket(struct unit *u, const struct rd_event *e, enum level level)
{
	char comm[RD_COMM_LEN + 1];
	struct sock_addr a;
	struct svc_sock k = {
		.sk = e->sk,
		.ino = e->ino,
		.level = level,
		.at = e->ts_ns,
		/* Binds alone make no observed listener: clients bind too. */
		.may_observe = level == LEVEL_LISTENING || level == LEVEL_ACCEPTING,
	};
	struct svc_actions act;

	tracer_event_addr(e, &a);
	k.addr = level == LEVEL_CLOSED ? NULL : &a;
	if (level == LEVEL_BOUND && e->err) {
		on_bind_failed(u, e, &k);
		return;
	}
	tracer_event_comm(e, comm, sizeof(comm));
	k.pid = (pid_t)e->tgid;
	k.comm = comm;
	if (level == LEVEL_ACCEPTING)
		k.via = e->aux;
	if (level == LEVEL_CLOSED) /* its main process is exiting: aux says so */
		k.main_exiting = e->aux && unit_is_main((pid_t)e->tgid, u);
	act = unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &k });
	if (!act.listener && k.may_observe) {
		char label[SOCK_ADDR_TEXT_MAX], esc[2 * SOCK_ADDR_TEXT_MAX];
		sock_addr_format(label, sizeof(label), &a);
		log_debug("service=%s msg=\"undeclared listener ignored\" listener=\"%s\" "
			  "sock_level=%s",
			  u->cfg->name, log_escape(esc, sizeof(esc), label), level_name(level));
	}
}

void events_on_event(const struct rd_event *e, void *ctx)
{
	struct daemon *d = ctx;
	struct unit *u = daemon_unit(d, RD_KID_UNIT(e->kid));

	daemon_sock_table_forget(d); /* a dump from before this event must not judge it */
	if (!u) {
		log_debug("msg=\"event for unknown service id\" id=%u type=%u", e->kid, e->type);
		return;
	}
	if (e->type == RD_EV_EXIT) /* from any instance: an sd_notify sender may be it */
		reaper_note_exit(d, (pid_t)e->tgid, e->kid, e->ts_ns);
	/* Still queued from the previous instance: it must not count for this one. */
	if (e->ts_ns < u->svc.spawned_at) {
		log_debug("service=%s msg=\"event from a previous instance ignored\" type=%u",
			  u->cfg->name, e->type);
		return;
	}
	switch (e->type) {
	case RD_EV_BIND:
		on_socket(u, e, LEVEL_BOUND);
		break;
	case RD_EV_LISTEN:
		on_socket(u, e, LEVEL_LISTENING);
		break;
	case RD_EV_ACCEPTING:
		on_socket(u, e, LEVEL_ACCEPTING);
		break;
	case RD_EV_CLOSE:
		on_socket(u, e, LEVEL_CLOSED);
		break;
	case RD_EV_FORK:
		log_debug("service=%s msg=\"process forked\" parent=%u child=%u", u->cfg->name,
			  e->tgid, e->aux);
		break;
	case RD_EV_EXIT:
		log_debug("service=%s msg=\"process exited\" pid=%u", u->cfg->name, e->tgid);
		unit_tree_exit(u, RD_KID_PROC(e->kid));
		break;
	default:
		log_debug("msg=\"unknown event type\" type=%u", e->type);
	}
}
