// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a gRPC client sends on a grpc_listen connection, any bytes after the
 * HTTP/2 preface: os/h2_grpc.c's session callbacks (the :path kept, the body
 * bounded, requests handed over once), answered as daemon/out/grpc.c does
 * (errors, messages, trailers), over a socketpair, then freed with whatever
 * streams are still open.
 */
#include "fuzz.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/grpc_msg.h"
#include "os/h2_grpc.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static int open_streams;

static void on_request(void *owner, struct h2_grpc_stream *s, const char *path, const uint8_t *body,
		       size_t len, bool too_long)
{
	uint8_t msg[GRPC_RESPONSE_MAX];
	char name[65];
	bool compressed;
	size_t msg_len;
	long n;

	(void)owner;
	FUZZ_ASSERT(strlen(path) < H2_GRPC_PATH_MAX);
	FUZZ_ASSERT(len <= GRPC_PREFIX_LEN + GRPC_REQUEST_MAX);
	n = too_long ? -EMSGSIZE
		     : grpc_frame_parse(body, len, GRPC_REQUEST_MAX, &compressed, &msg_len);
	if (n <= 0 || (size_t)n != len ||
	    grpc_health_request(body + GRPC_PREFIX_LEN, msg_len, name, sizeof(name))) {
		h2_grpc_error(s, GRPC_INTERNAL, path); /* a client's bytes, percent-encoded */
		return;
	}
	if (h2_grpc_open(s))
		return;
	if (path[1] == 'W') { /* a Watch: it stays open, told twice */
		h2_grpc_set_user(s, &open_streams);
		open_streams++;
		h2_grpc_send(s, msg, grpc_health_response(GRPC_NOT_SERVING, msg));
		h2_grpc_send(s, msg, grpc_health_response(GRPC_SERVING, msg));
		return;
	}
	h2_grpc_send(s, msg, grpc_health_response(GRPC_SERVING, msg));
	h2_grpc_end(s, GRPC_OK, name);
}

static void on_closed(void *owner, struct h2_grpc_stream *s, void *user)
{
	int *open = user;

	(void)owner, (void)s;
	FUZZ_ASSERT(open == &open_streams && *open > 0);
	(*open)--;
}

static const struct h2_grpc_ops ops = { .request = on_request, .closed = on_closed };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2_grpc *c;
	uint8_t sink[4096];
	int sv[2];

	if (size > 48 * 1024) /* all of it fits in the socket's buffer: no write waits */
		size = 48 * 1024;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	c = h2_grpc_new(sv[0], &ops, NULL, 100, GRPC_PREFIX_LEN + GRPC_REQUEST_MAX);
	if (c) {
		if (write(sv[1], preface, sizeof(preface) - 1) == (ssize_t)sizeof(preface) - 1 &&
		    (size == 0 || write(sv[1], data, size) == (ssize_t)size)) {
			for (int i = 0; i < 8 && h2_grpc_read(c) == 0; i++)
				while (read(sv[1], sink, sizeof(sink)) >
				       0) /* the peer reads it all */
					;
		}
		h2_grpc_free(c);
	}
	FUZZ_ASSERT(open_streams == 0); /* every Watch heard it was closed */
	close(sv[0]);
	close(sv[1]);
	return 0;
}
