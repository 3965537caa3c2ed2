// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* [readyd] keys that are more than a path: the agent, gRPC and HTTP listeners, the socket
 * directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* A listener readyd answers others on: a bare port is loopback (who is serving stays local unless
 * asked). */
static int set_listener(struct parse_ctx *ctx, const char *key, const char *value,
			struct listen_spec *spec, bool *has)
{
	const char *why;

	if (listen_spec_parse_agent(value, spec, &why)) {
		config_error(ctx, ctx->line, "%s = %s: want ADDR:PORT or PORT (%s)", key, value,
			     why);
		return -EINVAL;
	}
	*has = true;
	return 0;
}

int config_set_agent_listen(struct parse_ctx *ctx, const char *value)
{
	return set_listener(ctx, "agent_listen", value, &ctx->cfg->agent, &ctx->cfg->has_agent);
}

int config_set_grpc_listen(struct parse_ctx *ctx, const char *value)
{
	return set_listener(ctx, "grpc_listen", value, &ctx->cfg->grpc, &ctx->cfg->has_grpc);
}

int config_set_http_listen(struct parse_ctx *ctx, const char *value)
{
	return set_listener(ctx, "http_listen", value, &ctx->cfg->http, &ctx->cfg->has_http);
}

int config_set_socket_dirs(struct parse_ctx *ctx, const char *value)
{
	struct config *c = ctx->cfg;

	if (value[0] != '/') {
		config_error(ctx, ctx->line, "socket_dirs = %s: must be an absolute directory",
			     value);
		return -EINVAL;
	}
	if (c->n_socket_dirs == CONFIG_MAX_SOCKET_DIRS) {
		config_error(ctx, ctx->line, "socket_dirs: at most %d", CONFIG_MAX_SOCKET_DIRS);
		return -EINVAL;
	}
	c->socket_dirs[c->n_socket_dirs] = strdup(value);
	if (!c->socket_dirs[c->n_socket_dirs]) {
		config_error(ctx, ctx->line, "out of memory");
		return -ENOMEM;
	}
	c->n_socket_dirs++;
	return 0;
}
