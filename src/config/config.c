// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The inih glue: a reader that counts lines (Debian's inih is built without
 * INI_HANDLER_LINENO) and sees section headers itself (inih does not call
 * back for a section with no keys); config_check.c validates each service.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/argv.h"
#include "base/duration.h"
#include "config/config_internal.h"
#include "base/clock.h"
#include "base/util.h"

/* Each is logged and sent to readyctl: a file of nothing but errors stays a short answer. */
#define CONFIG_ERRORS_MAX	     100
#define DEFAULT_READY_TIMEOUT	     (30 * NSEC_PER_SEC)
#define DEFAULT_STOP_TIMEOUT	     (10 * NSEC_PER_SEC)
#define DEFAULT_START_LIMIT_BURST    5
#define DEFAULT_START_LIMIT_INTERVAL (60 * NSEC_PER_SEC)
#define DEFAULT_FAILURE_THRESHOLD    3
#define DEFAULT_SUCCESS_THRESHOLD    1
/* Restarts are spread by up to 10 %, so a node's services do not restart in lockstep. */
#define RESTART_JITTER_PCT 10

struct text_stream {
	const char *pos;
	struct parse_ctx *ctx;
};

void config_error(struct parse_ctx *ctx, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ctx->diag->n >= CONFIG_ERRORS_MAX) {
		ctx->errors_not_shown++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		config_diag_add(ctx->diag, "%s:%u: %s", ctx->file, line, msg);
	else
		config_diag_add(ctx->diag, "%s: %s", ctx->file, msg);
}

/*
 * Names become cgroup directories (<readyd's>/NAME/PART): never "." or
 * "..", which would leave readyd's cgroup, nor "cgroup.*", the kernel's
 * interface files.
 */
static bool service_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SERVICE_NAME_MAX || strspn(s, ".") == n || str_starts_with(s, "cgroup."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-@", *s))
			return false;
	return true;
}

static struct service_config *find_service(struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		if (strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	return NULL;
}

/* A new service with every default; NULL with the error reported. */
static struct service_config *add_service(struct parse_ctx *ctx, const char *name)
{
	struct config *cfg = ctx->cfg;
	struct service_config *grown, *s;

	if (cfg->n_services == CONFIG_MAX_SERVICES) {
		config_error(ctx, ctx->line, "more than %d services", CONFIG_MAX_SERVICES);
		return NULL;
	}
	/* Doubling: a config of 10,000 services is not 10,000 copies of a growing array. */
	if (!(cfg->n_services & (cfg->n_services - 1))) {
		grown = realloc(cfg->services,
				(cfg->n_services ? 2 * cfg->n_services : 1) * sizeof(*grown));
		if (!grown) {
			config_error(ctx, ctx->line, "out of memory");
			return NULL;
		}
		cfg->services = grown;
	}
	s = &cfg->services[cfg->n_services++];
	memset(s, 0, sizeof(*s));
	str_copy(s->name, name, sizeof(s->name));
	s->line = ctx->line;
	s->ready_timeout_ns = DEFAULT_READY_TIMEOUT;
	s->stop_timeout_ns = DEFAULT_STOP_TIMEOUT;
	s->accept_stall_ns = DEFAULT_ACCEPT_STALL_NS;
	s->restart = RESTART_ON_FAILURE;
	s->backoff = backoff_default;
	s->backoff.jitter_pct = RESTART_JITTER_PCT;
	s->ready = READY_ACCEPT;
	s->start_limit_burst = DEFAULT_START_LIMIT_BURST;
	s->start_limit_interval_ns = DEFAULT_START_LIMIT_INTERVAL;
	s->start_limit_cooldown_ns = DEFAULT_START_LIMIT_COOLDOWN;
	s->autostart = true;
	s->probe_interval_ns = ctx->defaults->probe_interval_ns;
	s->probe_timeout_ns = ctx->defaults->probe_timeout_ns;
	s->failure_threshold = DEFAULT_FAILURE_THRESHOLD;
	s->success_threshold = DEFAULT_SUCCESS_THRESHOLD;
	return s;
}

static void begin_service(struct parse_ctx *ctx, const char *name, bool watch)
{
	struct service_config *s;

	ctx->section = SECTION_INVALID;
	if (!service_name_valid(name)) {
		config_error(ctx, ctx->line,
			     "service name \"%s\" must be 1-%d letters, digits, or _ . - @ (not "
			     "only dots, "
			     "not cgroup.*)",
			     name, SERVICE_NAME_MAX);
		return;
	}
	s = find_service(ctx->cfg, name);
	if (s && s->seen[0]) {
		config_error(ctx, ctx->line, "service \"%s\" is defined twice (first at line %u)",
			     name, s->seen[0]);
		return;
	}
	if (s && watch) { /* its [process] sections came first */
		config_error(ctx, ctx->line, "watch \"%s\": a watch has no [process] sections",
			     name);
		return;
	}
	if (!s)
		s = add_service(ctx, name);
	if (!s)
		return;
	s->seen[0] = ctx->line; /* slot 0: the [service] header itself */
	s->line = ctx->line;
	ctx->svc = s;
	ctx->proc = NULL;
	ctx->section = watch ? SECTION_WATCH : SECTION_SERVICE;
	if (watch) { /* readyd never starts, stops or restarts what it watches */
		s->adopted = true;
		s->restart = RESTART_NO;
		s->start_limit_burst = 0;
		s->ready_timeout_ns = 0;
	}
}

void *config_grow(struct parse_ctx *ctx, void **v, size_t n, size_t size)
{
	char *grown = realloc(*v, (n + 1) * size);

	if (!grown) {
		config_error(ctx, ctx->line, "out of memory");
		return NULL;
	}
	*v = grown;
	memset(grown + n * size, 0, size);
	return grown + n * size;
}

struct process_config *config_add_process(struct parse_ctx *ctx, struct service_config *s,
					  const char *name)
{
	struct process_config *p;

	if (s->n_procs == CONFIG_MAX_PROCS) {
		config_error(ctx, ctx->line, "service \"%s\": at most %d processes", s->name,
			     CONFIG_MAX_PROCS);
		return NULL;
	}
	p = config_grow(ctx, (void **)&s->procs, s->n_procs, sizeof(*p));
	if (!p)
		return NULL;
	s->n_procs++;
	str_copy(p->name, name, sizeof(p->name));
	str_copy(p->service, s->name, sizeof(p->service));
	p->line = ctx->line;
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	return p;
}

/* [process "SERVICE/PART"] */
static void begin_process(struct parse_ctx *ctx, const char *full)
{
	const char *slash = strchr(full, '/');
	char service[SERVICE_NAME_MAX + 2];
	struct service_config *s;

	ctx->section = SECTION_INVALID;
	if (!slash || (size_t)(slash - full) > SERVICE_NAME_MAX) {
		config_error(ctx, ctx->line,
			     "name a process SERVICE/PART, like [process \"web/server\"]");
		return;
	}
	snprintf(service, sizeof(service), "%.*s", (int)(slash - full), full);
	if (!service_name_valid(service) || !service_name_valid(slash + 1)) {
		config_error(
			ctx, ctx->line,
			"process name \"%s\": both parts must be 1-%d letters, digits, or _ . - @ "
			"(not only dots, not cgroup.*)",
			full, SERVICE_NAME_MAX);
		return;
	}
	s = find_service(ctx->cfg, service);
	if (!s)
		s = add_service(ctx, service);
	if (!s)
		return;
	if (s->adopted) {
		config_error(ctx, ctx->line, "watch \"%s\": a watch has no [process] sections",
			     service);
		return;
	}
	if (s->n_procs && !s->explicit_procs) {
		config_error(ctx, ctx->line,
			     "service \"%s\" already has its command in [service \"%s\"]; with "
			     "[process] sections, every process has its own",
			     service, service);
		return;
	}
	for (size_t i = 0; i < s->n_procs; i++)
		if (strcmp(s->procs[i].name, slash + 1) == 0) {
			config_error(ctx, ctx->line,
				     "process \"%s\" is defined twice (first at line %u)", full,
				     s->procs[i].line);
			return;
		}
	s->explicit_procs = true;
	ctx->svc = s;
	ctx->proc = config_add_process(ctx, s, slash + 1);
	if (ctx->proc)
		ctx->section = SECTION_PROCESS;
}

struct process_config *config_current_process(struct parse_ctx *ctx, const char *key)
{
	struct service_config *s = ctx->svc;

	if (ctx->section == SECTION_PROCESS)
		return ctx->proc;
	if (s->explicit_procs) {
		config_error(
			ctx, ctx->line,
			"%s belongs in a [process \"%s/...\"] section: this service declares its "
			"processes there",
			key, s->name);
		return NULL;
	}
	if (!s->n_procs) /* a one-process service: the process takes the service's name */
		return config_add_process(ctx, s, s->name);
	return &s->procs[0];
}

/* "[readyd]" or "[service "NAME"]", text between the brackets already trimmed. */
static void begin_section(struct parse_ctx *ctx, char *text)
{
	size_t len;

	ctx->svc = NULL;
	ctx->joining = NULL; /* sections may move the processes (a new service reallocs them) */
	if (strcmp(text, "readyd") == 0) {
		ctx->section = SECTION_READYD;
	} else if ((str_starts_with(text, "service") && isspace((unsigned char)text[7])) ||
		   (str_starts_with(text, "process") && isspace((unsigned char)text[7])) ||
		   (str_starts_with(text, "watch") && isspace((unsigned char)text[5]))) {
		const char *kind = text[0] == 'p'   ? "process"
				   : text[0] == 's' ? "service"
						    : "watch";
		char *name = text + strlen(kind);
		while (isspace((unsigned char)*name))
			name++;
		len = strlen(name);
		if (len < 2 || name[0] != '"' || name[len - 1] != '"') {
			config_error(ctx, ctx->line, "write the name in double quotes: [%s \"%s\"]",
				     kind, name);
			ctx->section = SECTION_INVALID;
			return;
		}
		name[len - 1] = '\0';
		if (kind[0] == 'p')
			begin_process(ctx, name + 1);
		else
			begin_service(ctx, name + 1, kind[0] == 'w');
	} else {
		config_error(ctx, ctx->line,
			     "unknown section [%s]; expected [readyd], [service \"NAME\"], "
			     "[process \"NAME/PART\"] or [watch \"NAME\"]",
			     text);
		ctx->section = SECTION_INVALID;
	}
}

static void see_section_header(struct parse_ctx *ctx, const char *line)
{
	char text[256];
	const char *close = strchr(line, ']');
	size_t n;

	if (!close)
		return; /* inih reports the syntax error */
	line++;
	while (isspace((unsigned char)*line))
		line++;
	n = (size_t)(close - line);
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	memcpy(text, line, n);
	text[n] = '\0';
	begin_section(ctx, text);
}

/*
 * An indented line continues a long command (inih lines are < 200 bytes),
 * joined with a space. The buffer grows by doubling: 300k continuation
 * lines copied the whole command each (asprintf) and took 11 s to parse.
 */
int config_join_continuation(struct parse_ctx *ctx, struct process_config *p, const char *value)
{
	size_t add = strlen(value), need;
	char *grown;

	if (ctx->joining != p) {
		ctx->joining = p;
		ctx->joined_len = strlen(p->command);
		ctx->joined_cap = ctx->joined_len + 1;
		ctx->joined_too_long = false;
	}
	if (ctx->joined_too_long)
		return -E2BIG; /* said once */
	need = ctx->joined_len + 1 + add + 1;
	if (need > CONFIG_COMMAND_MAX + 1) {
		config_error(ctx, ctx->line,
			     "command is longer than %d bytes once its lines are joined",
			     CONFIG_COMMAND_MAX);
		ctx->joined_too_long = true;
		return -E2BIG;
	}
	if (need > ctx->joined_cap) {
		size_t cap = need > 2 * ctx->joined_cap ? need : 2 * ctx->joined_cap;
		if (!(grown = realloc(p->command, cap))) {
			config_error(ctx, ctx->line, "out of memory");
			return -ENOMEM;
		}
		p->command = grown;
		ctx->joined_cap = cap;
	}
	p->command[ctx->joined_len] = ' ';
	memcpy(p->command + ctx->joined_len + 1, value, add + 1);
	ctx->joined_len += 1 + add;
	return 0;
}

/* inih reader: one physical line per call, which lets us count lines. */
static char *read_line(char *buf, int size, void *stream)
{
	struct text_stream *ts = stream;
	struct parse_ctx *ctx = ts->ctx;
	const char *nl, *p;
	size_t len;

	if (!*ts->pos)
		return NULL;
	nl = strchr(ts->pos, '\n');
	len = nl ? (size_t)(nl - ts->pos + 1) : strlen(ts->pos);
	ctx->line++;
	if (len >= (size_t)size) {
		config_error(ctx, ctx->line,
			     "line longer than %d bytes; continue a long command on indented lines",
			     size - 2);
		ts->pos += len;
		strcpy(buf, "\n");
		return buf;
	}
	memcpy(buf, ts->pos, len);
	buf[len] = '\0';
	ts->pos += len;
	ctx->continuation = buf[0] == ' ' || buf[0] == '\t';
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (*p == '[')
		see_section_header(ctx, p);
	return buf;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	const struct config_key *key;
	unsigned int *seen;
	const char *hint;
	char tail[320];

	(void)section; /* tracked by read_line, which also sees empty sections */
	if (ctx->section == SECTION_INVALID)
		return 1; /* the header was reported; don't pile errors on its keys */
	if (ctx->section == SECTION_NONE) {
		config_error(
			ctx, ctx->line,
			"%s is outside any section; put it under [readyd] or [service \"NAME\"]",
			name);
		return 1;
	}
	key = config_key_find(ctx->section, name);
	if (key && !(key->sections & (1u << ctx->section))) {
		if (ctx->section == SECTION_WATCH && !(key->sections & IN_READYD))
			config_error(
				ctx, ctx->line,
				"%s has no meaning in a [watch]: readyd does not start, stop or "
				"restart what it watches",
				name);
		else
			config_error(ctx, ctx->line, "%s belongs in %s", name,
				     key->sections & IN_READYD	 ? "[readyd]"
				     : key->sections == IN_WATCH ? "a [watch] section"
				     : ctx->section == SECTION_PROCESS
					     ? "the process's [service] section"
					     : "a [service] or [process] section");
		return 1;
	}
	if (!key) {
		hint = config_key_suggest(ctx->section, name);
		if (!config_systemd_hint(name, tail, sizeof(tail)))
			snprintf(tail, sizeof(tail), "%s%s%s", hint ? "; did you mean \"" : "",
				 hint ? hint : "", hint ? "\"?" : "");
		config_error(ctx, ctx->line, "unknown key \"%s\" in [%s]%s", name,
			     ctx->section == SECTION_READYD    ? "readyd"
			     : ctx->section == SECTION_PROCESS ? "process"
			     : ctx->section == SECTION_WATCH   ? "watch"
							       : "service",
			     tail);
		return 1;
	}
	if (ctx->continuation && key->slot >= 0 && strcmp(name, "command") != 0) {
		config_error(ctx, ctx->line, "%s does not continue on an indented line", name);
		return 1;
	}
	if (key->slot >= 0 && !ctx->continuation) {
		struct process_config *p =
			key->per_process ? config_current_process(ctx, name) : NULL;
		if (key->per_process && !p)
			return 1;
		seen = ctx->section == SECTION_READYD ? ctx->cfg->seen
		       : key->per_process	      ? p->seen
						      : ctx->svc->seen;
		if (seen[key->slot]) {
			config_error(ctx, ctx->line, "%s is set twice (first at line %u)", name,
				     seen[key->slot]);
			return 1;
		}
		seen[key->slot] = ctx->line;
	}
	key->set(ctx, value);
	return 1;
}

static int set_default(struct parse_ctx *ctx, char **field, const char *value)
{
	if (*field)
		return 0;
	*field = strdup(value);
	if (!*field) {
		config_error(ctx, 0, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int config_parse_text(const char *name, const char *text, const struct config_defaults *defaults,
		      struct config *cfg, struct config_diag *diag)
{
	struct parse_ctx ctx = { .cfg = cfg,
				 .diag = diag,
				 .file = name,
				 .defaults = defaults ? defaults : &config_builtin_defaults };
	struct text_stream ts = { .pos = text, .ctx = &ctx };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(diag, 0, sizeof(*diag));
	cfg->path = strdup(name);
	if (!cfg->path)
		return -ENOMEM;
	rc = ini_parse_stream(read_line, &ts, on_key, &ctx);
	if (rc > 0)
		config_error(&ctx, (unsigned int)rc,
			     "syntax error: expected key = value, [readyd] or [service \"NAME\"]");
	else if (rc < 0)
		config_error(&ctx, 0, "out of memory while parsing");
	for (size_t i = 0; i < cfg->n_services; i++)
		config_finish_service(&ctx, &cfg->services[i]);
	config_check_deps(&ctx);
	set_default(&ctx, &cfg->textfile, CONFIG_DEFAULT_TEXTFILE);
	set_default(&ctx, &cfg->control, CONFIG_DEFAULT_CONTROL);
	if (ctx.errors_not_shown)
		config_diag_add(diag, "%s: %u more errors not shown: fix the first %d", name,
				ctx.errors_not_shown, CONFIG_ERRORS_MAX);
	if (diag->n) {
		config_free(cfg);
		return -EINVAL;
	}
	return 0;
}
