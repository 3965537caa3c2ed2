/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Control clients waiting on a service (readyctl wait, start, stop,
 * restart): each transition reaches them as a progress line, and their
 * reply comes when the service settles.
 */
#ifndef READYD_OUT_WAITERS_H
#define READYD_OUT_WAITERS_H

#include <stdbool.h>

struct control_client;
struct svc_actions;
struct unit;
struct unit_module;

/* What a waiting client waits for. */
enum wait_kind { WAIT_RUNNING, WAIT_STOPPED };

extern const struct unit_module waiters_module;

/* Answer now if u has settled for `kind` (or the client does not wait), else keep it waiting. */
void waiters_wait_or_answer(struct control_client *c, struct unit *u, enum wait_kind kind,
			    bool wait);
/* One transition as a progress line; false if the client is gone. */
bool waiters_send_transition(struct control_client *c, const struct unit *u,
			     const struct svc_actions *a);

#endif
