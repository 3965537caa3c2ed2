/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reload: read the config again and change only what changed. Added
 * services start; removed ones stop and go; changed ones restart on their
 * new configuration; unchanged ones are not touched (their state, process
 * and counters carry on, now pointing into the new config). A config with
 * any error changes nothing.
 */
#ifndef READYD_RELOAD_H
#define READYD_RELOAD_H

#include "base/strbuf.h"
#include "config/config.h"

struct daemon;

struct reload_summary {
	struct strbuf added, removed, changed, unchanged; /* "a b c" */
};

/*
 * Re-read the config file; on any error nothing changes. 0 or -errno, and
 * a failure is logged here (its config errors, then why): callers only
 * answer. diag holds the config errors (free it either way).
 */
int daemon_reload(struct daemon *d, struct reload_summary *sum, struct config_diag *diag);
/*
 * The same with a config already loaded (a reference that moves to the
 * daemon); diag gets what applying it found (it starts empty).
 */
int daemon_reload_to(struct daemon *d, struct config *next, struct reload_summary *sum,
		     struct config_diag *diag);
/* Why a reload that failed with err (and no config errors) failed, for a reply. */
const char *reload_error_text(int err);
void reload_summary_free(struct reload_summary *sum);
/* Start a unit for every service of the current config that has none (added by a reload). */
void daemon_start_missing(struct daemon *d, struct strbuf *added);

#endif
