// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/out/timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/unit.h"
#include "model/timeline.h"
#include "base/clock.h"

static int add_unit(struct unit *u)
{
	u->timeline = malloc(sizeof(*u->timeline));
	if (!u->timeline)
		return -ENOMEM;
	timeline_init(u->timeline);
	return 0;
}

static void remove_unit(struct unit *u)
{
	free(u->timeline);
	u->timeline = NULL;
}

/* A level first, then the transition it caused: the order the unit logs them in. */
static void observe(struct unit *u, const struct unit_news *n)
{
	const struct svc_actions *a = n->a;
	uint64_t now = now_mono_ns();
	char pid[32];

	if (!u->timeline)
		return;
	if (n->spawned) {
		snprintf(pid, sizeof(pid), "pid %d", (int)u->svc.pid);
		timeline_add(u->timeline, now, TIMELINE_SPAWN, 0, pid);
	}
	if (n->resumed)
		timeline_add(u->timeline, now, TIMELINE_STATE, u->svc.state,
			     "taken back from an earlier readyd");
	if (!a)
		return;
	if (a->level_changed && a->listener)
		timeline_add(u->timeline, now, TIMELINE_LEVEL, a->listener->level,
			     a->listener->label);
	if (a->changed)
		timeline_add(u->timeline, now, TIMELINE_STATE, a->to, u->svc.cause);
}

cJSON *timeline_report(const struct daemon *d)
{
	cJSON *body = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(body, "services");

	for (size_t i = 0; i < d->n_units; i++) {
		const struct unit *u = d->units[i];
		cJSON *svc, *entries;
		if (u->removed || !u->timeline)
			continue;
		svc = cJSON_CreateObject();
		cJSON_AddStringToObject(svc, "name", u->cfg->name);
		cJSON_AddStringToObject(svc, "state", svc_state_name(u->svc.state));
		cJSON_AddNumberToObject(svc, "dropped", (double)u->timeline->dropped);
		entries = cJSON_AddArrayToObject(svc, "entries");
		for (size_t j = 0; j < timeline_count(u->timeline); j++) {
			const struct timeline_entry *e = timeline_get(u->timeline, j);
			cJSON *item = cJSON_CreateObject();
			cJSON_AddNumberToObject(item, "mono_ns", (double)e->at);
			cJSON_AddStringToObject(item, "kind", timeline_entry_name(e));
			cJSON_AddStringToObject(item, "detail", e->detail);
			cJSON_AddItemToArray(entries, item);
		}
		cJSON_AddItemToArray(arr, svc);
	}
	return body;
}

const struct unit_module timeline_module = {
	.name = "timeline",
	.add = add_unit,
	.remove = remove_unit,
	.observe = observe,
};
