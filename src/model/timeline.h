/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One service's timeline since readyd started (`readyctl plot`, `blame`,
 * `critical-chain`): spawns, listener levels, transitions. Bounded: the
 * first boot's entries (until it first runs, or TIMELINE_FIRST_MAX) are
 * kept for good, so that the boot stays visible after a week of restarts;
 * the rest is a ring of the latest TIMELINE_RING_MAX. Pure: the time is
 * the caller's.
 */
#ifndef READYD_MODEL_TIMELINE_H
#define READYD_MODEL_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/listener.h"
#include "model/service.h"

#define TIMELINE_FIRST_MAX  16
#define TIMELINE_RING_MAX   48 /* 64 entries in all */
#define TIMELINE_DETAIL_MAX 64

enum timeline_kind {
	TIMELINE_SPAWN, /* its processes were forked (detail: the pid) */
	TIMELINE_LEVEL, /* a listener reached `level` (detail: its address) */
	TIMELINE_STATE, /* a transition into `state` (detail: the cause, cut) */
};

struct timeline_entry {
	uint64_t at; /* CLOCK_MONOTONIC ns */
	uint8_t kind;
	uint8_t value; /* enum level or enum svc_state */
	char detail[TIMELINE_DETAIL_MAX];
};

struct timeline {
	struct timeline_entry first[TIMELINE_FIRST_MAX];
	size_t n_first;
	bool first_done; /* the first boot reached running, failed or stopped */
	struct timeline_entry ring[TIMELINE_RING_MAX];
	size_t head, n_ring; /* the oldest at head */
	uint64_t dropped;    /* entries the ring overwrote */
};

void timeline_init(struct timeline *t);
void timeline_add(struct timeline *t, uint64_t at, enum timeline_kind kind, unsigned int value,
		  const char *detail);
/* Every entry kept, oldest first: 0 <= i < timeline_count(t). */
size_t timeline_count(const struct timeline *t);
const struct timeline_entry *timeline_get(const struct timeline *t, size_t i);
/* "spawn", "bound", "listening", "accepting", "closed", or the state's name. */
const char *timeline_entry_name(const struct timeline_entry *e);

#endif
