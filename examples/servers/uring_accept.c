// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A TCP server that accepts only through io_uring (IORING_OP_ACCEPT): it never
 * calls accept(), poll(), select() or epoll_wait(), so the syscall tracepoints
 * see no sign that it is ready. fentry/inet_csk_accept does: io_uring's accept
 * runs the socket layer's in the server's own task (or its io-wq worker).
 *
 *   uring_accept PORT [DELAY_S]
 *
 * Listens on 127.0.0.1:PORT, sleeps DELAY_S seconds (default 0) with the
 * listener open, then accepts forever: each connection gets "ok\n" and is
 * closed. Built by the Makefile with Debian's liburing (-luring).
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct io_uring ring;
	int one = 1, fd, err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [DELAY_S]\n", argv[0]);
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		perror("listen");
		return 1;
	}
	printf("listening on 127.0.0.1:%s\n", argv[1]);
	fflush(stdout);
	if (argc > 2)
		sleep((unsigned)atoi(argv[2]));
	err = io_uring_queue_init(8, &ring, 0);
	if (err) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-err));
		return 1;
	}
	for (;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;
		int conn;

		io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
		io_uring_submit(&ring);
		err = io_uring_wait_cqe(&ring, &cqe);
		if (err) {
			fprintf(stderr, "io_uring_wait_cqe: %s\n", strerror(-err));
			return 1;
		}
		conn = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (conn < 0) {
			fprintf(stderr, "accept: %s\n", strerror(-conn));
			continue;
		}
		if (write(conn, "ok\n", 3) < 0)
			perror("write");
		close(conn);
	}
}
