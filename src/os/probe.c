// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/probe.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/pidfd.h>

#include "os/probe_wire.h"
#include "os/supervisor.h"
#include "base/clock.h"
#include "base/util.h"

enum { PHASE_CONNECTING, PHASE_SENDING, PHASE_RECEIVING, PHASE_EXEC };

static const char *const phase_names[] = {
	[PHASE_CONNECTING] = "connecting",
	[PHASE_SENDING] = "sending the request",
	[PHASE_RECEIVING] = "waiting for the response",
	[PHASE_EXEC] = "running",
};

static void release(struct probe_run *r)
{
	loop_timer_cancel(r->loop, &r->timer);
	if (r->src.fd >= 0) {
		loop_del(r->loop, &r->src);
		r->src.fd = fd_close(r->src.fd);
	}
	if (r->pidfd.fd >= 0) {
		loop_del(r->loop, &r->pidfd);
		r->pidfd.fd = fd_close(r->pidfd.fd);
	}
	r->active = false;
}

static void finish(struct probe_run *r, bool ok, const char *reason)
{
	struct probe_result res = { .ok = ok,
				    .reason = reason,
				    .duration_ns = now_mono_ns() - r->started };

	release(r);
	r->done(r, &res);
}

static void finish_errno(struct probe_run *r, const char *what, int err)
{
	char reason[PROBE_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(err));
	finish(r, false, reason);
}

/* ---- sockets: tcp, unix, and the ones that talk (probe_wire.c) ---- */

static void talk_send(struct probe_run *r)
{
	while (r->sent < r->len) {
		ssize_t n = send(r->src.fd, r->buf + r->sent, r->len - r->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			finish_errno(r, "send", errno);
			return;
		}
		r->sent += (size_t)n;
	}
	r->phase = PHASE_RECEIVING;
	r->len = 0;
	loop_mod(r->loop, &r->src, EPOLLIN);
}

static void talk_receive(struct probe_run *r)
{
	char reason[PROBE_REASON_MAX];
	ssize_t n = recv(r->src.fd, r->buf + r->len, PROBE_READ_MAX - r->len, 0);
	bool ok;

	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {
		finish_errno(r, "recv", errno);
		return;
	}
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	if (probe_verdict_for(r->spec->kind)(r->buf, r->len, n == 0, &ok, reason, sizeof(reason)))
		finish(r, ok, reason); /* the rest of the response is never read */
}

static void on_connected(struct probe_run *r)
{
	const struct probe_spec *p = r->spec;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(r->src.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		finish_errno(r, "connect", err);
		return;
	}
	if (!probe_verdict_for(p->kind)) {
		finish(r, true, "connected");
		return;
	}
	r->len = probe_request(p, READYD_VERSION, r->buf, sizeof(r->buf));
	r->sent = 0;
	r->phase = PHASE_SENDING;
	talk_send(r);
}

static void on_socket(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct probe_run *r = src->data;

	(void)loop, (void)events;
	switch (r->phase) {
	case PHASE_CONNECTING:
		on_connected(r);
		break;
	case PHASE_SENDING:
		talk_send(r);
		break;
	case PHASE_RECEIVING:
		talk_receive(r);
		break;
	}
}

static int start_socket(struct probe_run *r)
{
	const struct probe_spec *p = r->spec;
	int fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	r->src = (struct loop_source){ .fd = fd, .fn = on_socket, .data = r };
	r->phase = PHASE_CONNECTING;
	if (connect(fd, (const struct sockaddr *)&p->addr, p->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		/* Refused at once (loopback, unix): reported by a zero-delay timer, not
		 * re-entrantly. */
		r->connect_err = errno;
		return 0;
	}
	return loop_add(r->loop, &r->src, EPOLLOUT);
}

/* ---- exec ---- */

/* Its process group, and the process itself in case it left the group (setsid). */
static void kill_probe(struct probe_run *r)
{
	kill(-r->pid, SIGKILL);
	if (r->pidfd.fd >= 0)
		pidfd_send_signal(r->pidfd.fd, SIGKILL, NULL, 0);
}

#define EXEC_OUTPUT_KEPT 256

/*
 * Keep the first bytes of the probe's output (its first line is the failure
 * reason) and read the rest into nothing: closing the pipe early would kill
 * a chatty check with SIGPIPE. Returns false at EOF.
 */
static bool read_output(struct probe_run *r)
{
	char discard[4096];
	ssize_t n;

	while (r->src.fd >= 0) {
		if (r->len < EXEC_OUTPUT_KEPT)
			n = read(r->src.fd, r->buf + r->len, EXEC_OUTPUT_KEPT - r->len);
		else
			n = read(r->src.fd, discard, sizeof(discard));
		if (n <= 0)
			return n < 0; /* EAGAIN: more later; 0: EOF */
		if (r->len < EXEC_OUTPUT_KEPT)
			r->len += (size_t)n;
	}
	return false;
}

static void on_output(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct probe_run *r = src->data;

	(void)events;
	if (!read_output(r)) { /* EOF */
		loop_del(loop, &r->src);
		r->src.fd = fd_close(r->src.fd);
	}
	r->buf[r->len] = '\0';
}

static void on_exec_exit(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct probe_run *r = src->data;
	struct child_exit ex;
	char reason[PROBE_REASON_MAX], took[32];
	size_t line;

	(void)loop, (void)events;
	kill(-r->pid, SIGKILL); /* what it left behind; the zombie still holds the pgid */
	if (supervisor_reap(r->pidfd.fd, &ex) == -EAGAIN)
		return;
	if (r->aborting) {
		struct probe_result res = { .aborted = true };
		release(r);
		r->done(r, &res);
		return;
	}
	read_output(r);
	r->buf[r->len] = '\0';
	line = strcspn(r->buf, "\r\n");
	if (r->timed_out) {
		fmt_duration(took, sizeof(took), r->timeout_ns);
		snprintf(reason, sizeof(reason), "timed out after %s, killed", took);
	} else if (ex.signal || ex.code) {
		fmt_exit_status(reason, sizeof(reason), ex.code, ex.signal);
		if (line)
			snprintf(reason, sizeof(reason), "%.*s", (int)line, r->buf);
	} else {
		finish(r, true, "exit status 0");
		return;
	}
	for (char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	finish(r, false, reason);
}

bool probe_reap(struct probe_run *r, pid_t pid)
{
	if (!r->active || r->phase != PHASE_EXEC || r->pid != pid || r->pidfd.fd < 0)
		return false;
	on_exec_exit(r->loop, &r->pidfd, EPOLLIN);
	return true;
}

static int start_exec(struct probe_run *r, const struct service_config *cfg)
{
	struct child child;
	int out_fd, err = supervisor_spawn_probe(&cfg->procs[0], r->spec->argv, &child, &out_fd);

	if (err)
		return err;
	r->phase = PHASE_EXEC;
	r->pid = child.pid;
	r->len = 0;
	r->src = (struct loop_source){ .fd = out_fd, .fn = on_output, .data = r };
	r->pidfd = (struct loop_source){ .fd = child.pidfd, .fn = on_exec_exit, .data = r };
	err = loop_add(r->loop, &r->src, EPOLLIN);
	if (!err)
		err = loop_add(r->loop, &r->pidfd, EPOLLIN);
	if (err) { /* cannot watch it: kill and reap it now, it has barely started */
		struct child_exit ex;
		kill_probe(r);
		loop_del(r->loop, &r->src);
		while (supervisor_reap(child.pidfd, &ex) == -EAGAIN)
			usleep(1000);
	}
	return err;
}

/* ---- lifecycle ---- */

static void on_timeout(struct loop *loop, struct loop_timer *t)
{
	struct probe_run *r = t->data;
	char reason[PROBE_REASON_MAX], took[32];

	(void)loop;
	if (r->connect_err) {
		finish_errno(r, "connect", r->connect_err);
		return;
	}
	if (r->phase == PHASE_EXEC) { /* kill it; on_exec_exit reports once it is reaped */
		r->timed_out = true;
		kill_probe(r);
		return;
	}
	fmt_duration(took, sizeof(took), r->timeout_ns);
	snprintf(reason, sizeof(reason), "timed out after %s %s", took, phase_names[r->phase]);
	finish(r, false, reason);
}

int probe_start(struct probe_run *r, struct loop *loop, const struct probe_spec *spec,
		const struct service_config *cfg, uint64_t timeout_ns)
{
	int err;

	r->loop = loop;
	r->spec = spec;
	r->src.fd = r->pidfd.fd = -1;
	r->timed_out = r->aborting = false;
	r->connect_err = 0;
	r->len = r->sent = 0;
	r->started = now_mono_ns();
	r->timeout_ns = timeout_ns;
	r->timer = (struct loop_timer){ .fn = on_timeout, .data = r };
	err = spec->kind == PROBE_EXEC ? start_exec(r, cfg) : start_socket(r);
	if (err) {
		release(r);
		return err;
	}
	r->active = true;
	loop_timer_arm(loop, &r->timer, r->connect_err ? r->started : r->started + timeout_ns);
	return 0;
}

void probe_abort(struct probe_run *r)
{
	if (!r->active || r->aborting)
		return;
	if (r->phase != PHASE_EXEC || r->pidfd.fd < 0) {
		release(r);
		return;
	}
	/* Never wait for it here (a process in D state could take forever). */
	r->aborting = true;
	kill_probe(r);
	loop_timer_cancel(r->loop, &r->timer);
	if (r->src.fd >= 0) {
		loop_del(r->loop, &r->src);
		r->src.fd = fd_close(r->src.fd);
	}
}
