// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyd exec / readyd wait (oneshot.h): the one service's transitions
 * decide what is printed and when the run ends, with which exit code.
 */

#include "daemon/out/oneshot_exit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/procs.h"
#include "daemon/unit.h"

#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

struct oneshot_exit {
	struct loop_timer timer; /* readyd wait --timeout */
	bool said_ready;
};

static void on_wait_timeout(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	struct svc *s = d->n_units ? &d->units[0]->svc : NULL;
	char took[32], what[SVC_CAUSE_MAX] = "";

	fmt_duration(took, sizeof(took), d->opts->oneshot.timeout_ns);
	if (s)
		svc_describe_listeners(s, what, sizeof(what));
	fprintf(stderr, "readyd wait: pid %d is not ready after %s%s%s%s\n",
		(int)d->opts->oneshot.pid, took, what[0] ? " (" : "", what, what[0] ? ")" : "");
	loop_quit(loop, ONESHOT_EXIT_TIMEOUT);
}

int oneshot_exit_open(struct daemon *d)
{
	if (!d->opts->oneshot.kind)
		return 0;
	d->oneshot = calloc(1, sizeof(*d->oneshot));
	if (!d->oneshot)
		return -ENOMEM;
	d->oneshot->timer = (struct loop_timer){ .fn = on_wait_timeout, .data = d };
	/* exec's timeout is the service's ready_timeout: the state machine stops CMD. */
	if (d->opts->oneshot.kind == ONESHOT_WAIT && d->opts->oneshot.timeout_ns)
		loop_timer_arm(d->loop, &d->oneshot->timer,
			       now_mono_ns() + d->opts->oneshot.timeout_ns);
	return 0;
}

void oneshot_exit_close(struct daemon *d)
{
	if (!d->oneshot)
		return;
	loop_timer_cancel(d->loop, &d->oneshot->timer);
	free(d->oneshot);
	d->oneshot = NULL;
}

static void say_ready(struct unit *u)
{
	struct daemon *d = u->d;
	int fd = d->opts->oneshot.ready_fd > 0 ? d->opts->oneshot.ready_fd : STDOUT_FILENO;

	d->oneshot->said_ready = true;
	fflush(stdout);
	/* One write: a pipeline reading it must see it now, whole, not at exit. */
	if (d->opts->oneshot.kind == ONESHOT_WAIT)
		dprintf(fd, "readyd: pid %d is ready: %s\n", (int)d->opts->oneshot.pid,
			u->svc.cause);
	else
		dprintf(fd, "readyd: %s is ready (pid %d): %s\n", u->cfg->name, (int)u->svc.pid,
			u->svc.cause);
	if (fd != STDOUT_FILENO)
		close(fd); /* its reader sees EOF after the line */
}

/* How the command ended, as a shell would report it. */
static int exit_code(const struct svc *s)
{
	const struct svc_exit *e = &s->last_exit;

	if (s->ready_timed_out)
		return ONESHOT_EXIT_TIMEOUT;
	if (!s->has_exit || e->spawn_error[0])
		return ONESHOT_EXIT_CANNOT_RUN;
	if (e->signal)
		return 128 + e->signal;
	return e->code >= 0 ? e->code : 1;
}

static void observe(struct unit *u, const struct unit_news *n)
{
	struct daemon *d = u->d;
	enum svc_state st = u->svc.state;

	if (!d->oneshot || d->exiting)
		return;
	if (st == SVC_RUNNING && !d->oneshot->said_ready) {
		say_ready(u);
		if (d->opts->oneshot.kind == ONESHOT_WAIT) {
			d->exiting = true;
			loop_quit(d->loop, 0);
		}
		return;
	}
	/* The first look's scan ran with the spawn (in/scan.c observes before this module). */
	if (d->opts->oneshot.first_look && n->spawned && st == SVC_STARTING) {
		d->exiting = true;
		loop_quit(d->loop, ONESHOT_NOT_YET);
		return;
	}
	if ((st != SVC_FAILED && st != SVC_STOPPED) || u->svc.pid || !unit_all_down(u))
		return;
	d->exiting = true;
	if (d->opts->oneshot.kind == ONESHOT_WAIT) {
		if (u->svc.last_exit.spawn_error[0]) /* it was never there */
			fprintf(stderr, "readyd wait: %s\n", u->svc.last_exit.spawn_error);
		else
			fprintf(stderr, "readyd wait: pid %d is gone before it was ready\n",
				(int)d->opts->oneshot.pid);
		loop_quit(d->loop, ONESHOT_EXIT_GONE);
	} else {
		loop_quit(d->loop, exit_code(&u->svc));
	}
}

/*
 * exec stays out of the way, like a shell's exec: the command gets the
 * signal and readyd exits with whatever the command then does. Before it
 * runs, and for wait, a signal ends the run.
 */
bool oneshot_exit_signal(struct daemon *d, int sig)
{
	struct unit *u = d->n_units ? d->units[0] : NULL;

	if (!d->oneshot || sig == SIGCHLD)
		return false;
	if (d->opts->oneshot.kind == ONESHOT_EXEC && u && u->svc.pid) {
		log_info("msg=\"forwarding SIG%s to the command\" pid=%d", sigabbrev_np(sig),
			 (int)u->svc.pid);
		if (kill(u->svc.pid, sig) < 0)
			log_warn("msg=\"cannot forward SIG%s\" pid=%d err=\"%m\"",
				 sigabbrev_np(sig), (int)u->svc.pid);
		return true;
	}
	if (d->opts->oneshot.kind == ONESHOT_WAIT) {
		d->exiting = true;
		loop_quit(d->loop, 128 + sig);
		return true;
	}
	/* exec, nothing running: TERM/INT end the run; the rest (HUP is no reload here) wait. */
	return sig != SIGTERM && sig != SIGINT;
}

const struct unit_module oneshot_exit_module = {
	.name = "oneshot",
	.observe = observe,
};
