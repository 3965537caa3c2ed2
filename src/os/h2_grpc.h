/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gRPC's transport, the server side: one cleartext HTTP/2 connection (h2c,
 * prior knowledge) on a non-blocking socket, as a libnghttp2 server session
 * the caller's loop drives: h2_grpc_read() when the fd is readable,
 * h2_grpc_flush() when it is writable; neither ever waits. A request is handed
 * over whole, once its stream ends; replies are gRPC's: headers, messages,
 * trailers. No readyd state: daemon/out/grpc.c is the health service on it.
 */
#ifndef READYD_H2_GRPC_H
#define READYD_H2_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_GRPC_PATH_MAX 128 /* a longer :path is kept cut (it names no method of ours) */
#define H2_GRPC_OUT_MAX	 256 /* a stream's messages not yet sent; more: the stream is reset */

struct h2_grpc;
struct h2_grpc_stream;

struct h2_grpc_ops {
	/*
	 * A request stream ended: its :path and body (at most the body_max of
	 * h2_grpc_new; too_long if there was more). Reply now or later, with
	 * h2_grpc_error(), or h2_grpc_open() and the rest.
	 */
	void (*request)(void *owner, struct h2_grpc_stream *s, const char *path,
			const uint8_t *body, size_t len, bool too_long);
	/* A stream with user data is gone (closed, reset, or its connection ends). */
	void (*closed)(void *owner, struct h2_grpc_stream *s, void *user);
};

/*
 * A server session on fd (the caller keeps and closes it) that lets the peer
 * open at most max_streams at once (SETTINGS_MAX_CONCURRENT_STREAMS). NULL:
 * out of memory.
 */
struct h2_grpc *h2_grpc_new(int fd, const struct h2_grpc_ops *ops, void *owner,
			    uint32_t max_streams, size_t body_max);
/* Every stream's closed() is called (the connection ends), then it is freed. */
void h2_grpc_free(struct h2_grpc *c);
/* What the socket has, through the session, then h2_grpc_flush(). 0, or -errno: it is over. */
int h2_grpc_read(struct h2_grpc *c);
/* Write what the session has to send, until the socket would block. 0, or -errno: over. */
int h2_grpc_flush(struct h2_grpc *c);
/* Streams open now. */
size_t h2_grpc_streams(const struct h2_grpc *c);
/* GOAWAY (no error), sent as far as the socket takes it now: the caller then closes. */
void h2_grpc_goaway(struct h2_grpc *c);
/* Bytes wait for room in the socket: watch it for EPOLLOUT. */
bool h2_grpc_blocked(const struct h2_grpc *c);

void h2_grpc_set_user(struct h2_grpc_stream *s, void *user);

/* A reply that is only a status: grpc-status code (not 0) and grpc-message. 0 or -errno. */
int h2_grpc_error(struct h2_grpc_stream *s, int code, const char *message);
/* The response headers, :status 200 and content-type application/grpc. 0 or -errno. */
int h2_grpc_open(struct h2_grpc_stream *s);
/*
 * One framed message, after h2_grpc_open: 0; -ENOBUFS when H2_GRPC_OUT_MAX
 * bytes wait already (the peer reads no more): the stream is reset.
 */
int h2_grpc_send(struct h2_grpc_stream *s, const uint8_t *msg, size_t len);
/* The trailers once what waits is sent: grpc-status code (and message when not NULL). */
int h2_grpc_end(struct h2_grpc_stream *s, int code, const char *message);

#endif
