/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_OUT_SOCKETS_H
#define READYD_OUT_SOCKETS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

struct daemon;
struct unit;

/* readyctl sockets [NAME] [--all]: {"listeners": [...]}, or {"error": ...}. */
cJSON *sockets_report(struct daemon *d, const struct unit *only, bool all);

#endif
