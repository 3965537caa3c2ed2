/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_COMMANDS_H
#define READYD_COMMANDS_H

struct control_client;
struct control_peer;

/* One request line from the control socket (its callback; ctx is the daemon). */
void commands_on_request(struct control_client *c, const char *line,
			 const struct control_peer *peer, void *ctx);

#endif
