/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sd_notify for each service: its own abstract socket, passed as
 * NOTIFY_SOCKET. A datagram counts only if its sender (SCM_CREDENTIALS) is
 * in the service's process tree; malformed, oversized and foreign ones are
 * dropped, counted and logged (rate-limited), never acted on. Received fds
 * are closed once the message is handled: a BARRIER=1 sender is released
 * exactly when everything before it took effect.
 */
#ifndef READYD_IN_NOTIFY_H
#define READYD_IN_NOTIFY_H

struct daemon;
struct unit;
struct unit_module;

extern const struct unit_module notify_module;

/* The closer thread for received fds (a warning, and closes on the loop, without it). */
int notify_open(struct daemon *d);
void notify_close(struct daemon *d);

#endif
