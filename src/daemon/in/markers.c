// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The `.ready` marker contract (ready = file:/path): before each spawn a
 * stale marker is removed (not for a [watch]: that file is not readyd's); the file appearing means ready, disappearing
 * means not ready. One inotify fd watches the markers' directories; any
 * event there re-checks the markers that live in it (a few stat() calls).
 * A directory that does not exist yet is polled once a second until it does.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/util.h"

#define MARKER_EVENTS (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF)
#define MARKER_POLL_NS (1 * NSEC_PER_SEC)

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
	if (u->svc.ready_mismatch)
		log_warn("service=%s msg=\"its marker says ready, the kernel disagrees\"",
			 u->cfg->name);
	daemon_mark_dirty(u->d);
}

void unit_marker_check(struct unit *u)
{
	check_marker(u);
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

static void on_marker_poll(struct loop *loop, struct loop_timer *t);

int daemon_markers_init(struct daemon *d)
{
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inotify_fd < 0)
		return -errno;
	d->inotify_src = (struct loop_source){ .fd = d->inotify_fd, .fn = on_inotify, .data = d };
	d->marker_poll = (struct loop_timer){ .fn = on_marker_poll, .data = d };
	return loop_add(d->loop, &d->inotify_src, EPOLLIN);
}

void daemon_markers_close(struct daemon *d)
{
	if (d->inotify_fd < 0)
		return;
	loop_del(d->loop, &d->inotify_src);
	loop_timer_cancel(d->loop, &d->marker_poll);
	d->inotify_fd = fd_close(d->inotify_fd);
}

/* Watch the marker's directory; false if it does not exist (yet). */
static bool watch_dir(struct unit *u)
{
	char dir[4096];

	if (u->marker_wd >= 0)
		return true;
	str_copy(dir, u->cfg->ready_file, sizeof(dir));
	u->marker_wd = inotify_add_watch(u->d->inotify_fd, dirname(dir), MARKER_EVENTS);
	return u->marker_wd >= 0;
}

static void on_marker_poll(struct loop *loop, struct loop_timer *t)
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

void unit_marker_arm(struct unit *u)
{
	if (!(u->cfg->ready & READY_FILE))
		return;
	/* A marker left by an earlier instance must not count for this one (ours only). */
	if (u->cfg->adopted)
		;
	else if (unlink(u->cfg->ready_file) == 0)
		log_info("service=%s msg=\"removed a stale ready marker\" path=%s", u->cfg->name,
			 u->cfg->ready_file);
	else if (errno != ENOENT)
		log_warn("service=%s msg=\"cannot remove a stale ready marker\" path=%s err=\"%s\"",
			 u->cfg->name, u->cfg->ready_file, strerror(errno));
	if (!watch_dir(u) && !loop_timer_armed(&u->d->marker_poll))
		loop_timer_arm(u->d->loop, &u->d->marker_poll, now_mono_ns() + MARKER_POLL_NS);
}

void unit_marker_disarm(struct unit *u)
{
	/* A watch descriptor is per directory: keep it while another unit shares it. */
	for (size_t i = 0; u->marker_wd >= 0 && i < u->d->n_units; i++)
		if (u->d->units[i] != u && u->d->units[i]->marker_wd == u->marker_wd)
			u->marker_wd = -1;
	if (u->marker_wd >= 0)
		inotify_rm_watch(u->d->inotify_fd, u->marker_wd);
	u->marker_wd = -1;
}
