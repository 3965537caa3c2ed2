// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyctl: ask or tell a running readyd. Exit codes (cli/ctl_exit.h,
 * docs/control-protocol.md): 0 ok / running, 1 error, 2 usage, 3 not
 * running, 4 no such service, 5 not permitted, 124 timed out.
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

#include "cli/ctl_boot.h"
#include "cli/ctl_client.h"
#include "cli/ctl_exit.h"
#include "cli/ctl_format.h"
#include "cli/ctl_help.h"
#include "base/duration.h"
#include "base/clock.h"
#include "base/safe_path.h"
#include "base/util.h"

#define MAX_NAMES 256

struct ctl_opts {
	const char *control;
	const char *control_from; /* "--control", CTL_CONTROL_ENV or "default": for the hint */
	bool json;
	bool no_wait;
	bool help;
	bool all;	    /* sockets --all */
	const char *binary; /* reexec --binary */
	bool keep_services; /* exit --keep-services */
	int timeout_ms;	    /* -1: forever */
	bool stream;	    /* events: lines until readyd drops us or --timeout */
	const char **names; /* events: the services to follow (none: all) */
	int n_names;
	uint64_t deadline; /* CLOCK_MONOTONIC ns when --timeout passes for the whole command; 0 */
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
	} else if (o->stream) {
		ctl_print_stream_event(stdout, ev);
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

static void print_reply(const struct ctl_opts *o, const struct ctl_command *c, const cJSON *reply,
			const char *name)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "service");

	if (o->json) {
		/* printed by run_one() */
	} else if (strcmp(c->name, "list") == 0) {
		ctl_print_list(stdout, reply);
	} else if (strcmp(c->name, "status") == 0) {
		ctl_print_status(stdout, reply);
	} else if (strcmp(c->name, "sockets") == 0) {
		ctl_print_sockets(stdout, reply);
	} else if (strcmp(c->name, "deps") == 0) {
		ctl_print_deps(stdout, reply);
	} else if (strcmp(c->name, "events") == 0) {
		fprintf(stderr, "readyctl: the stream ended: %s\n", jstr(reply, "end", "?"));
	} else if (strcmp(c->name, "timeline") == 0) {
		ctl_boot_print(stdout, "timeline", NULL, reply, NULL);
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
}

static void print_error(const cJSON *reply)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "config_errors"), *e;

	fprintf(stderr, "readyctl: %s\n", jstr(reply, "error", "error"));
	cJSON_ArrayForEach(e, errs)
	{
		fprintf(stderr, "  %s\n", cJSON_IsString(e) ? e->valuestring : "?");
	}
}

static double jnum(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* What is left of --timeout, in ms for ctl_request: -1 forever, 0 once it passed. */
static int remaining_ms(const struct ctl_opts *o)
{
	uint64_t now = now_mono_ns();

	if (!o->deadline)
		return -1;
	return now >= o->deadline ? 0 : (int)((o->deadline - now) / NSEC_PER_MSEC) + 1;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L }, NULL);
}

/*
 * Until a readyd other than the one that started at `before` answers (its
 * reply), or that one says its exec failed (its reply too), or time is up.
 */
static cJSON *wait_new_image(const struct ctl_opts *o, double before, double failures)
{
	uint64_t until = o->deadline ? o->deadline : now_mono_ns() + 30 * NSEC_PER_SEC;

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
		sleep_ms(20);
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
		return CTL_EXIT_ERROR;
	}
	if (!fresh) {
		fprintf(stderr,
			"readyctl: no new readyd answers at %s: its log says why; the services "
			"keep running, and a readyd started again takes them back\n",
			o->control);
		return CTL_EXIT_TIMEOUT;
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

/* No readyd there (yet): no socket file, or nobody listening on it. */
static bool nobody_there(int err, const char *why)
{
	return !why[0] && (err == -ENOENT || err == -ECONNREFUSED);
}

/*
 * One request. `wait` started before readyd (a boot script, a container's
 * entrypoint) waits for the socket to answer, within --timeout: readyd binds
 * it once its config is read, a few hundred ms after it starts.
 */
static int request(const struct ctl_opts *o, const struct ctl_command *c, const cJSON *req,
		   bool waiting, cJSON **reply, char *why, size_t size)
{
	bool patient = strcmp(c->name, "wait") == 0, said = false;
	uint64_t since = now_mono_ns();
	int err;

	for (;;) {
		err = ctl_request(o->control, req, waiting ? remaining_ms(o) : 30000, print_event,
				  (void *)o, reply, why, size);
		if (!patient || !nobody_there(err, why))
			return err;
		if (o->deadline && now_mono_ns() >= o->deadline)
			return -EHOSTDOWN; /* none answered in time */
		if (!said && now_mono_ns() - since > NSEC_PER_SEC && !o->json) {
			fprintf(stderr, "readyctl: no readyd answers at %s yet; waiting%s\n",
				o->control, o->deadline ? "" : " (--timeout DUR bounds it)");
			said = true;
		}
		sleep_ms(20); /* ~10 tries in a readyd start-up; one stat and connect each */
	}
}

static int say_unreachable(const struct ctl_opts *o, int err)
{
	char hint[512];

	ctl_unreachable_hint(hint, sizeof(hint), o->control, o->control_from);
	if (err == -EHOSTDOWN) {
		fprintf(stderr, "readyctl: no readyd answered at %s within --timeout; %s\n",
			o->control, hint);
		return CTL_EXIT_TIMEOUT;
	}
	fprintf(stderr, "readyctl: cannot talk to readyd at %s: %s; %s\n", o->control,
		strerror(-err), hint);
	return CTL_EXIT_ERROR;
}

static cJSON *build_request(const struct ctl_opts *o, const struct ctl_command *c, const char *name,
			    bool waiting)
{
	cJSON *req = cJSON_CreateObject();

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
	if (o->stream && o->n_names)
		cJSON_AddItemToObject(req, "services",
				      cJSON_CreateStringArray(o->names, o->n_names));
	return req;
}

/*
 * Ask readyd: 0 with *reply, or the exit code with why said (*reply NULL).
 * *stop: the next names would fare no better.
 */
static int ask(const struct ctl_opts *o, const struct ctl_command *c, const char *name,
	       cJSON **reply, bool *stop)
{
	bool waiting = c->waits && !o->no_wait;
	char why[SAFE_PATH_WHY_MAX];
	cJSON *req;
	int err;

	waiting = waiting || o->stream; /* a stream lasts until --timeout, not 30 s */
	req = build_request(o, c, name, waiting);

	*reply = NULL;
	err = request(o, c, req, waiting, reply, why, sizeof(why));
	cJSON_Delete(req);
	if (err == -ETIMEDOUT && waiting) {
		fprintf(stderr, "readyctl: %s: timed out waiting\n", name ? name : c->name);
		*stop = true; /* no time is left for the others */
		return CTL_EXIT_TIMEOUT;
	}
	if (err)
		*stop = true;
	if (err && why[0]) { /* nothing was sent: it may not be readyd answering there */
		fprintf(stderr, "readyctl: not talking to %s: %s\n", o->control, why);
		return CTL_EXIT_ERROR;
	}
	if (err == -EACCES) {
		fprintf(stderr, "readyctl: cannot talk to readyd at %s: %s\n", o->control,
			strerror(EACCES));
		return CTL_EXIT_REFUSED;
	}
	if (err == -EPROTO) {
		fprintf(stderr, "readyctl: cannot talk to readyd at %s: unexpected reply\n",
			o->control);
		return CTL_EXIT_ERROR;
	}
	if (err)
		return say_unreachable(o, err);
	return 0;
}

/* One command for one name (or none). *stop: the next names would fare no better. */
static int run_one(const struct ctl_opts *o, const struct ctl_command *c, const char *name,
		   bool *stop)
{
	cJSON *reply;
	int rc = ask(o, c, name, &reply, stop);

	if (rc)
		return rc;
	if (o->json) { /* the reply as it came, errors included; a stream's is one line too */
		char *text = o->stream ? cJSON_PrintUnformatted(reply) : cJSON_Print(reply);
		puts(text ? text : "null");
		free(text);
	}
	rc = ctl_exit_of_reply(c->name, reply);
	if (cJSON_GetObjectItemCaseSensitive(reply, "error"))
		print_error(reply);
	else if (strcmp(c->name, "reexec") == 0)
		rc = reexec(o, reply);
	else
		print_reply(o, c, reply, name);
	cJSON_Delete(reply);
	fflush(stdout);
	return rc;
}

/* plot, blame, critical-chain NAME: from the timeline and (for dependencies) list. */
static int run_boot(const struct ctl_opts *o, const char *cmd, const char *name)
{
	cJSON *timeline = NULL, *list = NULL;
	bool stop = false;
	int rc = ask(o, ctl_command(CTL_timeline), NULL, &timeline, &stop);

	if (!rc && !cJSON_GetObjectItemCaseSensitive(timeline, "error"))
		rc = ask(o, ctl_command(CTL_list), NULL, &list, &stop);
	if (!rc && cJSON_GetObjectItemCaseSensitive(timeline, "error")) {
		print_error(timeline);
		rc = ctl_exit_of_reply("timeline", timeline);
	} else if (!rc && o->json) {
		char *text = cJSON_Print(timeline);
		puts(text ? text : "null");
		free(text);
	} else if (!rc) {
		rc = ctl_boot_print(stdout, cmd, name, timeline, list);
	}
	cJSON_Delete(timeline);
	cJSON_Delete(list);
	fflush(stdout);
	return rc;
}

/* Each name in turn (docs/control-protocol.md says why not at once); the worst exit. */
static int run(const struct ctl_opts *o, const struct ctl_command *c, const char **names,
	       int n_names)
{
	bool stop = false;
	int rc = CTL_EXIT_OK, i;

	if (!n_names)
		return run_one(o, c, NULL, &stop);
	for (i = 0; i < n_names && !stop; i++) {
		if (strcmp(c->name, "status") == 0 && i && !o->json)
			putchar('\n');
		rc = ctl_exit_worst(rc, run_one(o, c, names[i], &stop));
	}
	if (i < n_names)
		fprintf(stderr, "readyctl: %d of %d names not asked (from %s on)\n", n_names - i,
			n_names, names[i]);
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

static int parse_timeout(const char *v, struct ctl_opts *o)
{
	uint64_t ns;

	if (duration_parse(v, &ns)) {
		fprintf(stderr,
			"readyctl: --timeout %s: expected seconds or a duration like 500ms, 30s\n",
			v);
		return -1;
	}
	/* (a year at most: duration_parse's limit; INT_MAX ms is 24 days) */
	o->timeout_ms = ns / NSEC_PER_MSEC > INT_MAX ? INT_MAX : (int)(ns / NSEC_PER_MSEC);
	return 0;
}

/* Options may come before or after the command: "readyctl wait web --timeout 5". */
static int parse_args(int argc, char **argv, struct ctl_opts *o, const char **pos, int *n_pos)
{
	const char *v;

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
			o->help = true;
		} else if (strcmp(argv[i], "--version") == 0) {
			ctl_version(stdout);
			exit(0);
		} else if ((v = option_value(argc, argv, &i, "--binary"))) {
			o->binary = v;
		} else if ((v = option_value(argc, argv, &i, "--control"))) {
			o->control = v;
			o->control_from = "--control";
		} else if ((v = option_value(argc, argv, &i, "--timeout"))) {
			if (parse_timeout(v, o) < 0)
				return -1;
		} else if (argv[i][0] == '-' || *n_pos == MAX_NAMES + 1) {
			fprintf(stderr, "readyctl: unexpected argument \"%s\"\n", argv[i]);
			return -1;
		} else {
			pos[(*n_pos)++] = argv[i];
		}
	}
	return 0;
}

/* readyctl help [CMD], readyctl CMD --help. */
static int help(const char *cmd)
{
	if (!cmd) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (ctl_help_command(stdout, cmd))
		return CTL_EXIT_OK;
	fprintf(stderr, "readyctl: no command \"%s\"; readyctl help lists them\n", cmd);
	return CTL_EXIT_USAGE;
}

/* Are these names what the command takes? */
static bool arity_ok(const struct ctl_command *c, int n_names)
{
	switch (c->service) {
	case CTL_SERVICE:
		return n_names >= 1;
	case CTL_OPTIONAL_SERVICE:
		return n_names <= 1;
	case CTL_NO_SERVICE:
		break;
	}
	return n_names == 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv(CTL_CONTROL_ENV);
	struct ctl_opts o = { .control = env && *env ? env : READYD_CONTROL_DEFAULT,
			      .control_from = env && *env ? CTL_CONTROL_ENV : "default",
			      .timeout_ms = -1 };
	const char *pos[MAX_NAMES + 1] = { NULL };
	const struct ctl_command *c;
	int n = 0;

	if (parse_args(argc, argv, &o, pos, &n) < 0) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (n && strcmp(pos[0], "help") == 0)
		return help(n > 1 ? pos[1] : NULL);
	if (o.help) /* readyctl wait --help: the command's */
		return help(n ? pos[0] : NULL);
	if (n == 0) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (o.timeout_ms >= 0)
		o.deadline = now_mono_ns() + (uint64_t)o.timeout_ms * NSEC_PER_MSEC;
	if (ctl_boot_command(pos[0])) {
		bool chain = strcmp(pos[0], "critical-chain") == 0;
		if (n - 1 != (chain ? 1 : 0)) {
			fprintf(stderr, "readyctl: %s takes %s; readyctl help %s says more\n",
				pos[0], chain ? "one service name" : "no service name", pos[0]);
			return CTL_EXIT_USAGE;
		}
		return run_boot(&o, pos[0], chain ? pos[1] : NULL);
	}
	c = ctl_command(ctl_command_find(pos[0]));
	if (c && strcmp(c->name, "events") == 0) {
		bool stop = false;
		o.stream = true;
		o.names = pos + 1;
		o.n_names = n - 1;
		return run_one(&o, c, NULL, &stop);
	}
	if (!c) {
		fprintf(stderr, "readyctl: unknown command \"%s\"; readyctl help lists them\n",
			pos[0]);
		return CTL_EXIT_USAGE;
	}
	if (!arity_ok(c, n - 1)) {
		fprintf(stderr, "readyctl: %s takes %s; readyctl help %s says more\n", c->name,
			c->service == CTL_SERVICE	     ? "one or more service names"
			: c->service == CTL_OPTIONAL_SERVICE ? "at most one service name"
							     : "no service name",
			c->name);
		return CTL_EXIT_USAGE;
	}
	return run(&o, c, pos + 1, n - 1);
}
