/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* readyctl's human output: tables and status blocks from the daemon's JSON. */
#ifndef READYD_CTL_FORMAT_H
#define READYD_CTL_FORMAT_H

#include <cjson/cJSON.h>
#include <stdio.h>

void ctl_print_list(FILE *out, const cJSON *reply);
void ctl_print_status(FILE *out, const cJSON *reply);
/* readyctl deps NAME: what it waits for and what waits for it, recursively (ctl_deps.c). */
void ctl_print_deps(FILE *out, const cJSON *reply);
/* readyctl sockets: declared listeners with their findings; --all adds the node's. */
void ctl_print_sockets(FILE *out, const cJSON *reply);

#endif
