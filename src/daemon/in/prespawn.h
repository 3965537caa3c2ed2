/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Before a spawn, the kernel of that moment is asked about the declared
 * addresses: one held by another process fails the start (no crash loop on
 * EADDRINUSE; the cause says who holds it), a stale unix socket file is
 * removed if the service asks for it (remove_stale = yes).
 */
#ifndef READYD_IN_PRESPAWN_H
#define READYD_IN_PRESPAWN_H

struct unit_module;

extern const struct unit_module prespawn_module;

#endif
