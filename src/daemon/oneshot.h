/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One-shot use, for CI jobs and container entrypoints (instead of `sleep 5`
 * or wait-for-it scripts):
 *   readyd exec [--timeout S] [--listen SPEC]... -- CMD ARGS
 *       runs CMD as a one-service config, prints one line on stdout once it
 *       is ready, stays in the foreground forwarding signals, and exits with
 *       CMD's status (128+N if a signal N ended it; 124 if it was not ready
 *       within --timeout, after stopping it; 127 if it could not be run).
 *   readyd wait --pid N [--timeout S] [--listen SPEC]...
 *       watches process N's tree (as a [watch]): 0 as soon as it is ready,
 *       1 if it is gone first, 124 on timeout. N is never signalled.
 */
#ifndef READYD_ONESHOT_H
#define READYD_ONESHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum oneshot_kind { ONESHOT_NONE, ONESHOT_EXEC, ONESHOT_WAIT };

/* Exit codes besides the command's own. */
#define ONESHOT_EXIT_GONE	1
#define ONESHOT_EXIT_USAGE	2
#define ONESHOT_EXIT_TIMEOUT	124
#define ONESHOT_EXIT_CANNOT_RUN 127

/*
 * Not an exit code: wait's first look (poll mode, no BPF loaded: ~5 ms where
 * loading takes ~100) did not find the tree ready; the run goes on with BPF.
 */
#define ONESHOT_NOT_YET (-1000)

struct oneshot_opts {
	enum oneshot_kind kind;
	uint64_t timeout_ns; /* 0: wait forever */
	pid_t pid;	     /* ONESHOT_WAIT */
	bool first_look;     /* wait: end with ONESHOT_NOT_YET unless ready at the first scan */
	int ready_fd;	     /* the ready line goes here, then it is closed (0: stdout) */
};

/* `readyd exec ...` and `readyd wait ...`: argv[0] is the verb. Returns the exit code. */
int oneshot_main(int argc, char **argv);

#endif
