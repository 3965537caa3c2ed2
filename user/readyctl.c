// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyctl: ask a running readyd. Exit codes (docs/control-protocol.md):
 *   0 ok / running, 1 not running (wait: failed or timed out),
 *   2 usage, 3 readyd unreachable or bad reply, 4 no such service.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_client.h"
#include "ctl_format.h"
#include "duration.h"
#include "util.h"

enum { EXIT_NOT_RUNNING = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_NO_SERVICE = 4 };

static const char usage[] =
	"usage: readyctl [--control PATH] [--json] COMMAND\n"
	"\n"
	"  list                          every service: state, pid, time to ready\n"
	"  status NAME                   one service: listeners, timings, last exit\n"
	"  wait NAME [--timeout DUR]     exit 0 once running, 1 if it fails or time runs out\n"
	"\n"
	"  --control PATH   control socket (default " CONFIG_DEFAULT_CONTROL ")\n"
	"  --json           print the daemon's JSON reply instead of a table\n";

struct ctl_opts {
	const char *control;
	bool json;
	int timeout_ms; /* wait only; -1 forever */
};

static int run(const struct ctl_opts *o, const char *cmd, const char *name)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	const cJSON *ok, *err_msg;
	int err, rc = 0;

	cJSON_AddStringToObject(req, "cmd", cmd);
	if (name)
		cJSON_AddStringToObject(req, "service", name);
	err = ctl_request(o->control, req, strcmp(cmd, "wait") == 0 ? o->timeout_ms : 10000, &reply);
	cJSON_Delete(req);
	if (err == -ETIMEDOUT && strcmp(cmd, "wait") == 0) {
		fprintf(stderr, "readyctl: %s is not running yet: timed out\n", name);
		return EXIT_NOT_RUNNING;
	}
	if (err) {
		fprintf(stderr, "readyctl: cannot talk to readyd at %s: %s\n", o->control,
			err == -EPROTO ? "unexpected reply" : strerror(-err));
		return EXIT_UNREACHABLE;
	}
	ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	err_msg = cJSON_GetObjectItemCaseSensitive(reply, "error");
	if (o->json) {
		char *text = cJSON_Print(reply);
		puts(text ? text : "null");
		free(text);
	}
	if (cJSON_IsString(err_msg)) {
		fprintf(stderr, "readyctl: %s\n", err_msg->valuestring);
		rc = str_starts_with(err_msg->valuestring, "no service") ? EXIT_NO_SERVICE
									 : EXIT_UNREACHABLE;
	} else if (strcmp(cmd, "wait") == 0) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "service");
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(s, "state");
		const cJSON *cause = cJSON_GetObjectItemCaseSensitive(s, "cause");
		rc = cJSON_IsTrue(ok) ? 0 : EXIT_NOT_RUNNING;
		if (!o->json)
			printf("%s: %s (%s)\n", name, cJSON_IsString(state) ? state->valuestring : "?",
			       cJSON_IsString(cause) ? cause->valuestring : "");
	} else if (!o->json && strcmp(cmd, "list") == 0) {
		ctl_print_list(stdout, reply);
	} else if (!o->json) {
		ctl_print_status(stdout, reply);
	}
	cJSON_Delete(reply);
	return rc;
}

/* "--name VALUE" or "--name=VALUE"; advances *i past a separate value. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
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
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		} else if ((v = option_value(argc, argv, &i, "--control"))) {
			o->control = v;
		} else if ((v = option_value(argc, argv, &i, "--timeout"))) {
			if (duration_parse(v, &ns)) {
				fprintf(stderr, "readyctl: --timeout %s: expected seconds or a duration "
						"like 500ms, 30s\n", v);
				return -1;
			}
			o->timeout_ms = (int)(ns / NSEC_PER_MSEC);
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
	struct ctl_opts o = { .control = CONFIG_DEFAULT_CONTROL, .timeout_ms = -1 };
	const char *pos[2] = { NULL, NULL };
	int n = 0;

	if (parse_args(argc, argv, &o, pos, &n) < 0 || n == 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(pos[0], "list") == 0 && n == 1)
		return run(&o, pos[0], NULL);
	if ((strcmp(pos[0], "status") == 0 || strcmp(pos[0], "wait") == 0) && n == 2)
		return run(&o, pos[0], pos[1]);
	fprintf(stderr, "readyctl: unknown command or wrong arguments: %s\n%s", pos[0], usage);
	return EXIT_USAGE;
}
