/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef READYD_ARGV_H
#define READYD_ARGV_H

/*
 * Split a command line into argv the way a POSIX shell splits words, without
 * any expansion: 'single quotes' are literal, "double quotes" honour \" \\ \$
 * and \`, a backslash outside quotes escapes the next byte. No globbing,
 * variables, pipes or redirections: commands are exec'd, never run by a
 * shell unless the command itself is `sh -c '...'`.
 *
 * On success *argv is a NULL-terminated malloc'd array of malloc'd strings
 * (free with argv_free) and the count is returned. -EINVAL: unterminated
 * quote or empty command (*error says which); -ENOMEM.
 */
int argv_split(const char *line, char ***argv, const char **error);
void argv_free(char **argv);
/* A deep copy, to be freed with argv_free. 0 or -ENOMEM. */
int argv_dup(char *const *src, char ***out);
/* Join for display: words with spaces or quotes are single-quoted. */
void argv_format(char *buf, unsigned long size, char *const *argv);

#endif
