/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readyd's exit without the kernel's wait. The last close of a tracepoint's
 * perf event waits for RCU grace periods (~450 ms for readyd's links, more
 * with the syscall tracepoints): done by readyd, `readyd wait` and `readyd
 * exec` answered their caller that late. A holder process, forked at exit,
 * keeps a reference to every BPF object (and nothing else: a pipeline's
 * stdout closes with readyd) until readyd is gone, and takes the wait on
 * itself.
 */
#ifndef READYD_BPF_HOLDER_H
#define READYD_BPF_HOLDER_H

/* Fork the holder (best effort: without it, readyd's exit waits). */
void bpf_holder_start(void);
/*
 * The same before an exec of readyd: the holder waits for the returned fd
 * (close-on-exec, numbered above every other: the exec closes it last, once
 * readyd's references to its BPF objects are dropped) to close. -1: no
 * holder (the exec waits). Close it yourself if the exec fails.
 */
int bpf_holder_for_exec(void);

#endif
