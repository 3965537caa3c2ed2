// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe specs and the HTTP verdict: the pure parts of probes. */
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "os/probe.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_status_lines),
		cmocka_unit_test(http_incomplete_and_broken),
		cmocka_unit_test(specs_parse),
	};
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
