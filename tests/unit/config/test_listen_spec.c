// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "config/listen_spec.h"
#include "base/util.h"

static struct listen_spec spec(const char *s)
{
	struct listen_spec sp;
	const char *why = "unset";

	assert_int_equal(listen_spec_parse(s, &sp, &why), 0);
	assert_null(why);
	return sp;
}

static struct sock_addr inet(int family, int type, const char *ip, uint16_t port)
{
	struct sock_addr a = { .family = family, .sock_type = type, .port = port };

	assert_int_equal(inet_pton(family, ip, a.addr), 1);
	return a;
}

static void parses_every_form(void **state)
{
	struct listen_spec s;

	(void)state;
	s = spec("tcp:8080");
	assert_int_equal(s.family, AF_UNSPEC);
	assert_int_equal(s.port, 8080);
	assert_string_equal(s.text, "tcp:8080");
	s = spec("tcp:127.0.0.1:80");
	assert_int_equal(s.family, AF_INET);
	assert_string_equal(s.text, "tcp:127.0.0.1:80");
	s = spec("tcp:[::1]:443");
	assert_int_equal(s.family, AF_INET6);
	assert_string_equal(s.text, "tcp:[::1]:443");
	s = spec("udp:0.0.0.0:53");
	assert_int_equal(s.proto, LISTEN_UDP);
	assert_string_equal(s.text, "udp:0.0.0.0:53");
	s = spec("tcp:*:9");
	assert_int_equal(s.family, AF_UNSPEC);
	s = spec("unix:/run/app.sock");
	assert_int_equal(s.proto, LISTEN_UNIX);
	assert_string_equal(s.path, "/run/app.sock");
	s = spec("unix:@abstract");
	assert_string_equal(s.text, "unix:@abstract");
}

static void rejects_with_a_hint(void **state)
{
	static const struct {
		const char *in, *hint;
	} bad[] = {
		{ "http:80", "expected tcp:PORT" },
		{ "tcp:", "port must be" },
		{ "tcp:0", "port must be" },
		{ "tcp:65536", "port must be" },
		{ "tcp:80x", "port must be" },
		{ "tcp:localhost:80", "names are not resolved" },
		{ "tcp:::1:80", "brackets" },
		{ "tcp:[::1]80", "brackets" },
		{ "tcp:[nope]:80", "not an IPv6" },
		{ "unix:relative.sock", "absolute" },
		{ "unix:@", "absolute" },
	};
	struct listen_spec s;
	const char *why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(listen_spec_parse(bad[i].in, &s, &why), -EINVAL);
		assert_non_null(why);
		if (!strstr(why, bad[i].hint))
			fail_msg("%s: hint \"%s\" lacks \"%s\"", bad[i].in, why, bad[i].hint);
	}
}

static void exact_and_wildcard_addresses_match(void **state)
{
	struct listen_spec lo = spec("tcp:127.0.0.1:8080");
	struct sock_addr a;

	(void)state;
	a = inet(AF_INET, SOCK_STREAM, "127.0.0.1", 8080);
	assert_true(listen_spec_matches(&lo, &a));
	a = inet(AF_INET, SOCK_STREAM, "0.0.0.0", 8080); /* wildcard serves it */
	assert_true(listen_spec_matches(&lo, &a));
	a = inet(AF_INET6, SOCK_STREAM, "::", 8080); /* dual-stack wildcard too */
	assert_true(listen_spec_matches(&lo, &a));
	a = inet(AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1", 8080);
	assert_true(listen_spec_matches(&lo, &a));
	a = inet(AF_INET, SOCK_STREAM, "127.0.0.2", 8080);
	assert_false(listen_spec_matches(&lo, &a));
	a = inet(AF_INET, SOCK_STREAM, "127.0.0.1", 8081);
	assert_false(listen_spec_matches(&lo, &a));
	a = inet(AF_INET, SOCK_DGRAM, "127.0.0.1", 8080); /* udp is not tcp */
	assert_false(listen_spec_matches(&lo, &a));
}

static void any_address_and_v6(void **state)
{
	struct listen_spec any = spec("tcp:8080"), v6 = spec("tcp:[::1]:8080");
	struct sock_addr a;

	(void)state;
	a = inet(AF_INET6, SOCK_STREAM, "::1", 8080);
	assert_true(listen_spec_matches(&any, &a));
	assert_true(listen_spec_matches(&v6, &a));
	a = inet(AF_INET, SOCK_STREAM, "127.0.0.1", 8080);
	assert_true(listen_spec_matches(&any, &a));
	assert_false(listen_spec_matches(&v6, &a));
}

static void unix_paths_and_connectionless(void **state)
{
	struct listen_spec u = spec("unix:/run/x.sock"), d = spec("udp:53");
	struct sock_addr a = { .family = AF_UNIX, .sock_type = SOCK_STREAM };

	(void)state;
	str_copy(a.path, "/run/x.sock", sizeof(a.path));
	assert_true(listen_spec_matches(&u, &a));
	str_copy(a.path, "/run/y.sock", sizeof(a.path));
	assert_false(listen_spec_matches(&u, &a));
	assert_false(listen_spec_connectionless(&u, SOCK_STREAM));
	assert_true(listen_spec_connectionless(&u, SOCK_DGRAM));
	assert_true(listen_spec_connectionless(&d, SOCK_DGRAM));
}

static void formats_kernel_addresses(void **state)
{
	struct sock_addr a = inet(AF_INET6, SOCK_STREAM, "::1", 443);
	char buf[SOCK_ADDR_TEXT_MAX];

	(void)state;
	sock_addr_format(buf, sizeof(buf), &a);
	assert_string_equal(buf, "tcp:[::1]:443");
	a = inet(AF_INET, SOCK_DGRAM, "10.0.0.1", 53);
	sock_addr_format(buf, sizeof(buf), &a);
	assert_string_equal(buf, "udp:10.0.0.1:53");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_form),
		cmocka_unit_test(rejects_with_a_hint),
		cmocka_unit_test(exact_and_wildcard_addresses_match),
		cmocka_unit_test(any_address_and_v6),
		cmocka_unit_test(unix_paths_and_connectionless),
		cmocka_unit_test(formats_kernel_addresses),
	};
	return cmocka_run_group_tests_name("listen_spec", tests, NULL, NULL);
}
