// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyctl: ask or tell a running readyd. Exit codes (docs/control-protocol.md):
 *   0 done / running (stopped, for stop), 1 it failed or time ran out,
 *   2 usage, 3 readyd unreachable or an error reply, 4 no such service,
 *   5 not permitted.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "readyd_control.h"

#include "cli/ctl_client.h"
#include "cli/ctl_format.h"
#include "base/duration.h"
#include "base/clock.h"
#include "base/safe_path.h"
#include "base/util.h"

enum {
	EXIT_NOT_RUNNING = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_NO_SERVICE = 4,
	EXIT_REFUSED = 5,
};

static const char usage[] =
	"usage: readyctl [--control PATH] [--json] COMMAND\n"
	"\n"
	"  list                        every service: state, pid, time to ready\n"
	"  status NAME                 one service: listeners, probes, timings, last exit\n"
	"  wait NAME                   until running (0), or failed/stopped (1)\n"
	"  start NAME                  start it; wait until running (0) or failed (1)\n"
	"  stop NAME                   stop it; wait until stopped (0)\n"
	"  restart NAME                stop and start it; wait until running (0) or failed (1)\n"
	"  reset NAME                  forget its start limit and backoff\n"
	"  reload                      re-read readyd's config (as SIGHUP does)\n"
	"  sockets [NAME] [--all]      declared sockets: owners, accept queue, findings\n"
	"                              (stale files, foreign owners, stalls); --all adds\n"
	"                              every listening socket of the node\n"
	"  reexec [--binary PATH]      exec readyd anew (an upgraded binary: PATH, or the\n"
	"                              one it runs); services keep running; waits until\n"
	"                              the new one answers (0) or --timeout (1)\n"
	"  exit [--keep-services]      stop every service and exit (as SIGTERM); with\n"
	"                              --keep-services, exit leaving them running for\n"
	"                              the next readyd to take back\n"
	"\n"
	"  --control PATH   control socket (default " READYD_CONTROL_DEFAULT ")\n"
	"  --json           print the daemon's JSON instead of text\n"
	"  --timeout DUR    wait, start, stop, restart: give up after DUR (500ms, 30s, 2m)\n"
	"  --no-wait        start, stop, restart: return once asked\n";

struct ctl_opts {
	const char *control;
	bool json;
	bool no_wait;
	bool all;	    /* sockets --all */
	const char *binary; /* reexec --binary */
	bool keep_services; /* exit --keep-services */
	int timeout_ms;	    /* -1: forever */
};

static const char *jstr(const cJSON *o, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

static void print_event(const cJSON *ev, void *ctx)
{
	const struct ctl_opts *o = ctx;
	char *text;

	if (o->json) {
		text = cJSON_PrintUnformatted(ev);
		puts(text ? text : "null");
		free(text);
	} else {
		printf("%s: %s -> %s (%s)\n", jstr(ev, "service", "?"), jstr(ev, "from", "?"),
		       jstr(ev, "to", "?"), jstr(ev, "cause", ""));
	}
	fflush(stdout);
}

static void print_list(const char *label, const cJSON *arr)
{
	const cJSON *v;

	printf("%-10s", label);
	if (!cJSON_GetArraySize(arr))
		printf(" -");
	cJSON_ArrayForEach(v, arr)
	{
		printf(" %s", cJSON_IsString(v) ? v->valuestring : "?");
	}
	putchar('\n');
}

static int print_reply(const struct ctl_opts *o, const struct ctl_command *c, const cJSON *reply,
		       const char *name)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "service");
	bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));

	if (o->json) {
		/* printed by run() */
	} else if (strcmp(c->name, "list") == 0) {
		ctl_print_list(stdout, reply);
	} else if (strcmp(c->name, "status") == 0) {
		ctl_print_status(stdout, reply);
	} else if (strcmp(c->name, "sockets") == 0) {
		ctl_print_sockets(stdout, reply);
		return 0;
	} else if (strcmp(c->name, "exit") == 0) {
		puts(o->keep_services ? "readyd exits; every service keeps running"
				      : "readyd stops every service, then exits");
	} else if (strcmp(c->name, "reload") == 0) {
		print_list("added:", cJSON_GetObjectItemCaseSensitive(reply, "added"));
		print_list("removed:", cJSON_GetObjectItemCaseSensitive(reply, "removed"));
		print_list("changed:", cJSON_GetObjectItemCaseSensitive(reply, "changed"));
		print_list("unchanged:", cJSON_GetObjectItemCaseSensitive(reply, "unchanged"));
	} else {
		printf("%s: %s (%s)\n", name, jstr(s, "state", "?"), jstr(s, "cause", ""));
	}
	return ok ? 0 : EXIT_NOT_RUNNING;
}

static int print_error(const cJSON *reply)
{
	const char *msg = jstr(reply, "error", "error");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "config_errors"), *e;

	fprintf(stderr, "readyctl: %s\n", msg);
	cJSON_ArrayForEach(e, errs)
	{
		fprintf(stderr, "  %s\n", cJSON_IsString(e) ? e->valuestring : "?");
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "refused")))
		return EXIT_REFUSED;
	if (str_starts_with(msg, "no service"))
		return EXIT_NO_SERVICE;
	return errs ? EXIT_NOT_RUNNING : EXIT_UNREACHABLE;
}

static double jnum(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/*
 * Until a readyd other than the one that started at `before` answers (its
 * reply), or that one says its exec failed (its reply too), or time is up.
 */
static cJSON *wait_new_image(const struct ctl_opts *o, double before, double failures)
{
	uint64_t until = now_mono_ns() +
			 (uint64_t)(o->timeout_ms < 0 ? 30000 : o->timeout_ms) * NSEC_PER_MSEC;

	do {
		cJSON *req = cJSON_CreateObject(), *reply = NULL;
		const cJSON *at;
		cJSON_AddStringToObject(req, "cmd", "list");
		char why[256];
		if (ctl_request(o->control, req, 1000, NULL, NULL, &reply, why, sizeof(why)) == 0) {
			at = cJSON_GetObjectItemCaseSensitive(reply, "started_mono_ns");
			if ((cJSON_IsNumber(at) && at->valuedouble != before) ||
			    jnum(reply, "reexec_failures", 0) > failures) {
				cJSON_Delete(req);
				return reply;
			}
		}
		cJSON_Delete(reply);
		cJSON_Delete(req);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	} while (now_mono_ns() < until);
	return NULL;
}

/* reexec: ask, then wait for the new readyd to answer. */
static int reexec(const struct ctl_opts *o, const cJSON *reply)
{
	double before = jnum(reply, "started_mono_ns", 0);
	cJSON *fresh = wait_new_image(o, before, jnum(reply, "reexec_failures", 0));
	const cJSON *svcs, *v;
	int running = 0, total = 0;

	if (fresh && jnum(fresh, "started_mono_ns", 0) == before) {
		fprintf(stderr, "readyctl: %s; readyd carries on as it was\n",
			jstr(fresh, "reexec_error", "the exec failed"));
		cJSON_Delete(fresh);
		return EXIT_NOT_RUNNING;
	}
	if (!fresh) {
		fprintf(stderr,
			"readyctl: no new readyd answers at %s: its log says why; the services "
			"keep running, and a readyd started again takes them back\n",
			o->control);
		return EXIT_NOT_RUNNING;
	}
	svcs = cJSON_GetObjectItemCaseSensitive(fresh, "services");
	cJSON_ArrayForEach(v, svcs)
	{
		total++;
		running += strcmp(jstr(v, "state", ""), "running") == 0;
	}
	if (!o->json)
		printf("readyd %s (pid %.0f) took over: %d of %d services running\n",
		       jstr(fresh, "version", "?"),
		       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(fresh, "pid")),
		       running, total);
	cJSON_Delete(fresh);
	return 0;
}

static int run(const struct ctl_opts *o, const struct ctl_command *c, const char *name)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	bool waiting = c->waits && !o->no_wait;
	char why[SAFE_PATH_WHY_MAX];
	int err, rc;

	cJSON_AddStringToObject(req, "cmd", c->name);
	if (name)
		cJSON_AddStringToObject(req, "service", name);
	if (o->all)
		cJSON_AddTrueToObject(req, "all");
	if (o->binary)
		cJSON_AddStringToObject(req, "binary", o->binary);
	if (o->keep_services)
		cJSON_AddTrueToObject(req, "keep_services");
	if (c->waits && strcmp(c->name, "wait") != 0)
		cJSON_AddBoolToObject(req, "wait", waiting);
	err = ctl_request(o->control, req, waiting ? o->timeout_ms : 30000, print_event, (void *)o,
			  &reply, why, sizeof(why));
	cJSON_Delete(req);
	if (err == -ETIMEDOUT && waiting) {
		fprintf(stderr, "readyctl: %s: timed out waiting\n", name);
		return EXIT_NOT_RUNNING;
	}
	if (err && why[0]) { /* nothing was sent: it may not be readyd answering there */
		fprintf(stderr, "readyctl: not talking to %s: %s\n", o->control, why);
		return EXIT_UNREACHABLE;
	}
	if (err) {
		fprintf(stderr, "readyctl: cannot talk to readyd at %s: %s\n", o->control,
			err == -EPROTO ? "unexpected reply" : strerror(-err));
		return err == -EACCES ? EXIT_REFUSED : EXIT_UNREACHABLE;
	}
	if (o->json) { /* the reply as it came, errors included */
		char *text = cJSON_Print(reply);
		puts(text ? text : "null");
		free(text);
	}
	if (cJSON_GetObjectItemCaseSensitive(reply, "error"))
		rc = print_error(reply);
	else if (strcmp(c->name, "reexec") == 0)
		rc = reexec(o, reply);
	else
		rc = print_reply(o, c, reply, name);
	cJSON_Delete(reply);
	return rc;
}

/* "--name VALUE" or "--name=VALUE"; advances *i past a separate value. */
static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Options may come before or after the command: "readyctl wait web --timeout 5". */
static int parse_args(int argc, char **argv, struct ctl_opts *o, const char **pos, int *n_pos)
{
	const char *v;
	uint64_t ns;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if (strcmp(argv[i], "--all") == 0) {
			o->all = true;
		} else if (strcmp(argv[i], "--keep-services") == 0) {
			o->keep_services = true;
		} else if (strcmp(argv[i], "--no-wait") == 0) {
			o->no_wait = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		} else if ((v = option_value(argc, argv, &i, "--binary"))) {
			o->binary = v;
		} else if ((v = option_value(argc, argv, &i, "--control"))) {
			o->control = v;
		} else if ((v = option_value(argc, argv, &i, "--timeout"))) {
			if (duration_parse(v, &ns)) {
				fprintf(stderr,
					"readyctl: --timeout %s: expected seconds or a duration "
					"like 500ms, 30s\n",
					v);
				return -1;
			}
			/* (a year at most: duration_parse's limit; INT_MAX ms is 24 days) */
			o->timeout_ms =
				ns / NSEC_PER_MSEC > INT_MAX ? INT_MAX : (int)(ns / NSEC_PER_MSEC);
		} else if (argv[i][0] == '-' || *n_pos == 2) {
			fprintf(stderr, "readyctl: unexpected argument \"%s\"\n", argv[i]);
			return -1;
		} else {
			pos[(*n_pos)++] = argv[i];
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { .control = READYD_CONTROL_DEFAULT, .timeout_ms = -1 };
	const char *pos[2] = { NULL, NULL };
	const struct ctl_command *c;
	int n = 0;

	if (parse_args(argc, argv, &o, pos, &n) < 0 || n == 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	c = ctl_command(ctl_command_find(pos[0]));
	if (c && (n == 1 + (c->service == CTL_SERVICE) ||
		  (c->service == CTL_OPTIONAL_SERVICE && n == 2)))
		return run(&o, c, pos[1]);
	fprintf(stderr, "readyctl: unknown command or wrong arguments: %s\n%s", pos[0], usage);
	return EXIT_USAGE;
}
