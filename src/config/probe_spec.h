/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a probe checks, as configured: `probe = tcp:HOST:PORT`,
 * `http://HOST:PORT/PATH`, `unix:/path`, `exec:/path args`, or a protocol
 * check: `postgres://[USER@]HOST[:PORT]`, `postgres:/path/.s.PGSQL.5432`,
 * `redis://HOST[:PORT]`, `redis:/path/redis.sock`. Pure parsing; os/probe.c
 * runs them.
 */
#ifndef READYD_PROBE_SPEC_H
#define READYD_PROBE_SPEC_H

#include <stdbool.h>
#include <sys/socket.h>

#define PROBE_TEXT_MAX	 256
#define PROBE_REASON_MAX 160 /* why a probe failed: "HTTP 503", "connect: Connection refused" */

enum probe_kind { PROBE_TCP, PROBE_HTTP, PROBE_UNIX, PROBE_EXEC, PROBE_POSTGRES, PROBE_REDIS };

struct probe_spec {
	enum probe_kind kind;
	char text[PROBE_TEXT_MAX];    /* as configured: the metric label and the name in causes */
	struct sockaddr_storage addr; /* tcp, http, unix, postgres, redis */
	socklen_t addrlen;
	char host[80];		   /* http: Host header, "127.0.0.1:8080" */
	char path[PROBE_TEXT_MAX]; /* http: "/health?x=1" */
	char **argv;		   /* exec: malloc'd, NULL-terminated */
	char user[64];		   /* postgres: the role the startup packet names */
	bool until_ready;	   /* a serving check (serve =): runs until the service is ready */
};

/* 0, or -EINVAL with *error saying what a valid probe looks like; -ENOMEM. */
int probe_spec_parse(const char *s, struct probe_spec *p, const char **error);
void probe_spec_free(struct probe_spec *p);
const char *probe_kind_name(enum probe_kind k);

#endif
