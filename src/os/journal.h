/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The systemd journal's native protocol: one datagram of KEY=VALUE lines
 * per entry, on /run/systemd/journal/socket. readyd logs a service's output
 * there under the service's own SYSLOG_IDENTIFIER, which a line on stderr
 * (the journal's stream protocol) cannot do.
 */
#ifndef READYD_JOURNAL_H
#define READYD_JOURNAL_H

#include <stddef.h>

/* Connect to the journal (READYD_JOURNAL_SOCKET overrides the path, for tests). fd or -errno. */
int journal_open(void);
/*
 * One entry: PRIORITY, SYSLOG_IDENTIFIER=ident, READYD_SERVICE=ident,
 * MESSAGE=the len bytes of message (newlines become spaces). 0 or -errno
 * (-EAGAIN: the journal is behind; the entry is dropped, never waited for).
 */
int journal_send(int fd, int priority, const char *ident, const char *message, size_t len);

#endif
