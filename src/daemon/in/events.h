/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ring buffer's sensor: each kernel event about a socket of a service's
 * trees (bind, listen, accepting, close) becomes an SVC_EV_SOCKET with what
 * the kernel said; a process leaving a tree goes to procs.c.
 */
#ifndef READYD_IN_EVENTS_H
#define READYD_IN_EVENTS_H

#include "readyd_event.h"

/* The tracer's callback; ctx is the daemon. */
void events_on_event(const struct rd_event *e, void *ctx);

#endif
