/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `readyctl plot`: the boot as an SVG, like `systemd-analyze plot`: one row
 * per service, its bar from spawn to running coloured by phase (waiting,
 * spawned, bound, listening, accepting, then running), markers for
 * restarts and failures, a time axis from readyd's start. Pure: a struct
 * boot in, the document out.
 */
#ifndef READYD_CLI_PLOT_SVG_H
#define READYD_CLI_PLOT_SVG_H

#include <stdio.h>

#include "cli/boot.h"

/* Write the SVG document of b to out. */
void plot_svg(FILE *out, const struct boot *b);
/* s as XML character data or attribute value (also: invalid UTF-8 and control bytes as '?'). */
void plot_xml_escape(FILE *out, const char *s);

#endif
