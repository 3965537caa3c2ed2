/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Is anyone draining a listener's accept queue? Judged from samples of the
 * queue length and backlog (sock_diag idiag_rqueue / idiag_wqueue), with no
 * probe traffic: a queue that stays non-empty and never shrinks for
 * accept_stall means no accept() progressed; a queue longer than its backlog
 * means the kernel is dropping connections. Pure: time is passed in.
 */
#ifndef READYD_ACCEPT_QUEUE_H
#define READYD_ACCEPT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum queue_verdict { QUEUE_OK, QUEUE_STALLED, QUEUE_FULL };

struct accept_queue {
	bool sampled;
	uint32_t depth, backlog; /* the last sample */
	uint64_t waiting_since;	 /* non-empty and not shrinking since then; 0: it moved */
	uint64_t overflows;	 /* connections dropped while it was full (attributed) */
	enum queue_verdict verdict;
};

/* A new sample; returns the verdict (also kept in q->verdict). stall_ns 0: never stalled. */
enum queue_verdict accept_queue_sample(struct accept_queue *q, uint32_t depth, uint32_t backlog,
				       uint64_t now, uint64_t stall_ns);
/* "3 connections waiting, none accepted for 5.0s" / "full: 129 waiting, backlog 128" */
void accept_queue_describe(const struct accept_queue *q, uint64_t now, char *buf, size_t size);
/* Forget everything (a new instance, a listener gone). */
void accept_queue_reset(struct accept_queue *q);

#endif
