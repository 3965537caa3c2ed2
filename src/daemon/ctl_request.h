/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A control request line, read: its command and every argument a handler
 * of commands.c looks at. Pure (JSON in, fields out), so that a hostile
 * client's bytes can be fuzzed without a daemon (tests/fuzz/control.c).
 */
#ifndef READYD_CTL_REQUEST_H
#define READYD_CTL_REQUEST_H

#include <stdbool.h>

#include "readyd_control.h"

struct cJSON;

struct ctl_request {
	struct cJSON *json;	/* owned: the strings below point into it; NULL: not JSON */
	enum ctl_command_id id; /* CTL_COMMAND_COUNT: no such command, or none */
	const char *cmd;	/* "cmd" when it is a string (an unknown name is quoted back) */
	const char *service;	/* "service" when it is a string */
	bool has_wait, wait;	/* "wait" when it is a boolean */
	const char *binary;	/* reexec --binary PATH: "binary" when it is a string */
	bool keep_services;	/* exit --keep-services: "keep_services" is true */
	bool all;		/* sockets --all: "all" is true */
	const struct cJSON *services; /* events NAME...: "services" as it came (any type) */
};

/*
 * Read one request line (NUL-terminated, its newline removed). Never fails:
 * what is missing or of the wrong type is left unset, and the caller
 * answers for it; ctl_request_free() in every case.
 */
void ctl_request_parse(const char *line, struct ctl_request *r);
void ctl_request_free(struct ctl_request *r);

#endif
