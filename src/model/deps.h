/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Start order's verdicts (after = / requires =), pure: the daemon shows each
 * dependency as it is now, these say what follows. The graph itself (names,
 * cycles, the stop order) is the config's (config_deps.c).
 */
#ifndef READYD_MODEL_DEPS_H
#define READYD_MODEL_DEPS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/service.h"

/* One dependency as it is now. */
struct dep_view {
	const char *name;
	bool present; /* false: a reload is still adding it (or removed it) */
	enum svc_state state;
	const char *cause; /* its own cause */
};

/*
 * May the spawn go? True when every dependency is running. Else false, and
 * why in buf: "waiting for db (starting: tcp:127.0.0.1:5432 listening)",
 * naming the first that is not, in its own words.
 */
bool deps_verdict(const struct dep_view *v, size_t n, char *buf, size_t size);
/* A transition that takes a service out of running: what requires = follows. */
bool deps_left_running(enum svc_state from, enum svc_state to);
/* A service with processes or about to have them: what a requires = restart concerns. */
bool deps_alive(enum svc_state st);

#endif
