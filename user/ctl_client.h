/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* readyctl's side of the control socket: one request line, one reply line. */
#ifndef READYD_CTL_CLIENT_H
#define READYD_CTL_CLIENT_H

#include <cjson/cJSON.h>

/*
 * Send `request` to the daemon at `path` and parse its reply. timeout_ms < 0
 * waits forever. Returns 0 with *reply set (free with cJSON_Delete), or
 * -errno: -ETIMEDOUT, -ECONNREFUSED/-ENOENT (no readyd), -EPROTO (bad reply).
 */
int ctl_request(const char *path, const cJSON *request, int timeout_ms, cJSON **reply);

#endif
