// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sd_notify for each service: its own abstract socket, passed as
 * NOTIFY_SOCKET. A datagram counts only if its sender (SCM_CREDENTIALS) is
 * in the service's process tree; malformed, oversized and foreign ones are
 * dropped, counted and logged (rate-limited), never acted on. Received fds
 * are closed once the message is handled: a BARRIER=1 sender is released
 * exactly when everything before it took effect.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "os/notify_socket.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

#define DATAGRAMS_PER_WAKEUP 64 /* a flood waits its turn behind everything else */
#define RECENT_EXIT_NS (30 * NSEC_PER_SEC)

void daemon_note_exit(struct daemon *d, pid_t tgid, uint32_t kid, uint64_t at)
{
	d->recent_exits[d->recent_exit_next++ % RECENT_EXITS] =
		(struct recent_exit){ .tgid = tgid, .service = kid, .at = at };
}

bool daemon_exited_lately(struct daemon *d, pid_t pid, uint32_t unit)
{
	uint64_t now = now_mono_ns();

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < RECENT_EXITS; i++) {
			const struct recent_exit *x = &d->recent_exits[i];
			if (x->tgid == pid && RD_KID_UNIT(x->service) == unit &&
			    now - x->at < RECENT_EXIT_NS)
				return true;
		}
		/* Its EXIT may still wait in the ring buffer: read it, then look again. */
		if (pass == 0 && d->tracer)
			tracer_consume(d->tracer);
	}
	return false;
}

static void reject(struct unit *u, enum notify_reject why, const struct notify_datagram *dg,
		   const char *detail)
{
	uint64_t now = now_mono_ns();

	u->svc.notify_rejected[why]++;
	daemon_mark_counters(u->d);
	if (u->last_reject_log && now - u->last_reject_log < 10 * NSEC_PER_SEC)
		return; /* a flood logs once every 10 s; the counters have the rest */
	u->last_reject_log = now;
	log_warn("service=%s msg=\"sd_notify message dropped\" reason=%s detail=\"%s\" sender_pid=%d "
		 "rejected_so_far=%llu",
		 u->cfg->name, notify_reject_name(why), detail ? detail : "",
		 dg->has_cred ? (int)dg->cred.pid : -1,
		 (unsigned long long)(u->svc.notify_rejected[REJECT_MALFORMED] +
				      u->svc.notify_rejected[REJECT_OVERSIZED] +
				      u->svc.notify_rejected[REJECT_FOREIGN] +
				      u->svc.notify_rejected[REJECT_NO_CREDENTIALS]));
}

static void log_message(struct unit *u, const struct notify_msg *m, pid_t sender)
{
	char status[2 * NOTIFY_STATUS_MAX];

	if (m->ready || m->reloading || m->stopping || m->has_status || m->mainpid || m->err_no)
		log_info("service=%s msg=sd_notify pid=%d%s%s%s%s%s%s%s", u->cfg->name, (int)sender,
			 m->ready ? " READY=1" : "", m->reloading ? " RELOADING=1" : "",
			 m->stopping ? " STOPPING=1" : "", m->has_status ? " STATUS=\"" : "",
			 m->has_status ? log_escape(status, sizeof(status), m->status) : "",
			 m->has_status ? "\"" : "", m->err_no ? " ERRNO" : "");
}

static void log_mismatch(struct unit *u)
{
	char levels[SVC_CAUSE_MAX];

	svc_describe_listeners(&u->svc, levels, sizeof(levels));
	log_warn("service=%s msg=\"it says it is ready, the kernel disagrees\" listeners=\"%s\"",
		 u->cfg->name, levels);
}

static void handle(struct unit *u, struct notify_datagram *dg)
{
	struct svc_input in = { 0 };
	struct notify_msg m;
	const char *why;
	bool mismatch_before = u->svc.ready_mismatch;

	if (dg->truncated) {
		reject(u, REJECT_OVERSIZED, dg, "longer than 4096 bytes or too many fds");
		return;
	}
	if (!dg->has_cred) {
		reject(u, REJECT_NO_CREDENTIALS, dg, NULL);
		return;
	}
	if (!unit_tree_contains(u, dg->cred.pid)) {
		reject(u, REJECT_FOREIGN, dg, "the sender is not in the service's process tree");
		return;
	}
	if (notify_parse(dg->buf, dg->len, &m, &why) < 0) {
		reject(u, REJECT_MALFORMED, dg, why);
		return;
	}
	u->svc.notify_accepted++;
	log_message(u, &m, dg->cred.pid);
	in.notify = &m;
	unit_handle(u, SVC_EV_NOTIFY, &in);
	if (m.mainpid > 0 && u->svc.pid) {
		if (unit_tree_contains(u, m.mainpid))
			unit_set_main(u, m.mainpid);
		else
			log_warn("service=%s msg=\"MAINPID= ignored: not a process of the service\" "
				 "pid=%d",
				 u->cfg->name, (int)m.mainpid);
	}
	if (u->svc.ready_mismatch && !mismatch_before)
		log_mismatch(u);
	daemon_mark_dirty(u->d);
}

static void on_notify(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit *u = src->data;
	static struct notify_datagram dg; /* 4 KiB: not on the stack */

	(void)loop, (void)events;
	for (int i = 0; i < DATAGRAMS_PER_WAKEUP; i++) {
		int rc = notify_recv(src->fd, &dg);
		if (rc <= 0) {
			if (rc < 0)
				log_warn("service=%s msg=\"notify socket read failed\" err=\"%s\"",
					 u->cfg->name, strerror(-rc));
			return;
		}
		handle(u, &dg);
		notify_close_fds(&dg); /* after handling: that releases a BARRIER=1 sender */
	}
}

int unit_notify_open(struct unit *u)
{
	int fd;

	snprintf(u->notify_name, sizeof(u->notify_name), "readyd/%d/%u", (int)getpid(), u->id);
	fd = notify_socket_open(u->notify_name);
	if (fd < 0) {
		log_err("service=%s msg=\"cannot open its sd_notify socket\" err=\"%s\"", u->cfg->name,
			strerror(-fd));
		return fd;
	}
	u->notify_src = (struct loop_source){ .fd = fd, .fn = on_notify, .data = u };
	return loop_add(u->d->loop, &u->notify_src, EPOLLIN);
}

void unit_notify_close(struct unit *u)
{
	if (u->notify_src.fd < 0)
		return;
	loop_del(u->d->loop, &u->notify_src);
	u->notify_src.fd = fd_close(u->notify_src.fd);
}

void unit_notify_env(struct unit *u, char env[][96], char **out, size_t max)
{
	size_t n = 0;

	if (u->notify_src.fd >= 0 && n + 1 < max) {
		snprintf(env[n], sizeof(env[n]), "NOTIFY_SOCKET=@%s", u->notify_name);
		out[n] = env[n];
		n++;
	}
	if (u->cfg->watchdog_ns && n + 3 < max) {
		snprintf(env[n], sizeof(env[n]), "WATCHDOG_USEC=%llu",
			 (unsigned long long)(u->cfg->watchdog_ns / 1000));
		out[n] = env[n];
		n++;
		/* The child writes its own pid here: see supervisor.c. */
		snprintf(env[n], sizeof(env[n]), "WATCHDOG_PID=%s", SUPERVISOR_SELF_PID);
		out[n] = env[n];
		n++;
	}
	out[n] = NULL;
}
