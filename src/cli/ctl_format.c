// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/ctl_format.h"

#include <string.h>

#include "base/clock.h"
#include "base/util.h"

static const char *str(const cJSON *o, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

static double num(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* A duration in ms from the reply, as "15.2ms"; "-" when absent or null. */
static const char *dur(char *buf, size_t size, const cJSON *o, const char *key)
{
	double v = num(o, key, -1);

	if (v < 0)
		return "-";
	fmt_duration(buf, size, (uint64_t)(v * NSEC_PER_MSEC));
	return buf;
}

/* "db,cache" after prefix, or none. */
static void print_names(FILE *out, const char *prefix, const cJSON *names, const char *none)
{
	const char *sep = "";
	const cJSON *v;

	fputs(prefix, out);
	cJSON_ArrayForEach(v, names)
	{
		if (!cJSON_IsString(v))
			continue;
		fprintf(out, "%s%s", sep, v->valuestring);
		sep = ",";
	}
	if (!*sep)
		fputs(none, out);
}

void ctl_print_list(FILE *out, const cJSON *reply)
{
	const cJSON *services = cJSON_GetObjectItemCaseSensitive(reply, "services"), *s;
	int wname = 4;

	bool deps = false; /* the AFTER column, when some service has one */

	cJSON_ArrayForEach(s, services)
	{
		int n = (int)strlen(str(s, "name", ""));
		wname = n > wname ? n : wname;
		deps |= cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "after")) > 0;
	}
	fprintf(out, "%-*s  %-9s  %7s  %8s  %8s  %-*s%s\n", wname, "NAME", "STATE", "PID", "SINCE",
		"READY_IN", deps ? 12 : 0, "LISTENERS", deps ? "  AFTER" : "");
	cJSON_ArrayForEach(s, services)
	{
		char since[32], ready[32], pid[16] = "-", ls[32];
		if (num(s, "pid", 0) > 0)
			snprintf(pid, sizeof(pid), "%.0f", num(s, "pid", 0));
		if (num(s, "listeners_total", 0) == 0)
			snprintf(ls, sizeof(ls), "-");
		else
			snprintf(ls, sizeof(ls), "%.0f/%.0f%s", num(s, "listeners_ready", 0),
				 num(s, "listeners_total", 0),
				 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "declared"))
					 ? ""
					 : " (seen)");
		fprintf(out, "%-*s  %-9s  %7s  %8s  %8s  %-*s", wname, str(s, "name", "?"),
			str(s, "state", "?"), pid, dur(since, sizeof(since), s, "since_ms"),
			dur(ready, sizeof(ready), s, "ready_ms"), deps ? 12 : 0, ls);
		if (deps)
			print_names(out, "  ", cJSON_GetObjectItemCaseSensitive(s, "after"), "-");
		fputc('\n', out);
	}
	fprintf(out, "(mode: %s)\n", str(reply, "mode", "?"));
}

/* "  after:     app,db (requires: db)" and the start limit's next try. */
static void print_start_order(FILE *out, const cJSON *s)
{
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(s, "after");
	const cJSON *requires = cJSON_GetObjectItemCaseSensitive(s, "requires");
	char a[32];

	if (cJSON_GetArraySize(after)) {
		print_names(out, "  after:     ", after, "");
		if (cJSON_GetArraySize(requires)) {
			print_names(out, " (requires: ", requires, "");
			fputc(')', out);
		}
		fputc('\n', out);
	}
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "autostart")))
		fprintf(out, "  autostart: no\n");
	if (num(s, "next_try_in_ms", -1) >= 0)
		fprintf(out, "  start limit hit; next try in %s\n",
			dur(a, sizeof(a), s, "next_try_in_ms"));
}

static void print_listener(FILE *out, const cJSON *l)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(l, "after_spawn_ms");
	static const char *const levels[] = { "bound", "listening", "accepting", "closed" };
	char t[32];

	fprintf(out, "    %-28s %-10s", str(l, "listen", "?"), str(l, "level", "?"));
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		if (num(at, levels[i], -1) >= 0)
			fprintf(out, "  %s +%s", levels[i], dur(t, sizeof(t), at, levels[i]));
	if (strcmp(str(l, "level", ""), "accepting") == 0)
		fprintf(out, "  via %s (pid %.0f %s)", str(l, "via", "?"), num(l, "pid", 0),
			str(l, "comm", "?"));
	if (cJSON_GetObjectItemCaseSensitive(l, "bound") &&
	    strcmp(str(l, "bound", ""), str(l, "listen", "")) != 0)
		fprintf(out, "  bound to %s", str(l, "bound", ""));
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "declared")))
		fprintf(out, "  (not declared)");
	fputc('\n', out);
	if (str(l, "conflict", NULL))
		fprintf(out, "      %s\n", str(l, "conflict", ""));
}

static void print_probe(FILE *out, const cJSON *p)
{
	char t[32];

	fprintf(out, "    %-40s %-8s %.0f runs, %.0f failed", str(p, "probe", "?"),
		str(p, "verdict", "?"), num(p, "runs", 0), num(p, "failures", 0));
	if (num(p, "last_ago_ms", -1) >= 0)
		fprintf(out, ", last %s %s ago (%s)",
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "last_ok")) ? "passed"
										     : "failed",
			dur(t, sizeof(t), p, "last_ago_ms"), str(p, "last_failure", "-"));
	fputc('\n', out);
}

static void print_reports(FILE *out, const cJSON *r)
{
	const cJSON *rej = cJSON_GetObjectItemCaseSensitive(r, "rejected"), *e;
	double dropped = 0;

	cJSON_ArrayForEach(e, rej)
	{
		dropped += cJSON_IsNumber(e) ? e->valuedouble : 0;
	}
	if (num(r, "messages", 0) || dropped)
		fprintf(out, "  notify:    %.0f messages%s%s%s%s", num(r, "messages", 0),
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ready")) ? ", READY=1"
										   : "",
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "reloading"))
				? ", RELOADING"
				: "",
			str(r, "status", NULL) ? ", STATUS=" : "", str(r, "status", ""));
	if (dropped) {
		fprintf(out, " (dropped:");
		cJSON_ArrayForEach(e, rej)
		{
			if (cJSON_IsNumber(e) && e->valuedouble)
				fprintf(out, " %s %.0f", e->string, e->valuedouble);
		}
		fputc(')', out);
	}
	if (num(r, "messages", 0) || dropped)
		fputc('\n', out);
	if (str(r, "marker", NULL))
		fprintf(out, "  marker:    %s (%s)\n", str(r, "marker", ""),
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "marker_present"))
				? "present"
				: "absent");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ready_mismatch")))
		fprintf(out,
			"  MISMATCH:  it says it is ready; the kernel shows a declared listener "
			"not accepting\n");
}

/* One process: its command (and cgroup); several: one line each, with pid and state. */
static void print_processes(FILE *out, const cJSON *procs, const char *command)
{
	const cJSON *p;

	if (cJSON_GetArraySize(procs) <= 1) {
		p = cJSON_GetArrayItem(procs, 0);
		fprintf(out, "  command:   %s\n", command);
		if (str(p, "cgroup", NULL))
			fprintf(out, "  cgroup:    %s\n", str(p, "cgroup", ""));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "daemonized")))
			fprintf(out, "  main:      pid %.0f (it went into the background)\n",
				num(p, "pid", 0));
		return;
	}
	fprintf(out, "  processes:\n");
	cJSON_ArrayForEach(p, procs)
	{
		fprintf(out, "    %-12s ", str(p, "name", "?"));
		if (num(p, "pid", 0) > 0)
			fprintf(out, "pid %-8.0f", num(p, "pid", 0));
		else
			fprintf(out, "%-12s", "down");
		fprintf(out, " %s", str(p, "command", ""));
		if (str(p, "last_exit", NULL))
			fprintf(out, "  [%s]", str(p, "last_exit", ""));
		fputc('\n', out);
	}
}

/* "ready:     accept, then serving: postgres://127.0.0.1:5432 (recognized postgres)" */
static void print_ready(FILE *out, const cJSON *s)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(s, "serving_checks"), *c;
	const char *sep = ", then serving: ";

	fprintf(out, "  ready:     %s", str(s, "ready", "?"));
	if (num(s, "ready_fd", -1) >= 0)
		fprintf(out, " (fd %.0f)", num(s, "ready_fd", -1));
	cJSON_ArrayForEach(c, checks)
	{
		fprintf(out, "%s%s", sep, cJSON_IsString(c) ? c->valuestring : "?");
		sep = ", ";
	}
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "recognized")))
		fprintf(out, " (recognized %s: `ready =` in the config overrides it)",
			str(s, "recognized", "?"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "reload_pending")))
		fprintf(out, " (a reloaded configuration applies at the next start)");
	fputc('\n', out);
}

void ctl_print_status(FILE *out, const cJSON *reply)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "service");
	const cJSON *exit = cJSON_GetObjectItemCaseSensitive(s, "last_exit");
	const cJSON *ls = cJSON_GetObjectItemCaseSensitive(s, "listeners"), *l;
	char a[32], b[32];

	fprintf(out, "%s: %s for %s", str(s, "name", "?"), str(s, "state", "?"),
		dur(a, sizeof(a), s, "since_ms"));
	if (num(s, "pid", 0) > 0)
		fprintf(out, " (pid %.0f)", num(s, "pid", 0));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "removed")))
		fprintf(out, " [removed by a reload; goes once stopped]");
	fprintf(out, "\n  cause:     %s\n", str(s, "cause", ""));
	print_start_order(out, s);
	print_processes(out, cJSON_GetObjectItemCaseSensitive(s, "processes"),
			str(s, "command", ""));
	fprintf(out, "  ready in:  %s\n", dur(a, sizeof(a), s, "ready_ms"));
	print_ready(out, s);
	fprintf(out, "  restarts:  %.0f (restart=%s, on_unhealthy=%s)", num(s, "restarts", 0),
		str(s, "restart_policy", "?"), str(s, "on_unhealthy", "?"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "start_limit_hit")))
		fprintf(out, ", START LIMIT HIT");
	if (num(s, "restart_in_ms", -1) >= 0)
		fprintf(out, ", next in %s", dur(a, sizeof(a), s, "restart_in_ms"));
	fputc('\n', out);
	if (num(s, "ready_timeout_in_ms", -1) >= 0)
		fprintf(out, "  timeout:   not ready -> failed in %s\n",
			dur(a, sizeof(a), s, "ready_timeout_in_ms"));
	if (exit)
		fprintf(out, "  last exit: %s, %s ago\n", str(exit, "text", "?"),
			dur(b, sizeof(b), exit, "ago_ms"));
	fprintf(out, "  listeners:%s\n", cJSON_GetArraySize(ls) ? "" : " none seen yet");
	cJSON_ArrayForEach(l, ls)
	{
		print_listener(out, l);
	}
	print_reports(out, cJSON_GetObjectItemCaseSensitive(s, "reports"));
	ls = cJSON_GetObjectItemCaseSensitive(s, "probes");
	if (cJSON_GetArraySize(ls))
		fprintf(out, "  probes:\n");
	cJSON_ArrayForEach(l, ls)
	{
		print_probe(out, l);
	}
	ls = cJSON_GetObjectItemCaseSensitive(s, "output");
	if (cJSON_GetArraySize(ls))
		fprintf(out, "  output (its last lines):\n");
	cJSON_ArrayForEach(l, ls)
	{
		fprintf(out, "    %s\n", cJSON_IsString(l) ? l->valuestring : "?");
	}
}

/* "pid 42 python3" for each owner, or "-". */
static void owners_text(const cJSON *l, char *buf, size_t size)
{
	const cJSON *w;

	buf[0] = '\0';
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(l, "owners"))
	{
		str_append(buf, size, "%s%.0f %s", buf[0] ? ", " : "", num(w, "pid", 0),
			   str(w, "comm", "?"));
	}
	if (!buf[0])
		str_append(buf, size, "-");
}

void ctl_print_sockets(FILE *out, const cJSON *reply)
{
	const cJSON *ls = cJSON_GetObjectItemCaseSensitive(reply, "listeners"), *l, *f;
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(reply, "node");
	const cJSON *stale = cJSON_GetObjectItemCaseSensitive(reply, "stale_files");
	size_t findings = 0;

	fprintf(out, "%-12s  %-28s  %-10s  %-22s  %s\n", "SERVICE", "LISTEN", "LEVEL", "OWNER",
		"QUEUE");
	cJSON_ArrayForEach(l, ls)
	{
		char owners[128], queue[32] = "-";
		owners_text(l, owners, sizeof(owners));
		if (num(l, "backlog", -1) >= 0)
			snprintf(queue, sizeof(queue), "%.0f/%.0f", num(l, "accept_queue", 0),
				 num(l, "backlog", 0));
		fprintf(out, "%-12s  %-28s  %-10s  %-22s  %s\n", str(l, "service", "?"),
			str(l, "listen", "?"), str(l, "level", "?"), owners, queue);
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(l, "findings"))
		{
			fprintf(out, "  ! %s: %s\n", str(f, "kind", "?"), str(f, "text", ""));
			findings++;
		}
	}
	if (!cJSON_GetArraySize(ls))
		fprintf(out, "(no declared listener)\n");
	if (node) {
		fprintf(out, "\nEvery listening socket of the node:\n%-40s  %-9s  %s\n", "ADDRESS",
			"QUEUE", "OWNER");
		cJSON_ArrayForEach(l, node)
		{
			char queue[32];
			snprintf(queue, sizeof(queue), "%.0f/%.0f", num(l, "accept_queue", 0),
				 num(l, "backlog", 0));
			fprintf(out, "%-40s  %-9s  %s%s\n", str(l, "address", "?"), queue,
				str(l, "owner", "?"),
				cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "orphaned"))
					? "  ! no process owns it"
					: "");
		}
	}
	cJSON_ArrayForEach(f, stale)
	{
		fprintf(out, "! stale socket file (nothing listens on it): %s\n",
			cJSON_IsString(f) ? f->valuestring : "?");
		findings++;
	}
	fprintf(out, "(%zu finding%s)\n", findings, findings == 1 ? "" : "s");
}
