// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Taking services back from an earlier readyd (handover.h); writing what a
 * next one needs is handover_save.c.
 */
#include "daemon/handover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "daemon/deps.h"
#include "daemon/handover_internal.h"
#include "daemon/reload.h"
#include "daemon/snapshot.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "base/safe_path.h"
#include "base/util.h"
#include "os/sock_scan.h"
#include "os/state_dir.h"

#define HANDOVER_EXIT_WAIT_MS 3000

/* ---- where ---- */

/* The state directory: `state`, else state/ next to the control socket; false: none. */
static bool state_path(const struct daemon *d, char *buf, size_t size)
{
	const struct config *c = d->cfg;
	const char *slash;

	if (d->opts->oneshot.kind != ONESHOT_NONE || d->opts->config || c->state_off)
		return false;
	if (c->state)
		return str_copy(buf, c->state, size) < size;
	slash = c->control ? strrchr(c->control, '/') : NULL;
	return slash && (size_t)snprintf(buf, size, "%.*s/state", (int)(slash - c->control),
					 c->control) < size;
}

bool handover_boot_id(char *buf, size_t size)
{
	ssize_t n = file_read_text(AT_FDCWD, "/proc/sys/kernel/random/boot_id", buf, size);

	if (n <= 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/*
 * Does the readyd that wrote the files still run? One just killed may take a
 * moment to be gone: its leader is a zombie at once, but a thread of it may
 * still be closing BPF links (the kernel waits for RCU) and holding its
 * sockets. Its pidfd says when the whole of it is gone: wait a little.
 */
static bool earlier_readyd_runs(pid_t pid)
{
	struct proc_stat st;
	struct pollfd p = { .fd = -1, .events = POLLIN };

	if (pid <= 1 || pid == getpid() || proc_read_stat(pid, &st) < 0 ||
	    strcmp(st.comm, "readyd") != 0)
		return false;
	p.fd = pidfd_open(pid, 0);
	if (p.fd < 0 || (poll(&p, 1, HANDOVER_EXIT_WAIT_MS) == 1 && (p.revents & POLLIN))) {
		fd_close(p.fd);
		return false;
	}
	fd_close(p.fd);
	return st.state != 'Z';
}

/* ---- what the earlier readyd left ---- */

static cJSON *read_json(int dirfd, const char *name, long *len)
{
	char *text = NULL;
	cJSON *o;

	*len = state_dir_read(dirfd, name, &text);
	if (*len < 0)
		return NULL;
	o = cJSON_ParseWithLength(text, (size_t)*len);
	free(text);
	if (!o)
		*len = -EBADMSG;
	return o;
}

/* Every service.NAME.json, in one array. */
static cJSON *read_services(int dirfd)
{
	cJSON *all = cJSON_CreateArray();
	DIR *dir = fdopendir(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *e;

	while (all && dir && (e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		long len;
		cJSON *o;
		if (!str_starts_with(e->d_name, "service.") || n < 6 ||
		    strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		o = read_json(dirfd, e->d_name, &len);
		if (o)
			cJSON_AddItemToArray(all, o);
		else
			log_warn("msg=\"ignoring a state file\" file=%s err=\"%s\"", e->d_name,
				 strerror((int)-len));
	}
	if (dir)
		closedir(dir);
	return all;
}

/* The config the earlier readyd ran, from its text: --control and --textfile still win. */
static struct config *running_config(struct daemon *d, const cJSON *top)
{
	const char *text = snapshot_get_str(top, "config");
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_diag diag;
	char name[PATH_MAX];

	snprintf(name, sizeof(name), "%s (as the earlier readyd ran it)", d->opts->config_path);
	if (!cfg || !text[0] || config_parse_text(name, text, &d->opts->defaults, cfg, &diag) < 0) {
		for (size_t i = 0; cfg && i < diag.n; i++)
			log_warn("msg=\"the earlier config does not parse\" at=\"%s\"",
				 diag.lines[i]);
		if (cfg && text[0])
			config_diag_free(&diag);
		free(cfg);
		return NULL;
	}
	cfg->refs = 1;
	cfg->text = strdup(text);
	if (!cfg->text || daemon_apply_overrides(d->opts, cfg) < 0) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

/* 0: take back what it left (or nothing is there); -errno: readyd must not start. */
static int take_left(struct daemon *d, struct handover *h)
{
	char boot[64], here[64];
	long len;
	cJSON *top = read_json(h->dirfd, "readyd.json", &len);
	pid_t pid = (pid_t)snapshot_get_u64(top, "pid", 0);
	struct config *was;
	int err = 0;

	if (!top) {
		if (len != -ENOENT)
			log_warn("msg=\"ignoring the earlier readyd's state\" dir=%s err=\"%s\"",
				 h->dir, strerror((int)-len));
		return 0;
	}
	str_copy(boot, snapshot_get_str(top, "boot_id"), sizeof(boot));
	if (earlier_readyd_runs(pid)) {
		log_err("msg=\"another readyd runs on this state directory: stop it, or give this "
			"one another `state =`\" dir=%s pid=%d",
			h->dir, (int)pid);
		err = -EBUSY;
	} else if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(top, "version")) ||
		   cJSON_GetObjectItemCaseSensitive(top, "version")->valueint != HANDOVER_VERSION ||
		   !handover_boot_id(here, sizeof(here)) || strcmp(boot, here) != 0) {
		log_info("msg=\"the earlier readyd's state is from another boot or version: "
			 "starting afresh\" dir=%s",
			 h->dir);
		handover_forget_all(h);
	} else if (!(was = running_config(d, top))) {
		log_warn("msg=\"cannot rebuild the earlier readyd's config: starting afresh\" "
			 "dir=%s",
			 h->dir);
	} else {
		h->children = snapshot_get_u64(top, "handover_pid", 0) == (uint64_t)getpid();
		h->earlier_pid = pid;
		h->next_id = (uint32_t)snapshot_get_u64(top, "next_id", 0);
		h->services = read_services(h->dirfd);
		h->pending = d->cfg; /* the file's: applied once the services are back */
		d->cfg = was;
		log_info("msg=\"taking back the services of the earlier readyd\" dir=%s pid=%d "
			 "how=%s",
			 h->dir, (int)pid, h->children ? "exec" : "restart");
	}
	cJSON_Delete(top);
	return err;
}

int handover_open(struct daemon *d)
{
	struct handover *h = calloc(1, sizeof(*h));
	char why[SAFE_PATH_WHY_MAX];
	ssize_t n;

	if (!h)
		return -ENOMEM;
	d->handover = h;
	h->dirfd = -1;
	handover_save_init(d);
	if (!state_path(d, h->dir, sizeof(h->dir)))
		return 0;
	n = readlink("/proc/self/exe", h->exe, sizeof(h->exe) - 1);
	h->exe[n > 0 ? n : 0] = '\0';
	if (n > 10 && strcmp(h->exe + n - 10, " (deleted)") == 0)
		h->exe[n - 10] = '\0'; /* replaced by a package upgrade: the new one is there */
	h->dirfd = state_dir_open(h->dir, why, sizeof(why));
	if (h->dirfd < 0) {
		log_warn("msg=\"no state directory: services will not outlive readyd\" dir=%s "
			 "why=\"%s\" err=\"%s\"",
			 h->dir, why, strerror(-h->dirfd));
		h->dirfd = -1;
		return 0;
	}
	return take_left(d, h);
}

void handover_close(struct daemon *d)
{
	struct handover *h = d->handover;

	if (!h)
		return;
	handover_save_close(d);
	config_unref(h->pending);
	cJSON_Delete(h->services);
	fd_close(h->dirfd);
	free(h);
	d->handover = NULL;
}

bool handover_on(const struct daemon *d)
{
	return d->handover && d->handover->dirfd >= 0;
}

bool handover_keeps_services(const struct daemon *d)
{
	return handover_on(d);
}

/* ---- making the units ---- */

static const cJSON *saved_named(const struct handover *h, const char *name)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, h->services)
	{
		if (strcmp(snapshot_get_str(o, "name"), name) == 0 &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "removed")))
			return o; /* (a removed one of that name was on its way out: a stray) */
	}
	return NULL;
}

/* Where an earlier readyd left it: its id and its notify socket's name, else a new unit. */
static int origin_of(const struct handover *h, const cJSON *o, struct unit_origin *from)
{
	const cJSON *fd = cJSON_GetObjectItemCaseSensitive(o, "notify_fd");

	memset(from, 0, sizeof(*from));
	from->id = (uint32_t)snapshot_get_u64(o, "id", 0);
	str_copy(from->notify_name, snapshot_get_str(o, "notify"), sizeof(from->notify_name));
	from->notify_fd = h->children && cJSON_IsNumber(fd) ? fd->valueint : -1;
	return from->id ? 0 : -EINVAL;
}

int handover_setup_units(struct daemon *d)
{
	struct handover *h = d->handover;
	uint32_t top = h ? h->next_id : 0;

	for (size_t i = 0; i < d->cfg->n_services; i++) {
		const struct service_config *sc = &d->cfg->services[i];
		const cJSON *o = h ? saved_named(h, sc->name) : NULL;
		struct unit_origin from;
		bool taken = o && origin_of(h, o, &from) == 0 && !daemon_unit(d, from.id);
		if (taken)
			d->next_id = from.id - 1; /* the same id: its kernel id and socket name */
		else
			d->next_id = top;
		if (!unit_new(d, d->cfg, sc, taken ? &from : NULL))
			return -ENOMEM;
		if (d->next_id > top)
			top = d->next_id;
	}
	d->next_id = top;
	return 0;
}

/* ---- taking them back ---- */

static size_t saved_procs(const cJSON *o, bool children, struct proc_saved *v, size_t max)
{
	const cJSON *k;
	size_t n = 0;

	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "procs"))
	{
		const cJSON *fd = cJSON_GetObjectItemCaseSensitive(k, "out_fd");
		struct proc_saved *s = &v[n];
		if (n == max)
			break;
		memset(s, 0, sizeof(*s));
		s->pid = (pid_t)snapshot_get_u64(k, "pid", 0);
		s->start_ticks = snapshot_get_u64(k, "start", 0);
		s->pgid = (pid_t)snapshot_get_u64(k, "pgid", 0);
		s->alive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "alive"));
		s->followed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "followed"));
		str_copy(s->cgroup, snapshot_get_str(k, "cgroup"), sizeof(s->cgroup));
		s->out_ino = snapshot_get_u64(k, "out_ino", 0);
		s->out_fd = children && cJSON_IsNumber(fd) ? fd->valueint : -1;
		n++;
	}
	return n;
}

/* A cgroup an earlier readyd made: readyd.N/SERVICE/PROCESS, nothing else. */
static bool cgroup_is_readyds(const char *path, const char *service)
{
	const char *p = strstr(path, "/readyd.");
	char tail[2 * SERVICE_NAME_MAX + 4];

	if (!p || strstr(path, "/..") || strstr(path, "//"))
		return false;
	p = strchr(p + 1, '/');
	snprintf(tail, sizeof(tail), "/%s/", service);
	return p && str_starts_with(p, tail) && !strchr(p + strlen(tail), '/');
}

/* Restore its machine and processes: true if it runs on as it was. */
static bool take_back(struct handover *h, struct unit *u, const cJSON *o)
{
	struct proc_saved procs[CONFIG_MAX_PROCS];
	size_t n = saved_procs(o, h->children, procs, ARRAY_SIZE(procs));
	char why[96];

	if (u->cfg->adopted)
		return false; /* a [watch] attaches from its config, as at any start */
	if (snapshot_restore_svc(&u->svc, cJSON_GetObjectItemCaseSensitive(o, "svc"), why,
				 sizeof(why)) < 0) {
		log_warn("service=%s msg=\"cannot take it back: starting it afresh\" why=\"%s\"",
			 u->cfg->name, why);
		svc_free(&u->svc);
		if (svc_init(&u->svc, u->cfg) < 0) { /* the services live on: the next readyd */
			log_err("service=%s msg=\"out of memory: readyd exits\"", u->cfg->name);
			exit(1);
		}
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (procs[i].cgroup[0] && !cgroup_is_readyds(procs[i].cgroup, u->cfg->name)) {
			log_warn("service=%s msg=\"its saved cgroup is not one readyd makes: "
				 "ignored\" cgroup=%s",
				 u->cfg->name, procs[i].cgroup);
			procs[i].cgroup[0] = '\0';
		}
	unit_procs_resume(u, procs, n, h->children);
	log_info("service=%s msg=\"taken back\" state=%s pid=%d restarts=%llu", u->cfg->name,
		 svc_state_name(u->svc.state), (int)u->svc.pid,
		 (unsigned long long)u->svc.restarts);
	unit_resumed(u);
	return true;
}

/* Apply the config file, as a reload would: what changed meanwhile restarts. */
static void apply_pending(struct daemon *d, struct handover *h)
{
	struct reload_summary sum;
	struct config_diag diag = { 0 };
	struct config *next = h->pending;
	int err;

	h->pending = NULL;
	if (!next)
		return;
	err = daemon_reload_to(d, next, &sum, &diag); /* (a failure is logged there) */
	config_diag_free(&diag);
	if (err)
		log_err("msg=\"the config file could not be applied; the services run on under "
			"the earlier one\"");
	else
		reload_summary_free(&sum);
}

void handover_start(struct daemon *d)
{
	struct handover *h = d->handover;
	struct svc_input boot = { .why = "started at boot" };

	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *u = d->units[i];
		const cJSON *o = h ? saved_named(h, u->cfg->name) : NULL;
		if (!o || !take_back(h, u, o))
			deps_boot_start(u, &boot); /* unless autostart = no */
	}
	if (!h)
		return;
	handover_stop_strays(d);
	cJSON_Delete(h->services);
	h->services = NULL;
	apply_pending(d, h);
	handover_save_all(d);
	handover_forget_others(d); /* files of services no unit is now */
}
