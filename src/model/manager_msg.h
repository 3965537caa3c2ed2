/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What readyd tells its own service manager (systemd, Type=notify or
 * notify-reload): READY=1, STATUS= a one-line summary of the services'
 * states, RELOADING=1 with MONOTONIC_USEC=, STOPPING=1, WATCHDOG=1. Pure:
 * the texts and the watchdog's interval from the environment's strings; the
 * socket is os/sd_notify.h, the timing daemon/out/manager.c.
 */
#ifndef READYD_MANAGER_MSG_H
#define READYD_MANAGER_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/service.h"

#define MANAGER_STATUS_MAX 160

/* How many services are in each state (svc_state_name order). */
struct manager_counts {
	size_t n[SVC_STATE_COUNT];
	size_t total;
};

void manager_count(struct manager_counts *c, enum svc_state st);
/*
 * "12 services: 10 running, 1 starting, 1 failed" (the states of a service
 * the operator acts on first, failed last; states no service is in are
 * left out), "no services". Into buf (truncated to size); returns buf.
 */
const char *manager_status(char *buf, size_t size, const struct manager_counts *c);

/* The datagrams; each returns its length, or -ENOSPC if size is too small. */
int manager_msg_ready(char *buf, size_t size, const char *status);
/* RELOADING=1 and when it began (CLOCK_MONOTONIC, as systemd's notify-reload asks). */
int manager_msg_reloading(char *buf, size_t size, uint64_t mono_ns);
int manager_msg_stopping(char *buf, size_t size, const char *status);
int manager_msg_status(char *buf, size_t size, const char *status);

/*
 * The watchdog ping's period from $WATCHDOG_USEC and $WATCHDOG_PID (either
 * may be NULL: unset), as sd_watchdog_enabled() reads them: half the timeout,
 * and only if WATCHDOG_PID is unset or names self. 1 and *period_ns; 0: no
 * watchdog for readyd (unset, or another pid's); -EINVAL with *why: a value
 * that is not a number (or 0, or beyond NOTIFY_USEC_MAX).
 */
int manager_watchdog_period(const char *usec, const char *pid, pid_t self, uint64_t *period_ns,
			    const char **why);

#endif
