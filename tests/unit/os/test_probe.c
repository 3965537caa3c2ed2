// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe specs, requests and verdicts (HTTP, postgres, redis): the pure parts of probes. */
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "os/probe.h"
#include "os/probe_wire.h"
#include "config/probe_spec.h"
#include "base/util.h"

static void verdict(const char *resp, bool eof, bool want_done, bool want_ok, const char *reason)
{
	char got[PROBE_REASON_MAX] = "";
	bool ok = !want_ok;

	assert_int_equal(probe_http_verdict(resp, strlen(resp), eof, &ok, got, sizeof(got)),
			 want_done);
	if (!want_done)
		return;
	assert_int_equal(ok, want_ok);
	assert_string_equal(got, reason);
}

static void http_status_lines(void **state)
{
	(void)state;
	verdict("HTTP/1.1 200 OK\r\n", false, true, true, "HTTP 200 OK");
	verdict("HTTP/1.0 204 No Content\r\nServer: x\r\n", false, true, true,
		"HTTP 204 No Content");
	verdict("HTTP/1.1 302 Found\r\nLocation: /x\r\n", false, true, true, "HTTP 302 Found");
	verdict("HTTP/1.1 404 Not Found\r\n", false, true, false, "HTTP 404 Not Found");
	verdict("HTTP/1.1 500 Internal Server Error\r\n", false, true, false,
		"HTTP 500 Internal Server Error");
	verdict("HTTP/1.1 503\r\n", false, true, false, "HTTP 503");
}

static void http_incomplete_and_broken(void **state)
{
	(void)state;
	verdict("HTTP/1.1 20", false, false, false, ""); /* wait for more */
	verdict("", true, true, false, "connection closed before any response");
	verdict("SSH-2.0-OpenSSH_9.2\r\n", false, true, false,
		"not an HTTP response: \"SSH-2.0-OpenSSH_9.2  \"");
	verdict("HTTP/1.1 20", true, true, false, "not an HTTP response: \"HTTP/1.1 20\"");
	verdict("HTTP/2 200\r\n", false, true, false, "not an HTTP response: \"HTTP/2 200  \"");
}

static void specs_parse(void **state)
{
	struct probe_spec p;
	const char *why;

	(void)state;
	assert_int_equal(probe_spec_parse("http://127.0.0.1/", &p, &why), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&p.addr)->sin_port), 80);
	assert_string_equal(p.host, "127.0.0.1");
	assert_string_equal(p.path, "/");
	assert_int_equal(probe_spec_parse("http://[::1]:8443", &p, &why), 0);
	assert_int_equal(p.addr.ss_family, AF_INET6);
	assert_string_equal(p.path, "/");
	assert_string_equal(p.host, "[::1]:8443");
	assert_int_equal(probe_spec_parse("unix:/run/x.sock", &p, &why), 0);
	assert_string_equal(((struct sockaddr_un *)&p.addr)->sun_path, "/run/x.sock");
	assert_int_equal(probe_spec_parse("tcp:127.0.0.1", &p, &why), -EINVAL);
	assert_string_equal(why, "port must be a number from 1 to 65535");
	assert_int_equal(probe_spec_parse("http://127.0.0.1/a b", &p, &why), -EINVAL);
	assert_int_equal(probe_spec_parse("exec:/bin/sh -c 'exit 1'", &p, &why), 0);
	assert_string_equal(p.argv[2], "exit 1");
	assert_string_equal(probe_kind_name(p.kind), "exec");
	probe_spec_free(&p);
}

static void judge(probe_verdict_fn fn, const char *resp, size_t len, bool eof, bool want_done,
		  bool want_ok, const char *reason)
{
	char got[PROBE_REASON_MAX] = "";
	bool ok = !want_ok;

	assert_int_equal(fn(resp, len, eof, &ok, got, sizeof(got)), want_done);
	if (!want_done)
		return;
	assert_int_equal(ok, want_ok);
	assert_string_equal(got, reason);
}

#define PG(bytes) (bytes), sizeof(bytes) - 1

/* What postgres 15 answers a startup packet (the layout of its ErrorResponse and auth requests). */
static void postgres_answers(void **state)
{
	static const char starting[] = "E\0\0\0\x68SFATAL\0VFATAL\0C57P03\0M"
				       "the database system is starting up\0Fpostmaster.c\0"
				       "L2365\0RProcessStartupPacket\0\0";
	static const char recovery[] = "E\0\0\0\x43SFATAL\0VFATAL\0C57P03\0M"
				       "the database system is in recovery mode\0\0";
	static const char no_role[] = "E\0\0\0\x3aSFATAL\0VFATAL\0C28000\0M"
				      "role \"postgres\" does not exist\0\0";
	static const char md5[] = "R\0\0\0\x0c\0\0\0\x05\x01\x02\x03\x04";
	static const char trusted[] = "R\0\0\0\x08\0\0\0\0S\0\0\0\x16";

	(void)state;
	judge(probe_postgres_verdict, PG(starting), false, true, false,
	      "the database system is starting up");
	judge(probe_postgres_verdict, PG(recovery), false, true, false,
	      "the database system is in recovery mode");
	judge(probe_postgres_verdict, PG(no_role), false, true, true,
	      "serving: role \"postgres\" does not exist");
	judge(probe_postgres_verdict, PG(md5), false, true, true,
	      "serving: it asks for authentication");
	judge(probe_postgres_verdict, PG(trusted), false, true, true, "serving: authenticated");
	judge(probe_postgres_verdict, starting, 20, false, false, false, ""); /* read on */
	judge(probe_postgres_verdict, "", 0, true, true, false,
	      "connection closed before any response");
	judge(probe_postgres_verdict, PG("HTTP/1.1 400 Bad"), false, true, false,
	      "not a postgres response: \"HTTP/1.1 400 Bad\"");
}

static void postgres_startup_packet(void **state)
{
	struct probe_spec p;
	const char *why;
	char buf[256];
	size_t n;

	(void)state;
	assert_int_equal(probe_spec_parse("postgres://app@127.0.0.1", &p, &why), 0);
	n = probe_request(&p, "test", buf, sizeof(buf));
	assert_int_equal(n, 4 + 4 + 5 + 4 + 9 + 4 + 17 + 7 + 1);
	assert_memory_equal(buf, "\0\0\0\x37\0\x03\0\0user\0app\0database\0app\0", 26);
	assert_int_equal(buf[n - 1], '\0');
}

static void redis_answers(void **state)
{
	(void)state;
	judge(probe_redis_verdict, PG("+PONG\r\n"), false, true, true, "PONG");
	judge(probe_redis_verdict, PG("-LOADING Redis is loading the dataset in memory\r\n"), false,
	      true, false, "LOADING Redis is loading the dataset in memory");
	judge(probe_redis_verdict, PG("-BUSY Redis is busy running a script.\r\n"), false, true,
	      false, "BUSY Redis is busy running a script.");
	judge(probe_redis_verdict, PG("-NOAUTH Authentication required.\r\n"), false, true, true,
	      "serving: NOAUTH Authentication required.");
	judge(probe_redis_verdict, PG("+PO"), false, false, false, "");
	judge(probe_redis_verdict, PG("SSH-2.0-x\r\n"), false, true, false,
	      "not a redis response: \"SSH-2.0-x\"");
}

static void protocol_specs_parse(void **state)
{
	struct probe_spec p;
	const char *why;

	(void)state;
	assert_int_equal(probe_spec_parse("postgres://127.0.0.1", &p, &why), 0);
	assert_int_equal(p.kind, PROBE_POSTGRES);
	assert_int_equal(ntohs(((struct sockaddr_in *)&p.addr)->sin_port), 5432);
	assert_string_equal(p.user, "postgres");
	assert_int_equal(probe_spec_parse("postgres:/run/postgresql/.s.PGSQL.5432", &p, &why), 0);
	assert_string_equal(((struct sockaddr_un *)&p.addr)->sun_path,
			    "/run/postgresql/.s.PGSQL.5432");
	assert_int_equal(probe_spec_parse("redis://[::1]:7000", &p, &why), 0);
	assert_int_equal(p.kind, PROBE_REDIS);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&p.addr)->sin6_port), 7000);
	assert_int_equal(probe_spec_parse("redis://u@127.0.0.1", &p, &why), -EINVAL);
	assert_string_equal(why, "only postgres checks name a user");
	assert_int_equal(probe_spec_parse("postgres:", &p, &why), -EINVAL);
	assert_int_equal(probe_spec_parse("redis:relative.sock", &p, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_status_lines),
		cmocka_unit_test(http_incomplete_and_broken),
		cmocka_unit_test(specs_parse),
		cmocka_unit_test(postgres_answers),
		cmocka_unit_test(postgres_startup_packet),
		cmocka_unit_test(redis_answers),
		cmocka_unit_test(protocol_specs_parse),
	};
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
