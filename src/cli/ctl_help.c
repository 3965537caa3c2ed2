// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/ctl_help.h"

#include <string.h>

#include "readyd_control.h"

#include "base/util.h"

static const char usage[] =
	"usage: readyctl [--control PATH] [--json] COMMAND [NAME...]\n"
	"\n"
	"  list                        every service: state, pid, time to ready\n"
	"  status NAME...              listeners, probes, timings, last exit\n"
	"  wait NAME...                until each is running (0), failed or stopped (3)\n"
	"  start NAME...               start each; wait until running (0) or failed (3)\n"
	"  stop NAME...                stop each; wait until stopped (0)\n"
	"  restart NAME...             stop and start each; wait until running (0) or failed (3)\n"
	"  reset NAME...               forget its start limit and backoff\n"
	"  reload                      re-read readyd's config (as SIGHUP does)\n"
	"  sockets [NAME] [--all]      declared sockets: owners, accept queue, findings\n"
	"                              (stale files, foreign owners, stalls, wrong address\n"
	"                              or port); --all adds every listening socket of the node\n"
	"  deps NAME                   what it waits for (after, requires) and what waits\n"
	"                              for it, recursively, with their states\n"
	"  events [NAME...]            every transition, listener level, spawn and finding,\n"
	"                              one line each as it happens (--json: readyd's JSON)\n"
	"  timeline                    each service's timeline since readyd started\n"
	"  plot                        that timeline as an SVG (readyctl plot > boot.svg)\n"
	"  blame                       services by spawn -> running time, slowest first\n"
	"  critical-chain NAME         the dependencies that decided when NAME ran\n"
	"  reexec [--binary PATH]      exec readyd anew (an upgraded binary: PATH, or the\n"
	"                              one it runs); services keep running; waits until\n"
	"                              the new one answers (0) or --timeout (124)\n"
	"  exit [--keep-services]      stop every service and exit (as SIGTERM); with\n"
	"                              --keep-services, exit leaving them running for\n"
	"                              the next readyd to take back\n"
	"  help [COMMAND]              this, or one command in detail\n"
	"\n"
	"  --control PATH   control socket (else $" CTL_CONTROL_ENV ", else " READYD_CONTROL_DEFAULT
	")\n"
	"  --json           print the daemon's JSON instead of text (one object per NAME)\n"
	"  --timeout DUR    wait, start, stop, restart, reexec: give up after DUR (500ms,\n"
	"                   30s, 2m), for every NAME together; exit 124\n"
	"  --no-wait        start, stop, restart: return once asked\n"
	"  -h, --help       this; --version: readyctl's version\n"
	"\n"
	"Several NAMEs are handled one after the other, in order; the exit code is the\n"
	"worst of theirs. Exit: 0 ok/running, 1 error (no readyd answers...), 2 usage,\n"
	"3 not running (failed, stopped, starting, stopping, unhealthy), 4 no such service,\n"
	"5 not permitted, 124 --timeout passed.\n";

static const struct {
	const char *name;
	const char *text;
} details[] = {
	{ "list", "readyctl list\n"
		  "  One line per service: state, pid, time in that state, fork to running,\n"
		  "  listeners ready of declared. Exit 0.\n" },
	{ "status",
	  "readyctl status NAME...\n"
	  "  Each service: its cause, command, processes, listeners with the time each\n"
	  "  level was reached, probes, reports, last exit.\n"
	  "  Exit 0 if every one is running; 3 if one is not (starting, stopping, stopped,\n"
	  "  failed, or unhealthy: a failing probe is not ready to serve); 4 no such service.\n" },
	{ "wait",
	  "readyctl wait NAME... [--timeout DUR]\n"
	  "  Until each service is running (0), failed or stopped with no restart coming (3),\n"
	  "  printing each transition. Started before readyd, it waits for the control\n"
	  "  socket to answer too. --timeout bounds it all: 124 when it passes first.\n" },
	{ "start",
	  "readyctl start NAME... [--no-wait] [--timeout DUR]\n"
	  "  Start each (an operator's start also clears a start limit), then wait until\n"
	  "  it is running (0) or failed (3), printing each transition. 124: --timeout.\n" },
	{ "stop", "readyctl stop NAME... [--no-wait] [--timeout DUR]\n"
		  "  Stop each and wait until it is stopped (0). 124: --timeout.\n" },
	{ "restart", "readyctl restart NAME... [--no-wait] [--timeout DUR]\n"
		     "  Stop and start each, one after the other; wait until running (0) or\n"
		     "  failed (3). 124: --timeout.\n" },
	{ "reset", "readyctl reset NAME...\n"
		   "  Forget the start limit and restart backoff; a service the limit held failed\n"
		   "  restarts at once if its policy wants it up. Exit 0.\n" },
	{ "reload",
	  "readyctl reload\n"
	  "  Re-read the config file (as SIGHUP): only what changed is restarted.\n"
	  "  Exit 1, with each error, when the new file has errors (the old one is kept).\n" },
	{ "sockets",
	  "readyctl sockets [NAME] [--all]\n"
	  "  Each declared listener with its owners, accept queue and findings: stale unix\n"
	  "  socket files, ports held outside the service, the service listening at another\n"
	  "  address or port than declared, stalled or overflowing accept queues.\n"
	  "  --all adds every listening socket of the node. Exit 0.\n" },
	{ "deps",
	  "readyctl deps NAME\n"
	  "  The start order around NAME: what it waits for (after =, requires =),\n"
	  "  recursively, each with its state and cause; then what waits for it. Exit 0.\n" },
	{ "events",
	  "readyctl events [NAME...] [--json] [--timeout DUR]\n"
	  "  Follow what happens, as it happens: each transition (from, to, cause), listener\n"
	  "  level (bound, listening, accepting, closed), spawn and finding (accept queue,\n"
	  "  ready mismatch) of every service, or only the NAMEs. One line each, with the time;\n"
	  "  --json prints readyd's objects, one a line. Runs until interrupted or --timeout\n"
	  "  (124); a reader that falls 64 KiB behind is dropped with a line saying so (1).\n" },
	{ "timeline",
	  "readyctl timeline [--json]\n"
	  "  Each service's timeline since readyd started: spawns, listener levels and\n"
	  "  transitions, seconds after readyd's start (the first boot's entries are kept,\n"
	  "  then the latest 48).\n" },
	{ "plot",
	  "readyctl plot > boot.svg\n"
	  "  The timeline as an SVG (like systemd-analyze plot): a row per service, its bar\n"
	  "  from spawn to running coloured by phase, restarts and failures marked.\n" },
	{ "blame", "readyctl blame\n"
		   "  Services by the time from their last spawn to running, slowest first; then\n"
		   "  those never running.\n" },
	{ "critical-chain",
	  "readyctl critical-chain NAME\n"
	  "  The chain of dependencies (after =, requires =) that decided when NAME became\n"
	  "  running: each the one that ran last before the next spawned, with when it ran\n"
	  "  (@, since readyd started) and how long its start took (+). Exit 4: no NAME.\n" },
	{ "reexec",
	  "readyctl reexec [--binary PATH] [--timeout DUR]\n"
	  "  Exec readyd anew (an upgrade) with every service left running; returns once\n"
	  "  the new image answers (0), 1 if the exec failed, 124 after --timeout (30s).\n" },
	{ "exit", "readyctl exit [--keep-services]\n"
		  "  Stop every service and exit, as SIGTERM; --keep-services exits at once and\n"
		  "  leaves them running for the next readyd to take back.\n" },
	{ "help", "readyctl help [COMMAND]\n"
		  "  Every command, or one in detail.\n" },
};

void ctl_usage(FILE *out)
{
	fputs(usage, out);
}

bool ctl_help_command(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(details); i++)
		if (strcmp(details[i].name, cmd) == 0) {
			fputs(details[i].text, out);
			return true;
		}
	return false;
}

void ctl_version(FILE *out)
{
	fprintf(out, "readyctl %s (control protocol %d)\n", READYD_VERSION,
		READYD_CONTROL_PROTOCOL);
}

void ctl_unreachable_hint(char *buf, size_t size, const char *path, const char *source)
{
	if (strcmp(source, "--control") == 0)
		snprintf(buf, size,
			 "is readyd running, with control = %s in its config? Without --control, "
			 "readyctl asks $" CTL_CONTROL_ENV ", else " READYD_CONTROL_DEFAULT,
			 path);
	else if (strcmp(source, CTL_CONTROL_ENV) == 0)
		snprintf(buf, size,
			 "is readyd running, with control = %s in its config? The path is "
			 "$" CTL_CONTROL_ENV
			 "'s; --control PATH overrides it (default " READYD_CONTROL_DEFAULT ")",
			 path);
	else
		snprintf(buf, size,
			 "is readyd running? %s is the default path; a readyd whose config says "
			 "control = PATH answers at --control PATH, or set " CTL_CONTROL_ENV
			 "=PATH",
			 path);
}
