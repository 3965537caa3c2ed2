/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A ring buffer record, read: struct rd_event (include/readyd_event.h) from
 * raw bytes, and the parts of it the daemon turns into strings. Pure, so
 * that tests/fuzz/events.c can feed it any bytes: the record comes from the
 * kernel, but from a BPF object that may be older or newer than readyd.
 */
#ifndef READYD_TRACER_EVENT_H
#define READYD_TRACER_EVENT_H

#include <stddef.h>

#include "readyd_event.h"

#include "base/sock_types.h"

/* 0 with *e filled, or -EINVAL if the record is not of our ABI (its size). */
int tracer_event_decode(const void *data, size_t size, struct rd_event *e);
/* The event's socket address; path NUL-terminated whatever the record holds. */
void tracer_event_addr(const struct rd_event *e, struct sock_addr *a);
/* The event's comm, NUL-terminated and sanitized, into comm[size]. */
void tracer_event_comm(const struct rd_event *e, char *comm, size_t size);

#endif
