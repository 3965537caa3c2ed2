/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Each service's timeline since readyd started (model/timeline.h): what
 * `{"cmd":"timeline"}` answers, and `readyctl plot`, `blame` and
 * `critical-chain` draw from.
 */
#ifndef READYD_OUT_TIMELINE_H
#define READYD_OUT_TIMELINE_H

#include <cjson/cJSON.h>

struct daemon;
struct unit_module;

extern const struct unit_module timeline_module;

/* {"services": [{"name", "state", "dropped", "entries": [{"mono_ns", "kind", "detail"}]}]} */
cJSON *timeline_report(const struct daemon *d);

#endif
