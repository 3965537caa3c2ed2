/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Start order (after = / requires =, autostart = no): a spawn waits until
 * every dependency runs, and goes in the loop iteration of the dependency's
 * transition (the transition queues it: no polling); a service whose
 * required one leaves running is restarted and waits for it again; readyd's
 * shutdown stops each service after what depends on it. The graph's checks
 * and verdicts are pure (config/config_deps.c, model/deps.c).
 */
#ifndef READYD_DAEMON_DEPS_H
#define READYD_DAEMON_DEPS_H

#include <stdbool.h>

#include "daemon/unit.h"

extern const struct unit_module deps_module;

/* Start u as boot or a reload does: unless autostart = no, which it says in its cause. */
void deps_boot_start(struct unit *u, const struct svc_input *in);
/*
 * Before an operator's start (or restart) of u: its spawn starts what it
 * requires that is stopped (a policy restart does not). A spawn already held
 * is judged again at once.
 */
void deps_operator_start(struct unit *u, bool restart);
/* readyd's shutdown: stop every service, each after what depends on it. */
void deps_stop_all(struct daemon *d);
/* The units u waits for (deps: every one; requires: those it is bound to), as named now. */
struct unit *deps_unit(struct unit *u, size_t k, bool *requires);
/* How many dependencies u has now (of the config its next spawn runs). */
size_t deps_count(const struct unit *u);
/* Does w wait for u? */
bool deps_waits_for(const struct unit *w, const struct unit *u, bool *requires);

#endif
