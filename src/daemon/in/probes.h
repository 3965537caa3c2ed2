/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A service's probes: each runs every probe_interval (from the start of the
 * previous run) while svc_probing() says so, concurrently with the others,
 * and every result is an SVC_EV_PROBE for the state machine.
 */
#ifndef READYD_IN_PROBES_H
#define READYD_IN_PROBES_H

struct unit_module;

extern const struct unit_module probes_module;

#endif
