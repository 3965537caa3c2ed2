/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* readyctl's words to its user: usage, help for each command, the hint when no readyd answers. */
#ifndef READYD_CTL_HELP_H
#define READYD_CTL_HELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The environment variable that names the control socket when --control does not. */
#define CTL_CONTROL_ENV "READYD_CONTROL"

void ctl_usage(FILE *out);
/* `readyctl help CMD`: false when there is no such command. */
bool ctl_help_command(FILE *out, const char *cmd);
/* "readyctl VERSION (control protocol N)" */
void ctl_version(FILE *out);
/*
 * What to try when no readyd answers at `path`: where the path came from
 * (--control, READYD_CONTROL or the default) and the other two.
 */
void ctl_unreachable_hint(char *buf, size_t size, const char *path, const char *source);

#endif
