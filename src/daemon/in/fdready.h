/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * s6's readiness protocol (ready = fd:N, s6's notification-fd): the
 * service's first process gets a pipe as fd N and writes a newline on it
 * when it is ready, so services written for s6 need no change.
 */
#ifndef READYD_IN_FDREADY_H
#define READYD_IN_FDREADY_H

struct unit_module;

extern const struct unit_module fdready_module;

#endif
