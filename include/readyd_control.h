/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control protocol between readyd and readyctl (docs/control-protocol.md):
 * one JSON request line per connection, {"cmd": NAME, "service": ..., ...};
 * progress lines ({"event": ...}) for commands that wait; one reply line.
 * The command table lives here once: the daemon dispatches on it, readyctl
 * checks its arguments against it.
 */
#ifndef READYD_CONTROL_H
#define READYD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define READYD_CONTROL_PROTOCOL 1
#define READYD_CONTROL_DEFAULT	"/run/readyd/control.sock"

enum ctl_service_arg { CTL_NO_SERVICE, CTL_SERVICE, CTL_OPTIONAL_SERVICE };

/* name, its service argument, does it change anything (root only), does it wait until settled */
#define READYD_CONTROL_COMMANDS(X)                                                                 \
	X(list, CTL_NO_SERVICE, false, false)                                                      \
	X(status, CTL_SERVICE, false, false)                                                       \
	X(wait, CTL_SERVICE, false, true)                                                          \
	X(start, CTL_SERVICE, true, true)                                                          \
	X(stop, CTL_SERVICE, true, true)                                                           \
	X(restart, CTL_SERVICE, true, true)                                                        \
	X(reset, CTL_SERVICE, true, false)                                                         \
	X(reload, CTL_NO_SERVICE, true, false)                                                     \
	X(sockets, CTL_OPTIONAL_SERVICE, false, false)                                             \
	X(deps, CTL_SERVICE, false, false)                                                         \
	X(events, CTL_NO_SERVICE, false, false)                                                    \
	X(timeline, CTL_NO_SERVICE, false, false)                                                  \
	X(reexec, CTL_NO_SERVICE, true, false)                                                     \
	X(exit, CTL_NO_SERVICE, true, false)

#define CTL_ENUM(name, arg, mutating, waits) CTL_##name,
enum ctl_command_id { READYD_CONTROL_COMMANDS(CTL_ENUM) CTL_COMMAND_COUNT };
#undef CTL_ENUM

struct ctl_command {
	const char *name;
	enum ctl_service_arg service;
	bool mutating; /* root, or a member of control_group */
	bool waits;    /* blocks until settled unless {"wait": false} */
};

static inline const struct ctl_command *ctl_command(enum ctl_command_id id)
{
#define CTL_ENTRY(name, arg, mutating, waits) { #name, arg, mutating, waits },
	static const struct ctl_command table[CTL_COMMAND_COUNT] = { READYD_CONTROL_COMMANDS(
		CTL_ENTRY) };
#undef CTL_ENTRY
	return id < CTL_COMMAND_COUNT ? &table[id] : NULL;
}

/* The command of that name: its id, or CTL_COMMAND_COUNT if there is none. */
static inline enum ctl_command_id ctl_command_find(const char *name)
{
	for (int i = 0; name && i < CTL_COMMAND_COUNT; i++)
		if (strcmp(ctl_command((enum ctl_command_id)i)->name, name) == 0)
			return (enum ctl_command_id)i;
	return CTL_COMMAND_COUNT;
}

/* "list, status, wait, ..." for messages. */
static inline void ctl_command_names(char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < CTL_COMMAND_COUNT && used + 1 < size; i++) {
		const char *name = ctl_command((enum ctl_command_id)i)->name;
		size_t len = strlen(name) + (i ? 2 : 0);
		if (used + len >= size)
			break;
		memcpy(buf + used, i ? ", " : "", i ? 2 : 0);
		memcpy(buf + used + (i ? 2 : 0), name, strlen(name) + 1);
		used += len;
	}
}

#endif /* READYD_CONTROL_H */
