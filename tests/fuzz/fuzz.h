/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every libFuzzer target of tests/fuzz/ shares. The parsers take
 * NUL-terminated text (their callers read files and sockets into buffers
 * they terminate): fuzz_text() gives them the input so, in a heap block of
 * exactly that size, so that reading one byte past the NUL is an ASan error.
 */
#ifndef READYD_FUZZ_H
#define READYD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..size) and a NUL; NULL if memory runs out (the input is skipped). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* A broken invariant: abort, which libFuzzer reports as a crash with its input. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif
