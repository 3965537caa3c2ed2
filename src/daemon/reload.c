// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reload: read the config again and change only what changed. Added
 * services start; removed ones stop and go; changed ones restart on their
 * new configuration; unchanged ones are not touched (their state, process
 * and counters carry on, now pointing into the new config). A config with
 * any error changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/reload.h"
#include "daemon/deps.h"
#include "daemon/in/scan.h"
#include "daemon/out/export.h"
#include "daemon/out/manager.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "base/safe_path.h"
#include "base/util.h"

static void note(struct strbuf *b, const char *name)
{
	strbuf_printf(b, "%s%s", b->len ? " " : "", name);
}

/* A different config: used from the next spawn; restart now if it should run. */
static void change(struct unit *u, struct config *next, const struct service_config *nc)
{
	struct svc_input in = { .why = "restarted: its configuration changed" };

	config_unref(u->next_owner);
	u->next_owner = config_ref(next);
	u->next_cfg = nc;
	if (u->svc.want_up)
		unit_handle(u, SVC_EV_RESTART, &in);
	else if (!u->svc.pid && !u->spawn_job.queued)
		unit_adopt_next_config(u); /* stopped by an operator: stays stopped, reconfigured */
}

static void remove_unit(struct unit *u)
{
	struct svc_input in = { .why = "removed from the configuration" };

	u->removed = true;
	unit_handle(u, SVC_EV_STOP, &in);
	unit_release_if_gone(u);
}

void daemon_start_missing(struct daemon *d, struct strbuf *added)
{
	struct svc_input in = { .why = "added by a reload" };

	for (size_t i = 0; i < d->cfg->n_services; i++) {
		const struct service_config *sc = &d->cfg->services[i];
		struct unit *u;
		if (d->shutting_down)
			return;
		u = daemon_unit_named(d, sc->name, true);
		if (u && !u->removed)
			continue;
		if (u) { /* one instance at a time: when the old one is gone */
			log_info("service=%s msg=\"starts once its removed instance has stopped\"",
				 sc->name);
			continue;
		}
		u = unit_new(d, d->cfg, sc, NULL);
		if (!u) {
			log_err("msg=\"out of memory adding a service\" service=%s", sc->name);
			continue;
		}
		if (added)
			note(added, u->cfg->name);
		deps_boot_start(u, &in); /* unless autostart = no */
	}
}

static void apply(struct daemon *d, struct config *next, struct reload_summary *sum)
{
	size_t n = d->n_units;

	/* Existing units first (new ones are appended after index n). */
	for (size_t i = 0; i < n; i++) {
		struct unit *u = d->units[i];
		const struct service_config *nc, *cur;
		if (u->removed)
			continue;
		nc = config_find(next, u->cfg->name);
		cur = u->next_cfg ? u->next_cfg : u->cfg;
		if (!nc) {
			note(&sum->removed, u->cfg->name);
			remove_unit(u);
		} else if (config_service_equal(cur, nc)) {
			note(&sum->unchanged, u->cfg->name);
			unit_rebind(u, next, nc);
		} else {
			note(&sum->changed, u->cfg->name);
			change(u, next, nc);
		}
	}
}

static int keep_string(char **field, const char *old)
{
	char *copy = old ? strdup(old) : NULL;

	if (old && !copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * [readyd] keys: the textfile follows at once; the control socket's path and
 * group, agent_listen, grpc_listen and http_listen, need a restart of readyd, so the new config
 * keeps what is in force (who may act is decided by what the socket really is). A textfile readyd
 * may not write to is an error of the new config: nothing changes.
 */
static int apply_globals(struct daemon *d, struct config *next, struct config_diag *diag)
{
	char why[SAFE_PATH_WHY_MAX];
	int err;

	if (strcmp(d->cfg->control, next->control) != 0 ||
	    !!d->cfg->control_group != !!next->control_group ||
	    (next->control_group && strcmp(d->cfg->control_group, next->control_group) != 0))
		log_warn("msg=\"control socket settings change at the next restart of readyd\" "
			 "control=%s",
			 d->cfg->control);
	if (keep_string(&next->control, d->cfg->control) ||
	    keep_string(&next->control_group, d->cfg->control_group))
		return -ENOMEM;
	next->control_gid = d->cfg->control_gid;
	if (next->has_agent != d->cfg->has_agent ||
	    (next->has_agent && strcmp(next->agent.text, d->cfg->agent.text) != 0))
		log_warn("msg=\"agent_listen changes at the next restart of readyd\" "
			 "agent_listen=%s",
			 d->cfg->has_agent ? d->cfg->agent.text : "none");
	next->agent = d->cfg->agent;
	next->has_agent = d->cfg->has_agent;
	if (next->has_grpc != d->cfg->has_grpc ||
	    (next->has_grpc && strcmp(next->grpc.text, d->cfg->grpc.text) != 0))
		log_warn("msg=\"grpc_listen changes at the next restart of readyd\" grpc_listen=%s",
			 d->cfg->has_grpc ? d->cfg->grpc.text : "none");
	next->grpc = d->cfg->grpc;
	next->has_grpc = d->cfg->has_grpc;
	if (next->has_http != d->cfg->has_http ||
	    (next->has_http && strcmp(next->http.text, d->cfg->http.text) != 0))
		log_warn("msg=\"http_listen changes at the next restart of readyd\" http_listen=%s",
			 d->cfg->has_http ? d->cfg->http.text : "none");
	next->http = d->cfg->http;
	next->has_http = d->cfg->has_http;
	if (strcmp(d->cfg->textfile, next->textfile) == 0)
		return 0;
	err = export_move(d, next->textfile, why, sizeof(why));
	if (err) {
		if (next->seen[0])
			config_diag_add(diag, "%s:%u: textfile = %s: %s", next->path, next->seen[0],
					next->textfile, why);
		else
			config_diag_add(diag, "%s: textfile (default %s): %s", next->path,
					next->textfile, why);
		return err;
	}
	log_info("msg=\"textfile moved\" path=%s", next->textfile);
	return 0;
}

const char *reload_error_text(int err)
{
	return err == -ESHUTDOWN ? "readyd is shutting down" : strerror(-err);
}

/*
 * Every failed reload says so here, once, whoever asked (SIGHUP or
 * readyctl): each config error (escaped: a config line may hold quotes or
 * control bytes), then one line with why nothing changed.
 */
static int rejected(const struct daemon *d, int err, const struct config_diag *diag)
{
	char text[1024];

	for (size_t i = 0; i < diag->n; i++)
		log_err("msg=\"config error\" at=\"%s\"",
			log_escape(text, sizeof(text), diag->lines[i]));
	if (diag->n)
		log_err("msg=\"reload rejected: the running config is kept\" path=%s errors=%zu "
			"first=\"%s\"",
			d->opts->config_path, diag->n,
			log_escape(text, sizeof(text), diag->lines[0]));
	else
		log_err("msg=\"reload rejected: the running config is kept\" path=%s err=\"%s\"",
			d->opts->config_path, reload_error_text(err));
	return err;
}

static int reload_file(struct daemon *d, struct reload_summary *sum, struct config_diag *diag)
{
	struct config *next = NULL;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (d->shutting_down) {
		memset(diag, 0, sizeof(*diag));
		return rejected(d, -ESHUTDOWN, diag);
	}
	err = daemon_load_config(d->opts, &next, diag);
	if (err)
		return rejected(d, err, diag); /* nothing was loaded */
	return daemon_reload_to(d, next, sum, diag);
}

/* SIGHUP and `readyctl reload` alike: systemd's notify-reload protocol around it. */
int daemon_reload(struct daemon *d, struct reload_summary *sum, struct config_diag *diag)
{
	int err;

	manager_reloading(d);
	err = reload_file(d, sum, diag);
	manager_reloaded(d, err);
	return err;
}

int daemon_reload_to(struct daemon *d, struct config *next, struct reload_summary *sum,
		     struct config_diag *diag)
{
	int err;

	memset(sum, 0, sizeof(*sum));
	if (d->shutting_down) {
		config_unref(next);
		return rejected(d, -ESHUTDOWN, diag);
	}
	err = apply_globals(d, next, diag);
	if (err) {
		config_unref(next);
		return rejected(d, err, diag);
	}
	apply(d, next, sum);
	config_unref(d->cfg);
	d->cfg = next;
	daemon_start_missing(d, &sum->added);
	scan_all(d, "reload"); /* what runs on is checked against the kernel anew */
	daemon_observe(d, &(struct unit_news){ .dirty = true });
	log_info("msg=reloaded path=%s added=\"%s\" removed=\"%s\" changed=\"%s\" unchanged=\"%s\"",
		 d->opts->config_path, sum->added.data ? sum->added.data : "",
		 sum->removed.data ? sum->removed.data : "",
		 sum->changed.data ? sum->changed.data : "",
		 sum->unchanged.data ? sum->unchanged.data : "");
	return 0;
}

void reload_summary_free(struct reload_summary *sum)
{
	strbuf_free(&sum->added);
	strbuf_free(&sum->removed);
	strbuf_free(&sum->changed);
	strbuf_free(&sum->unchanged);
}
