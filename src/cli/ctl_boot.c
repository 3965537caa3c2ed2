// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/ctl_boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/boot.h"
#include "cli/ctl_exit.h"
#include "cli/plot_svg.h"

static const char *const own[] = { "plot", "blame", "critical-chain" };

bool ctl_boot_command(const char *cmd)
{
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(own[i], cmd) == 0)
			return true;
	return false;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* Like systemd-analyze blame: slowest spawn -> running first. */
static void blame(FILE *out, const struct boot *b)
{
	size_t *order = calloc(b->n ? b->n : 1, sizeof(*order)), n;

	if (!order)
		return;
	n = boot_blame(b, order);
	for (size_t i = 0; i < n; i++) {
		const struct boot_service *s = &b->svcs[order[i]];
		fprintf(out, "%10.3fs %s\n", secs(s->running_at - s->spawn_at), s->name);
	}
	for (size_t i = 0; i < b->n; i++)
		if (!b->svcs[i].ran)
			fprintf(out, "%11s %s (never running: %s)\n", "-", b->svcs[i].name,
				b->svcs[i].state);
	free(order);
}

/*
 * Like systemd-analyze critical-chain: NAME @when it ran +how long it took,
 * then what it waited for, indented.
 */
static int critical_chain(FILE *out, const struct boot *b, const char *name)
{
	long i = boot_find(b, name);
	size_t chain[BOOT_CHAIN_MAX], n;

	if (i < 0) {
		fprintf(stderr, "readyctl: no service named \"%s\"\n", name);
		return CTL_EXIT_NO_SERVICE;
	}
	fputs("The time when a service became running is printed after \"@\"; the time it took\n"
	      "from its spawn to running after \"+\" (seconds since readyd started).\n\n",
	      out);
	n = boot_critical_chain(b, (size_t)i, chain, BOOT_CHAIN_MAX);
	for (size_t k = 0; k < n; k++) {
		const struct boot_service *s = &b->svcs[chain[k]];
		fprintf(out, "%*s%s%s", (int)(k ? 2 * (k - 1) : 0), "", k ? "└─" : "", s->name);
		if (s->ran)
			fprintf(out, " @%.3fs +%.3fs\n", secs(s->running_at - b->start),
				secs(s->running_at - s->spawn_at));
		else
			fprintf(out, " (not running: %s)\n", s->state);
	}
	return CTL_EXIT_OK;
}

static void timeline(FILE *out, const struct boot *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct boot_service *s = &b->svcs[i];
		fprintf(out, "%s%s (%s", i ? "\n" : "", s->name, s->state);
		if (s->dropped > 0)
			fprintf(out, "; %.0f older entries dropped", s->dropped);
		fputs(")\n", out);
		for (size_t k = 0; k < s->n_marks; k++)
			fprintf(out, "  %9.3fs  %-10s %s\n", secs(s->marks[k].at - b->start),
				s->marks[k].kind, s->marks[k].detail);
	}
}

int ctl_boot_print(FILE *out, const char *cmd, const char *name, const cJSON *timeline_reply,
		   const cJSON *list)
{
	struct boot b;
	int err = boot_parse(&b, timeline_reply, list), rc = CTL_EXIT_OK;

	if (err) {
		fprintf(stderr, "readyctl: cannot read readyd's timeline: %s\n", strerror(-err));
		return CTL_EXIT_ERROR;
	}
	if (strcmp(cmd, "plot") == 0)
		plot_svg(out, &b);
	else if (strcmp(cmd, "blame") == 0)
		blame(out, &b);
	else if (strcmp(cmd, "critical-chain") == 0)
		rc = critical_chain(out, &b, name);
	else
		timeline(out, &b);
	boot_free(&b);
	return rc;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

void ctl_print_stream_event(FILE *out, const cJSON *ev)
{
	const char *kind = jstr(ev, "event");

	if (strcmp(kind, "subscribed") == 0)
		return;
	fprintf(out, "%s %s: ", jstr(ev, "time"), jstr(ev, "service"));
	if (strcmp(kind, "transition") == 0)
		fprintf(out, "%s -> %s (%s)\n", jstr(ev, "from"), jstr(ev, "to"),
			jstr(ev, "cause"));
	else if (strcmp(kind, "listener") == 0)
		fprintf(out, "%s %s\n", jstr(ev, "listener"), jstr(ev, "level"));
	else if (strcmp(kind, "spawn") == 0)
		fprintf(out, "spawned pid %.0f\n",
			cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "pid")));
	else if (strcmp(kind, "finding") == 0)
		fprintf(out, "%s%s%s: %s\n", jstr(ev, "finding"),
			*jstr(ev, "listener") ? " on " : "", jstr(ev, "listener"),
			jstr(ev, "detail"));
	else
		fprintf(out, "%s\n", kind);
}
