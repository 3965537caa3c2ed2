/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HAProxy's agent-check, the pure part: the line HAProxy sends (its
 * agent-send, naming the service) and the one line readyd answers, "up" or
 * "down #why". The sockets are daemon/out/agent.c's.
 */
#ifndef READYD_AGENT_REPLY_H
#define READYD_AGENT_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "model/service.h"

#define AGENT_REQUEST_MAX 256 /* a longer request is answered "down" at once */
#define AGENT_CAUSE_MAX	  200 /* bytes of the cause after '#' */
#define AGENT_REPLY_MAX	  (AGENT_CAUSE_MAX + 64)

/*
 * The service name in buf[0..len): 1 with name filled once a line ends
 * ("\n", a "\r" before it and blanks around dropped), 0 while none has,
 * -EMSGSIZE when len reached AGENT_REQUEST_MAX without one or the name does
 * not fit in size.
 */
int agent_request_name(const char *buf, size_t len, char *name, size_t size);

/* The answer for service s (NULL: no service called name). Returns its length. */
size_t agent_reply(const struct svc *s, const char *name, char *out, size_t size);
/* The answer to a failed request (why: what was wrong), "down #why\n". */
size_t agent_reply_refuse(const char *why, char *out, size_t size);

#endif
