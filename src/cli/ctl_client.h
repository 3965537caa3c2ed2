/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* readyctl's side of the control socket: one request line; progress lines, then the reply. */
#ifndef READYD_CTL_CLIENT_H
#define READYD_CTL_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Called for each progress line ({"event": ...}) before the reply. */
typedef void (*ctl_progress_fn)(const cJSON *event, void *ctx);

/*
 * Send `request` to the daemon at `path` and parse its reply. timeout_ms < 0
 * waits forever (it covers the whole exchange). Returns 0 with *reply set
 * (free with cJSON_Delete), or -errno: -ETIMEDOUT, -ECONNREFUSED/-ENOENT
 * (no readyd), -EACCES (socket permissions), -EPROTO (bad reply), or
 * -EPERM/-ELOOP/-ENOTSOCK... with `why` saying why path is not trusted to
 * be readyd's (a directory another user controls, a socket or a peer not
 * root's); why is "" otherwise.
 */
int ctl_request(const char *path, const cJSON *request, int timeout_ms, ctl_progress_fn progress,
		void *ctx, cJSON **reply, char *why, size_t why_size);

#endif
