/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What outlives readyd: its services, and the files a next readyd needs to
 * take them back (docs/operations.md, "When readyd itself restarts").
 *
 * In a root-only directory (`state` in [readyd]; by default `state/` next
 * to the control socket), readyd keeps readyd.json (the config it runs, as
 * text, the boot it runs in, its pid) and one service.NAME.json per service
 * (its state machine, snapshot.c, and each process: pid and start time,
 * cgroup, output pipe), each replaced whole when it changes — at once when
 * a process starts or changes, within the loop iteration otherwise.
 *
 * A readyd that finds them (after a crash, SIGKILL, OOM kill, or an exec of
 * a new binary: `readyctl reexec`, SIGUSR2) rebuilds the config the earlier
 * one ran, takes back every instance that still runs — same processes, no
 * restart, counters and start-limit history kept — judges what ended
 * meanwhile by its restart policy, and then applies the config file as a
 * reload. SIGTERM still stops every service; then the files go.
 */
#ifndef READYD_HANDOVER_H
#define READYD_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>

struct daemon;

/*
 * Find the state directory and what an earlier readyd left there. With it,
 * d->cfg becomes the config that readyd ran (the file's is applied by
 * handover_start). 0, or -errno when readyd must not start (another readyd
 * runs on the same directory).
 */
int handover_open(struct daemon *d);
void handover_close(struct daemon *d);
/* Make the units: taken back where the earlier readyd left them, else new. 0 or -ENOMEM. */
int handover_setup_units(struct daemon *d);
/* daemon_start's part: take back what still runs, start the rest, apply the config file. */
void handover_start(struct daemon *d);
/* Every file written now (readyd exits, leaving its services running). */
void handover_save_all_now(struct daemon *d);
/* readyd exits with every service stopped: nothing is left to take back. */
void handover_finish(struct daemon *d);
/*
 * Exec `path` (NULL: the binary readyd was started from) in place of this
 * readyd, services left running: from a loop job, once replies are out.
 * 0 if it will, or -errno with why filled (nothing changes then).
 */
int handover_reexec(struct daemon *d, const char *path, char *why, size_t size);

/* How many execs failed (this readyd carried on), and why the last did. */
unsigned int handover_exec_failures(const struct daemon *d, const char **why);
/* Do services outlive this readyd (a next one can take them back)? */
bool handover_keeps_services(const struct daemon *d);

extern const struct unit_module handover_module;

#endif
