/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HAProxy's agent-check on [readyd] agent_listen: HAProxy connects, its
 * agent-send line names a service, readyd answers "up" or "down #why" from
 * the state at that moment and closes (model/agent_reply.h). At most
 * AGENT_CLIENTS_MAX clients at once; each gets 100 ms to start its line and
 * 1 s to end it, and no read or write ever waits.
 */
#ifndef READYD_OUT_AGENT_H
#define READYD_OUT_AGENT_H

#define AGENT_CLIENTS_MAX 64

struct daemon;

/* Nothing without agent_listen; else bound now: -errno (logged with the key's line) if not. */
int agent_open(struct daemon *d);
void agent_close(struct daemon *d);

#endif
