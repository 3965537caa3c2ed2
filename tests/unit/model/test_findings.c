// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which of a service's sockets no declared listener names: the wrong-port finding. */
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "model/findings.h"

static struct scan_sock tcp(const char *ip, uint16_t port, int state)
{
	struct scan_sock k = { .pid = 42 };

	k.e.addr.family = AF_INET;
	k.e.addr.sock_type = SOCK_STREAM;
	k.e.addr.port = port;
	k.e.state = state;
	inet_pton(AF_INET, ip, k.e.addr.addr);
	return k;
}

static void a_listener_on_another_port_is_undeclared(void **state)
{
	struct listen_spec spec[2];
	struct listener ls[2];
	struct scan_sock socks[] = {
		tcp("127.0.0.1", 24081, SOCK_STATE_LISTEN), /* the wrong port */
		tcp("127.0.0.1", 24080, SOCK_STATE_LISTEN), /* declared: not undeclared */
		tcp("0.0.0.0", 24090, SOCK_STATE_LISTEN),   /* another address of a declared port */
		tcp("127.0.0.1", 40000, SOCK_STATE_BOUND),  /* bound only: a client's, maybe */
	};
	struct scan sc = { .socks = socks, .n = 4, .cap = 4 };
	const struct scan_sock *out[MATCH_MAX];
	const char *why;

	(void)state;
	assert_int_equal(listen_spec_parse("tcp:127.0.0.1:24080", &spec[0], &why), 0);
	assert_int_equal(listen_spec_parse("tcp:127.0.0.1:24090", &spec[1], &why), 0);
	listener_init(&ls[0], &spec[0], spec[0].text);
	listener_init(&ls[1], &spec[1], spec[1].text);
	assert_int_equal(sock_undeclared(ls, 2, &sc, out, MATCH_MAX), 1);
	assert_ptr_equal(out[0], &socks[0]);
	/* Room for none: none given; no scan: none. */
	assert_int_equal(sock_undeclared(ls, 2, &sc, out, 0), 0);
	assert_int_equal(sock_undeclared(ls, 2, NULL, out, MATCH_MAX), 0);
	/* With 24081 declared instead of 24090, the 24090 socket is the undeclared one. */
	assert_int_equal(listen_spec_parse("tcp:127.0.0.1:24081", &spec[1], &why), 0);
	listener_init(&ls[1], &spec[1], spec[1].text);
	assert_int_equal(sock_undeclared(ls, 2, &sc, out, MATCH_MAX), 1);
	assert_ptr_equal(out[0], &socks[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_listener_on_another_port_is_undeclared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
