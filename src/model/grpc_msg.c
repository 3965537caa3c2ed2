// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* gRPC framing and the health protocol's two messages, by hand: each has one field. */
#include <errno.h>
#include <string.h>

#include "model/grpc_msg.h"

long grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, bool *compressed, size_t *msg_len)
{
	uint32_t n;

	if (len < GRPC_PREFIX_LEN)
		return 0;
	n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
	if (n > max)
		return -EMSGSIZE;
	if (len - GRPC_PREFIX_LEN < n)
		return 0;
	*compressed = buf[0] != 0;
	*msg_len = n;
	return GRPC_PREFIX_LEN + (long)n;
}

/* A base-128 varint of at most 10 bytes at msg[*at..len). */
static int varint(const uint8_t *msg, size_t len, size_t *at, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (*at >= len)
			return -EBADMSG;
		b = msg[(*at)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Past one field's value of wire type type; -EBADMSG if it runs past the end. */
static int skip(const uint8_t *msg, size_t len, size_t *at, unsigned int type)
{
	uint64_t v;

	switch (type) {
	case 0: /* varint */
		return varint(msg, len, at, &v);
	case 1: /* fixed64 */
		v = 8;
		break;
	case 2: /* length-delimited */
		if (varint(msg, len, at, &v))
			return -EBADMSG;
		break;
	case 5: /* fixed32 */
		v = 4;
		break;
	default: /* groups (3, 4) are gone from proto3; 6 and 7 do not exist */
		return -EBADMSG;
	}
	if (v > len - *at)
		return -EBADMSG;
	*at += (size_t)v;
	return 0;
}

int grpc_health_request(const uint8_t *msg, size_t len, char *name, size_t size)
{
	size_t at = 0;

	if (size == 0)
		return -ENAMETOOLONG;
	name[0] = '\0';
	while (at < len) {
		uint64_t key, n;
		size_t start;

		if (varint(msg, len, &at, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX >> 3)
			return -EBADMSG;
		if (key != ((1 << 3) | 2)) {
			if (key >> 3 == 1) /* field 1 of another wire type */
				return -EBADMSG;
			if (skip(msg, len, &at, (unsigned int)(key & 7)))
				return -EBADMSG;
			continue;
		}
		if (varint(msg, len, &at, &n) || n > len - at)
			return -EBADMSG;
		start = at;
		at += (size_t)n;
		if (memchr(msg + start, '\0', (size_t)n)) /* no service name holds one */
			return -EBADMSG;
		if (n >= size)
			return -ENAMETOOLONG;
		memcpy(name, msg + start, (size_t)n);
		name[n] = '\0';
	}
	return 0;
}

size_t grpc_health_response(enum grpc_serving status, uint8_t *out)
{
	/* proto3 leaves a field at its default out: UNKNOWN is the empty message. */
	size_t body = status == GRPC_UNKNOWN ? 0 : 2;

	out[0] = 0;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)body;
	if (body) {
		out[5] = 1 << 3; /* field 1, wire type 0 (varint) */
		out[6] = (uint8_t)status;
	}
	return GRPC_PREFIX_LEN + body;
}

enum grpc_serving grpc_serving_of(const struct svc *s)
{
	return s->state == SVC_RUNNING ? GRPC_SERVING : GRPC_NOT_SERVING;
}
