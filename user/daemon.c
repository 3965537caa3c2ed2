// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "textfile.h"
#include "util.h"

#define EXPORT_DEBOUNCE_NS (5 * NSEC_PER_MSEC)
/* Rewritten this often even when nothing changed: node_textfile_mtime_seconds stays fresh. */
#define EXPORT_REFRESH_NS (15 * NSEC_PER_SEC)
#define SYSCALL_LINGER_NS (2 * NSEC_PER_SEC)

static void unit_spawn(struct unit *u);
static void maybe_finish_shutdown(struct daemon *d);

struct unit *daemon_unit(struct daemon *d, uint32_t id)
{
	return id >= 1 && id <= d->n_units ? &d->units[id - 1] : NULL;
}

struct unit *daemon_unit_named(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (strcmp(d->units[i].cfg->name, name) == 0)
			return &d->units[i];
	return NULL;
}

/* ---- textfile ---- */

static void export_now(struct daemon *d)
{
	const struct svc *svcs[CONFIG_MAX_SERVICES];
	struct metrics_global g = {
		.version = READYD_VERSION,
		.mode = tracer_mode_name(tracer_mode(d->tracer)),
		.events_total = d->events_total,
		.events_dropped = tracer_dropped(d->tracer),
	};
	int err;

	for (size_t i = 0; i < d->n_units; i++)
		svcs[i] = &d->units[i].svc;
	metrics_render(&d->export_buf, &g, svcs, d->n_units);
	if (d->export_buf.oom) {
		log_err("msg=\"textfile not written: out of memory\" path=%s", d->cfg.textfile);
		return;
	}
	err = textfile_writer_submit(d->textfile, d->export_buf.data, d->export_buf.len);
	if (err)
		log_err("msg=\"cannot write textfile\" path=%s err=\"%s\"", d->cfg.textfile,
			strerror(-err));
	loop_timer_arm(d->loop, &d->refresh_timer, now_mono_ns() + EXPORT_REFRESH_NS);
}

/* The asynchronous fsync finished: the new file is renamed into place. */
static void on_textfile_synced(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	int err = textfile_writer_complete(d->textfile);

	(void)loop, (void)events;
	if (err)
		log_err("msg=\"cannot write textfile\" path=%s err=\"%s\"", d->cfg.textfile,
			strerror(-err));
}

static int setup_textfile(struct daemon *d)
{
	int err = textfile_writer_new(d->cfg.textfile, &d->textfile);

	if (err)
		return err;
	d->textfile_src = (struct loop_source){ .fd = textfile_writer_fd(d->textfile),
						.fn = on_textfile_synced, .data = d };
	if (d->textfile_src.fd < 0) {
		log_warn("msg=\"no Linux AIO: the textfile fsync will block the loop\"");
		return 0;
	}
	return loop_add(d->loop, &d->textfile_src, EPOLLIN);
}

static void on_export_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	export_now(t->data);
}

void daemon_mark_dirty(struct daemon *d)
{
	if (!loop_timer_armed(&d->export_timer))
		loop_timer_arm(d->loop, &d->export_timer, now_mono_ns() + EXPORT_DEBOUNCE_NS);
}

/* ---- carrying out what the state machine decided ---- */

static void on_syscall_linger(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	tracer_set_syscalls(((struct daemon *)t->data)->tracer, false);
}

/*
 * Syscall tracepoints cost every process on the node: attached while some
 * service is starting, detached SYSCALL_LINGER_NS after the last one is done
 * (a crash loop or the next start then finds them still attached).
 */
static void sync_syscall_tracing(struct daemon *d)
{
	bool need = false;

	for (size_t i = 0; i < d->n_units && !need; i++)
		need = svc_needs_syscalls(&d->units[i].svc);
	if (need) {
		loop_timer_cancel(d->loop, &d->syscall_linger);
		tracer_set_syscalls(d->tracer, true);
	} else if (tracer_syscalls_on(d->tracer) && !loop_timer_armed(&d->syscall_linger)) {
		loop_timer_arm(d->loop, &d->syscall_linger, now_mono_ns() + SYSCALL_LINGER_NS);
	}
}

static void log_transition(struct unit *u, const struct svc_actions *a)
{
	int level = a->to == SVC_FAILED || a->to == SVC_UNHEALTHY ? LOG_WARNING : LOG_INFO;
	char cause[2 * SVC_CAUSE_MAX];

	log_msg(level, "service=%s transition=%s->%s pid=%d cause=\"%s\"", u->cfg->name,
		svc_state_name(a->from), svc_state_name(a->to), (int)u->svc.pid,
		log_escape(cause, sizeof(cause), u->svc.cause));
}

static void unit_sync_timer(struct unit *u)
{
	if (u->svc.deadline)
		loop_timer_arm(u->d->loop, &u->timer, u->svc.deadline);
	else
		loop_timer_cancel(u->d->loop, &u->timer);
}

static void unit_apply(struct unit *u, const struct svc_actions *a)
{
	struct daemon *d = u->d;

	if (a->signal && u->svc.pid) {
		log_info("service=%s msg=\"sending SIG%s to process group\" pgid=%d", u->cfg->name,
			 sigabbrev_np(a->signal), (int)u->svc.pid);
		supervisor_kill_group(u->svc.pid, a->signal);
	}
	if (a->changed) {
		log_transition(u, a);
		daemon_wake_waiters(u);
		daemon_mark_dirty(d);
	}
	if (a->spawn) /* one fork per loop iteration: events are read in between */
		loop_job_queue(d->loop, &u->spawn_job);
	unit_sync_timer(u);
	sync_syscall_tracing(d);
	if (d->shutting_down)
		maybe_finish_shutdown(d);
}

void unit_handle(struct unit *u, enum svc_event ev, const struct svc_input *in)
{
	struct svc_input local = in ? *in : (struct svc_input){ 0 };
	struct svc_actions a;

	if (getrandom(&local.random, sizeof(local.random), GRND_NONBLOCK) < 0)
		local.random = (uint32_t)now_mono_ns();
	svc_handle(&u->svc, ev, &local, now_mono_ns(), &a);
	unit_apply(u, &a);
}

static void on_unit_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	unit_handle(t->data, SVC_EV_DEADLINE, NULL);
}

/* ---- processes ---- */

static void unit_close_child(struct unit *u)
{
	if (u->child.pidfd >= 0) {
		loop_del(u->d->loop, &u->pidfd_src);
		u->child.pidfd = fd_close(u->child.pidfd);
	}
	if (u->child.status_fd >= 0) {
		loop_del(u->d->loop, &u->status_src);
		u->child.status_fd = fd_close(u->child.status_fd);
	}
}

/* The status pipe says whether exec worked; a failure is kept for the exit cause. */
static void read_exec_status(struct unit *u)
{
	int rc = supervisor_exec_status(u->child.status_fd, u->spawn_error, sizeof(u->spawn_error));

	if (rc == -EAGAIN)
		return;
	char text[256];

	if (rc == 1)
		log_warn("service=%s msg=\"command could not be started\" error=\"%s\"",
			 u->cfg->name, log_escape(text, sizeof(text), u->spawn_error));
	loop_del(u->d->loop, &u->status_src);
	u->child.status_fd = fd_close(u->child.status_fd);
}

static void on_status_fd(struct loop *loop, struct loop_source *src, uint32_t events)
{
	(void)loop, (void)events;
	read_exec_status(src->data);
}

static void on_pidfd(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit *u = src->data;
	struct svc_input in = { 0 };
	char text[160];
	int err;

	(void)loop, (void)events;
	/*
	 * Kill what is left of the group before reaping: until then the
	 * zombie holds the pgid, so the signal cannot reach a stranger.
	 */
	supervisor_kill_group(u->child.pid, SIGKILL);
	err = supervisor_reap(u->child.pidfd, &in.exit);
	if (err == -EAGAIN)
		return;
	if (err) {
		log_err("service=%s msg=\"cannot reap process\" pid=%d err=\"%s\"", u->cfg->name,
			(int)u->child.pid, strerror(-err));
		in.exit.code = -1;
	}
	if (u->child.status_fd >= 0)
		read_exec_status(u);
	str_copy(in.exit.spawn_error, u->spawn_error, sizeof(in.exit.spawn_error));
	unit_close_child(u);
	svc_exit_describe(&in.exit, text, sizeof(text));
	log_info("service=%s msg=\"process exited\" pid=%d status=\"%s\"", u->cfg->name,
		 (int)u->child.pid, text);
	unit_handle(u, SVC_EV_EXIT, &in);
}

static int watch_child(pid_t pid, void *ctx)
{
	struct unit *u = ctx;

	return tracer_watch(u->d->tracer, pid, u->id);
}

static void unit_spawn(struct unit *u)
{
	struct daemon *d = u->d;
	struct svc_input in = { 0 };
	int err;

	uint64_t forked_at;

	u->spawn_error[0] = '\0';
	tracer_forget_service(d->tracer, u->id); /* leftovers of the previous instance */
	err = tracer_set_syscalls(d->tracer, true); /* before the child can bind */
	forked_at = now_mono_ns(); /* before the fork: no event of the child can be older */
	if (!err)
		err = supervisor_spawn(u->cfg, NULL, watch_child, u, &u->child);
	if (err) {
		snprintf(in.exit.spawn_error, sizeof(in.exit.spawn_error), "%s", strerror(-err));
		log_err("service=%s msg=\"cannot spawn\" err=\"%s\"", u->cfg->name, strerror(-err));
		unit_handle(u, SVC_EV_EXIT, &in);
		return;
	}
	svc_spawned(&u->svc, u->child.pid, forked_at);
	unit_sync_timer(u);
	u->pidfd_src = (struct loop_source){ .fd = u->child.pidfd, .fn = on_pidfd, .data = u };
	u->status_src = (struct loop_source){ .fd = u->child.status_fd, .fn = on_status_fd, .data = u };
	loop_add(d->loop, &u->pidfd_src, EPOLLIN);
	loop_add(d->loop, &u->status_src, EPOLLIN);
	log_info("service=%s msg=spawned pid=%d", u->cfg->name, (int)u->child.pid);
}

static void on_spawn_job(struct loop *loop, struct loop_job *job)
{
	struct unit *u = job->data;

	(void)loop;
	if (u->svc.state == SVC_STARTING && !u->svc.pid) /* else: stopped while queued */
		unit_spawn(u);
}

/* ---- signals and shutdown ---- */

static void maybe_finish_shutdown(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i].svc.pid)
			return;
	log_info("msg=\"all services stopped, exiting\"");
	loop_quit(d->loop, 0);
}

static void begin_shutdown(struct daemon *d, int sig)
{
	struct svc_input in = { .why = "readyd is shutting down" };

	if (d->shutting_down) { /* asked twice: don't wait for stop_timeout */
		log_warn("msg=\"second SIG%s: killing every service now\"", sigabbrev_np(sig));
		for (size_t i = 0; i < d->n_units; i++)
			if (d->units[i].svc.pid)
				supervisor_kill_group(d->units[i].svc.pid, SIGKILL);
		return;
	}
	log_info("msg=\"stopping every service\" signal=SIG%s", sigabbrev_np(sig));
	d->shutting_down = true;
	for (size_t i = 0; i < d->n_units; i++)
		unit_handle(&d->units[i], SVC_EV_STOP, &in);
	maybe_finish_shutdown(d);
}

static void on_signal(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	struct signalfd_siginfo si;

	(void)loop, (void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_shutdown(d, (int)si.ssi_signo);
		else if (si.ssi_signo == SIGHUP)
			log_warn("msg=\"SIGHUP ignored: restart readyd to read a changed config\"");
	}
}

static void on_tracer(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	int n;

	(void)loop, (void)events;
	n = tracer_consume(d->tracer);
	if (n < 0 && n != -EINTR)
		log_warn("msg=\"ring buffer read failed\" err=\"%s\"", strerror(-n));
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sigdelset(&set, SIGPIPE); /* blocked and never read: writes get EPIPE instead */
	d->signal_src = (struct loop_source){ .fn = on_signal, .data = d };
	d->signal_src.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_src.fd < 0)
		return -errno;
	return loop_add(d->loop, &d->signal_src, EPOLLIN);
}

/* ---- lifecycle ---- */

/* Command-line flags win over the file. */
static int override(char **field, const char *value)
{
	char *copy;

	if (!value)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int load_config(struct daemon *d, const struct daemon_opts *o)
{
	struct config_diag diag;
	int err = config_load(o->config_path, &o->defaults, &d->cfg, &diag);

	char text[1024];

	for (size_t i = 0; i < diag.n; i++)
		log_err("msg=\"config error\" at=\"%s\"", log_escape(text, sizeof(text), diag.lines[i]));
	if (err && !diag.n)
		log_err("msg=\"cannot read config\" path=%s err=\"%s\"", o->config_path, strerror(-err));
	else if (err)
		log_err("msg=\"config rejected: nothing was started\" path=%s errors=%zu",
			o->config_path, diag.n);
	config_diag_free(&diag);
	if (err)
		return err;
	if (override(&d->cfg.control, o->control_path) || override(&d->cfg.textfile, o->textfile_path))
		return -ENOMEM;
	if (d->cfg.n_services == 0)
		log_warn("msg=\"config declares no service\" path=%s", o->config_path);
	return 0;
}

static int setup_units(struct daemon *d)
{
	d->units = calloc(d->cfg.n_services ? d->cfg.n_services : 1, sizeof(*d->units));
	if (!d->units)
		return -ENOMEM;
	d->n_units = d->cfg.n_services;
	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *u = &d->units[i];
		u->d = d;
		u->id = (uint32_t)i + 1;
		u->cfg = &d->cfg.services[i];
		u->child.pidfd = u->child.status_fd = -1;
		u->timer = (struct loop_timer){ .fn = on_unit_timer, .data = u };
		u->spawn_job = (struct loop_job){ .fn = on_spawn_job, .data = u };
		svc_init(&u->svc, u->cfg);
	}
	return 0;
}

int daemon_init(struct daemon *d, const struct daemon_opts *o)
{
	struct tracer_opts topts = {
		.want = o->mode, .ringbuf_bytes = o->ringbuf_bytes, .on_event = daemon_on_event, .ctx = d,
	};
	int err;

	memset(d, 0, sizeof(*d));
	d->signal_src.fd = d->tracer_src.fd = -1;
	err = load_config(d, o);
	if (!err)
		err = loop_new(&d->loop);
	if (!err)
		err = setup_units(d);
	if (!err)
		err = setup_signals(d);
	if (!err)
		err = setup_textfile(d);
	if (!err)
		err = tracer_open(&topts, &d->tracer);
	if (err)
		return err;
	d->tracer_src = (struct loop_source){ .fd = tracer_fd(d->tracer), .fn = on_tracer, .data = d };
	err = loop_add(d->loop, &d->tracer_src, EPOLLIN);
	if (!err)
		err = control_open(d->loop, d->cfg.control,
				   d->cfg.control_group ? d->cfg.control_gid : (gid_t)-1,
				   daemon_on_request, d, &d->control);
	if (err) {
		log_err("msg=\"cannot open control socket\" path=%s err=\"%s\"", d->cfg.control,
			strerror(-err));
		return err;
	}
	d->export_timer = (struct loop_timer){ .fn = on_export_timer, .data = d };
	d->refresh_timer = (struct loop_timer){ .fn = on_export_timer, .data = d };
	d->syscall_linger = (struct loop_timer){ .fn = on_syscall_linger, .data = d };
	daemon_resync_init(d);
	log_info("msg=started version=%s mode=%s services=%zu control=%s textfile=%s",
		 READYD_VERSION, tracer_mode_name(tracer_mode(d->tracer)), d->n_units,
		 d->cfg.control, d->cfg.textfile);
	return 0;
}

int daemon_run(struct daemon *d)
{
	struct svc_input boot = { .why = "started at boot" };
	int rc;

	export_now(d);
	for (size_t i = 0; i < d->n_units; i++)
		unit_handle(&d->units[i], SVC_EV_START, &boot);
	sync_syscall_tracing(d); /* attached by tracer_open; no service may need them */
	rc = loop_run(d->loop);
	export_now(d); /* the final state, after every service stopped */
	textfile_writer_flush(d->textfile);
	return rc;
}

void daemon_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		unit_close_child(&d->units[i]);
	control_close(d->control);
	tracer_close(d->tracer);
	textfile_writer_free(d->textfile);
	if (d->signal_src.fd >= 0)
		close(d->signal_src.fd);
	loop_free(d->loop);
	free(d->units);
	strbuf_free(&d->export_buf);
	config_free(&d->cfg);
}
