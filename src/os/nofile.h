/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd's own fd limit, and the one its services get back.
 *
 * readyd raises its soft limit to the hard one, and as root both to
 * 1,048,576 (or fs.nr_open): received fds wait for the closer thread in
 * slots of it, and 10,000 services hold ~30,000 fds. Every child gets the
 * limit readyd was started with back (os/supervisor.c), also the children
 * of a reexec'd readyd, which the exec gave the raised one: it is told the
 * first one in NOFILE_ENV.
 */
#ifndef READYD_NOFILE_H
#define READYD_NOFILE_H

#include <stddef.h>
#include <sys/resource.h>

#define NOFILE_ENV "READYD_NOFILE_GIVEN"

/* Raise it (at start). 0 or -errno. */
int nofile_raise(void);
/* The limit a child gets back; NULL if readyd's is the one it was given. */
const struct rlimit *nofile_given(void);
/* The environment entry for a reexec's new image ("READYD_NOFILE_GIVEN=1024 524288")
 * into buf: 1 if there is one, else 0. */
int nofile_env(char *buf, size_t size);

#endif
