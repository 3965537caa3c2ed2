// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A unit file's keys, written in readyd.conf by someone who knows systemd:
 * readyd's name for each, or why there is none. Edit distance cannot find
 * these (ExecStart is nothing like command).
 */
#include <stdio.h>
#include <strings.h>

#include "config/config_internal.h"
#include "base/util.h"

static const struct {
	const char *systemd; /* compared case-insensitively: ExecStart, execstart */
	const char *key;     /* readyd's, or NULL: none */
	const char *note;    /* what else to know; "" */
} names[] = {
	{ "ExecStart", "command",
	  "an absolute path and its arguments; readyd does not search PATH" },
	{ "WorkingDirectory", "working_directory", "" },
	{ "User", "user", "" },
	{ "Group", "group", "" },
	{ "Environment", "environment", "one KEY=VALUE per line, repeated for more" },
	{ "Restart", "restart", "no, on-failure or always" },
	{ "RestartSec", "restart_delay", "the first delay; restart_max_delay caps the doubling" },
	{ "TimeoutStartSec", "ready_timeout", "" },
	{ "TimeoutStopSec", "stop_timeout", "" },
	{ "TimeoutSec", "ready_timeout", "and stop_timeout" },
	{ "WatchdogSec", "watchdog", "with ready = notify: WATCHDOG=1 at least this often" },
	{ "StartLimitBurst", "start_limit_burst", "" },
	{ "StartLimitIntervalSec", "start_limit_interval", "" },
	{ "StartLimitInterval", "start_limit_interval", "" },
	{ "Type", "ready", "Type=notify is ready = notify; readyd's default is accept" },
	{ "NotifyAccess", "ready", "ready = notify: readyd takes READY=1 from the service's tree" },
	{ "ListenStream", "listen",
	  "readyd opens no socket: it watches the one the service opens (tcp:PORT, unix:/path)" },
	{ "ListenDatagram", "listen", "udp:ADDR:PORT; readyd opens no socket" },
	{ "PIDFile", "pid_file", "in a [watch \"NAME\"] section" },
	{ "KillSignal", NULL,
	  "readyd stops a service with SIGTERM, then SIGKILL after stop_timeout" },
	{ "KillMode", NULL, "readyd signals the service's whole cgroup (or process group)" },
	{ "EnvironmentFile", NULL, "write each variable as environment = KEY=VALUE" },
	{ "ExecStop", NULL, "readyd stops with SIGTERM, then SIGKILL after stop_timeout" },
	{ "ExecStartPre", NULL,
	  "run it from the command: command = /bin/sh -c 'pre && exec server'" },
	{ "ExecReload", NULL, "readyd does not reload services" },
};

bool config_systemd_hint(const char *name, char *buf, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *note = names[i].note;
		if (strcasecmp(name, names[i].systemd) != 0)
			continue;
		if (names[i].key)
			snprintf(buf, size,
				 "; did you mean \"%s\"? (readyd's name for systemd's %s=%s%s)",
				 names[i].key, names[i].systemd, note[0] ? "; " : "", note);
		else
			snprintf(buf, size, ": readyd has no equivalent of systemd's %s= (%s)",
				 names[i].systemd, note);
		return true;
	}
	return false;
}
