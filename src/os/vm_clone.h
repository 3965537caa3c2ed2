/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * clone3() whose child runs in the caller's memory (CLONE_VM) on a stack of
 * its own, as posix_spawn() does with clone(): no page tables are copied, so
 * a start costs the same whatever readyd's size. glibc has no clone3()
 * wrapper that takes a function; this is one, for x86_64 (elsewhere:
 * ENOSYS, and the caller forks).
 */
#ifndef READYD_VM_CLONE_H
#define READYD_VM_CLONE_H

#include <stdbool.h>
#include <sys/types.h>

struct clone_args;

/* Does vm_clone3() exist on this architecture? */
bool vm_clone_available(void);

/*
 * clone3(args) with the child running fn(arg) on [args->stack, args->stack +
 * args->stack_size) and exiting with its return value: it never returns into
 * the caller's frames, which are the parent's. Parent: the pid, or -1 with
 * errno. With CLONE_VFORK the parent resumes once the child has exec'd or
 * exited; until then the child may write only its own stack and what the
 * parent no longer reads.
 */
pid_t vm_clone3(struct clone_args *args, int (*fn)(void *), void *arg);

#endif
