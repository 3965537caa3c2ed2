// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/notify.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/procs.h"
#include "daemon/unit.h"
#include "os/closer.h"
#include "os/notify_socket.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define DATAGRAMS_PER_WAKEUP 64 /* a flood waits its turn behind everything else */
#define REJECT_LOG_NS	     (10 * NSEC_PER_SEC)
#define ACCEPT_LOG_NS	     (10 * NSEC_PER_SEC)
#define ACCEPT_LOG_LINES     10 /* per service and ACCEPT_LOG_NS; the rest are counted */
/*
 * Received fds the closer thread has yet to close, past which notify sockets
 * are not read (for RETRY_NS at a time): each one holds an fd slot of
 * readyd's, and the kernel would drop (close, on the loop) what no slot is
 * left for.
 */
#define CLOSE_BACKLOG_MAX 1024
#define RETRY_NS	  (100 * NSEC_PER_MSEC)

struct notifies {
	struct closer *closer; /* NULL: no thread, fds are closed here (SO_LINGER off) */
	uint64_t last_backlog_log;
};

struct unit_notify {
	struct unit *u;
	struct loop_source src;
	struct loop_timer retry; /* reading again after a close backlog */
	uint64_t last_reject_log;
	uint64_t log_window;	  /* start of the current ACCEPT_LOG_NS */
	unsigned int logged;	  /* lines in it */
	unsigned long long quiet; /* accepted messages not logged since the last line */
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

/* Every accepted message that says something, up to ACCEPT_LOG_LINES per window. */
static void log_message(struct unit *u, const struct notify_msg *m, pid_t sender)
{
	struct unit_notify *n = u->notify;
	char status[2 * NOTIFY_STATUS_MAX], quiet[48] = "";
	uint64_t now = now_mono_ns();

	if (!(m->ready || m->reloading || m->stopping || m->has_status || m->mainpid || m->err_no))
		return;
	if (!n->log_window || now - n->log_window >= ACCEPT_LOG_NS) {
		n->log_window = now;
		n->logged = 0;
	}
	if (n->logged++ >= ACCEPT_LOG_LINES) {
		n->quiet++;
		return;
	}
	if (n->quiet)
		snprintf(quiet, sizeof(quiet), " not_logged_before=%llu", n->quiet);
	n->quiet = 0;
	log_info("service=%s msg=sd_notify pid=%d%s%s%s%s%s%s%s%s", u->cfg->name, (int)sender,
		 m->ready ? " READY=1" : "", m->reloading ? " RELOADING=1" : "",
		 m->stopping ? " STOPPING=1" : "", m->has_status ? " STATUS=\"" : "",
		 m->has_status ? log_escape(status, sizeof(status), m->status) : "",
		 m->has_status ? "\"" : "", m->err_no ? " ERRNO" : "", quiet);
}

/*
 * Before Linux 6.5 no pidfd comes with a datagram: the sender is known by its pid
 * only. Alive, it is judged by where it runs now: a process of the tree that left
 * it lately may have been followed by another user's process with its pid, which
 * must not pass for it. Exited (systemd-notify may be before it is read), it counts
 * if a process of that pid left the tree lately: the gap the pidfd closes.
 */
static bool by_pid(struct unit *u, pid_t pid)
{
	if (pid <= 0)
		return false;
	if (kill(pid, 0) == 0 || errno == EPERM)
		return unit_tree_holds(u, pid);
	return unit_tree_contains(u, pid);
}

/*
 * Is the sender one of the service's processes? Asked of its pidfd where
 * the kernel gave one: a pid that exited may be another process's already.
 */
static bool from_the_tree(struct unit *u, const struct notify_datagram *dg, const char **detail)
{
	const struct notify_sender *s = &dg->sender;
	pid_t pid = dg->cred.pid;

	*detail = "the sender is not in the service's process tree";
	if (s->pidfd < 0) /* before Linux 6.5: the pid alone (docs/configuration.md) */
		return by_pid(u, pid);
	if (s->cgroupid && unit_cgroup_has_id(u, s->cgroupid))
		return true;
	if (s->gone) {
		/* Exited before it was read (systemd-notify does). Its cgroup at exit decides. */
		if (s->cgroupid && unit_has_cgroups(u)) {
			*detail = "the sender has exited, and it was not in the service's cgroup";
			return false;
		}
		return unit_tree_contains(u, pid); /* no cgroups: the pid, as before 6.5 */
	}
	/* Alive, so the pid is still its own: asked, then made sure it did not exit meanwhile. */
	return unit_tree_holds(u, pid) && notify_sender_alive(s);
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
	if (!from_the_tree(u, dg, &why)) {
		reject(u, REJECT_FOREIGN, dg, why);
		return;
	}
	if (notify_parse(dg->buf, dg->len, &m, &why) < 0) {
		reject(u, REJECT_MALFORMED, dg, why);
		return;
	}
	log_message(u, &m, dg->cred.pid);
	unit_handle(u, SVC_EV_NOTIFY, &(struct svc_input){ .notify = &m, .at = dg->at });
	if (m.mainpid > 0 && u->svc.pid) {
		if (unit_tree_holds(u, m.mainpid))
			unit_set_main(u, m.mainpid);
		else
			log_warn(
				"service=%s msg=\"MAINPID= ignored: not a process of the service\" "
				"pid=%d",
				u->cfg->name, (int)m.mainpid);
	}
}

/* Off the loop: a last close() can wait seconds (SO_LINGER) or forever (FUSE). */
static void release_fds(struct daemon *d, struct notify_datagram *dg)
{
	if (d->notifies && d->notifies->closer)
		closer_push_fds(d->notifies->closer, dg->fds, dg->n_fds);
	else
		closer_close_now(dg->fds, dg->n_fds);
	dg->n_fds = 0;
}

/* Too many received fds wait to be closed: read this socket again in a while. */
static bool backlogged(struct unit_notify *n)
{
	struct notifies *all = n->u->d->notifies;
	uint64_t now = now_mono_ns();
	size_t backlog;

	if (!all || !all->closer || (backlog = closer_backlog(all->closer)) < CLOSE_BACKLOG_MAX)
		return false;
	if (!all->last_backlog_log || now - all->last_backlog_log >= REJECT_LOG_NS) {
		all->last_backlog_log = now;
		log_warn("service=%s msg=\"sd_notify socket not read for now: received fds wait "
			 "to be closed\" backlog=%zu",
			 n->u->cfg->name, backlog);
	}
	loop_mod(n->u->d->loop, &n->src, 0);
	loop_timer_arm(n->u->d->loop, &n->retry, now + RETRY_NS);
	return true;
}

static void on_retry(struct loop *loop, struct loop_timer *t)
{
	struct unit_notify *n = t->data;

	loop_mod(loop, &n->src, EPOLLIN);
}

static void on_datagram(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit_notify *n = src->data;
	static struct notify_datagram dg; /* 5 KiB: not on the stack */

	(void)loop, (void)events;
	for (int i = 0; i < DATAGRAMS_PER_WAKEUP && !backlogged(n); i++) {
		int rc = notify_recv(src->fd, &dg);
		if (rc <= 0) {
			if (rc < 0)
				log_warn("service=%s msg=\"notify socket read failed\" err=\"%s\"",
					 n->u->cfg->name, strerror(-rc));
			return;
		}
		handle(n->u, &dg);
		release_fds(n->u->d, &dg); /* after handling: that releases a BARRIER=1 sender */
		notify_done(&dg);
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
	u->notify->retry = (struct loop_timer){ .fn = on_retry, .data = u->notify };
	if (!u->cfg->adopted) /* a [watch] was not started by readyd: no NOTIFY_SOCKET */
		open_socket(u);
	return 0;
}

static void remove_unit(struct unit *u)
{
	if (!u->notify)
		return;
	loop_timer_cancel(u->d->loop, &u->notify->retry);
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

int notify_open(struct daemon *d)
{
	int err;

	d->notifies = calloc(1, sizeof(*d->notifies));
	if (!d->notifies)
		return -ENOMEM;
	err = closer_start(&d->notifies->closer);
	if (err) /* a sender can then stall the loop for as long as its close takes */
		log_warn("msg=\"no closer thread: fds sent over sd_notify are closed on the "
			 "loop\" err=\"%s\"",
			 strerror(-err));
	return 0;
}

void notify_close(struct daemon *d)
{
	if (!d->notifies)
		return;
	closer_stop(d->notifies->closer);
	free(d->notifies);
	d->notifies = NULL;
}
