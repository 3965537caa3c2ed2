// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* readyd: supervise services and report when the kernel shows them accepting. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "daemon/oneshot.h"
#include "base/util.h"

static const char usage[] =
	"usage: readyd [--config FILE] [--control PATH] [--textfile PATH]\n"
	"              [--mode auto|fentry|tracepoint|poll] [-v]\n"
	"       readyd --check-config [FILE]\n"
	"       readyd exec [--timeout S] [--listen SPEC]... -- CMD [ARGS...]\n"
	"       readyd wait --pid N [--timeout S] [--listen SPEC]...\n"
	"                        (readyd exec --help: one-shot use in scripts)\n"
	"\n"
	"  --config FILE    configuration (default " CONFIG_DEFAULT_PATH ")\n"
	"  --control PATH   control socket, overrides the config file\n"
	"  --textfile PATH  Prometheus textfile, overrides the config file\n"
	"  --mode MODE      how to observe sockets: auto tries fentry, then tracepoint,\n"
	"                   then poll (no BPF: sock_diag and /proc, also for non-root)\n"
	"  --check-config   check the configuration (FILE, or --config's) and exit: its\n"
	"                   errors, and on this host: commands not there or not\n"
	"                   executable, missing directories (0: none)\n"
	"  -v, --verbose    debug logs, including libbpf's\n"
	"  --version        print the version\n";

enum { OPT_CONFIG = 256, OPT_CONTROL, OPT_TEXTFILE, OPT_MODE, OPT_RINGBUF, OPT_CHECK, OPT_VERSION };

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "mode", required_argument, NULL, OPT_MODE },
	/* Undocumented: tests force a tiny ring buffer to provoke drops. */
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * --check-config: the parser's errors, then what the host says (a command
 * not there, a directory missing): 0 only when there is neither.
 */
static int check_config(const char *path, const struct config_defaults *defaults)
{
	struct config_diag diag;
	struct config cfg;
	int err = config_load(path, defaults, &cfg, &diag);
	size_t found = 0;

	if (!err)
		found = config_env_check(&cfg, &diag);
	for (size_t i = 0; i < diag.n; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	if (err && !diag.n)
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
	else if (!err && found)
		fprintf(stderr,
			"%s: %zu problem%s on this host (readyd would start, warning of each)\n",
			path, found, found == 1 ? "" : "s");
	else if (!err)
		printf("%s: valid, %zu service%s\n", path, cfg.n_services,
		       cfg.n_services == 1 ? "" : "s");
	config_diag_free(&diag);
	if (!err)
		config_free(&cfg);
	return err || found ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct daemon_opts o = { .config_path = CONFIG_DEFAULT_PATH,
				 .mode = TRACER_AUTO,
				 .argv = argv };
	int verbose = 0, check = 0, opt, rc;
	bool config_set = false;
	char err_text[256];
	struct daemon d;

	if (argc > 1 && (strcmp(argv[1], "exec") == 0 || strcmp(argv[1], "wait") == 0))
		return oneshot_main(argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			o.config_path = optarg;
			config_set = true;
			break;
		case OPT_CONTROL:
			o.control_path = optarg;
			break;
		case OPT_TEXTFILE:
			o.textfile_path = optarg;
			break;
		case OPT_MODE:
			if (tracer_mode_parse(optarg, &o.mode) == 0)
				break;
			fprintf(stderr,
				"readyd: --mode %s: expected auto, fentry, tracepoint or poll\n",
				optarg);
			return 2;
		case OPT_RINGBUF:
			o.ringbuf_bytes = strtoul(optarg, NULL, 0);
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_VERSION:
			printf("readyd %s\n", READYD_VERSION);
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (check && !config_set && optind + 1 == argc) /* readyd --check-config FILE */
		o.config_path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "readyd: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	if (config_defaults_from_env(&o.defaults, err_text, sizeof(err_text)) < 0) {
		fprintf(stderr, "readyd: %s\n", err_text);
		return 1;
	}
	if (check)
		return check_config(o.config_path, &o.defaults);
	log_init("readyd", verbose ? LOG_DEBUG : LOG_INFO);
	rc = daemon_init(&d, &o);
	if (!rc)
		rc = daemon_run(&d);
	daemon_free(&d);
	if (rc < 0)
		log_err("msg=\"readyd stopped on an error\" err=\"%s\"", strerror(-rc));
	return rc < 0 ? 1 : rc;
}
