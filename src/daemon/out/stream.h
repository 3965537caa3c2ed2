/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event stream (`{"cmd":"events"}`, `readyctl events`): every
 * transition, listener level, spawn and finding, one JSON line each as it
 * happens. Bounded: STREAM_CLIENTS_MAX streams at once, and a stream with
 * more than STREAM_BACKLOG_MAX bytes unread is dropped with a last line
 * saying why; nothing waits for a reader.
 */
#ifndef READYD_OUT_STREAM_H
#define READYD_OUT_STREAM_H

#include <cjson/cJSON.h>

#define STREAM_CLIENTS_MAX 16
#define STREAM_BACKLOG_MAX (64 << 10) /* bytes unsent beyond the kernel's buffer */
#define STREAM_NAMES_MAX   64	      /* services one stream may name */

struct control_client;
struct daemon;
struct unit_module;

extern const struct unit_module stream_module;

/*
 * c follows the services `names` names (an array of strings; NULL or empty:
 * every service). It is answered at once (an error) when a name is unknown
 * or too many stream already; else a first {"event": "subscribed"} line.
 */
void stream_subscribe(struct daemon *d, struct control_client *c, const cJSON *names);
/* readyd exits: every stream's last line, {"ok": true, "end": why} (best effort). */
void stream_end(struct daemon *d, const char *why);

#endif
