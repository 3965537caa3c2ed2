// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The composition root: opens every module in order and registers, in the
 * order they must hear of a unit's life, the ones that follow units; then
 * signals, the ring buffer and the control socket; and shutdown.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon/commands.h"
#include "daemon/deps.h"
#include "daemon/handover.h"
#include "daemon/output.h"
#include "daemon/in/events.h"
#include "daemon/in/fdready.h"
#include "daemon/in/markers.h"
#include "daemon/in/notify.h"
#include "daemon/in/prespawn.h"
#include "daemon/in/probes.h"
#include "daemon/in/scan.h"
#include "daemon/in/unix_close.h"
#include "daemon/in/watch.h"
#include "daemon/out/agent.h"
#include "daemon/out/http.h"
#include "daemon/out/export.h"
#include "daemon/out/grpc.h"
#include "daemon/out/manager.h"
#include "daemon/out/oneshot_exit.h"
#include "daemon/out/stream.h"
#include "daemon/out/timeline.h"
#include "daemon/out/waiters.h"
#include "daemon/reload.h"
#include "daemon/sock_table.h"
#include "daemon/syscalls.h"
#include "daemon/unit.h"
#include "os/accept_spare.h"
#include "os/control_socket.h"
#include "os/nofile.h"
#include "os/supervisor.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

/* ---- shutdown ---- */

/* During shutdown: exit the loop once no service has a process. */
static void check_shutdown(struct daemon *d)
{
	if (!d->shutting_down || d->exiting)
		return;
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->svc.pid || !unit_all_down(d->units[i]))
			return;
	d->exiting = true;
	handover_finish(d); /* nothing is left to take back */
	log_info("msg=\"all services stopped, exiting\"");
	loop_quit(d->loop, 0);
}

static void observe_shutdown(struct unit *u, const struct unit_news *n)
{
	(void)n;
	check_shutdown(u->d);
}

static const struct unit_module shutdown_module = {
	.name = "shutdown",
	.observe = observe_shutdown,
};

/*
 * Everything that follows a unit's life, in the order it hears of it: after
 * each event, probes, scans and watches follow the new state first, then the
 * syscall window, then the reporters; before a spawn, the stale marker goes,
 * the syscall tracepoints attach, and the declared addresses are checked.
 */
static const struct unit_module *const modules[] = {
	&notify_module,	      /* in: its sd_notify socket, made with the unit */
	&probes_module,	      /* in: probes start and stop with the state */
	&scan_module,	      /* in: scans of what events cannot tell */
	&markers_module,      /* in: the stale marker goes before a spawn */
	&fdready_module,      /* in: ready = fd:N, a pipe for each instance */
	&unix_close_module,   /* in: unix listeners closing */
	&watch_module,	      /* in: a [watch] waiting to attach again */
	&syscalls_module,     /* the syscall tracepoints: attached before a spawn */
	&prespawn_module,     /* in: declared addresses checked right before a spawn */
	&deps_module,	      /* start order: held spawns go when what they wait for runs */
	&waiters_module,      /* out: control clients waiting on it */
	&http_module,	      /* out: HTTP long-polls waiting on it */
	&export_module,	      /* out: the textfile */
	&oneshot_exit_module, /* out: readyd exec / wait */
	&manager_module,      /* out: STATUS= to readyd's own service manager */
	&grpc_module,	      /* out: gRPC Watch streams, told in the transition's iteration */
	&timeline_module,     /* out: each service's timeline (readyctl plot, blame) */
	&stream_module,	      /* out: the event stream (readyctl events) */
	&handover_module,     /* out: what a next readyd needs to take them back */
	&shutdown_module,     /* last: exit once nothing runs */
};

/* A reload removed a unit and it is gone now. */
static void on_unit_freed(struct daemon *d)
{
	if (d->shutting_down)
		check_shutdown(d);
	else
		daemon_start_missing(d, NULL); /* a reload may have re-added that name */
}

int daemon_leave_running(struct daemon *d)
{
	if (!handover_keeps_services(d) || d->shutting_down)
		return -EOPNOTSUPP;
	log_info("msg=\"exiting, every service left running: a next readyd takes them back\"");
	manager_stopping(d);
	handover_save_all_now(d);
	d->exiting = true;
	loop_quit(d->loop, 0);
	return 0;
}

void daemon_shutdown(struct daemon *d, const char *by)
{
	if (d->shutting_down) { /* asked twice: don't wait for stop_timeout */
		log_warn("msg=\"second %s: killing every service now\"", by);
		for (size_t i = 0; i < d->n_units; i++)
			unit_signal(d->units[i], SIGKILL);
		return;
	}
	log_info("msg=\"stopping every service\" by=\"%s\"", by);
	d->shutting_down = true;
	manager_stopping(d);
	deps_stop_all(d); /* each service after what depends on it */
	check_shutdown(d);
}

static void begin_shutdown(struct daemon *d, int sig)
{
	char by[16];

	snprintf(by, sizeof(by), "SIG%s", sigabbrev_np(sig));
	daemon_shutdown(d, by);
}

/* ---- signals ---- */

/* daemon_reload logs the outcome, failures included. */
static void reload_on_signal(struct daemon *d)
{
	struct reload_summary sum;
	struct config_diag diag;

	if (daemon_reload(d, &sum, &diag) == 0)
		reload_summary_free(&sum);
	config_diag_free(&diag);
}

static void on_signal(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	struct signalfd_siginfo si;

	(void)loop, (void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		if (oneshot_exit_signal(d, (int)si.ssi_signo))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			begin_shutdown(d, (int)si.ssi_signo);
		} else if (si.ssi_signo == SIGCHLD) {
			reaper_reap_children(d);
		} else if (si.ssi_signo == SIGUSR2) {
			char why[256];
			log_info("msg=\"SIGUSR2: exec'ing readyd anew\"");
			if (handover_reexec(d, NULL, why, sizeof(why)) < 0)
				log_err("msg=\"cannot exec readyd anew\" why=\"%s\"", why);
		} else if (si.ssi_signo == SIGHUP) {
			log_info("msg=\"SIGHUP: reloading the config\" path=%s",
				 d->opts->config_path);
			reload_on_signal(d);
		}
	}
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
	sigaddset(&set, SIGUSR2); /* the daemon: exec anew; readyd exec: forwarded */
	if (d->opts->oneshot.kind == ONESHOT_EXEC) { /* forwarded to the command */
		sigaddset(&set, SIGQUIT);
		sigaddset(&set, SIGUSR1);
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

static void on_tracer(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	int n;

	(void)loop, (void)events;
	n = tracer_consume(d->tracer);
	if (n < 0 && n != -EINTR)
		log_warn("msg=\"ring buffer read failed\" err=\"%s\"", strerror(-n));
}

/* However it was read (the crosscheck reads too): were some lost meanwhile? */
static void on_kernel_event(const struct rd_event *e, void *ctx)
{
	scan_after_events(ctx);
	if (e->type == RD_EV_QUEUED) /* news of a queue, not of a listener: the scan's */
		scan_queue_arrived(ctx, e->kid, e->port);
	else
		events_on_event(e, ctx);
}

/*
 * The kernel's maps are sized once, at load: for the services of the config
 * and room for reloads to quadruple them, never below the defaults.
 */
static void size_tracer(const struct config *cfg, struct tracer_opts *t)
{
	size_t n = cfg->n_services, ring = 256 * 1024;

	t->max_watched = n * 4 * 8 > 16384 ? n * 4 * 8 : 16384; /* 8 processes each */
	t->max_listeners = n * 4 * 2 > 8192 ? n * 4 * 2 : 8192;
	/* 3 events a listener (bound, listening, accepting), 64 bytes each, for 4n of them. */
	while (ring < n * 4 * 3 * 64 && ring < 64 * 1024 * 1024)
		ring *= 2;
	if (!t->ringbuf_bytes)
		t->ringbuf_bytes = ring;
}

static int open_tracer(struct daemon *d, const struct daemon_opts *o)
{
	struct tracer_opts topts = {
		.want = o->mode,
		.ringbuf_bytes = o->ringbuf_bytes,
		.on_event = on_kernel_event,
		.ctx = d,
	};
	int err;

	size_tracer(d->cfg, &topts);
	err = tracer_open(&topts, &d->tracer);
	if (err)
		return err;
	d->tracer_src =
		(struct loop_source){ .fd = tracer_fd(d->tracer), .fn = on_tracer, .data = d };
	return d->tracer_src.fd >= 0 ? loop_add(d->loop, &d->tracer_src, EPOLLIN)
				     : 0; /* poll: no BPF */
}

/* ---- the config ---- */

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

int daemon_apply_overrides(const struct daemon_opts *o, struct config *cfg)
{
	return override(&cfg->control, o->control_path) ||
			       override(&cfg->textfile, o->textfile_path)
		       ? -ENOMEM
		       : 0;
}

/*
 * What the host says of the config (a command not installed yet, a missing
 * directory): warnings, not errors. The binary may come with a package,
 * the directory with a mount; the spawn then fails with the cause named.
 */
static void warn_of_host(const struct config *cfg)
{
	struct config_diag found = { 0 };
	char text[1024];

	config_env_check(cfg, &found);
	for (size_t i = 0; i < found.n; i++)
		log_warn("msg=\"config: not so on this host\" at=\"%s\"",
			 log_escape(text, sizeof(text), found.lines[i]));
	config_diag_free(&found);
}

/*
 * File descriptors a process of a service holds in readyd (pidfd, output
 * pipe, exec status pipe, cgroup directory, its share of the notify socket),
 * measured: 20,000 ran out at 3,309 services. Spare: what the closer may hold
 * (1024 before notify reading pauses), BPF links, clients, the textfile.
 */
#define FDS_PER_PROCESS 6
#define FDS_SPARE	2048

/* Would these services run out of fds half-way through a boot? Then nothing starts. */
static int check_fd_budget(const struct config *cfg, const char *path, struct config_diag *diag)
{
	struct rlimit r;
	size_t procs = 0, need;

	for (size_t i = 0; i < cfg->n_services; i++)
		procs += cfg->services[i].n_procs ? cfg->services[i].n_procs : 1;
	need = procs * FDS_PER_PROCESS + FDS_SPARE;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur == RLIM_INFINITY || need <= r.rlim_cur)
		return 0;
	config_diag_add(diag,
			"%s: %zu service processes need about %zu file descriptors, the limit "
			"is %llu: raise it (systemd: LimitNOFILE=; a shell: ulimit -n) or "
			"declare fewer",
			path, procs, need, (unsigned long long)r.rlim_cur);
	return -EINVAL;
}

int daemon_load_config(const struct daemon_opts *o, struct config **out, struct config_diag *diag)
{
	int err = config_open(o->config_path, &o->defaults, out, diag);

	if (err)
		return err; /* *out untouched */
	err = daemon_apply_overrides(o, *out) < 0 ? -ENOMEM
						  : check_fd_budget(*out, o->config_path, diag);
	if (err) {
		config_unref(*out);
		*out = NULL;
		return err;
	}
	warn_of_host(*out);
	return 0;
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
		log_err("msg=\"config error\" at=\"%s\"",
			log_escape(text, sizeof(text), diag.lines[i]));
	if (err && !diag.n)
		log_err("msg=\"cannot read config\" path=%s err=\"%s\"", o->config_path,
			strerror(-err));
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

/* ---- lifecycle ---- */

/* control_open says why it cannot (which directory, and the fix). */
static int open_control(struct daemon *d)
{
	if (!d->cfg->control)
		return 0;
	return control_open(d->loop, d->cfg->control,
			    d->cfg->control_group ? d->cfg->control_gid : (gid_t)-1,
			    commands_on_request, d, &d->control);
}

int daemon_init(struct daemon *d, const struct daemon_opts *o)
{
	int err;

	memset(d, 0, sizeof(*d));
	d->opts = o;
	d->signal_src.fd = d->tracer_src.fd = -1;
	d->modules = modules;
	d->n_modules = ARRAY_SIZE(modules);
	d->adopt = watch_attach;
	d->unit_freed = on_unit_freed;
	d->started_at = now_mono_ns();
	err = nofile_raise();
	if (err)
		log_warn("msg=\"cannot raise the fd limit\" err=\"%s\"", strerror(-err));
	err = accept_spare_open(); /* the control, http, grpc and agent listeners, out of fds */
	if (err)
		log_warn("msg=\"no spare fd: out of fds, a connection would wait unanswered\" "
			 "err=\"%s\"",
			 strerror(-err));
	err = load_config(d, o);
	if (!err)
		err = loop_new(&d->loop);
	if (!err)
		err = handover_open(d); /* an earlier readyd's services: d->cfg is what it ran */
	if (!err)
		err = markers_open(d);
	if (!err)
		err = reaper_open(d);
	if (!err)
		err = output_open(d);
	if (!err)
		err = sock_cache_open(d);
	if (!err)
		err = syscalls_open(d);
	if (!err)
		err = unix_close_open(d);
	if (!err)
		err = notify_open(d);
	if (!err)
		err = handover_setup_units(d);
	if (!err)
		err = setup_signals(d);
	if (!err)
		err = export_open(d);
	if (!err)
		err = open_tracer(d, o);
	if (!err)
		err = open_control(d);
	if (!err)
		err = agent_open(d);
	if (!err)
		err = grpc_open(d);
	if (!err)
		err = http_open(d);
	if (!err)
		err = scan_open(d);
	if (!err)
		err = oneshot_exit_open(d);
	if (!err)
		err = manager_open(d);
	if (err)
		return err;
	log_info("msg=started version=%s mode=%s services=%zu control=%s textfile=%s",
		 READYD_VERSION, tracer_mode_name(tracer_mode(d->tracer)), d->n_units,
		 d->cfg->control ? d->cfg->control : "none",
		 d->cfg->textfile ? d->cfg->textfile : "none");
	return 0;
}

void daemon_start(struct daemon *d)
{
	export_now(d);
	handover_start(d); /* taken back, or started at boot */
	syscalls_sync(d);  /* attached by tracer_open; no service may need them */
	manager_booted(d); /* READY=1 after the forks just queued */
}

int daemon_run(struct daemon *d)
{
	int rc;

	daemon_start(d);
	rc = loop_run(d->loop);
	stream_end(d, "readyd exits");
	export_now(d); /* the final state, after every service stopped */
	export_flush(d);
	return rc;
}

void daemon_free(struct daemon *d)
{
	daemon_free_units(d);
	handover_close(d);
	manager_close(d);
	oneshot_exit_close(d);
	scan_close(d);
	control_close(d->control);
	agent_close(d);
	grpc_close(d);
	accept_spare_close();
	http_close(d);
	tracer_close(d->tracer);
	export_close(d);
	if (d->signal_src.fd >= 0)
		d->signal_src.fd = fd_close(d->signal_src.fd);
	notify_close(d);
	unix_close_close(d);
	syscalls_close(d);
	sock_cache_close(d);
	output_close(d);
	reaper_close(d);
	markers_close(d);
	loop_free(d->loop);
	config_unref(d->cfg);
}
