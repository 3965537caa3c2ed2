// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An unrelated process making cheap syscalls: the cost readyd's syscall
 * tracepoints put on every process of the node. Prints ns per getppid().
 *   syscall_loop ITERATIONS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid); /* not cached by libc */
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
