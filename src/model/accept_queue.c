// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/accept_queue.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"

enum queue_verdict accept_queue_sample(struct accept_queue *q, uint32_t depth, uint32_t backlog,
				       uint64_t now, uint64_t stall_ns)
{
	/* Shorter than last time: something was accepted in between. */
	bool moved = !q->sampled || depth == 0 || depth < q->depth;

	if (moved)
		q->waiting_since = depth ? now : 0;
	else if (!q->waiting_since) /* it just filled up: the clock starts now */
		q->waiting_since = now;
	q->sampled = true;
	q->depth = depth;
	q->backlog = backlog;
	/* The kernel drops SYNs once the queue holds more than the backlog. */
	if (depth && depth > backlog)
		q->verdict = QUEUE_FULL;
	else if (stall_ns && q->waiting_since && now - q->waiting_since >= stall_ns)
		q->verdict = QUEUE_STALLED;
	else
		q->verdict = QUEUE_OK;
	return q->verdict;
}

void accept_queue_describe(const struct accept_queue *q, uint64_t now, char *buf, size_t size)
{
	char took[32];

	if (q->verdict == QUEUE_FULL) {
		snprintf(buf, size,
			 "accept queue overflowing: %u connections waiting, backlog %u; "
			 "new ones are dropped",
			 q->depth, q->backlog);
		return;
	}
	fmt_duration(took, sizeof(took), q->waiting_since ? now - q->waiting_since : 0);
	snprintf(buf, size, "accept queue stalled: %u connection%s waiting, none accepted for %s",
		 q->depth, q->depth == 1 ? "" : "s", took);
}

void accept_queue_reset(struct accept_queue *q)
{
	memset(q, 0, sizeof(*q));
}
