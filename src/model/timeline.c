// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/timeline.h"

#include <string.h>

#include "base/util.h"

void timeline_init(struct timeline *t)
{
	memset(t, 0, sizeof(*t));
}

/* Does the first boot end with e? It ran, or it ended without running. */
static bool ends_first_boot(const struct timeline_entry *e)
{
	return e->kind == TIMELINE_STATE &&
	       (e->value == SVC_RUNNING || e->value == SVC_FAILED || e->value == SVC_STOPPED);
}

void timeline_add(struct timeline *t, uint64_t at, enum timeline_kind kind, unsigned int value,
		  const char *detail)
{
	struct timeline_entry e = { .at = at, .kind = (uint8_t)kind, .value = (uint8_t)value };

	str_copy(e.detail, detail ? detail : "", sizeof(e.detail));
	if (!t->first_done && t->n_first < TIMELINE_FIRST_MAX) {
		t->first[t->n_first++] = e;
		t->first_done = ends_first_boot(&e) || t->n_first == TIMELINE_FIRST_MAX;
		return;
	}
	if (t->n_ring == TIMELINE_RING_MAX) { /* the oldest goes */
		t->ring[t->head] = e;
		t->head = (t->head + 1) % TIMELINE_RING_MAX;
		t->dropped++;
		return;
	}
	t->ring[(t->head + t->n_ring++) % TIMELINE_RING_MAX] = e;
}

size_t timeline_count(const struct timeline *t)
{
	return t->n_first + t->n_ring;
}

const struct timeline_entry *timeline_get(const struct timeline *t, size_t i)
{
	if (i < t->n_first)
		return &t->first[i];
	i -= t->n_first;
	return i < t->n_ring ? &t->ring[(t->head + i) % TIMELINE_RING_MAX] : NULL;
}

const char *timeline_entry_name(const struct timeline_entry *e)
{
	switch ((enum timeline_kind)e->kind) {
	case TIMELINE_SPAWN:
		return "spawn";
	case TIMELINE_LEVEL:
		return level_name((enum level)e->value);
	case TIMELINE_STATE:
		return svc_state_name((enum svc_state)e->value);
	}
	return "?";
}
