// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static uint64_t ns_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble : 0;
}

/* The last spawn that led to running (a restart's, not the first boot's, once it ran again). */
static void find_run(struct boot_service *s)
{
	uint64_t spawn = 0;

	for (size_t i = 0; i < s->n_marks; i++) {
		const struct boot_mark *m = &s->marks[i];
		if (strcmp(m->kind, "spawn") == 0) {
			spawn = m->at;
		} else if (strcmp(m->kind, "running") == 0 && spawn) {
			s->ran = true;
			s->spawn_at = spawn;
			s->running_at = m->at;
			spawn = 0; /* a running again after unhealthy is not a new start */
		}
	}
	if (spawn) /* spawned since, not running (yet): its chain starts there */
		s->spawn_at = spawn;
}

static bool has_dep(const struct boot_service *s, const char *name)
{
	for (size_t i = 0; i < s->n_deps; i++)
		if (strcmp(s->deps[i], name) == 0)
			return true;
	return false;
}

static int add_deps(struct boot_service *s, const cJSON *arr)
{
	const cJSON *v;
	size_t n = s->n_deps + (size_t)cJSON_GetArraySize(arr);
	void *grown;

	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
		return 0;
	grown = realloc(s->deps, n * sizeof(s->deps[0]));
	if (!grown)
		return -ENOMEM;
	s->deps = grown;
	cJSON_ArrayForEach(v, arr)
	{
		if (cJSON_IsString(v) && !has_dep(s, v->valuestring) &&
		    strcmp(v->valuestring, s->name) != 0)
			str_copy(s->deps[s->n_deps++], v->valuestring, BOOT_NAME_MAX);
	}
	return 0;
}

/* after and requires from `list` (or `status`), matched by name. */
static int parse_deps(struct boot *b, const cJSON *list)
{
	const cJSON *v, *arr = cJSON_GetObjectItemCaseSensitive(list, "services");
	long i;

	cJSON_ArrayForEach(v, arr)
	{
		if ((i = boot_find(b, str_of(v, "name"))) < 0)
			continue;
		if (add_deps(&b->svcs[i], cJSON_GetObjectItemCaseSensitive(v, "after")) < 0 ||
		    add_deps(&b->svcs[i], cJSON_GetObjectItemCaseSensitive(v, "requires")) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_service(struct boot_service *s, const cJSON *v)
{
	const cJSON *e, *entries = cJSON_GetObjectItemCaseSensitive(v, "entries");
	const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(v, "dropped");
	int n = cJSON_GetArraySize(entries);

	str_copy(s->name, str_of(v, "name"), sizeof(s->name));
	str_copy(s->state, str_of(v, "state"), sizeof(s->state));
	s->dropped = cJSON_IsNumber(dropped) ? dropped->valuedouble : 0;
	if (n > 0 && !(s->marks = calloc((size_t)n, sizeof(s->marks[0]))))
		return -ENOMEM;
	cJSON_ArrayForEach(e, entries)
	{
		struct boot_mark *m = &s->marks[s->n_marks++];
		m->at = ns_of(e, "mono_ns");
		str_copy(m->kind, str_of(e, "kind"), sizeof(m->kind));
		str_copy(m->detail, str_of(e, "detail"), sizeof(m->detail));
	}
	find_run(s);
	return 0;
}

int boot_parse(struct boot *b, const cJSON *timeline, const cJSON *list)
{
	const cJSON *v, *arr = cJSON_GetObjectItemCaseSensitive(timeline, "services");
	int n = cJSON_GetArraySize(arr), err = 0;

	memset(b, 0, sizeof(*b));
	if (!cJSON_IsArray(arr))
		return -EPROTO;
	b->start = ns_of(timeline, "started_mono_ns");
	b->end = ns_of(timeline, "now_mono_ns");
	if (n > 0 && !(b->svcs = calloc((size_t)n, sizeof(b->svcs[0]))))
		return -ENOMEM;
	cJSON_ArrayForEach(v, arr)
	{
		if ((err = parse_service(&b->svcs[b->n++], v)) < 0)
			break;
		/* Entries before readyd's start: a service taken back from an earlier readyd. */
		for (size_t i = 0; i < b->svcs[b->n - 1].n_marks; i++)
			if (b->svcs[b->n - 1].marks[i].at < b->start || !b->start)
				b->start = b->svcs[b->n - 1].marks[i].at;
	}
	if (!err && list)
		err = parse_deps(b, list);
	if (err)
		boot_free(b);
	return err;
}

void boot_free(struct boot *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->svcs[i].marks);
		free(b->svcs[i].deps);
	}
	free(b->svcs);
	memset(b, 0, sizeof(*b));
}

long boot_find(const struct boot *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->svcs[i].name, name) == 0)
			return (long)i;
	return -1;
}

static const struct boot *blame_of; /* qsort has no context argument */

static int slower_first(const void *x, const void *y)
{
	const struct boot_service *a = &blame_of->svcs[*(const size_t *)x];
	const struct boot_service *b = &blame_of->svcs[*(const size_t *)y];
	uint64_t da = a->running_at - a->spawn_at, db = b->running_at - b->spawn_at;

	if (da != db)
		return da < db ? 1 : -1;
	return strcmp(a->name, b->name);
}

size_t boot_blame(const struct boot *b, size_t *order)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->svcs[i].ran)
			order[n++] = i;
	blame_of = b;
	qsort(order, n, sizeof(order[0]), slower_first);
	blame_of = NULL;
	return n;
}

static bool in_chain(const size_t *chain, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (chain[k] == i)
			return true;
	return false;
}

size_t boot_critical_chain(const struct boot *b, size_t i, size_t *chain, size_t max)
{
	size_t n = 0;

	while (n < max) {
		const struct boot_service *s = &b->svcs[i];
		long best = -1;
		chain[n++] = i;
		if (!s->ran && !s->spawn_at)
			break;
		/* The dependency that was running last before s spawned: s waited for it. */
		for (size_t d = 0; d < s->n_deps; d++) {
			long j = boot_find(b, s->deps[d]);
			if (j < 0 || !b->svcs[j].ran || b->svcs[j].running_at > s->spawn_at ||
			    in_chain(chain, n, (size_t)j))
				continue;
			if (best < 0 || b->svcs[j].running_at > b->svcs[best].running_at)
				best = j;
		}
		if (best < 0)
			break;
		i = (size_t)best;
	}
	return n;
}
