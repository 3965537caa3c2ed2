/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control socket: a unix stream listener, one JSON request line per
 * connection, progress lines, one JSON reply line (docs/control-protocol.md).
 * This file is transport only: limits, credentials, buffering; daemon_control.c
 * decides what requests mean. A client pointer stays valid for the rest of
 * the loop iteration even after it is closed (calls on it are no-ops).
 */
#ifndef READYD_CONTROL_SOCKET_H
#define READYD_CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/loop.h"

#define CONTROL_REQUEST_MAX 4096 /* bytes, newline included */
#define CONTROL_CLIENTS_MAX 64
/* Clients waiting at once (wait, start, stop, restart): the other 16 slots stay for the rest. */
#define CONTROL_WAITERS_MAX   48
#define CONTROL_IDLE_NS	      (10ULL * 1000000000ULL) /* to send a request */
#define CONTROL_OUTPUT_MAX    (4 << 20)		      /* queued for a client that does not read */
#define CONTROL_DROP_NS	      (5000000000ULL)	      /* a dropped stream's last line, to be read */
#define CONTROL_STREAM_SNDBUF (32 << 10)	      /* a stream's kernel buffer (doubled by it) */

struct control;
struct control_client;

#define CONTROL_PEER_GROUPS_MAX 64

/* Who is on the other end, as the kernel saw it at connect (SO_PEERCRED, SO_PEERGROUPS). */
struct control_peer {
	struct ucred cred;
	gid_t groups[CONTROL_PEER_GROUPS_MAX]; /* supplementary */
	size_t n_groups;
};

/* A complete request line (NUL-terminated, newline stripped) from `peer`. */
typedef void (*control_request_fn)(struct control_client *c, const char *line,
				   const struct control_peer *peer, void *ctx);

/*
 * Listen on `path`: refuses a directory another user could change
 * (base/safe_path.h: every component from /, missing ones created 0755),
 * refuses if another readyd answers there, removes a stale socket file,
 * never removes anything that is not a socket. Mode 0600 (root only), or
 * 0660 with group `gid` when gid != (gid_t)-1. Logs why it cannot.
 */
int control_open(struct loop *loop, const char *path, gid_t gid, control_request_fn fn, void *ctx,
		 struct control **out);
/* Stop listening, drop every client, unlink the socket file. */
void control_close(struct control *ctl);

/* Queue `data` (a newline is added) and close the connection once sent. */
void control_reply(struct control_client *c, const char *data);
/*
 * Queue a line and keep the connection open (progress before the reply).
 * false if the client is gone (it stopped reading or hung up).
 */
bool control_send(struct control_client *c, const char *data);
/*
 * Keep the client open, waiting for events about `tag` (no idle timeout);
 * `kind` is the caller's, for its own use when woken.
 */
void control_wait(struct control_client *c, const void *tag, int kind);
/*
 * May c wait? Fewer than CONTROL_WAITERS_MAX others do. A caller asks before
 * it acts; control_wait past the limit answers the error instead.
 */
bool control_may_wait(const struct control_client *c);
int control_wait_kind(const struct control_client *c);
/*
 * A stream (readyctl events): c waits on `tag` for good, holding `data`,
 * which free_fn frees with the client (at once if c is gone).
 */
void control_stream(struct control_client *c, const void *tag, void *data,
		    void (*free_fn)(void *data));
void *control_stream_data(const struct control_client *c);
/* Clients waiting (or streaming) on tag. */
size_t control_waiting_on(const struct control *ctl, const void *tag);
/*
 * control_send, unless more than `limit` bytes would wait for the client:
 * then what waits is dropped, `last` is queued as its reply, and false.
 */
bool control_send_bounded(struct control_client *c, const char *data, size_t limit,
			  const char *last);
/* Call fn for every client waiting on `tag`; fn sends progress or replies. */
void control_wake(struct control *ctl, const void *tag,
		  void (*fn)(struct control_client *c, void *ctx), void *ctx);

#endif
