/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd exec / readyd wait (daemon/oneshot.h): the one service's
 * transitions decide what is printed and when the run ends, with which
 * exit code.
 */
#ifndef READYD_OUT_ONESHOT_EXIT_H
#define READYD_OUT_ONESHOT_EXIT_H

#include <stdbool.h>

struct daemon;
struct unit_module;

extern const struct unit_module oneshot_exit_module;

/* Nothing unless readyd runs one-shot; readyd wait --timeout starts counting. */
int oneshot_exit_open(struct daemon *d);
void oneshot_exit_close(struct daemon *d);
/* A signal readyd exec forwards to the command (true), or leaves to the daemon. */
bool oneshot_exit_signal(struct daemon *d, int sig);

#endif
