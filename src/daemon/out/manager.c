// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/out/manager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/unit.h"
#include "model/manager_msg.h"
#include "os/sd_notify.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

/* STATUS= at most this often: a crash loop of 100 services must not flood the manager. */
#define MANAGER_STATUS_GAP_NS (250 * NSEC_PER_MSEC)

struct manager {
	struct sd_notifier n;
	struct loop_job ready_job;
	struct loop_timer status_timer, watchdog;
	uint64_t status_at;		 /* the last STATUS= sent */
	uint64_t watchdog_ns;		 /* the ping's period; 0: no watchdog */
	char status[MANAGER_STATUS_MAX]; /* the last STATUS= sent */
	int logged_err;			 /* the last send error logged: each kind once */
	bool stopping;
};

static const char *summary(const struct daemon *d, char *buf, size_t size)
{
	struct manager_counts c = { 0 };

	for (size_t i = 0; i < d->n_units; i++)
		if (!d->units[i]->removed)
			manager_count(&c, d->units[i]->svc.state);
	return manager_status(buf, size, &c);
}

/* One datagram; a failure is logged once per kind, a full queue once and counted. */
static void send_msg(struct daemon *d, const char *msg, int len)
{
	struct manager *m = d->manager;
	int err;

	if (len < 0)
		return;
	err = sd_notifier_send(&m->n, msg, (size_t)len);
	if (!err) {
		m->logged_err = 0;
		return;
	}
	if (err == m->logged_err)
		return;
	m->logged_err = err;
	if (err == -EAGAIN)
		log_warn("msg=\"the service manager is behind: notifications dropped, not waited "
			 "for\" dropped=%llu",
			 (unsigned long long)m->n.dropped);
	else
		log_warn("msg=\"cannot notify the service manager\" socket=%s err=\"%s\"",
			 getenv("NOTIFY_SOCKET"), strerror(-err));
}

static void send_status(struct daemon *d, bool ready)
{
	struct manager *m = d->manager;
	char text[MANAGER_STATUS_MAX], msg[MANAGER_STATUS_MAX + 32];

	summary(d, text, sizeof(text));
	if (!ready && strcmp(text, m->status) == 0)
		return;
	str_copy(m->status, text, sizeof(m->status));
	m->status_at = now_mono_ns();
	send_msg(d, msg,
		 ready ? manager_msg_ready(msg, sizeof(msg), text)
		       : manager_msg_status(msg, sizeof(msg), text));
}

static void on_status_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	send_status(t->data, false);
}

/* A state changed: STATUS= now, or once MANAGER_STATUS_GAP_NS has passed since the last. */
static void status_soon(struct daemon *d)
{
	struct manager *m = d->manager;
	uint64_t now, at;

	if (!m || loop_timer_armed(&m->status_timer))
		return;
	now = now_mono_ns();
	at = m->status_at + MANAGER_STATUS_GAP_NS > now ? m->status_at + MANAGER_STATUS_GAP_NS
							: now;
	loop_timer_arm(d->loop, &m->status_timer, at);
}

static void on_watchdog(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	struct manager *m = d->manager;

	send_msg(d, "WATCHDOG=1", 10);
	loop_timer_arm(loop, &m->watchdog, now_mono_ns() + m->watchdog_ns);
}

static void on_ready(struct loop *loop, struct loop_job *job)
{
	struct daemon *d = job->data;

	(void)loop;
	if (!d->manager->stopping)
		send_status(d, true);
	log_debug("msg=\"told the service manager: ready\" status=\"%s\"", d->manager->status);
}

static void open_watchdog(struct daemon *d, struct manager *m)
{
	const char *why = "";
	int rc = manager_watchdog_period(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(),
					 &m->watchdog_ns, &why);

	if (rc < 0) {
		log_warn("msg=\"no watchdog pings: %s\" WATCHDOG_USEC=\"%s\" WATCHDOG_PID=\"%s\"",
			 why, getenv("WATCHDOG_USEC"),
			 getenv("WATCHDOG_PID") ? getenv("WATCHDOG_PID") : "");
		return;
	}
	if (rc == 0)
		return;
	m->watchdog = (struct loop_timer){ .fn = on_watchdog, .data = d };
	loop_timer_arm(d->loop, &m->watchdog, now_mono_ns() + m->watchdog_ns);
	log_info("msg=\"pinging the service manager's watchdog\" every=%llums",
		 (unsigned long long)(m->watchdog_ns / NSEC_PER_MSEC));
}

int manager_open(struct daemon *d)
{
	const char *addr = getenv("NOTIFY_SOCKET");
	struct manager *m;
	int err;

	if (!addr || !*addr || d->opts->oneshot.kind != ONESHOT_NONE)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	err = sd_notifier_open(&m->n, addr);
	if (err) {
		log_warn("msg=\"NOTIFY_SOCKET ignored: readyd tells its service manager nothing\" "
			 "socket=\"%s\" err=\"%s\" fix=\"an absolute path or @name\"",
			 addr, strerror(-err));
		free(m);
		return 0;
	}
	m->ready_job = (struct loop_job){ .fn = on_ready, .data = d };
	m->status_timer = (struct loop_timer){ .fn = on_status_timer, .data = d };
	d->manager = m;
	open_watchdog(d, m);
	return 0;
}

void manager_close(struct daemon *d)
{
	struct manager *m = d->manager;

	if (!m)
		return;
	loop_job_cancel(d->loop, &m->ready_job);
	loop_timer_cancel(d->loop, &m->status_timer);
	loop_timer_cancel(d->loop, &m->watchdog);
	if (m->n.dropped)
		log_info("msg=\"notifications the service manager could not take\" dropped=%llu "
			 "sent=%llu",
			 (unsigned long long)m->n.dropped, (unsigned long long)m->n.sent);
	sd_notifier_close(&m->n);
	free(m);
	d->manager = NULL;
}

void manager_booted(struct daemon *d)
{
	if (d->manager) /* a job: it runs after the boot's forks, which are jobs queued before */
		loop_job_queue(d->loop, &d->manager->ready_job);
}

void manager_reloading(struct daemon *d)
{
	char msg[96];

	if (!d->manager || d->manager->stopping)
		return;
	send_msg(d, msg, manager_msg_reloading(msg, sizeof(msg), now_mono_ns()));
}

void manager_reloaded(struct daemon *d, int err)
{
	char msg[MANAGER_STATUS_MAX + 64];
	struct manager *m = d->manager;

	if (!m || m->stopping)
		return;
	if (!err) {
		send_status(d, true);
		return;
	}
	/* The manager waits for READY=1 either way: the old config runs on. */
	send_msg(d, msg,
		 snprintf(msg, sizeof(msg),
			  "READY=1\nSTATUS=reload rejected, the running config is kept: %s",
			  m->status));
}

void manager_stopping(struct daemon *d)
{
	char text[MANAGER_STATUS_MAX], msg[MANAGER_STATUS_MAX + 32];
	struct manager *m = d->manager;

	if (!m || m->stopping)
		return;
	m->stopping = true;
	loop_job_cancel(d->loop, &m->ready_job);
	send_msg(d, msg, manager_msg_stopping(msg, sizeof(msg), summary(d, text, sizeof(text))));
}

static void observe(struct unit *u, const struct unit_news *n)
{
	if (n->a && n->a->changed)
		status_soon(u->d);
}

static void remove_unit(struct unit *u)
{
	status_soon(u->d);
}

static void daemon_news(struct daemon *d, const struct unit_news *n)
{
	(void)n;
	status_soon(d);
}

const struct unit_module manager_module = {
	.name = "manager",
	.observe = observe,
	.remove = remove_unit,
	.daemon_news = daemon_news,
};
