// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyctl deps NAME: what NAME waits for, recursively, each with its state
 * and cause; then what waits for NAME, recursively. The reply holds every
 * service of that part of the graph with its "after" and "requires" arrays.
 */
#include "cli/ctl_format.h"

#include <stdbool.h>
#include <string.h>

#define DEPS_DEPTH_MAX 32 /* the config has no cycle: this only bounds a hostile reply */

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *named(const cJSON *services, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, services)
	{
		if (strcmp(text(s, "name"), name) == 0)
			return s;
	}
	return NULL;
}

static bool lists(const cJSON *s, const char *key, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, key))
	{
		if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0)
			return true;
	}
	return false;
}

static void line(FILE *out, int depth, const char *name, const cJSON *s, bool requires)
{
	fprintf(out, "%*s%s%s: %s", 2 * depth, "", name, requires ? " (requires)" : "",
		s ? text(s, "state") : "not in the running configuration");
	if (s && text(s, "cause")[0])
		fprintf(out, " - %s", text(s, "cause"));
	fputc('\n', out);
}

static void waits_for(FILE *out, const cJSON *services, const cJSON *s, int depth)
{
	const cJSON *v;

	if (depth > DEPS_DEPTH_MAX)
		return;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, "after"))
	{
		const cJSON *t;
		if (!cJSON_IsString(v))
			continue;
		t = named(services, v->valuestring);
		line(out, depth, v->valuestring, t, lists(s, "requires", v->valuestring));
		if (t)
			waits_for(out, services, t, depth + 1);
	}
}

static void waited_for_by(FILE *out, const cJSON *services, const char *name, int depth)
{
	const cJSON *w;

	if (depth > DEPS_DEPTH_MAX)
		return;
	cJSON_ArrayForEach(w, services)
	{
		if (!lists(w, "after", name))
			continue;
		line(out, depth, text(w, "name"), w, lists(w, "requires", name));
		waited_for_by(out, services, text(w, "name"), depth + 1);
	}
}

void ctl_print_deps(FILE *out, const cJSON *reply)
{
	const cJSON *services = cJSON_GetObjectItemCaseSensitive(reply, "services");
	const char *name = text(reply, "name");
	const cJSON *s = named(services, name);

	if (!s)
		return;
	line(out, 0, name, s, false);
	fprintf(out, "waits for:%s\n",
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "after")) ? "" : " nothing");
	waits_for(out, services, s, 1);
	fprintf(out, "waited for by:\n");
	waited_for_by(out, services, name, 1);
}
