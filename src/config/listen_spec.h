/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Declared listeners ("tcp:127.0.0.1:8080") and the addresses the kernel
 * reports, and whether one satisfies the other.
 */
#ifndef READYD_LISTEN_SPEC_H
#define READYD_LISTEN_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sock_types.h"

enum listen_proto { LISTEN_TCP, LISTEN_UDP, LISTEN_UNIX };

struct listen_spec {
	enum listen_proto proto;
	int family;	  /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for "any address" */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;
	char path[108];		       /* AF_UNIX; abstract names start with '@' */
	char text[SOCK_ADDR_TEXT_MAX]; /* canonical form: the metric label */
};

/*
 * Parse tcp:PORT, tcp:ADDR:PORT, tcp:[V6ADDR]:PORT, udp:... the same,
 * unix:/abs/path or unix:@abstract. Returns 0, or -EINVAL with *error set
 * to a message that says what a valid value looks like.
 */
int listen_spec_parse(const char *s, struct listen_spec *spec, const char **error);

/*
 * agent_listen's value: [ADDR:]PORT or [V6ADDR]:PORT, tcp: implied, no
 * address 127.0.0.1. 0, or -EINVAL with *error set.
 */
int listen_spec_parse_agent(const char *value, struct listen_spec *spec, const char **error);

/*
 * Does the kernel-reported address satisfy the declared one? The port and
 * protocol must match; a declared address is also satisfied by a wildcard
 * bind (0.0.0.0, or :: which also serves IPv4 unless IPV6_V6ONLY).
 */
bool listen_spec_matches(const struct listen_spec *spec, const struct sock_addr *a);
/* The sock_addr_key every address it matches has (base/sock_types.h): index lookups. */
uint64_t listen_spec_key(const struct listen_spec *spec);

/* Are connectionless sockets (ready once bound) what this spec declares? */
bool listen_spec_connectionless(const struct listen_spec *spec, int sock_type);

#endif
