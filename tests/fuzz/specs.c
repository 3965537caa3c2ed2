// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The values of readyd.conf that have their own grammar, each on every
 * input: listen = (listen_spec_parse), probe = / serve = (probe_spec_parse,
 * and the request the probe would send), durations (duration_parse), and
 * command = (argv_split, argv_dup, argv_format).
 */
#include "fuzz.h"

#include <errno.h>

#include "base/argv.h"
#include "base/duration.h"
#include "config/listen_spec.h"
#include "config/probe_spec.h"
#include "os/probe_wire.h"

#define FUZZ_SPEC_MAX 4096 /* bytes: a config line is shorter */

static void fuzz_listen(const char *s)
{
	const char *error = NULL;
	struct listen_spec spec;

	if (listen_spec_parse(s, &spec, &error) == 0) {
		FUZZ_ASSERT(memchr(spec.text, '\0', sizeof(spec.text)));
		FUZZ_ASSERT(memchr(spec.path, '\0', sizeof(spec.path)));
		(void)listen_spec_connectionless(&spec, 0);
	} else {
		FUZZ_ASSERT(error);
	}
}

static void fuzz_probe(const char *s)
{
	const char *error = NULL;
	struct probe_spec spec;
	char req[1024];

	memset(&spec, 0, sizeof(spec));
	if (probe_spec_parse(s, &spec, &error) == 0) {
		FUZZ_ASSERT(memchr(spec.text, '\0', sizeof(spec.text)));
		FUZZ_ASSERT(probe_request(&spec, "fuzz", req, sizeof(req)) < sizeof(req));
		(void)probe_kind_name(spec.kind);
	} else {
		FUZZ_ASSERT(error);
	}
	probe_spec_free(&spec);
}

static void fuzz_duration(const char *s)
{
	uint64_t ns;
	int rc = duration_parse(s, &ns);

	FUZZ_ASSERT(rc == 0 || rc < 0);
}

static void fuzz_argv(const char *s)
{
	const char *error = NULL;
	char **argv = NULL, **copy = NULL;
	char shown[256];
	int argc = argv_split(s, &argv, &error);

	if (argc > 0) { /* the number of words */
		FUZZ_ASSERT(argv && argv[argc - 1] && !argv[argc]);
		if (argv_dup(argv, &copy) == 0) {
			for (size_t i = 0; argv[i]; i++)
				FUZZ_ASSERT(copy[i] && strcmp(argv[i], copy[i]) == 0);
			argv_free(copy);
		}
		argv_format(shown, sizeof(shown), argv);
		FUZZ_ASSERT(memchr(shown, '\0', sizeof(shown)));
		argv_free(argv);
	} else {
		FUZZ_ASSERT(error || argc == -ENOMEM);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > FUZZ_SPEC_MAX || !(s = fuzz_text(data, size)))
		return 0;
	fuzz_listen(s);
	fuzz_probe(s);
	fuzz_duration(s);
	fuzz_argv(s);
	free(s);
	return 0;
}
