/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The gRPC health checking protocol (grpc.health.v1), the pure part: the
 * 5-byte gRPC message prefix, the two one-field protobuf messages, and the
 * serving status of a service. HTTP/2 is os/h2_conn.c's, the listener and
 * the Watch streams daemon/out/grpc.c's.
 *
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }
 */
#ifndef READYD_GRPC_MSG_H
#define READYD_GRPC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/service.h"

#define GRPC_PREFIX_LEN	  5
#define GRPC_REQUEST_MAX  512 /* a HealthCheckRequest's bytes; a longer one is refused */
#define GRPC_RESPONSE_MAX (GRPC_PREFIX_LEN + 2)

enum grpc_serving {
	GRPC_UNKNOWN = 0,
	GRPC_SERVING = 1,
	GRPC_NOT_SERVING = 2,
	GRPC_SERVICE_UNKNOWN = 3, /* Watch only: no service of that name (yet) */
};

/* The grpc-status codes readyd answers with. */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
};

/*
 * One length-prefixed message at buf[0..len): GRPC_PREFIX_LEN + its length
 * once it is all there (*compressed and *msg_len filled), 0 while more must
 * come, -EMSGSIZE when it says it is longer than max.
 */
long grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, bool *compressed,
		      size_t *msg_len);

/*
 * A HealthCheckRequest: its service in name (NUL-terminated). 0; -EBADMSG if
 * it is no protobuf or field 1 is not a string of text; -ENAMETOOLONG when the
 * name does not fit in size. Unknown fields are skipped, the last service wins.
 */
int grpc_health_request(const uint8_t *msg, size_t len, char *name, size_t size);

/* A framed HealthCheckResponse into out (GRPC_RESPONSE_MAX bytes): its length. */
size_t grpc_health_response(enum grpc_serving status, uint8_t *out);

/* A service's serving status: SERVING while running, NOT_SERVING otherwise. */
enum grpc_serving grpc_serving_of(const struct svc *s);

#endif
