/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by config.c (the inih glue) and config_keys.c (the key table). */
#ifndef READYD_CONFIG_INTERNAL_H
#define READYD_CONFIG_INTERNAL_H

#include "config.h"

enum config_section { SECTION_NONE, SECTION_READYD, SECTION_SERVICE, SECTION_INVALID };

struct parse_ctx {
	struct config *cfg;
	struct config_diag *diag;
	const char *file;
	unsigned int line;	/* line the reader returned last */
	bool continuation;	/* that line continues the previous value */
	enum config_section section;
	struct service_config *svc; /* current [service] */
	unsigned int command_line;  /* per service, for argv errors */
	unsigned int *command_lines; /* indexed like cfg->services */
	const struct config_defaults *defaults;
};

typedef int (*config_setter)(struct parse_ctx *ctx, const char *value);

struct config_key {
	const char *name;
	enum config_section section;
	int slot; /* index into seen[] for single-valued keys; -1 if repeatable */
	config_setter set;
};

const struct config_key *config_key_find(enum config_section section, const char *name);
/* The known key of `section` closest to `name`, or NULL if none is close. */
const char *config_key_suggest(enum config_section section, const char *name);
void config_error(struct parse_ctx *ctx, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
