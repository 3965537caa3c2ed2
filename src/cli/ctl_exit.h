/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyctl's exit codes, systemctl's where they mean the same
 * (docs/control-protocol.md): what a reply means for a script, and which of
 * several codes a command of several names exits with. Pure.
 */
#ifndef READYD_CTL_EXIT_H
#define READYD_CTL_EXIT_H

#include <cjson/cJSON.h>

enum ctl_exit {
	CTL_EXIT_OK = 0,	  /* done; running (stopped, for stop) */
	CTL_EXIT_ERROR = 1,	  /* readyd unreachable or not trusted, an error reply */
	CTL_EXIT_USAGE = 2,	  /* nothing was asked */
	CTL_EXIT_NOT_RUNNING = 3, /* status/wait/start/restart: it is not running */
	CTL_EXIT_NO_SERVICE = 4,  /* no service of that name */
	CTL_EXIT_REFUSED = 5,	  /* a mutating command, not root nor control_group */
	CTL_EXIT_TIMEOUT = 124,	  /* --timeout passed first (as timeout(1) exits) */
};

/* The worse of two codes: ok < not running < timeout < no service < refused < error < usage. */
int ctl_exit_worst(int a, int b);
/* What the reply to `cmd` (a list, status, wait... name) means. */
int ctl_exit_of_reply(const char *cmd, const cJSON *reply);

#endif
