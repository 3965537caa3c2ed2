// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "config/probe_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "base/argv.h"
#include "base/util.h"

static const char probe_help[] =
	"expected tcp:ADDR:PORT, http://ADDR:PORT/PATH, unix:/path, exec:/path ARGS, "
	"postgres://ADDR:PORT, postgres:/path, redis://ADDR:PORT or redis:/path";

const char *probe_kind_name(enum probe_kind k)
{
	static const char *const names[] = { "tcp", "http", "unix", "exec", "postgres", "redis" };

	return k <= PROBE_REDIS ? names[k] : "?";
}

/* "127.0.0.1:80" or "[::1]:80" (port optional when default_port != 0). */
static int parse_hostport(const char *s, size_t len, uint16_t default_port, struct probe_spec *p,
			  const char **error)
{
	char host[64], port[8] = "";
	const char *colon;
	size_t hl;
	long v;
	char *end;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close) {
			*error = "IPv6 addresses go in brackets: [::1]:8080";
			return -EINVAL;
		}
		hl = (size_t)(close - s - 1);
		colon = close + 1 < s + len && close[1] == ':' ? close + 1 : NULL;
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
	} else {
		colon = memchr(s, ':', len);
		hl = colon ? (size_t)(colon - s) : len;
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	if (colon) {
		size_t pl = len - (size_t)(colon + 1 - s);
		if (pl == 0 || pl >= sizeof(port))
			goto bad_port;
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
	} else if (!default_port) {
		goto bad_port;
	}
	v = port[0] ? strtol(port, &end, 10) : default_port;
	if (port[0] && (*end || v < 1 || v > 65535))
		goto bad_port;
	memset(&p->addr, 0, sizeof(p->addr));
	if (s[0] != '[' &&
	    inet_pton(AF_INET, host, &((struct sockaddr_in *)&p->addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&p->addr;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)v);
		p->addrlen = sizeof(*in);
	} else if (s[0] == '[' &&
		   inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&p->addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)v);
		p->addrlen = sizeof(*in6);
	} else {
		*error = "not an IP address (names are not resolved: write 127.0.0.1 or [::1])";
		return -EINVAL;
	}
	snprintf(p->host, sizeof(p->host), "%.*s", (int)len, s);
	return 0;
bad_port:
	*error = "port must be a number from 1 to 65535";
	return -EINVAL;
}

static int parse_http(const char *s, struct probe_spec *p, const char **error)
{
	const char *rest = s + strlen("http://"), *slash = strchr(rest, '/');
	size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);

	if (hl == 0) {
		*error = "http probe needs an address: http://127.0.0.1:8080/health";
		return -EINVAL;
	}
	if (parse_hostport(rest, hl, 80, p, error))
		return -EINVAL;
	if (str_copy(p->path, slash ? slash : "/", sizeof(p->path)) >= sizeof(p->path)) {
		*error = "http probe path too long";
		return -EINVAL;
	}
	for (const char *c = p->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			*error = "http probe path must not contain spaces or control characters";
			return -EINVAL;
		}
	return 0;
}

static int parse_unix(const char *path, struct probe_spec *p, const char **error)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&p->addr;

	if (path[0] != '/' || strlen(path) >= sizeof(un->sun_path)) {
		*error = "unix probes connect to an absolute socket path shorter than 108 bytes";
		return -EINVAL;
	}
	memset(&p->addr, 0, sizeof(p->addr));
	un->sun_family = AF_UNIX;
	str_copy(un->sun_path, path, sizeof(un->sun_path));
	p->addrlen = sizeof(*un);
	return 0;
}

/*
 * A protocol check: "//[USER@]HOST[:PORT]" (user: postgres only) or a unix
 * socket path. rest is what follows "postgres:" or "redis:".
 */
static int parse_protocol(const char *rest, uint16_t port, struct probe_spec *p, const char **error)
{
	const char *at;

	if (rest[0] == '/' && rest[1] != '/')
		return parse_unix(rest, p, error);
	if (!str_starts_with(rest, "//") || !rest[2]) {
		*error = "a protocol check names an address (postgres://127.0.0.1:5432, "
			 "redis://127.0.0.1) or a unix socket "
			 "(postgres:/run/postgresql/.s.PGSQL.5432)";
		return -EINVAL;
	}
	rest += 2;
	at = strchr(rest, '@');
	if (at && p->kind != PROBE_POSTGRES) {
		*error = "only postgres checks name a user";
		return -EINVAL;
	}
	if (at && ((size_t)(at - rest) >= sizeof(p->user) || at == rest)) {
		*error = "postgres user name empty or longer than 63 bytes";
		return -EINVAL;
	}
	if (at) {
		memcpy(p->user, rest, (size_t)(at - rest));
		p->user[at - rest] = '\0';
		rest = at + 1;
	}
	return parse_hostport(rest, strlen(rest), port, p, error);
}

static int parse_exec(const char *cmd, struct probe_spec *p, const char **error)
{
	int n = argv_split(cmd, &p->argv, error);

	if (n == -ENOMEM)
		return -ENOMEM;
	if (n < 0)
		return -EINVAL;
	if (p->argv[0][0] != '/') {
		*error = "exec probes start with an absolute path: exec:/usr/local/bin/check "
			 "--quick";
		argv_free(p->argv);
		p->argv = NULL;
		return -EINVAL;
	}
	return 0;
}

int probe_spec_parse(const char *s, struct probe_spec *p, const char **error)
{
	int err;

	memset(p, 0, sizeof(*p));
	*error = probe_help;
	if (strlen(s) >= sizeof(p->text)) {
		*error = "probe longer than 255 bytes";
		return -EINVAL;
	}
	str_copy(p->text, s, sizeof(p->text));
	if (str_starts_with(s, "tcp:")) {
		p->kind = PROBE_TCP;
		err = parse_hostport(s + 4, strlen(s + 4), 0, p, error);
	} else if (str_starts_with(s, "http://")) {
		p->kind = PROBE_HTTP;
		err = parse_http(s, p, error);
	} else if (str_starts_with(s, "https://")) {
		*error = "https probes are not supported: probe the plain port, or use "
			 "exec:/usr/bin/curl -fsS https://...";
		err = -EINVAL;
	} else if (str_starts_with(s, "unix:")) {
		p->kind = PROBE_UNIX;
		err = parse_unix(s + 5, p, error);
	} else if (str_starts_with(s, "exec:")) {
		p->kind = PROBE_EXEC;
		err = parse_exec(s + 5, p, error);
	} else if (str_starts_with(s, "postgres:")) {
		p->kind = PROBE_POSTGRES;
		str_copy(p->user, "postgres", sizeof(p->user));
		err = parse_protocol(s + 9, 5432, p, error);
	} else if (str_starts_with(s, "redis:")) {
		p->kind = PROBE_REDIS;
		err = parse_protocol(s + 6, 6379, p, error);
	} else {
		err = -EINVAL;
	}
	if (!err)
		*error = NULL;
	return err;
}

void probe_spec_free(struct probe_spec *p)
{
	argv_free(p->argv);
	p->argv = NULL;
}
