// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "config/listen_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/util.h"

static const char spec_help[] =
	"expected tcp:PORT, tcp:ADDR:PORT, tcp:[::1]:PORT, udp:ADDR:PORT, unix:/path or unix:@name";

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_inet(const char *rest, struct listen_spec *spec, const char **error)
{
	char host[64];
	const char *colon, *port;

	if (rest[0] == '[') { /* [v6]:port */
		const char *close = strchr(rest, ']');
		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(host)) {
			*error = "IPv6 addresses go in brackets: tcp:[::1]:8080";
			return -EINVAL;
		}
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		port = close + 2;
		if (inet_pton(AF_INET6, host, spec->addr) != 1) {
			*error = "not an IPv6 address inside the brackets";
			return -EINVAL;
		}
		spec->family = AF_INET6;
	} else if ((colon = strrchr(rest, ':'))) { /* v4:port or *:port */
		if ((size_t)(colon - rest) >= sizeof(host)) {
			*error = "address too long";
			return -EINVAL;
		}
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
		port = colon + 1;
		if (strcmp(host, "*") == 0) {
			spec->family = AF_UNSPEC;
		} else if (inet_pton(AF_INET, host, spec->addr) == 1) {
			spec->family = AF_INET;
		} else {
			*error = strchr(host, ':') ? "IPv6 addresses go in brackets: tcp:[::1]:8080"
						   : "not an IPv4 address (names are not resolved: "
						     "write 127.0.0.1 or [::1])";
			return -EINVAL;
		}
	} else { /* bare port: any address */
		spec->family = AF_UNSPEC;
		port = rest;
	}
	if (parse_port(port, &spec->port)) {
		*error = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	return 0;
}

static void spec_canonical(struct listen_spec *spec)
{
	struct sock_addr a = { .family = spec->family, .port = spec->port };

	memcpy(a.addr, spec->addr, sizeof(a.addr));
	str_copy(a.path, spec->path, sizeof(a.path));
	a.sock_type = spec->proto == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (spec->family == AF_UNSPEC)
		snprintf(spec->text, sizeof(spec->text), "%s:%u",
			 spec->proto == LISTEN_UDP ? "udp" : "tcp", spec->port);
	else
		sock_addr_format(spec->text, sizeof(spec->text), &a);
}

int listen_spec_parse(const char *s, struct listen_spec *spec, const char **error)
{
	memset(spec, 0, sizeof(*spec));
	*error = spec_help;
	if (str_starts_with(s, "tcp:") || str_starts_with(s, "udp:")) {
		spec->proto = s[0] == 't' ? LISTEN_TCP : LISTEN_UDP;
		if (parse_inet(s + 4, spec, error))
			return -EINVAL;
	} else if (str_starts_with(s, "unix:")) {
		const char *path = s + 5;
		spec->proto = LISTEN_UNIX;
		spec->family = AF_UNIX;
		if (path[0] != '/' && !(path[0] == '@' && path[1])) {
			*error = "unix socket paths are absolute (unix:/run/app.sock) or abstract "
				 "(unix:@name)";
			return -EINVAL;
		}
		if (strlen(path) >= sizeof(spec->path)) {
			*error = "unix socket path longer than 107 bytes";
			return -EINVAL;
		}
		str_copy(spec->path, path, sizeof(spec->path));
	} else {
		return -EINVAL;
	}
	spec_canonical(spec);
	*error = NULL;
	return 0;
}

static bool is_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool v4_mapped(const uint8_t *v6)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(v6, prefix, sizeof(prefix)) == 0;
}

static bool addr_matches(const struct listen_spec *spec, const struct sock_addr *a)
{
	if (spec->family == AF_UNSPEC)
		return true;
	if (a->family == AF_INET6 && is_zero(a->addr, 16))
		return true; /* [::] serves both families by default */
	if (spec->family == AF_INET) {
		if (a->family == AF_INET)
			return is_zero(a->addr, 4) || memcmp(a->addr, spec->addr, 4) == 0;
		return a->family == AF_INET6 && v4_mapped(a->addr) &&
		       memcmp(a->addr + 12, spec->addr, 4) == 0;
	}
	return a->family == AF_INET6 && memcmp(a->addr, spec->addr, 16) == 0;
}

bool listen_spec_matches(const struct listen_spec *spec, const struct sock_addr *a)
{
	switch (spec->proto) {
	case LISTEN_UNIX:
		return a->family == AF_UNIX && strcmp(a->path, spec->path) == 0;
	case LISTEN_TCP:
	case LISTEN_UDP:
		if (a->family != AF_INET && a->family != AF_INET6)
			return false;
		if (a->sock_type &&
		    a->sock_type != (spec->proto == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM))
			return false;
		return a->port == spec->port && addr_matches(spec, a);
	}
	return false;
}

uint64_t listen_spec_key(const struct listen_spec *spec)
{
	return spec->proto == LISTEN_UNIX ? sock_path_key(spec->path) : spec->port;
}

bool listen_spec_connectionless(const struct listen_spec *spec, int sock_type)
{
	return spec->proto == LISTEN_UDP || (spec->proto == LISTEN_UNIX && sock_type == SOCK_DGRAM);
}

/*
 * A bare port is loopback, not every interface: an agent answer tells who
 * is up, so it stays local unless asked ("*:PORT" is 0.0.0.0).
 */
int listen_spec_parse_agent(const char *value, struct listen_spec *spec, const char **error)
{
	char buf[128];
	bool any = value[0] == '*';

	if (strlen(value) > 100) {
		*error = "too long";
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "tcp:%s", value[0] == ':' ? value + 1 : value);
	if (listen_spec_parse(buf, spec, error))
		return -EINVAL;
	if (spec->family == AF_UNSPEC) {
		spec->family = AF_INET;
		memcpy(spec->addr, (const uint8_t[4]){ any ? 0 : 127, 0, 0, any ? 0 : 1 }, 4);
		spec_canonical(spec);
	}
	return 0;
}
