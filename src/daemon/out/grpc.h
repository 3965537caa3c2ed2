/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The gRPC health checking protocol on [readyd] grpc_listen (h2c, prior
 * knowledge): grpc.health.v1.Health/Check answers from the state at that
 * moment; /Watch streams every change of a service's serving status, told
 * by observe in the loop iteration of the transition. A service name is a
 * readyd service's; "" is all of them (SERVING only while every one runs).
 * At most GRPC_CONNS_MAX connections, GRPC_STREAMS_MAX streams each,
 * GRPC_WATCHES_MAX Watch streams in all; a connection whose first request has
 * not come within 5 s is closed, and one idle (no stream, no request) for 5
 * minutes gets a GOAWAY; no read or write ever waits.
 */
#ifndef READYD_OUT_GRPC_H
#define READYD_OUT_GRPC_H

#define GRPC_CONNS_MAX	 256
#define GRPC_STREAMS_MAX 100
#define GRPC_WATCHES_MAX 1024

struct daemon;
struct unit_module;

extern const struct unit_module grpc_module;

/* Nothing without grpc_listen; else bound now: -errno (logged with the key's line) if not. */
int grpc_open(struct daemon *d);
void grpc_close(struct daemon *d);

#endif
