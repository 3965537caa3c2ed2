/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The boot as readyctl sees it: every service's timeline ({"cmd":"timeline"})
 * with its dependencies (`list`'s "after" and "requires", absent: none),
 * and what `blame` and `critical-chain` compute from it. Pure: JSON in,
 * structs and orders out.
 */
#ifndef READYD_CLI_BOOT_H
#define READYD_CLI_BOOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_NAME_MAX	128
#define BOOT_CHAIN_MAX	64
#define BOOT_DETAIL_MAX 96

struct boot_mark {
	uint64_t at;   /* CLOCK_MONOTONIC ns */
	char kind[16]; /* spawn, bound, listening, accepting, or a state */
	char detail[BOOT_DETAIL_MAX];
};

struct boot_service {
	char name[BOOT_NAME_MAX];
	char state[16]; /* now */
	struct boot_mark *marks;
	size_t n_marks;
	double dropped;		     /* entries readyd no longer keeps */
	char (*deps)[BOOT_NAME_MAX]; /* after and requires, once each */
	size_t n_deps;
	/* Its last start that reached running: spawn and running (ran false: none did). */
	bool ran;
	uint64_t spawn_at, running_at;
};

struct boot {
	uint64_t start, end; /* readyd's start, and the reply's now */
	struct boot_service *svcs;
	size_t n;
};

/*
 * From a `timeline` reply and (may be NULL) a `list` reply for the
 * dependencies. 0, or -EPROTO / -ENOMEM (b is freed then).
 */
int boot_parse(struct boot *b, const cJSON *timeline, const cJSON *list);
void boot_free(struct boot *b);
/* The service of that name, or -1. */
long boot_find(const struct boot *b, const char *name);
/* The services that ran, slowest spawn -> running first, into order; their count. */
size_t boot_blame(const struct boot *b, size_t *order);
/*
 * What decided when service i became running: chain[0] = i, then the
 * dependency that became running last before it spawned, and so on (a
 * cycle or a dependency that never ran ends it). Returns the length.
 */
size_t boot_critical_chain(const struct boot *b, size_t i, size_t *chain, size_t max);

#endif
