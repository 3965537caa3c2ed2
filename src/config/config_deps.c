// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start order: after = / requires = (systemd's After= and BindsTo=), autostart
 * and the start limit's cool-down; and the checks of the whole graph, which
 * need every service read: an unknown name, a service naming itself, a cycle.
 * A cycle is named whole ("web -> app -> web") at the line that closes it, so
 * the fix is one line to find.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "base/duration.h"
#include "base/util.h"

/* One name of the list; a name twice is one dep (requires, if either line says so). */
static int add_dep(struct parse_ctx *ctx, const char *key, const char *name, size_t len,
		   bool requires)
{
	struct service_config *s = ctx->svc;
	struct service_dep *d;

	if (len == 0 || len > SERVICE_NAME_MAX) {
		config_error(ctx, ctx->line, "%s: \"%.*s\" is not a service name (1-%d characters)",
			     key, (int)len, name, SERVICE_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_deps; i++)
		if (strlen(s->deps[i].name) == len && memcmp(s->deps[i].name, name, len) == 0) {
			s->deps[i].requires |= requires;
			return 0;
		}
	if (s->n_deps == CONFIG_MAX_DEPS) {
		config_error(ctx, ctx->line, "%s: at most %d after and requires names a service",
			     key, CONFIG_MAX_DEPS);
		return -EINVAL;
	}
	d = config_grow(ctx, (void **)&s->deps, s->n_deps, sizeof(*d));
	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->line = ctx->line;
	d->requires = requires;
	s->n_deps++;
	return 0;
}

/* "db, cache" or "db cache": separated by commas or spaces, as systemd writes After=. */
static int set_deps(struct parse_ctx *ctx, const char *key, const char *value, bool requires)
{
	const char *p = value;
	int err = 0;

	while (*p && !err) {
		size_t len;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ", \t");
		if (len)
			err = add_dep(ctx, key, p, len, requires);
		p += len;
	}
	return err;
}

int config_set_after(struct parse_ctx *ctx, const char *value)
{
	return set_deps(ctx, "after", value, false);
}

int config_set_requires(struct parse_ctx *ctx, const char *value)
{
	return set_deps(ctx, "requires", value, true);
}

int config_set_autostart(struct parse_ctx *ctx, const char *value)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
		ctx->svc->autostart = value[0] == 'y';
		return 0;
	}
	config_error(ctx, ctx->line, "autostart = %s: expected yes or no", value);
	return -EINVAL;
}

int config_set_start_limit_cooldown(struct parse_ctx *ctx, const char *value)
{
	int err;

	if (strcmp(value, "off") == 0) {
		ctx->svc->start_limit_cooldown_ns = 0;
		return 0;
	}
	err = duration_parse(value, &ctx->svc->start_limit_cooldown_ns);
	if (err || ctx->svc->start_limit_cooldown_ns == 0) {
		config_error(ctx, ctx->line,
			     "start_limit_cooldown = %s: expected a duration (30s, 5m, 1h) or off "
			     "(stay failed until `readyctl reset`)",
			     value);
		return -EINVAL;
	}
	return 0;
}

/* ---- the graph ---- */

static const char *dep_key(const struct service_dep *d)
{
	return d->requires ? "requires" : "after";
}

/* Every name resolved to its service; false if one is unknown or the service itself. */
static bool resolve(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	bool ok = true;

	for (size_t i = 0; i < cfg->n_services; i++) {
		struct service_config *s = &cfg->services[i];
		for (size_t k = 0; k < s->n_deps; k++) {
			struct service_dep *d = &s->deps[k];
			const struct service_config *t = config_find(cfg, d->name);
			if (strcmp(d->name, s->name) == 0) {
				config_error(ctx, d->line,
					     "%s = %s: a service cannot wait for itself; remove %s "
					     "from the list",
					     dep_key(d), d->name, d->name);
				ok = false;
			} else if (!t) {
				config_error(
					ctx, d->line,
					"%s = %s: no service or watch \"%s\" in this file; fix "
					"the name or declare [service \"%s\"]",
					dep_key(d), d->name, d->name, d->name);
				ok = false;
			} else {
				d->idx = (size_t)(t - cfg->services);
			}
		}
	}
	return ok;
}

/* The cycle closed by stack[top]'s dep k: "web -> app -> web", said at that dep's line. */
static void report_cycle(struct parse_ctx *ctx, const size_t *stack, size_t top, size_t from)
{
	const struct config *cfg = ctx->cfg;
	const struct service_config *last = &cfg->services[stack[top]];
	char path[1024] = "";
	size_t start = top;

	while (stack[start] != from)
		start--;
	for (size_t i = start; i <= top; i++)
		str_append(path, sizeof(path), "%s -> ", cfg->services[stack[i]].name);
	str_append(path, sizeof(path), "%s", cfg->services[from].name);
	for (size_t k = 0; k < last->n_deps; k++)
		if (last->deps[k].idx == from) {
			config_error(ctx, last->deps[k].line,
				     "%s = %s: a dependency cycle: %s; remove one of its after "
				     "or requires",
				     dep_key(&last->deps[k]), last->deps[k].name, path);
			return;
		}
}

/*
 * Depth-first, with its own stack (a chain of 100,000 would overflow the C
 * one): white, on the stack (grey), done (black). An edge to a grey service
 * closes a cycle.
 */
void config_check_deps(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	size_t n = cfg->n_services, *stack, *next;
	unsigned char *color;

	for (size_t i = 0; i < n; i++)
		cfg->has_deps |= cfg->services[i].n_deps > 0;
	if (!cfg->has_deps || !resolve(ctx))
		return;
	stack = calloc(n, sizeof(*stack));
	next = calloc(n, sizeof(*next));
	color = calloc(n, 1);
	if (!stack || !next || !color) {
		config_error(ctx, 0, "out of memory checking after and requires");
		goto out;
	}
	for (size_t root = 0; root < n; root++) {
		size_t top = 0;
		if (color[root])
			continue;
		stack[0] = root;
		color[root] = 1;
		next[root] = 0;
		for (;;) {
			size_t v = stack[top];
			const struct service_config *s = &cfg->services[v];
			if (next[v] == s->n_deps) {
				color[v] = 2;
				if (top-- == 0)
					break;
				continue;
			}
			size_t w = s->deps[next[v]++].idx;
			if (color[w] == 1) {
				report_cycle(ctx, stack, top, w);
			} else if (color[w] == 0) {
				color[w] = 1;
				next[w] = 0;
				stack[++top] = w;
			}
		}
	}
out:
	free(stack);
	free(next);
	free(color);
}

/*
 * Reverse topological order: a service is written once every service that
 * depends on it is (Kahn's algorithm over "x depends on y" edges, counting
 * each y's dependents).
 */
void config_stop_order(const struct config *cfg, size_t *order)
{
	size_t n = cfg->n_services, head = 0, tail = 0;
	size_t *waiting = calloc(n ? n : 1, sizeof(*waiting));

	if (!waiting) { /* no memory: the file's order, which is still an order */
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < cfg->services[i].n_deps; k++)
			waiting[cfg->services[i].deps[k].idx]++;
	for (size_t i = 0; i < n; i++)
		if (!waiting[i])
			order[tail++] = i;
	while (head < tail) {
		const struct service_config *s = &cfg->services[order[head++]];
		for (size_t k = 0; k < s->n_deps; k++)
			if (--waiting[s->deps[k].idx] == 0)
				order[tail++] = s->deps[k].idx;
	}
	free(waiting);
}

bool config_depends_on(const struct service_config *s, const char *name, bool *requires)
{
	for (size_t k = 0; k < s->n_deps; k++)
		if (strcmp(s->deps[k].name, name) == 0) {
			if (requires)
			*requires = s->deps[k].requires;
			return true;
		}
	return false;
}
