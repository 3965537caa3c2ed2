// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A ring buffer record of any size and bytes: tracer_event_decode(), then
 * what daemon/in/events.c makes of a record before the machine sees it:
 * its address (formatted, as the logs and metrics show it), its comm, and
 * the unit and process of its kernel id.
 */
#include "fuzz.h"

#include "os/tracer_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char comm[RD_COMM_LEN + 1], label[SOCK_ADDR_TEXT_MAX];
	struct sock_addr a;
	struct rd_event e;
	/* As the ring buffer hands it: size bytes, nothing readable past them. */
	void *record = malloc(size ? size : 1);

	if (!record)
		return 0;
	memcpy(record, data, size);
	if (tracer_event_decode(record, size, &e) == 0) {
		FUZZ_ASSERT(size == RD_EVENT_SIZE);
		tracer_event_addr(&e, &a);
		FUZZ_ASSERT(memchr(a.path, '\0', sizeof(a.path)));
		sock_addr_format(label, sizeof(label), &a);
		FUZZ_ASSERT(memchr(label, '\0', sizeof(label)));
		tracer_event_comm(&e, comm, sizeof(comm));
		FUZZ_ASSERT(strlen(comm) <= RD_COMM_LEN);
		FUZZ_ASSERT(RD_KID_PROC(e.kid) < (1u << RD_PROC_BITS));
		FUZZ_ASSERT(RD_KID(RD_KID_UNIT(e.kid), RD_KID_PROC(e.kid)) == e.kid);
	} else {
		FUZZ_ASSERT(size != RD_EVENT_SIZE);
	}
	free(record);
	return 0;
}
