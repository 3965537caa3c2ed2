/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Running one probe inside the event loop, never blocking it: non-blocking
 * connect (tcp, unix), then for the kinds that talk a request and the first
 * bytes of the answer (probe_wire.c: HTTP/1.1 GET, postgres' startup packet,
 * redis' PING), or an exec'd command with a pidfd, killed with its process
 * group at the timeout.
 */
#ifndef READYD_PROBE_H
#define READYD_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "base/loop.h"
#include "os/probe_wire.h"

struct probe_run;

struct probe_result {
	bool ok;
	bool aborted; /* probe_abort()ed and now reaped: no verdict */
	const char *reason;
	uint64_t duration_ns;
};

typedef void (*probe_done_fn)(struct probe_run *run, const struct probe_result *res);

struct probe_run {
	/* Set by the caller before probe_start. */
	probe_done_fn done;
	void *data;
	/* Private. */
	struct loop *loop;
	const struct probe_spec *spec;
	bool active;
	int phase;
	uint64_t started, timeout_ns;
	struct loop_source src;	  /* socket, or an exec probe's output pipe */
	struct loop_source pidfd; /* exec */
	struct loop_timer timer;
	pid_t pid;
	bool timed_out;
	bool aborting;	 /* killed by probe_abort: reap, but tell nobody */
	int connect_err; /* connect() failed at once: reported from the loop */
	char buf[PROBE_READ_MAX + 1];
	size_t len, sent;
};

/*
 * Start a probe of `spec` for service `cfg` (exec probes run with its
 * user and environment). `done` is called exactly once, from the loop:
 * with the verdict, or with `aborted` once an aborted exec probe is reaped
 * (an aborted socket probe reports nothing). 0 or -errno (nothing started).
 */
int probe_start(struct probe_run *r, struct loop *loop, const struct probe_spec *spec,
		const struct service_config *cfg, uint64_t timeout_ns);
/*
 * Stop a running probe without calling `done`. An exec probe is killed and
 * reaped later from the loop: probe_busy() stays true until then.
 */
void probe_abort(struct probe_run *r);
/* SIGCHLD for pid: if it is this probe's process, reap it now (true). */
bool probe_reap(struct probe_run *r, pid_t pid);
/* A probe is running or being reaped: the struct must stay. */
static inline bool probe_busy(const struct probe_run *r)
{
	return r->active;
}

#endif
