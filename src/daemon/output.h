/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a service prints: each process's stdout and stderr go to a pipe the
 * loop reads, line by line. Each line is logged with the service's name (in
 * the journal under its own SYSLOG_IDENTIFIER), the last ones are kept for
 * `readyctl status`, and the service's last words name why a start failed:
 * "exited with status 1 before it was ready: nginx: [emerg] unknown
 * directive ...". Bounded: lines of OUTPUT_LINE_MAX bytes at most, 64 KiB
 * read per wakeup, OUTPUT_RATE lines a second logged (the rest counted), so
 * a service that floods its output cannot slow readyd down.
 */
#ifndef READYD_OUTPUT_H
#define READYD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"

#define OUTPUT_LINE_MAX 256 /* bytes of a line kept and logged; the rest is cut */
#define OUTPUT_KEPT	10  /* lines of the current instance kept */
#define OUTPUT_RATE	100 /* lines a second logged, per service (bursts of 10x) */

struct daemon;
struct unit;
struct unit_proc;

/* One process's pipe (in struct unit_proc). */
struct output_pipe {
	struct loop_source src; /* fd -1: not captured */
	char partial[OUTPUT_LINE_MAX];
	size_t len;
	bool cut;     /* the line being read is longer than fits: the rest is dropped */
	uint64_t ino; /* the pipe's inode: a next readyd finds it again in /proc/PID/fd */
};

/* The journal's socket when readyd runs under systemd; nothing otherwise. */
int output_open(struct daemon *d);
void output_close(struct daemon *d);

/* The write end the process's stdout and stderr go to (-1: none: they are readyd's). */
int output_capture(struct unit_proc *p);
/*
 * Read p's output from fd from now on: the read end of its pipe, kept across
 * an exec of readyd or opened anew through /proc/PID/fd/1 after a crash. Its
 * inode must be ino (0: any pipe). 0, or -errno (fd is closed then).
 */
int output_adopt(struct unit_proc *p, int fd, uint64_t ino);
/* Read what is in p's pipe now (its main process ended: its last words may be there). */
void output_drain(struct unit_proc *p);
/* Drain and close p's pipe. */
void output_release(struct unit_proc *p);
/* A new instance starts: the lines kept are its own from now on. */
void output_new_instance(struct unit *u);
void output_free(struct unit *u);
/* The line that best says why it failed: the last with an error word, else the last. "" if none. */
const char *output_last_words(const struct unit *u);
/* The kept lines, oldest first: fn(line, ctx) for each. */
void output_lines(const struct unit *u, void (*fn)(const char *line, void *ctx), void *ctx);

#endif
