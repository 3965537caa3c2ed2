/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A service's state machine as JSON, and back: what a next readyd (after a
 * crash, or an exec of a new binary) needs to go on where this one stopped:
 * state, cause, deadlines, restart and start-limit history, what the
 * listeners and probes had reached, what the service said of itself.
 * Pointers into the config are not written: the next readyd rebuilds the
 * same config from its text and restores into a svc made from it.
 *
 * Named fields, 64-bit values as decimal strings (JSON numbers are doubles),
 * every value range-checked on the way back: a field a newer or older
 * readyd wrote differently is ignored, never trusted.
 */
#ifndef READYD_SNAPSHOT_H
#define READYD_SNAPSHOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/service.h"

/* The svc as an object, NULL if out of memory. */
cJSON *snapshot_svc(const struct svc *s);
/*
 * Restore into s (svc_init'd from the same config): 0, or -EINVAL with why
 * filled when o is not a snapshot at all (then s is left as svc_init made it).
 */
int snapshot_restore_svc(struct svc *s, const cJSON *o, char *why, size_t size);

/* 64-bit values as strings; a missing or malformed one reads as def. */
bool snapshot_put_u64(cJSON *o, const char *key, uint64_t v);
uint64_t snapshot_get_u64(const cJSON *o, const char *key, uint64_t def);
/* A string field, "" if missing. */
const char *snapshot_get_str(const cJSON *o, const char *key);

#endif
