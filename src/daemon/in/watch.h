/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* [watch "NAME"]: following processes readyd did not start (watch.c says how). */
#ifndef READYD_IN_WATCH_H
#define READYD_IN_WATCH_H

struct svc_exit;
struct unit;
struct unit_module;

extern const struct unit_module watch_module;

/* Instead of a spawn: find and follow the watched processes. 0, or -errno with fail filled. */
int watch_attach(struct unit *u, struct svc_exit *fail);

#endif
