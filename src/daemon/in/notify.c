// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/unit.h"
#include "os/notify_socket.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define DATAGRAMS_PER_WAKEUP 64 /* a flood waits its turn behind everything else */
#define REJECT_LOG_NS	     (10 * NSEC_PER_SEC)

struct unit_notify {
	struct unit *u;
	struct loop_source src;
	uint64_t last_reject_log;
};

static void reject(struct unit *u, enum notify_reject why, const struct notify_datagram *dg,
		   const char *detail)
{
	uint64_t now = now_mono_ns(), total = svc_notify_rejected(&u->svc, why);

	unit_observe(u, &(struct unit_news){ .counters = true });
	if (u->notify->last_reject_log && now - u->notify->last_reject_log < REJECT_LOG_NS)
		return; /* a flood logs once every 10 s; the counters have the rest */
	u->notify->last_reject_log = now;
	log_warn("service=%s msg=\"sd_notify message dropped\" reason=%s detail=\"%s\" "
		 "sender_pid=%d "
		 "rejected_so_far=%llu",
		 u->cfg->name, notify_reject_name(why), detail ? detail : "",
		 dg->has_cred ? (int)dg->cred.pid : -1, (unsigned long long)total);
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

static void handle(struct unit *u, struct notify_datagram *dg)
{
	struct notify_msg m;
	const char *why;

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
	log_message(u, &m, dg->cred.pid);
	unit_handle(u, SVC_EV_NOTIFY, &(struct svc_input){ .notify = &m, .at = dg->at });
	if (m.mainpid > 0 && u->svc.pid) {
		if (unit_tree_contains(u, m.mainpid))
			unit_set_main(u, m.mainpid);
		else
			log_warn(
				"service=%s msg=\"MAINPID= ignored: not a process of the service\" "
				"pid=%d",
				u->cfg->name, (int)m.mainpid);
	}
}

static void on_datagram(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit_notify *n = src->data;
	static struct notify_datagram dg; /* 4 KiB: not on the stack */

	(void)loop, (void)events;
	for (int i = 0; i < DATAGRAMS_PER_WAKEUP; i++) {
		int rc = notify_recv(src->fd, &dg);
		if (rc <= 0) {
			if (rc < 0)
				log_warn("service=%s msg=\"notify socket read failed\" err=\"%s\"",
					 n->u->cfg->name, strerror(-rc));
			return;
		}
		handle(n->u, &dg);
		notify_close_fds(&dg); /* after handling: that releases a BARRIER=1 sender */
	}
}

/* Without its notify socket it cannot start when ready = notify; otherwise only a warning. */
static void open_socket(struct unit *u)
{
	char name[UNIT_NOTIFY_NAME_MAX];
	int fd;

	const struct unit_origin *from = u->origin;

	/* Taken back from an earlier readyd: its services know the socket by that name. */
	if (from && from->notify_name[0])
		str_copy(name, from->notify_name, sizeof(name));
	else
		snprintf(name, sizeof(name), "readyd/%d/%u", (int)getpid(), u->id);
	fd = from && from->notify_fd >= 0 ? notify_socket_adopt(from->notify_fd, name)
					  : notify_socket_open(name);
	if (fd < 0) {
		log_err("service=%s msg=\"cannot open its sd_notify socket\" err=\"%s\"",
			u->cfg->name, strerror(-fd));
		goto fail;
	}
	u->notify->src = (struct loop_source){ .fd = fd, .fn = on_datagram, .data = u->notify };
	if (loop_add(u->d->loop, &u->notify->src, EPOLLIN) < 0) {
		u->notify->src.fd = fd_close(fd);
		goto fail;
	}
	str_copy(u->notify_name, name, sizeof(u->notify_name));
	u->notify_fd = fd; /* (kept across an exec of readyd: daemon/handover_exec.c) */
	return;
fail:
	if (u->cfg->ready & READY_NOTIFY)
		log_err("service=%s msg=\"it waits for READY=1 but has no notify socket\"",
			u->cfg->name);
}

static int add(struct unit *u)
{
	u->notify = calloc(1, sizeof(*u->notify));
	if (!u->notify)
		return -ENOMEM;
	u->notify->u = u;
	u->notify->src.fd = -1;
	if (!u->cfg->adopted) /* a [watch] was not started by readyd: no NOTIFY_SOCKET */
		open_socket(u);
	return 0;
}

static void remove_unit(struct unit *u)
{
	if (!u->notify)
		return;
	if (u->notify->src.fd >= 0) {
		loop_del(u->d->loop, &u->notify->src);
		fd_close(u->notify->src.fd);
	}
	u->notify_name[0] = '\0';
	u->notify_fd = -1;
	free(u->notify);
	u->notify = NULL;
}

const struct unit_module notify_module = {
	.name = "notify",
	.add = add,
	.remove = remove_unit,
};
