// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leaving what a next readyd needs (handover.h): readyd.json and one
 * service.ID.json per unit, each replaced whole — at once when a process
 * starts or changes (a crash a moment later must not lose it), in a loop
 * job for other changes; counters alone wait for the next change. And the
 * exec of a new binary, with the fds the new one keeps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/handover.h"
#include "daemon/handover_internal.h"
#include "daemon/snapshot.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "base/util.h"
#include "os/state_dir.h"

static void file_of(const struct unit *u, char *buf, size_t size)
{
	snprintf(buf, size, "service.%u.json", u->id);
}

static int write_json(struct handover *h, const char *name, cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	int err = text ? state_dir_write(h->dirfd, name, text, strlen(text)) : -ENOMEM;

	free(text);
	cJSON_Delete(o);
	if (err)
		log_warn("msg=\"cannot write the state a next readyd needs\" dir=%s file=%s "
			 "err=\"%s\"",
			 h->dir, name, strerror(-err));
	return err;
}

static cJSON *proc_json(const struct unit_proc *p, bool exec_fds)
{
	struct proc_saved s;
	cJSON *o = cJSON_CreateObject();

	unit_proc_save(p, &s);
	snapshot_put_u64(o, "pid", (uint64_t)s.pid);
	snapshot_put_u64(o, "start", s.start_ticks);
	snapshot_put_u64(o, "pgid", (uint64_t)s.pgid);
	cJSON_AddBoolToObject(o, "alive", s.alive);
	cJSON_AddBoolToObject(o, "followed", s.followed);
	cJSON_AddStringToObject(o, "cgroup", s.cgroup);
	snapshot_put_u64(o, "out_ino", s.out_ino);
	if (exec_fds && s.out_ino)
		cJSON_AddNumberToObject(o, "out_fd", p->out.src.fd);
	return o;
}

static void save_unit(struct daemon *d, struct unit *u)
{
	struct handover *h = d->handover;
	cJSON *o = cJSON_CreateObject(), *procs;
	char name[64];

	u->handover_dirty = false;
	file_of(u, name, sizeof(name));
	cJSON_AddNumberToObject(o, "version", HANDOVER_VERSION);
	cJSON_AddStringToObject(o, "name", u->cfg->name);
	snapshot_put_u64(o, "id", u->id);
	cJSON_AddBoolToObject(o, "removed", u->removed);
	cJSON_AddStringToObject(o, "notify", u->notify_name);
	if (h->exec_fds && u->notify_fd >= 0)
		cJSON_AddNumberToObject(o, "notify_fd", u->notify_fd);
	cJSON_AddItemToObject(o, "svc", snapshot_svc(&u->svc));
	procs = cJSON_AddArrayToObject(o, "procs");
	for (size_t i = 0; i < u->procs.n; i++)
		cJSON_AddItemToArray(procs, proc_json(&u->procs.v[i], h->exec_fds));
	write_json(h, name, o);
}

static void save_top(struct daemon *d)
{
	struct handover *h = d->handover;
	cJSON *o = cJSON_CreateObject();
	char boot[64] = "";

	handover_boot_id(boot, sizeof(boot));
	cJSON_AddNumberToObject(o, "version", HANDOVER_VERSION);
	cJSON_AddStringToObject(o, "boot_id", boot);
	snapshot_put_u64(o, "pid", (uint64_t)getpid());
	cJSON_AddStringToObject(o, "version_of_readyd", READYD_VERSION);
	snapshot_put_u64(o, "next_id", d->next_id);
	if (h->exec_fds)
		snapshot_put_u64(o, "handover_pid", (uint64_t)getpid());
	cJSON_AddStringToObject(o, "config_path", d->opts->config_path);
	cJSON_AddStringToObject(o, "config", d->cfg->text ? d->cfg->text : "");
	h->saved_cfg = d->cfg;
	write_json(h, "readyd.json", o);
}

void handover_save_all(struct daemon *d)
{
	if (!handover_on(d))
		return;
	save_top(d);
	for (size_t i = 0; i < d->n_units; i++)
		save_unit(d, d->units[i]);
}

void handover_save_all_now(struct daemon *d)
{
	handover_save_all(d);
}

static void on_flush(struct loop *loop, struct loop_job *job)
{
	struct daemon *d = job->data;

	(void)loop;
	if (d->cfg != d->handover->saved_cfg)
		save_top(d);
	for (size_t i = 0; i < d->n_units; i++)
		if (d->units[i]->handover_dirty)
			save_unit(d, d->units[i]);
}

/* ---- the module ---- */

static void observe(struct unit *u, const struct unit_news *n)
{
	struct daemon *d = u->d;

	if (!handover_on(d) || d->exiting)
		return;
	if (n->spawned || n->dirty) { /* which process it is: on disk before anything else */
		save_unit(d, u);
		return;
	}
	if (n->counters || n->output || !n->a || !(n->a->changed || n->a->dirty))
		return;
	u->handover_dirty = true;
	loop_job_queue(d->loop, &d->handover->flush_job);
}

static void daemon_news(struct daemon *d, const struct unit_news *n)
{
	(void)n;
	if (handover_on(d) && d->cfg != d->handover->saved_cfg)
		loop_job_queue(d->loop, &d->handover->flush_job); /* a reload: its text */
}

static void remove_unit(struct unit *u)
{
	char name[64];

	if (!handover_on(u->d) || u->d->exiting)
		return;
	file_of(u, name, sizeof(name));
	state_dir_remove(u->d->handover->dirfd, name);
}

const struct unit_module handover_module = {
	.name = "handover",
	.observe = observe,
	.remove = remove_unit,
	.daemon_news = daemon_news,
};

/* ---- leaving ---- */

void handover_forget_all(struct handover *h)
{
	DIR *dir = fdopendir(openat(h->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *e;

	while (dir && (e = readdir(dir)))
		if (str_starts_with(e->d_name, "service.") || str_starts_with(e->d_name, "readyd."))
			state_dir_remove(h->dirfd, e->d_name);
	if (dir)
		closedir(dir);
}

void handover_forget_others(struct daemon *d)
{
	int dirfd = handover_on(d) ? d->handover->dirfd : -1;
	DIR *dir = fdopendir(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *e;
	unsigned int id;
	char tail[8];

	while (dir && (e = readdir(dir)))
		if (sscanf(e->d_name, "service.%u.%7s", &id, tail) == 2 &&
		    strcmp(tail, "json") == 0 && !daemon_unit(d, id))
			state_dir_remove(dirfd, e->d_name);
	if (dir)
		closedir(dir);
}

void handover_finish(struct daemon *d)
{
	if (handover_on(d))
		handover_forget_all(d->handover);
}

/* Does a unit follow the cgroup at this absolute path? */
static bool claimed(const struct daemon *d, const char *path)
{
	for (size_t i = 0; i < d->n_units; i++)
		for (size_t j = 0; j < d->units[i]->procs.n; j++) {
			const struct cgroup *cg = &d->units[i]->procs.v[j].cg;
			if (cg->dirfd >= 0 && strcmp(cg->path, path) == 0)
				return true;
		}
	return false;
}

/* base/SERVICE/PROCESS with processes in it that no unit follows: killed. */
static void kill_unclaimed(struct daemon *d, const char *base, const char *service)
{
	char dir[CGROUP_PATH_MAX];
	DIR *procs;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/%s", base, service);
	procs = opendir(dir);
	while (procs && (e = readdir(procs))) {
		struct cgroup cg;
		char path[CGROUP_PATH_MAX];
		if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    claimed(d, path) || cgroup_open(reaper_cgroups(d), path, -1, &cg) < 0)
			continue;
		if (cgroup_populated(&cg) > 0) {
			log_warn("service=%s msg=\"processes the earlier readyd started that no "
				 "readyd follows now (a start it had not written down yet, or a "
				 "service a reload was removing): killed\" cgroup=%s",
				 service, path + cg.mount_len);
			cgroup_signal(&cg, SIGKILL);
		}
		cgroup_close(&cg, -1, false);
	}
	if (procs)
		closedir(procs);
}

void handover_stop_strays(struct daemon *d)
{
	const struct cgroup_base *b = reaper_cgroups(d);
	char base[CGROUP_PATH_MAX];
	const char *slash = strrchr(b->path, '/');
	DIR *services;
	struct dirent *e;

	if (b->dirfd < 0 || !slash || !d->handover->earlier_pid)
		return;
	snprintf(base, sizeof(base), "%.*s/readyd.%d", (int)(slash - b->path), b->path,
		 (int)d->handover->earlier_pid);
	services = opendir(base);
	while (services && (e = readdir(services)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
		    !str_starts_with(e->d_name, "cgroup."))
			kill_unclaimed(d, base, e->d_name);
	if (services)
		closedir(services);
}

void handover_save_init(struct daemon *d)
{
	struct handover *h = d->handover;

	h->flush_job = (struct loop_job){ .fn = on_flush, .data = d };
	h->exec_job = (struct loop_job){ .fn = handover_on_exec, .data = d };
}

void handover_save_close(struct daemon *d)
{
	loop_job_cancel(d->loop, &d->handover->flush_job);
	loop_job_cancel(d->loop, &d->handover->exec_job);
}
