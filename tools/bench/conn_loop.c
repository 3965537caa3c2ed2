// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP connect/accept/close on loopback, for the cost readyd adds to a
 * supervised server's hot path (inet_sock_set_state fires on every TCP state
 * change of the node; accept tracepoints while a service is starting).
 *   conn_loop server PORT          accept and close forever
 *   conn_loop client PORT COUNT    connect+close COUNT times; prints us/conn
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int serve(int port)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 512) < 0) {
		perror("conn_loop server");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static int client(int port, long n)
{
	struct sockaddr_in a = loopback(port);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 }; /* RST: no TIME_WAIT pile-up */
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("conn_loop client");
			return 1;
		}
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3) / n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return serve(atoi(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: conn_loop server PORT | client PORT COUNT\n");
	return 2;
}
