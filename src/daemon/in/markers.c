// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/markers.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/unit.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/safe_path.h"
#include "base/util.h"

#define MARKER_EVENTS                                                                              \
	(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF)
#define MARKER_POLL_NS (1 * NSEC_PER_SEC)

struct markers {
	int inotify_fd;
	struct loop_source src;
	struct loop_timer poll; /* for markers whose directory does not exist yet */
};

struct unit_marker {
	int wd; /* inotify watch on the marker's directory, -1 if none */
};

static bool marker_exists(const struct unit *u)
{
	struct stat st;

	return lstat(u->cfg->ready_file, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Tell the state machine when the file's presence differs from what it knows. */
static void check_marker(struct unit *u)
{
	struct svc_input in = { 0 };

	if (!(u->cfg->ready & READY_FILE) || !u->svc.pid)
		return;
	in.ok = marker_exists(u);
	if (in.ok == u->svc.marker_present)
		return;
	log_info("service=%s msg=\"ready marker %s\" path=%s", u->cfg->name,
		 in.ok ? "appeared" : "disappeared", u->cfg->ready_file);
	unit_handle(u, SVC_EV_MARKER, &in);
}

static void on_inotify(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct daemon *d = src->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)loop, (void)events;
	while (read(src->fd, buf, sizeof(buf)) > 0)
		; /* which file does not matter: every armed marker is checked below */
	for (size_t i = 0; i < d->n_units; i++)
		check_marker(d->units[i]);
}

/* Watch the marker's directory; false if it does not exist (yet). */
static bool watch_dir(struct unit *u)
{
	char dir[4096];

	if (u->marker->wd >= 0)
		return true;
	str_copy(dir, u->cfg->ready_file, sizeof(dir));
	u->marker->wd = inotify_add_watch(u->d->markers->inotify_fd, dirname(dir), MARKER_EVENTS);
	return u->marker->wd >= 0;
}

static void on_poll(struct loop *loop, struct loop_timer *t)
{
	struct daemon *d = t->data;
	bool again = false;

	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *u = d->units[i];
		if (!(u->cfg->ready & READY_FILE) || !u->svc.pid)
			continue;
		if (!watch_dir(u))
			again = true;
		check_marker(u);
	}
	if (again)
		loop_timer_arm(loop, t, now_mono_ns() + MARKER_POLL_NS);
}

/*
 * A marker left by an earlier instance must not count for this one. It is
 * removed through its directory, opened without following a link on the
 * way: that directory is often the service's own, and a link its user put
 * there must not have root remove a file of that name somewhere else.
 */
static void remove_stale(struct unit *u)
{
	char why[SAFE_PATH_WHY_MAX], text[SAFE_PATH_WHY_MAX + 64];
	const char *path = u->cfg->ready_file, *base;
	int dirfd = safe_path_parent(path, SAFE_PATH_ANY_OWNER, &base, why, sizeof(why));

	if (dirfd == -ENOENT)
		return; /* no directory, no marker */
	if (dirfd < 0) {
		log_warn("service=%s msg=\"cannot remove a stale ready marker\" path=%s err=\"%s\"",
			 u->cfg->name, path, log_escape(text, sizeof(text), why));
		return;
	}
	if (unlinkat(dirfd, base, 0) == 0)
		log_info("service=%s msg=\"removed a stale ready marker\" path=%s", u->cfg->name,
			 path);
	else if (errno != ENOENT)
		log_warn("service=%s msg=\"cannot remove a stale ready marker\" path=%s err=\"%s\"",
			 u->cfg->name, path, strerror(errno));
	close(dirfd);
}

/* Before a spawn: remove a stale marker, watch for the new one. */
static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	struct markers *m = u->d->markers;

	(void)fail;
	if (!(u->cfg->ready & READY_FILE))
		return 0;
	if (!u->cfg->adopted) /* ours only */
		remove_stale(u);
	if (!watch_dir(u) && !loop_timer_armed(&m->poll))
		loop_timer_arm(u->d->loop, &m->poll, now_mono_ns() + MARKER_POLL_NS);
	return 0;
}

/* An adopted service may have written its marker long before readyd looked. */
static void observe(struct unit *u, const struct unit_news *n)
{
	struct markers *m = u->d->markers;

	if (n->resumed && (u->cfg->ready & READY_FILE) && !watch_dir(u) &&
	    !loop_timer_armed(&m->poll))
		loop_timer_arm(u->d->loop, &m->poll, now_mono_ns() + MARKER_POLL_NS);
	if ((n->spawned && u->cfg->adopted) || n->resumed)
		check_marker(u);
}

static int add(struct unit *u)
{
	u->marker = malloc(sizeof(*u->marker));
	if (!u->marker)
		return -ENOMEM;
	u->marker->wd = -1;
	return 0;
}

static void remove_unit(struct unit *u)
{
	struct daemon *d = u->d;
	int wd;

	if (!u->marker)
		return;
	wd = u->marker->wd;
	/* A watch descriptor is per directory: keep it while another unit shares it. */
	for (size_t i = 0; wd >= 0 && i < d->n_units; i++)
		if (d->units[i] != u && d->units[i]->marker && d->units[i]->marker->wd == wd)
			wd = -1;
	if (wd >= 0)
		inotify_rm_watch(d->markers->inotify_fd, wd);
	free(u->marker);
	u->marker = NULL;
}

const struct unit_module markers_module = {
	.name = "markers",
	.add = add,
	.remove = remove_unit,
	.observe = observe,
	.before_spawn = before_spawn,
};

int markers_open(struct daemon *d)
{
	struct markers *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	d->markers = m;
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->inotify_fd < 0)
		return -errno;
	m->src = (struct loop_source){ .fd = m->inotify_fd, .fn = on_inotify, .data = d };
	m->poll = (struct loop_timer){ .fn = on_poll, .data = d };
	return loop_add(d->loop, &m->src, EPOLLIN);
}

void markers_close(struct daemon *d)
{
	struct markers *m = d->markers;

	if (!m)
		return;
	if (m->inotify_fd >= 0) {
		loop_del(d->loop, &m->src);
		loop_timer_cancel(d->loop, &m->poll);
		fd_close(m->inotify_fd);
	}
	free(m);
	d->markers = NULL;
}
