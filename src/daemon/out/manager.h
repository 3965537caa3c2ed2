/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd's own service manager (systemd: Type=notify or notify-reload),
 * told over $NOTIFY_SOCKET: READY=1 once the boot's services are started or
 * starting and the control socket answers, STATUS= the services' states
 * (at most 4 a second, only when it changed), RELOADING=1 and READY=1
 * around a reload, STOPPING=1 at shutdown, and WATCHDOG=1 every half
 * $WATCHDOG_USEC from a timer of the loop, so a loop that is stuck stops
 * pinging. Nothing when $NOTIFY_SOCKET is unset, and nothing for readyd
 * exec / wait (the one-shot front end reports with its exit code).
 */
#ifndef READYD_OUT_MANAGER_H
#define READYD_OUT_MANAGER_H

struct daemon;
struct unit_module;

extern const struct unit_module manager_module;

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID. 0 (a bad value is logged, not fatal) or
 * -ENOMEM. */
int manager_open(struct daemon *d);
void manager_close(struct daemon *d);
/* The boot's services are started: READY=1 from the loop, after their forks. */
void manager_booted(struct daemon *d);
/* A reload begins (RELOADING=1); it was applied or rejected (err): READY=1 again. */
void manager_reloading(struct daemon *d);
void manager_reloaded(struct daemon *d, int err);
/* Shutdown begins: STOPPING=1. */
void manager_stopping(struct daemon *d);

#endif
