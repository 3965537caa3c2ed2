// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/tracer_event.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"

_Static_assert(sizeof(struct rd_event) == RD_EVENT_SIZE, "rd_event ABI changed size");

int tracer_event_decode(const void *data, size_t size, struct rd_event *e)
{
	if (size != sizeof(*e))
		return -EINVAL; /* not our ABI: ignored rather than misread */
	memcpy(e, data, sizeof(*e));
	return 0;
}

void tracer_event_addr(const struct rd_event *e, struct sock_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = e->family;
	a->sock_type = e->sock_type;
	a->port = e->port;
	memcpy(a->addr, e->addr, sizeof(a->addr));
	memcpy(a->path, e->path, sizeof(a->path) - 1);
}

void tracer_event_comm(const struct rd_event *e, char *comm, size_t size)
{
	char raw[RD_COMM_LEN + 1];

	memcpy(raw, e->comm, RD_COMM_LEN);
	raw[RD_COMM_LEN] = '\0';
	str_sanitize(raw);
	str_copy(comm, raw, size);
}
