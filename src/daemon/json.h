/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The JSON shapes of control replies (docs/control-protocol.md). */
#ifndef READYD_DAEMON_JSON_H
#define READYD_DAEMON_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "readyd_control.h"

struct control_client;
struct daemon;
struct unit;

/* Send obj as the reply (and free it); the connection closes once it is sent. */
void json_reply(struct control_client *c, cJSON *obj);
/* {"ok": false, "error": msg} ("refused": a permission problem). */
void json_reply_error(struct control_client *c, const char *msg, bool refused);

/* {"ok": true, "protocol", "mode", "now_mono_ns"} */
cJSON *json_reply_new(struct daemon *d);
/* The fields `list` shows per service. */
cJSON *json_service_summary(const struct unit *u, uint64_t now);
/* Everything `status` shows. */
cJSON *json_service_detail(const struct unit *u, uint64_t now);

#endif
