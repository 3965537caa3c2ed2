/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyctl plot, blame, critical-chain and timeline: the boot drawn from a
 * `timeline` reply and a `list` reply (the dependencies); and the text form
 * of `readyctl events`, one line per event.
 */
#ifndef READYD_CTL_BOOT_H
#define READYD_CTL_BOOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

/* Is cmd one of readyctl's own (drawn from `timeline`, not a daemon command)? */
bool ctl_boot_command(const char *cmd);
/*
 * Print cmd ("plot", "blame", "critical-chain" with `name`, "timeline")
 * from the replies (list may be NULL). The exit code (4: no service `name`).
 */
int ctl_boot_print(FILE *out, const char *cmd, const char *name, const cJSON *timeline,
		   const cJSON *list);
/* One `events` line as text; nothing for the stream's first line. */
void ctl_print_stream_event(FILE *out, const cJSON *ev);

#endif
