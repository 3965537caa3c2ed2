// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A control request from any local client: the line as os/control_socket.c
 * cuts it (at most CONTROL_REQUEST_MAX bytes, up to the first newline, NUL
 * in its place), then ctl_request_parse(), which reads every field a
 * command's handler uses.
 */
#include "fuzz.h"

#include "os/control_socket.h"
#include "daemon/ctl_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	const struct ctl_command *command;
	char *line, *nl;

	if (size > CONTROL_REQUEST_MAX)
		size = CONTROL_REQUEST_MAX;
	if (!(line = fuzz_text(data, size)))
		return 0;
	nl = memchr(line, '\n', size);
	if (nl)
		*nl = '\0';
	ctl_request_parse(line, &r);
	command = ctl_command(r.id);
	FUZZ_ASSERT(!command || (r.cmd && strcmp(command->name, r.cmd) == 0));
	FUZZ_ASSERT(r.json || (!r.cmd && !r.service && !r.binary && !r.has_wait));
	FUZZ_ASSERT(!r.wait || r.has_wait);
	if (r.service)
		(void)strlen(r.service);
	if (r.binary)
		(void)strlen(r.binary);
	ctl_request_free(&r);
	free(line);
	return 0;
}
