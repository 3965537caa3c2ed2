// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/out/waiters.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "daemon/json.h"
#include "daemon/unit.h"
#include "os/control_socket.h"
#include "base/clock.h"

/*
 * Has u reached an outcome a client waiting with `kind` can be told?
 * Running: running (ok), failed, or stopped with no restart coming.
 * Stopped: stopped.
 */
static bool settled(const struct unit *u, enum wait_kind kind, bool *ok)
{
	enum svc_state st = u->svc.state;

	if (kind == WAIT_STOPPED) {
		*ok = st == SVC_STOPPED;
		return *ok;
	}
	*ok = st == SVC_RUNNING;
	if (u->svc.start_pending) /* a start is coming once the old process is gone */
		return false;
	return *ok || st == SVC_FAILED ||
	       (st == SVC_STOPPED && u->svc.deadline_kind != DEADLINE_RESTART);
}

static void answer(struct control_client *c, struct unit *u, bool ok)
{
	cJSON *obj = json_reply_new(u->d);

	cJSON_ReplaceItemInObject(obj, "ok", cJSON_CreateBool(ok));
	cJSON_AddItemToObject(obj, "service", json_service_summary(u, now_mono_ns()));
	json_reply(c, obj);
}

bool waiters_send_transition(struct control_client *c, const struct unit *u,
			     const struct svc_actions *a)
{
	bool sent;
	cJSON *ev = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(ev, "event", "transition");
	cJSON_AddStringToObject(ev, "service", u->cfg->name);
	cJSON_AddStringToObject(ev, "from", svc_state_name(a->from));
	cJSON_AddStringToObject(ev, "to", svc_state_name(a->to));
	cJSON_AddStringToObject(ev, "cause", u->svc.cause);
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	sent = text && control_send(c, text);
	free(text);
	return sent;
}

struct wake_ctx {
	struct unit *u;
	const struct svc_actions *a; /* NULL: no transition */
	bool removed;		     /* the unit is going away */
};

static void wake_one(struct control_client *c, void *arg)
{
	struct wake_ctx *w = arg;
	bool ok;

	if (w->removed) {
		json_reply_error(c, "the service was removed by a reload", false);
		return;
	}
	if (w->a && w->a->changed && !waiters_send_transition(c, w->u, w->a))
		return; /* gone: it stopped reading or hung up */
	if (settled(w->u, (enum wait_kind)control_wait_kind(c), &ok))
		answer(c, w->u, ok);
}

void waiters_wait_or_answer(struct control_client *c, struct unit *u, enum wait_kind kind,
			    bool wait)
{
	bool ok;

	if (!wait || settled(u, kind, &ok)) {
		answer(c, u, wait ? ok : true);
		return;
	}
	control_wait(c, u, kind);
}

/* After any event: a wait may settle without a transition. */
static void observe(struct unit *u, const struct unit_news *n)
{
	struct wake_ctx w = { .u = u, .a = n->a };

	if (u->d->control)
		control_wake(u->d->control, u, wake_one, &w);
}

/* u is going away: answer everyone waiting on it. */
static void remove_unit(struct unit *u)
{
	struct wake_ctx w = { .u = u, .removed = true };

	if (u->d->control)
		control_wake(u->d->control, u, wake_one, &w);
}

const struct unit_module waiters_module = {
	.name = "waiters",
	.remove = remove_unit,
	.observe = observe,
};
