/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall tracepoints cost every process on the node: attached before
 * a spawn (so not one bind() of the child is missed) and while some service
 * waits to be seen accepting; detached SYSCALL_LINGER after the last one is
 * done (a crash loop or the next start then finds them still attached).
 */
#ifndef READYD_SYSCALLS_H
#define READYD_SYSCALLS_H

struct daemon;
struct unit_module;

extern const struct unit_module syscalls_module;

int syscalls_open(struct daemon *d);
void syscalls_close(struct daemon *d);
/* Attach now if some service needs them, else detach after the linger. */
void syscalls_sync(struct daemon *d);

#endif
