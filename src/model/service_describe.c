// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Names, and the texts causes and status are made of. */
#include <stdio.h>
#include <string.h>

#include "model/service.h"
#include "base/util.h"

static const char *const state_names[SVC_STATE_COUNT] = {
	[SVC_STOPPED] = "stopped",     [SVC_STARTING] = "starting", [SVC_RUNNING] = "running",
	[SVC_UNHEALTHY] = "unhealthy", [SVC_FAILED] = "failed",	    [SVC_STOPPING] = "stopping",
};

const char *svc_state_name(enum svc_state st)
{
	return st < SVC_STATE_COUNT ? state_names[st] : "?";
}

const char *notify_reject_name(enum notify_reject r)
{
	static const char *const names[REJECT_COUNT] = {
		[REJECT_MALFORMED] = "malformed",
		[REJECT_OVERSIZED] = "oversized",
		[REJECT_FOREIGN] = "foreign_sender",
		[REJECT_NO_CREDENTIALS] = "no_credentials",
	};

	return r < REJECT_COUNT ? names[r] : "?";
}

const char *accept_via_name(unsigned int via)
{
	switch (via) {
	case VIA_ACCEPT:
		return "accept";
	case VIA_EPOLL:
		return "epoll";
	case VIA_POLL:
		return "poll";
	case VIA_SELECT:
		return "select";
	case VIA_FENTRY:
		return "inet_csk_accept";
	}
	return "kernel state";
}

void svc_exit_describe(const struct svc_exit *e, char *buf, size_t size)
{
	char who[SERVICE_NAME_MAX + 16] = "";

	if (e->process[0]) /* one process of several: name it */
		snprintf(who, sizeof(who), "process %s ", e->process);
	if (e->detached)
		snprintf(buf, size, "no longer watched; it still runs");
	else if (e->spawn_error[0])
		snprintf(buf, size, "%scould not be started: %s", who, e->spawn_error);
	else if (e->unknown && e->away)
		snprintf(buf, size, "%sended while no readyd was running (its status is unknown)",
			 who);
	else if (e->unknown)
		snprintf(buf, size, "%sexited (not readyd's child: its status is unknown)", who);
	else {
		char how[64];
		fmt_exit_status(how, sizeof(how), e->code, e->signal);
		snprintf(buf, size, "%s%s", who, how);
	}
}

const char *svc_event_name(enum svc_event ev)
{
	static const char *const names[SVC_EV_COUNT] = {
		[SVC_EV_START] = "start",
		[SVC_EV_STOP] = "stop",
		[SVC_EV_RESTART] = "restart",
		[SVC_EV_RESET] = "reset",
		[SVC_EV_SOCKET] = "socket",
		[SVC_EV_QUEUE] = "queue",
		[SVC_EV_PROBE] = "probe",
		[SVC_EV_NOTIFY] = "notify",
		[SVC_EV_MARKER] = "marker",
		[SVC_EV_FD_READY] = "fd_ready",
		[SVC_EV_EXIT] = "exit",
		[SVC_EV_READY_TIMEOUT] = "ready_timeout",
		[SVC_EV_KILL_TIMEOUT] = "kill_timeout",
		[SVC_EV_RESTART_DUE] = "restart_due",
		[SVC_EV_WATCHDOG] = "watchdog",
		[SVC_EV_CROSSCHECK] = "crosscheck",
	};

	return ev < SVC_EV_COUNT ? names[ev] : "?";
}

void svc_describe_listeners(const struct svc *s, char *buf, size_t size)
{
	const struct listener *ls = s->n_listeners ? s->listeners : s->observed;
	size_t n = s->n_listeners ? s->n_listeners : s->n_observed;

	buf[0] = '\0';
	if (!n)
		str_append(buf, size, "no listener seen");
	for (size_t i = 0; i < n; i++) {
		/* Declared one address, listening at another: say both, the fix is in one of them.
		 */
		if (ls[i].spec && ls[i].level == LEVEL_ABSENT && s->undeclared[0])
			str_append(buf, size, "%sdeclared %s absent; the service listens on %s",
				   i ? ", " : "", ls[i].label, s->undeclared);
		else
			str_append(buf, size, "%s%s %s", i ? ", " : "", ls[i].label,
				   level_name(ls[i].level));
	}
}

void svc_describe_reports(const struct svc *s, char *buf, size_t size)
{
	buf[0] = '\0';
	if ((s->cfg->ready & READY_NOTIFY) && !s->notified_ready)
		str_append(buf, size, "no READY=1 yet%s%s%s", s->status_text[0] ? " (STATUS=" : "",
			   s->status_text, s->status_text[0] ? ")" : "");
	if ((s->cfg->ready & READY_FILE) && !s->marker_present)
		str_append(buf, size, "%sno marker %s", buf[0] ? ", " : "", s->cfg->ready_file);
	if ((s->cfg->ready & READY_FD) && !s->fd_ready)
		str_append(buf, size, "%sno line on fd %d yet", buf[0] ? ", " : "",
			   s->cfg->ready_fd);
}

void svc_describe_probes(const struct svc *s, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_probes; i++) {
		const struct probe_health *h = &s->probes[i];
		if (h->verdict == VERDICT_OK)
			continue;
		str_append(buf, size, "%s%s %s: %s", buf[0] ? ", " : "",
			   s->cfg->probes[i].until_ready ? "serving check" : "probe",
			   s->cfg->probes[i].text,
			   !h->has_result ? "no result yet"
			   : h->last_ok	  ? "passing, not yet enough in a row"
					  : h->last_reason);
	}
}
