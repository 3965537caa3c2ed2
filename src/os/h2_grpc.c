// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* gRPC over h2c with libnghttp2: the session's callbacks and the socket's non-blocking I/O. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "os/h2_grpc.h"

#define READ_CHUNK     16384
#define READS_PER_CALL 4 /* a peer that floods waits for the next wakeup, others do not */

struct h2_grpc_stream {
	struct h2_grpc *conn;
	struct h2_grpc_stream *prev, *next;
	int32_t id;
	void *user;
	bool opened, ending, deferred, answered;
	int code;
	char message[256]; /* percent-encoded: a 64-byte name may take 192 */
	char path[H2_GRPC_PATH_MAX];
	size_t out_len;
	uint8_t out[H2_GRPC_OUT_MAX];
	size_t in_len;
	bool too_long;
	uint8_t in[]; /* body_max bytes */
};

struct h2_grpc {
	int fd;
	nghttp2_session *session;
	const struct h2_grpc_ops *ops;
	void *owner;
	size_t body_max;
	struct h2_grpc_stream *streams;
	size_t n_streams;
	/* What mem_send gave that the socket had no room for: sent before anything newer. */
	uint8_t *pending;
	size_t pending_len, pending_off;
};

static struct h2_grpc_stream *stream_of(struct h2_grpc *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->session, id);
}

static void stream_free(struct h2_grpc *c, struct h2_grpc_stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->n_streams--;
	if (s->user)
		c->ops->closed(c->owner, s, s->user);
	free(s);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *data)
{
	struct h2_grpc *c = data;
	struct h2_grpc_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = calloc(1, sizeof(*s) + c->body_max);
	if (!s)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* that stream is reset */
	s->conn = c;
	s->id = frame->hd.stream_id;
	s->next = c->streams;
	if (s->next)
		s->next->prev = s;
	c->streams = s;
	c->n_streams++;
	nghttp2_session_set_stream_user_data(session, s->id, s);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *data)
{
	struct h2_grpc_stream *s = stream_of(data, frame->hd.stream_id);
	size_t n = valuelen < H2_GRPC_PATH_MAX - 1 ? valuelen : H2_GRPC_PATH_MAX - 1;

	(void)session;
	(void)flags;
	if (!s || frame->hd.type != NGHTTP2_HEADERS || namelen != 5 ||
	    memcmp(name, ":path", 5) != 0)
		return 0;
	memcpy(s->path, value, n);
	s->path[n] = '\0';
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *in,
			 size_t len, void *data)
{
	struct h2_grpc *c = data;
	struct h2_grpc_stream *s = stream_of(c, id);

	(void)session;
	(void)flags;
	if (!s)
		return 0;
	if (len > c->body_max - s->in_len) { /* kept no further: answered as too long */
		s->too_long = true;
		return 0;
	}
	memcpy(s->in + s->in_len, in, len);
	s->in_len += len;
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *data)
{
	struct h2_grpc *c = data;
	struct h2_grpc_stream *s;

	(void)session;
	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = stream_of(c, frame->hd.stream_id);
	if (!s || s->answered)
		return 0;
	s->answered = true;
	c->ops->request(c->owner, s, s->path, s->in, s->in_len, s->too_long);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *data)
{
	struct h2_grpc *c = data;
	struct h2_grpc_stream *s = stream_of(c, id);

	(void)session;
	(void)error_code;
	if (s)
		stream_free(c, s);
	return 0;
}

static int trailers(struct h2_grpc_stream *s, bool only)
{
	char code[12];
	nghttp2_nv nv[4];
	size_t n = 0;

#define NV(k, v)                                                                                   \
	(nghttp2_nv)                                                                               \
	{                                                                                          \
		(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE         \
	}
	if (only) {
		nv[n++] = NV(":status", "200");
		nv[n++] = NV("content-type", "application/grpc");
	}
	snprintf(code, sizeof(code), "%d", s->code);
	nv[n++] = NV("grpc-status", code);
	if (s->message[0])
		nv[n++] = NV("grpc-message", s->message);
#undef NV
	if (only)
		return nghttp2_submit_response(s->conn->session, s->id, nv, n, NULL);
	return nghttp2_submit_trailer(s->conn->session, s->id, nv, n);
}

/* The response body: what waits in s->out; deferred while nothing does and it goes on. */
static ssize_t read_out(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			uint32_t *flags, nghttp2_data_source *source, void *data)
{
	struct h2_grpc_stream *s = source->ptr;
	size_t n = length < s->out_len ? length : s->out_len;

	(void)session;
	(void)id;
	(void)data;
	memcpy(buf, s->out, n);
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
	if (s->out_len == 0 && s->ending) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (trailers(s, false))
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return (ssize_t)n;
	}
	if (n == 0) {
		s->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

/*
 * grpc-message is percent-encoded (gRPC's HTTP/2 protocol): any byte outside
 * printable ASCII, and '%', is %XX; the text may hold a client's own bytes (a
 * service name), which must not become a header value HTTP/2 forbids.
 */
static void set_text(char *dst, size_t size, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
		bool plain = *p >= 0x20 && *p <= 0x7e && *p != '%';

		if (n + (plain ? 1 : 3) >= size)
			break;
		if (plain) {
			dst[n++] = (char)*p;
			continue;
		}
		dst[n++] = '%';
		dst[n++] = hex[*p >> 4];
		dst[n++] = hex[*p & 15];
	}
	dst[n] = '\0';
}

void h2_grpc_set_user(struct h2_grpc_stream *s, void *user)
{
	s->user = user;
}

int h2_grpc_error(struct h2_grpc_stream *s, int code, const char *message)
{
	s->code = code;
	set_text(s->message, sizeof(s->message), message);
	return trailers(s, true) ? -EIO : 0;
}

int h2_grpc_open(struct h2_grpc_stream *s)
{
	const nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
		  NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .source.ptr = s, .read_callback = read_out };

	if (s->opened)
		return -EALREADY;
	s->opened = true;
	return nghttp2_submit_response(s->conn->session, s->id, nv, 2, &prd) ? -EIO : 0;
}

static void resume(struct h2_grpc_stream *s)
{
	if (s->deferred && nghttp2_session_resume_data(s->conn->session, s->id) == 0)
		s->deferred = false;
}

int h2_grpc_send(struct h2_grpc_stream *s, const uint8_t *msg, size_t len)
{
	if (!s->opened || s->ending)
		return -EINVAL;
	if (len > sizeof(s->out) - s->out_len) {
		nghttp2_submit_rst_stream(s->conn->session, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_ENHANCE_YOUR_CALM);
		return -ENOBUFS;
	}
	memcpy(s->out + s->out_len, msg, len);
	s->out_len += len;
	resume(s);
	return 0;
}

int h2_grpc_end(struct h2_grpc_stream *s, int code, const char *message)
{
	if (!s->opened || s->ending)
		return -EINVAL;
	s->ending = true;
	s->code = code;
	set_text(s->message, sizeof(s->message), message);
	resume(s);
	return 0;
}

struct h2_grpc *h2_grpc_new(int fd, const struct h2_grpc_ops *ops, void *owner,
			    uint32_t max_streams, size_t body_max)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 8192 },
	};
	struct h2_grpc *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	*c = (struct h2_grpc){ .fd = fd, .ops = ops, .owner = owner, .body_max = body_max };
	if (nghttp2_session_callbacks_new(&cb)) {
		free(c);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	err = nghttp2_session_server_new(&c->session, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (!err)
		err = nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
	if (err) {
		if (c->session)
			nghttp2_session_del(c->session);
		free(c);
		return NULL;
	}
	return c;
}

void h2_grpc_free(struct h2_grpc *c)
{
	if (!c)
		return;
	while (c->streams)
		stream_free(c, c->streams);
	nghttp2_session_del(c->session);
	free(c->pending);
	free(c);
}

size_t h2_grpc_streams(const struct h2_grpc *c)
{
	return c->n_streams;
}

/*
 * What the peer sent meanwhile is drained first: a close with unread bytes is
 * a RST, which could discard the GOAWAY before the peer reads it.
 */
void h2_grpc_goaway(struct h2_grpc *c)
{
	uint8_t drain[512];

	if (nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR) == 0)
		h2_grpc_flush(c);
	for (int i = 0; i < 16 && recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
		;
	shutdown(c->fd, SHUT_WR);
}

bool h2_grpc_blocked(const struct h2_grpc *c)
{
	return c->pending_len > 0;
}

/* Keep what the socket did not take: -ENOMEM if there is no room for it. */
static int keep(struct h2_grpc *c, const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len);

	if (!p)
		return -ENOMEM;
	memcpy(p, data, len);
	free(c->pending);
	c->pending = p;
	c->pending_len = len;
	c->pending_off = 0;
	return 0;
}

int h2_grpc_flush(struct h2_grpc *c)
{
	while (c->pending_len) {
		ssize_t n = send(c->fd, c->pending + c->pending_off,
				 c->pending_len - c->pending_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->pending_off += (size_t)n;
		if (c->pending_off == c->pending_len)
			c->pending_len = c->pending_off = 0;
	}
	for (;;) {
		const uint8_t *data;
		ssize_t len = nghttp2_session_mem_send(c->session, &data), n;

		if (len < 0)
			return -EPROTO;
		if (len == 0)
			break;
		do
			n = send(c->fd, data, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < len) /* full: the rest goes when the socket is writable */
			return keep(c, data + (n < 0 ? 0 : n), (size_t)(len - (n < 0 ? 0 : n)));
	}
	if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
		return -ECONNRESET; /* GOAWAY both ways: done */
	return 0;
}

int h2_grpc_read(struct h2_grpc *c)
{
	uint8_t buf[READ_CHUNK];

	/* Nothing read while replies wait: a client that sends and never reads would
	 * otherwise grow nghttp2's send queue without bound (reset streams escape the
	 * stream limit). It is read again once it has taken what it was sent. */
	if (c->pending_len)
		return h2_grpc_flush(c);
	for (int i = 0; i < READS_PER_CALL; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET; /* the peer closed: nobody to answer */
		if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0)
			return -EPROTO; /* not HTTP/2 (or a flood): nghttp2 ends the session */
		if (n < (ssize_t)sizeof(buf))
			break;
	}
	return h2_grpc_flush(c);
}
