/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A TCP listener readyd itself serves on (agent_listen): bound, listening, non-blocking. */
#ifndef READYD_TCP_LISTEN_H
#define READYD_TCP_LISTEN_H

#include <stddef.h>

#include "config/listen_spec.h"

/*
 * Bind spec (AF_INET or AF_INET6) with SO_REUSEADDR and listen. The fd, or
 * -errno with why saying which call failed on which address.
 */
int tcp_listen_open(const struct listen_spec *spec, char *why, size_t size);

#endif
