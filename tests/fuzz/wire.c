// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A probed server's answer, any bytes: the http, postgres and redis
 * verdicts of os/probe_wire.c. The first byte picks the protocol and
 * whether the peer has closed; the rest is the response as os/probe.c
 * holds it (at most PROBE_READ_MAX bytes, NUL-terminated).
 */
#include "fuzz.h"

#include "os/probe_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum probe_kind kinds[] = { PROBE_HTTP, PROBE_POSTGRES, PROBE_REDIS };
	char reason[PROBE_REASON_MAX];
	probe_verdict_fn verdict;
	bool ok = false, eof;
	char *resp;

	if (size < 1)
		return 0;
	verdict = probe_verdict_for(kinds[(data[0] & 0x7f) % 3]);
	eof = data[0] & 0x80;
	data++, size--;
	if (size > PROBE_READ_MAX)
		size = PROBE_READ_MAX;
	if (!verdict || !(resp = fuzz_text(data, size)))
		return 0;
	memset(reason, 0x5a, sizeof(reason)); /* unwritten: no NUL in it */
	if (verdict(resp, size, eof, &ok, reason, sizeof(reason)))
		FUZZ_ASSERT(memchr(reason, '\0', sizeof(reason)));
	else
		FUZZ_ASSERT(!eof && size < PROBE_READ_MAX); /* more can only come if it is open */
	free(resp);
	return 0;
}
