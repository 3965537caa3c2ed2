/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control socket: a unix stream listener, one JSON request line per
 * connection, one JSON reply line (see docs/control-protocol.md). This file
 * is transport only: limits, credentials, buffering; daemon_control.c
 * decides what requests mean.
 */
#ifndef READYD_CONTROL_H
#define READYD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"

#define CONTROL_REQUEST_MAX 4096 /* bytes, newline included */
#define CONTROL_CLIENTS_MAX 64
#define CONTROL_IDLE_NS (10ULL * 1000000000ULL) /* to send a request */

struct control;
struct control_client;

/* A complete request line (NUL-terminated, newline stripped) from `peer`. */
typedef void (*control_request_fn)(struct control_client *c, const char *line,
				   const struct ucred *peer, void *ctx);

/*
 * Listen on `path`: refuses if another readyd answers there, removes a
 * stale socket file, never removes anything that is not a socket. Mode
 * 0600 (root only), or 0660 with group `gid` when gid != (gid_t)-1.
 */
int control_open(struct loop *loop, const char *path, gid_t gid, control_request_fn fn, void *ctx,
		 struct control **out);
/* Stop listening, drop every client, unlink the socket file. */
void control_close(struct control *ctl);

/* Queue `data` (a newline is added) and close the connection once sent. */
void control_reply(struct control_client *c, const char *data);
/* Keep the client open, waiting for an event about `tag` (no idle timeout). */
void control_wait(struct control_client *c, const void *tag);
/* Call fn for every client waiting on `tag`; fn usually replies. */
void control_wake(struct control *ctl, const void *tag,
		  void (*fn)(struct control_client *c, void *ctx), void *ctx);

#endif
