// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Setup and teardown, signals, the textfile, and the syscall tracepoint window. */
#include "daemon/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/log.h"
#include "model/metrics.h"
#include "base/clock.h"
#include "base/util.h"

#define EXPORT_DEBOUNCE_NS (5 * NSEC_PER_MSEC)
/* Counters that only advance (probe runs, durations): at most this stale. */
#define EXPORT_COUNTERS_NS (1 * NSEC_PER_SEC)
/* Rewritten this often even when nothing changed: node_textfile_mtime_seconds stays fresh. */
#define EXPORT_REFRESH_NS (15 * NSEC_PER_SEC)
#define SYSCALL_LINGER_NS (2 * NSEC_PER_SEC)

/* ---- textfile ---- */

static void export_now(struct daemon *d)
{
	const struct svc *svcs[CONFIG_MAX_SERVICES * 2];
	struct metrics_global g = {
		.version = READYD_VERSION,
		.mode = tracer_mode_name(tracer_mode(d->tracer)),
		.events_total = d->events_total,
		.events_dropped = tracer_dropped(d->tracer),
	};
	size_t n = 0;
	int err;

	if (!d->textfile) /* readyd exec/wait without --textfile */
		return;
	for (size_t i = 0; i < d->n_units && n < ARRAY_SIZE(svcs); i++)
		if (!d->units[i]->removed) /* one series per name: a re-added one may be starting */
			svcs[n++] = &d->units[i]->svc;
	metrics_render(&d->export_buf, &g, svcs, n);
	if (d->export_buf.oom) {
		log_err("msg=\"textfile not written: out of memory\" path=%s", d->cfg->textfile);
		return;
	}
	err = textfile_writer_submit(d->textfile, d->export_buf.data, d->export_buf.len);
	if (err)
		log_err("msg=\"cannot write textfile\" path=%s err=\"%s\"", d->cfg->textfile,
			strerror(-err));
	loop_timer_arm(d->loop, &d->refresh_timer, now_mono_ns() + EXPORT_REFRESH_NS);
}

static void on_export_timer(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	export_now(t->data);
}

/* Export by `at` at the latest (an earlier export already due stays). */
static void export_by(struct daemon *d, uint64_t at)
{
	if (!loop_timer_armed(&d->export_timer) || d->export_timer.deadline > at)
		loop_timer_arm(d->loop, &d->export_timer, at);
}

void daemon_mark_dirty(struct daemon *d)
{
	export_by(d, now_mono_ns() + EXPORT_DEBOUNCE_NS);
}

/*
 * Only counters moved. Rendering 100 services for each of 100 probe results
 * a second cost ~0.3 ms of CPU per probe (tools/bench probes): a second of
 * staleness for counters is what a scrape interval never notices.
 */
void daemon_mark_counters(struct daemon *d)
{
	export_by(d, now_mono_ns() + EXPORT_COUNTERS_NS);
}

/* The asynchronous fsync finished: the new file is renamed into place. */
static void on_textfile_synced(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	int err = textfile_writer_complete(d->textfile);

	(void)loop, (void)events;
	if (err)
		log_err("msg=\"cannot write textfile\" path=%s err=\"%s\"", d->cfg->textfile,
			strerror(-err));
}

static int setup_textfile(struct daemon *d)
{
	int err = d->cfg->textfile ? textfile_writer_new(d->cfg->textfile, &d->textfile) : 0;

	if (err || !d->textfile)
		return err;
	d->textfile_src = (struct loop_source){ .fd = textfile_writer_fd(d->textfile),
						.fn = on_textfile_synced, .data = d };
	if (d->textfile_src.fd < 0) {
		log_warn("msg=\"no Linux AIO: the textfile fsync will block the loop\"");
		return 0;
	}
	return loop_add(d->loop, &d->textfile_src, EPOLLIN);
}

/* ---- the syscall tracepoint window ---- */

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
void daemon_sync_syscalls(struct daemon *d)
{
	bool need = false;

	for (size_t i = 0; i < d->n_units && !need; i++)
		need = svc_needs_syscalls(&d->units[i]->svc);
	if (need) {
		loop_timer_cancel(d->loop, &d->syscall_linger);
		tracer_set_syscalls(d->tracer, true);
	} else if (tracer_syscalls_on(d->tracer) && !loop_timer_armed(&d->syscall_linger)) {
		loop_timer_arm(d->loop, &d->syscall_linger, now_mono_ns() + SYSCALL_LINGER_NS);
	}
}

/* ---- signals and shutdown ---- */

void daemon_check_shutdown(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->svc.pid || !unit_all_down(d->units[i]))
			return;
	if (d->exiting)
		return;
	d->exiting = true;
	log_info("msg=\"all services stopped, exiting\"");
	loop_quit(d->loop, 0);
}

static void begin_shutdown(struct daemon *d, int sig)
{
	struct svc_input in = { .why = "readyd is shutting down" };

	if (d->shutting_down) { /* asked twice: don't wait for stop_timeout */
		log_warn("msg=\"second SIG%s: killing every service now\"", sigabbrev_np(sig));
		for (size_t i = 0; i < d->n_units; i++)
			unit_signal(d->units[i], SIGKILL);
		return;
	}
	log_info("msg=\"stopping every service\" signal=SIG%s", sigabbrev_np(sig));
	d->shutting_down = true;
	for (size_t i = 0; i < d->n_units; i++)
		unit_handle(d->units[i], SVC_EV_STOP, &in);
	daemon_check_shutdown(d);
}

static void reload_on_signal(struct daemon *d)
{
	struct reload_summary sum;
	struct config_diag diag;
	char text[1024];
	int err;

	if (d->shutting_down)
		return;
	err = daemon_reload(d, &sum, &diag);
	for (size_t i = 0; i < diag.n; i++)
		log_err("msg=\"config error\" at=\"%s\"", log_escape(text, sizeof(text), diag.lines[i]));
	if (err)
		log_err("msg=\"reload rejected: the running config is kept\" path=%s err=\"%s\"",
			d->opts->config_path, strerror(-err));
	config_diag_free(&diag);
	if (!err)
		reload_summary_free(&sum);
}

static void on_signal(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	struct signalfd_siginfo si;

	(void)loop, (void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		if (daemon_oneshot_signal(d, (int)si.ssi_signo))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			begin_shutdown(d, (int)si.ssi_signo);
		} else if (si.ssi_signo == SIGCHLD) {
			daemon_reap_children(d);
		} else if (si.ssi_signo == SIGHUP) {
			log_info("msg=\"SIGHUP: reloading the config\" path=%s", d->opts->config_path);
			reload_on_signal(d);
		}
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
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	if (d->opts->oneshot.kind == ONESHOT_EXEC) { /* forwarded to the command */
		sigaddset(&set, SIGQUIT);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
	}
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

/* Load the config; the command line's --control/--textfile win over it. */
int daemon_load_config(const struct daemon_opts *o, struct config **out, struct config_diag *diag)
{
	int err = config_open(o->config_path, &o->defaults, out, diag);

	if (!err && (override(&(*out)->control, o->control_path) ||
		     override(&(*out)->textfile, o->textfile_path))) {
		config_unref(*out);
		err = -ENOMEM;
	}
	return err;
}

static int load_config(struct daemon *d, const struct daemon_opts *o)
{
	struct config_diag diag;
	char text[1024];
	int err;

	if (o->config) { /* readyd exec/wait: built and checked by oneshot.c */
		d->cfg = config_ref(o->config);
		return 0;
	}
	err = daemon_load_config(o, &d->cfg, &diag);

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
	if (d->cfg->n_services == 0)
		log_warn("msg=\"config declares no service\" path=%s", o->config_path);
	return 0;
}

static int setup_units(struct daemon *d)
{
	for (size_t i = 0; i < d->cfg->n_services; i++)
		if (!unit_new(d, d->cfg, &d->cfg->services[i]))
			return -ENOMEM;
	return 0;
}

int daemon_init(struct daemon *d, const struct daemon_opts *o)
{
	struct tracer_opts topts = {
		.want = o->mode, .ringbuf_bytes = o->ringbuf_bytes, .on_event = daemon_on_event, .ctx = d,
	};
	int err;

	memset(d, 0, sizeof(*d));
	d->opts = o;
	d->signal_src.fd = d->tracer_src.fd = d->inotify_fd = d->cg_inotify_fd = -1;
	d->cgroups.dirfd = d->cg_src.fd = -1;
	err = load_config(d, o);
	if (!err)
		err = loop_new(&d->loop);
	if (!err)
		err = daemon_markers_init(d);
	if (!err)
		err = daemon_procs_init(d);
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
	err = d->tracer_src.fd >= 0 ? loop_add(d->loop, &d->tracer_src, EPOLLIN) : 0; /* poll: no BPF */
	if (!err && d->cfg->control)
		err = control_open(d->loop, d->cfg->control,
				   d->cfg->control_group ? d->cfg->control_gid : (gid_t)-1,
				   daemon_on_request, d, &d->control);
	if (err) {
		log_err("msg=\"cannot open control socket\" path=%s err=\"%s\"", d->cfg->control,
			strerror(-err));
		return err;
	}
	d->export_timer = (struct loop_timer){ .fn = on_export_timer, .data = d };
	d->refresh_timer = (struct loop_timer){ .fn = on_export_timer, .data = d };
	d->syscall_linger = (struct loop_timer){ .fn = on_syscall_linger, .data = d };
	daemon_resync_init(d);
	daemon_oneshot_start(d);
	log_info("msg=started version=%s mode=%s services=%zu control=%s textfile=%s",
		 READYD_VERSION, tracer_mode_name(tracer_mode(d->tracer)), d->n_units,
		 d->cfg->control ? d->cfg->control : "none", d->cfg->textfile ? d->cfg->textfile : "none");
	return 0;
}

int daemon_run(struct daemon *d)
{
	struct svc_input boot = { .why = "started at boot" };
	int rc;

	export_now(d);
	for (size_t i = 0; i < d->n_units; i++)
		unit_handle(d->units[i], SVC_EV_START, &boot);
	daemon_sync_syscalls(d); /* attached by tracer_open; no service may need them */
	rc = loop_run(d->loop);
	export_now(d); /* the final state, after every service stopped */
	if (d->textfile)
		textfile_writer_flush(d->textfile);
	return rc;
}

void daemon_free(struct daemon *d)
{
	daemon_free_units(d);
	daemon_procs_close(d);
	daemon_markers_close(d);
	control_close(d->control);
	tracer_close(d->tracer);
	textfile_writer_free(d->textfile);
	if (d->signal_src.fd >= 0)
		close(d->signal_src.fd);
	loop_free(d->loop);
	strbuf_free(&d->export_buf);
	sock_table_free(&d->table);
	config_unref(d->cfg);
}
