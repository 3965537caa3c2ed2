/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The JSON shapes of control replies (docs/control-protocol.md). */
#ifndef READYD_DAEMON_JSON_H
#define READYD_DAEMON_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "readyd_control.h"

struct daemon;
struct unit;

/* {"ok": true, "protocol", "mode", "now_mono_ns"} */
cJSON *json_reply_new(struct daemon *d);
/* The fields `list` shows per service. */
cJSON *json_service_summary(const struct unit *u, uint64_t now);
/* Everything `status` shows. */
cJSON *json_service_detail(const struct unit *u, uint64_t now);

#endif
