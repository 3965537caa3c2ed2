// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `readyd exec` and `readyd wait`: the command line becomes a config of one
 * service, parsed by the same parser as a file (so every check holds), and
 * the daemon runs it with out/oneshot_exit.c deciding when to print and exit.
 */
#include "daemon/oneshot.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/argv.h"
#include "daemon/daemon.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/util.h"

static const char usage[] =
	"usage: readyd exec [--timeout S] [--listen SPEC]... [OPTIONS] -- CMD [ARGS...]\n"
	"       readyd wait --pid N [--timeout S] [--listen SPEC]... [OPTIONS]\n"
	"\n"
	"  exec: run CMD, print one line once it is ready, stay in the foreground\n"
	"        (signals are forwarded to it) and exit with its status: 128+N if\n"
	"        signal N ended it, 124 if not ready within --timeout (CMD is then\n"
	"        stopped), 127 if it could not be run.\n"
	"  wait: exit 0 as soon as process N's tree is ready, 1 if it is gone\n"
	"        first, 124 on timeout. N is only observed, never signalled.\n"
	"\n"
	"  --timeout S      give up after S (500ms, 30s, 2m; bare number = seconds)\n"
	"  --listen SPEC    a listener that must be accepting (repeatable): tcp:PORT,\n"
	"                   tcp:ADDR:PORT, udp:ADDR:PORT, unix:/path; default: the\n"
	"                   first listener of the tree that is accepting\n"
	"  --ready R        exec: accept (default), notify, file:/path, combinable\n"
	"  --ready-fd N     print the ready line on fd N (then closed), not stdout:\n"
	"                   CMD's own output never mixes with it (... 3>&1 >&2 | read)\n"
	"  --pid N          wait: the process to watch\n"
	"  --mode MODE      auto|fentry|tracepoint|poll (as for the daemon)\n"
	"  --control PATH   also serve readyctl on PATH (default: no control socket)\n"
	"  --textfile PATH  also write the Prometheus textfile (default: none)\n"
	"  -v, --verbose    log every transition (default: warnings only)\n";

enum {
	OPT_TIMEOUT = 256,
	OPT_LISTEN,
	OPT_READY,
	OPT_READY_FD,
	OPT_PID,
	OPT_MODE,
	OPT_CONTROL,
	OPT_TEXTFILE
};

static const struct option options[] = {
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "ready", required_argument, NULL, OPT_READY },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct oneshot_args {
	const char *verb;
	struct oneshot_opts o;
	struct daemon_opts dopts;
	const char *listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	const char *ready;
	bool verbose;
	char **cmd; /* exec: CMD ARGS, NULL-terminated */
};

static int usage_error(const char *verb, const char *what, const char *value)
{
	fprintf(stderr, "readyd %s: %s%s%s%s (readyd %s --help)\n", verb, what, value ? " \"" : "",
		value ? value : "", value ? "\"" : "", verb);
	return -EINVAL;
}

/* A value pasted into the config text must stay one value on one line. */
static bool plain_value(const char *s)
{
	return *s && !strpbrk(s, "\n\r;#");
}

static int parse_option(struct oneshot_args *a, int opt)
{
	const char *why;
	long pid;
	char *end;

	switch (opt) {
	case OPT_TIMEOUT:
		if (duration_parse(optarg, &a->o.timeout_ns) < 0 || !a->o.timeout_ns)
			return usage_error(a->verb, "--timeout: expected a duration like 30s, got",
					   optarg);
		return 0;
	case OPT_LISTEN: {
		struct listen_spec spec;

		if (!plain_value(optarg) || listen_spec_parse(optarg, &spec, &why) < 0)
			return usage_error(a->verb,
					   "--listen: not a listener (tcp:127.0.0.1:8080, "
					   "unix:/run/x.sock, ...):",
					   optarg);
		if (a->n_listen == CONFIG_MAX_LISTEN)
			return usage_error(a->verb, "--listen: too many; at most 16", NULL);
		a->listen[a->n_listen++] = optarg;
		return 0;
	}
	case OPT_READY:
		if (!plain_value(optarg))
			return usage_error(a->verb,
					   "--ready: expected accept, notify or file:/path, got",
					   optarg);
		a->ready = optarg;
		return 0;
	case OPT_READY_FD:
		errno = 0;
		pid = strtol(optarg, &end, 10);
		if (errno || *end || pid < 1 || pid > INT_MAX || fcntl((int)pid, F_GETFD) < 0)
			return usage_error(a->verb,
					   "--ready-fd: not an open file descriptor:", optarg);
		a->o.ready_fd = (int)pid;
		/* CMD must not hold it: a reader waiting for EOF would wait for CMD. */
		fcntl(a->o.ready_fd, F_SETFD, FD_CLOEXEC);
		return 0;
	case OPT_PID:
		errno = 0;
		pid = strtol(optarg, &end, 10);
		if (errno || *end || pid <= 0 || pid > INT_MAX)
			return usage_error(a->verb, "--pid: expected a process id, got", optarg);
		a->o.pid = (pid_t)pid;
		return 0;
	case OPT_MODE:
		if (tracer_mode_parse(optarg, &a->dopts.mode) < 0)
			return usage_error(a->verb,
					   "--mode: expected auto, fentry, tracepoint or poll, got",
					   optarg);
		return 0;
	case OPT_CONTROL:
		a->dopts.control_path = optarg;
		return 0;
	case OPT_TEXTFILE:
		a->dopts.textfile_path = optarg;
		return 0;
	case 'v':
		a->verbose = true;
		return 0;
	case 'h':
		fputs(usage, stdout);
		return 1;
	default:
		fputs(usage, stderr);
		return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct oneshot_args *a)
{
	int opt, err;

	a->verb = argv[0];
	a->o.kind = strcmp(argv[0], "exec") == 0 ? ONESHOT_EXEC : ONESHOT_WAIT;
	optind = 1;
	/* "+": options end at CMD, so `readyd exec python3 -m http.server` works without "--". */
	while ((opt = getopt_long(argc, argv, "+vh", options, NULL)) != -1)
		if ((err = parse_option(a, opt)) != 0)
			return err;
	if (a->o.kind == ONESHOT_EXEC) {
		if (optind == argc)
			return usage_error(a->verb, "no command to run", NULL);
		if (a->o.pid)
			return usage_error(a->verb, "--pid is for `readyd wait`", NULL);
		a->cmd = argv + optind;
		return 0;
	}
	if (optind < argc)
		return usage_error(a->verb, "unexpected argument", argv[optind]);
	if (!a->o.pid)
		return usage_error(a->verb, "which process? add --pid N", NULL);
	if (a->ready)
		return usage_error(a->verb, "--ready is for `readyd exec`", NULL);
	return 0;
}

/* readyd does not search PATH for configured commands; here a shell user expects it to. */
static int resolve_command(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char cwd[PATH_MAX];

	if (name[0] == '/')
		return snprintf(out, size, "%s", name) < (int)size ? 0 : -ENAMETOOLONG;
	if (strchr(name, '/')) {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		return snprintf(out, size, "%s/%s", cwd, name) < (int)size ? 0 : -ENAMETOOLONG;
	}
	for (const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		if (len && snprintf(out, size, "%.*s/%s", (int)len, p, name) < (int)size &&
		    access(out, X_OK) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	return -ENOENT;
}

/* A service name from the command's basename: "python3", "redis-server". */
static void service_name(const char *cmd, char *out, size_t size)
{
	const char *base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
	size_t n = 0;

	for (; *base && n + 1 < size && n < SERVICE_NAME_MAX; base++)
		out[n++] = isalnum((unsigned char)*base) || strchr("_.-@", *base) ? *base : '_';
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "command");
}

static void config_text(const struct oneshot_args *a, const char *name, struct strbuf *text)
{
	if (a->o.kind == ONESHOT_EXEC) {
		strbuf_printf(text, "[service \"%s\"]\n", name);
		/* argv is set afterwards, exactly as given: no quoting round trip. */
		strbuf_printf(text, "command = /bin/true\nrestart = no\n");
		if (a->ready)
			strbuf_printf(text, "ready = %s\n", a->ready);
	} else {
		strbuf_printf(text, "[watch \"%s\"]\npid = %d\n", name, (int)a->o.pid);
	}
	for (size_t i = 0; i < a->n_listen; i++)
		strbuf_printf(text, "listen = %s\n", a->listen[i]);
}

/* Errors read "readyd exec: ready: ..." rather than pointing into a file nobody wrote. */
static void print_diag(const char *verb, const struct config_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++) {
		const char *msg = strchr(diag->lines[i], ':');

		msg = msg ? strchr(msg + 1, ':') : NULL;
		fprintf(stderr, "readyd %s:%s\n", verb, msg ? msg + 1 : diag->lines[i]);
	}
}

static int set_string(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
	return value && !*field ? -ENOMEM : 0;
}

/* What the text cannot say: the exact argv, and no ready timeout unless asked. */
static int finish_config(const struct oneshot_args *a, const char *exe, struct config *cfg)
{
	struct service_config *s = &cfg->services[0];
	struct process_config *p = &s->procs[0];
	char display[1024];
	int err;

	s->ready_timeout_ns = a->o.kind == ONESHOT_EXEC ? a->o.timeout_ns : 0;
	s->start_limit_burst = 0;
	if (a->o.kind == ONESHOT_EXEC) {
		argv_free(p->argv);
		p->argv = NULL;
		if ((err = argv_dup(a->cmd, &p->argv)) < 0)
			return err;
		if ((err = set_string(&p->argv[0], exe)) < 0)
			return err;
		argv_format(display, sizeof(display), a->cmd);
		if ((err = set_string(&p->command, display)) < 0)
			return err;
		p->inherit_env = true;	  /* like any command a shell runs */
		s->inherit_output = true; /* and its output is the caller's */
	}
	/* No control socket or textfile unless asked: many may run at once in CI. */
	if ((err = set_string(&cfg->control, a->dopts.control_path)) < 0)
		return err;
	return set_string(&cfg->textfile, a->dopts.textfile_path);
}

static int build_config(struct oneshot_args *a, struct config **out)
{
	struct strbuf text = { 0 };
	struct config_diag diag;
	char name[SERVICE_NAME_MAX + 1], exe[PATH_MAX];
	const char *label = a->o.kind == ONESHOT_EXEC ? "readyd exec" : "readyd wait";
	struct config *cfg;
	int err;

	if (a->o.kind == ONESHOT_EXEC) {
		if ((err = resolve_command(a->cmd[0], exe, sizeof(exe))) < 0) {
			fprintf(stderr, "readyd exec: %s: %s\n", a->cmd[0],
				err == -ENOENT ? "command not found" : strerror(-err));
			return -ENOENT;
		}
		service_name(a->cmd[0], name, sizeof(name));
	} else {
		snprintf(name, sizeof(name), "pid-%d", (int)a->o.pid);
	}
	config_text(a, name, &text);
	cfg = calloc(1, sizeof(*cfg));
	err = !cfg || text.oom ? -ENOMEM : 0;
	if (!err)
		err = config_parse_text(label, text.data, &a->dopts.defaults, cfg, &diag);
	strbuf_free(&text);
	if (err == -EINVAL) {
		print_diag(a->verb, &diag);
		config_diag_free(&diag);
		free(cfg);
		return -EINVAL;
	}
	if (!err) {
		config_diag_free(&diag);
		cfg->refs = 1;
		err = finish_config(a, exe, cfg);
		if (err)
			config_unref(cfg);
	} else {
		free(cfg);
	}
	if (err) {
		fprintf(stderr, "readyd %s: %s\n", a->verb, strerror(-err));
		return err;
	}
	a->dopts.config_path = label;
	a->dopts.config = *out = cfg;
	return 0;
}

/*
 * readyd wait on a tree that is ready already (the common case in scripts):
 * one scan without BPF answers in milliseconds, where loading the programs
 * takes ~100. Anything but "not ready yet" is the answer; ONESHOT_NOT_YET
 * goes on in the mode asked for.
 */
static int first_look(struct oneshot_args *a)
{
	struct daemon_opts o = a->dopts;
	struct daemon d;
	int rc;

	const char *knob = getenv("READYD_FIRST_LOOK"); /* 0: straight to BPF (benchmarks) */

	if (a->o.kind != ONESHOT_WAIT || o.mode == TRACER_POLL || (knob && !strcmp(knob, "0")))
		return ONESHOT_NOT_YET;
	o.mode = TRACER_POLL;
	o.oneshot.first_look = true;
	rc = daemon_init(&d, &o);
	if (!rc)
		rc = daemon_run(&d);
	daemon_free(&d);
	log_debug("msg=\"first look without BPF\" ready=%s", rc == 0 ? "yes" : "no");
	return rc < 0 && rc != ONESHOT_NOT_YET ? ONESHOT_NOT_YET : rc;
}

int oneshot_main(int argc, char **argv)
{
	struct oneshot_args a = { .dopts = { .mode = TRACER_AUTO } };
	char err_text[256];
	struct config *cfg;
	struct daemon d;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc > 0 ? 0 : ONESHOT_EXIT_USAGE;
	if (config_defaults_from_env(&a.dopts.defaults, err_text, sizeof(err_text)) < 0) {
		fprintf(stderr, "readyd %s: %s\n", a.verb, err_text);
		return ONESHOT_EXIT_USAGE;
	}
	rc = build_config(&a, &cfg);
	if (rc)
		return rc == -ENOENT ? ONESHOT_EXIT_CANNOT_RUN : ONESHOT_EXIT_USAGE;
	a.dopts.oneshot = a.o;
	log_init("readyd", a.verbose ? LOG_DEBUG : LOG_WARNING);
	rc = first_look(&a);
	if (rc == ONESHOT_NOT_YET) {
		rc = daemon_init(&d, &a.dopts);
		if (!rc)
			rc = daemon_run(&d);
		daemon_free(&d);
	}
	config_unref(cfg);
	if (rc < 0) {
		fprintf(stderr, "readyd %s: cannot run: %s\n", a.verb, strerror(-rc));
		return a.o.kind == ONESHOT_EXEC ? ONESHOT_EXIT_CANNOT_RUN : ONESHOT_EXIT_USAGE;
	}
	return rc;
}
