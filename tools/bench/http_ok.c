// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The smallest HTTP health endpoint: accept, read the request head, answer
 * 200, close. Many of these stand in for services in the probe benchmark.
 *   http_ok PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	char buf[2048];

	if (argc != 2) {
		fprintf(stderr, "usage: http_ok PORT\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		perror("http_ok");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		size_t len = 0;
		ssize_t n;

		if (c < 0)
			continue;
		while (len < sizeof(buf) - 1 &&
		       (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		if (write(c, reply, sizeof(reply) - 1) < 0)
			perror("http_ok: write");
		close(c);
	}
}
