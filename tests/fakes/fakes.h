/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fakes for the daemon layer's unit tests (tests/unit/daemon/): linked in
 * place of os/tracer.c, os/control_socket.c and base/clock.c, they let a
 * test be the kernel (events), the clock and a control client.
 */
#ifndef READYD_FAKES_H
#define READYD_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "readyd_event.h"

/* ---- clock.c ---- */
void fake_clock_set(uint64_t ns);
void fake_clock_advance(uint64_t ns);

/* ---- tracer.c ---- */
/* Deliver e to the daemon as if the ring buffer had it (ts_ns 0: now). */
void fake_tracer_emit(struct rd_event e);
/* The kernel id a process was handed to tracer_watch() with (0: none). */
uint32_t fake_tracer_kid(pid_t pid);
bool fake_tracer_syscalls(void);	 /* attached now? */
unsigned int fake_tracer_attaches(void); /* how often they were attached */
void fake_tracer_set_dropped(uint64_t n);
unsigned int fake_tracer_queue_ports(void); /* ports armed for RD_EV_QUEUED now */

/* ---- control.c ---- */
struct control_client;
/* A client connects as uid and sends line; the daemon's handler runs now. */
struct control_client *fake_control_request(const char *line, uid_t uid);
/* What it was sent: progress lines and the reply, one per line ("" if none yet). */
const char *fake_control_output(const struct control_client *c);
bool fake_control_answered(const struct control_client *c);
void fake_control_free(struct control_client *c);

#endif
