// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/in/prespawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/sock_table.h"
#include "daemon/unit.h"
#include "model/findings.h"
#include "os/sockets.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/safe_path.h"
#include "base/util.h"

/*
 * Remove a stale socket file: only a socket, never a listened-on one, and
 * never through a symlink, the last component's or one on the way (the
 * directory is often the service's own: a link its user planted there must
 * not lead root to remove a socket file elsewhere).
 */
static void remove_stale(struct unit *u, const char *path)
{
	char why[SAFE_PATH_WHY_MAX], text[SAFE_PATH_WHY_MAX + 64];
	const char *base;
	struct stat st;
	int dfd = safe_path_parent(path, SAFE_PATH_ANY_OWNER, &base, why, sizeof(why));

	if (dfd < 0) {
		log_warn("service=%s msg=\"cannot remove stale unix socket file\" path=%s "
			 "err=\"%s\"",
			 u->cfg->name, path, log_escape(text, sizeof(text), why));
		return;
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
		if (unlinkat(dfd, base, 0) == 0)
			log_info("service=%s msg=\"removed a stale unix socket file: nothing "
				 "listened "
				 "on it\" path=%s",
				 u->cfg->name, path);
		else
			log_warn("service=%s msg=\"cannot remove stale unix socket file\" path=%s "
				 "err=\"%m\"",
				 u->cfg->name, path);
	}
	close(dfd);
}

/* Someone else holds l's address: the listener is told who, the start fails. */
static int refuse(struct unit *u, const struct listener *l, const struct sock_entry *holder,
		  struct svc_exit *fail)
{
	char owner[256], text[sizeof(l->conflict)];
	struct svc_sock obs = { .addr = &holder->addr, .bind_errno = EADDRINUSE, .holder = text };

	sockets_describe_owner(holder->inode, owner, sizeof(owner));
	snprintf(text, sizeof(text), "%s is held by %s", l->label, owner);
	unit_handle(u, SVC_EV_SOCKET, &(struct svc_input){ .sock = &obs });
	snprintf(fail->spawn_error, sizeof(fail->spawn_error),
		 "port conflict: %s; not started while it is", text);
	return -EADDRINUSE;
}

static int before_spawn(struct unit *u, struct svc_exit *fail)
{
	const struct sock_table *t;
	struct sock_match m;

	if (u->cfg->adopted) /* a [watch] holds its own addresses, of course */
		return 0;
	/*
	 * Not starting is a verdict on what the kernel holds since the start was
	 * decided (the last instance gone): a dump from before still shows the
	 * listener of the instance that just exited (every other `readyctl
	 * restart` failed on it in the scans bench). One dump serves every start
	 * decided before it: a boot of 1,000 had dumped the node 1,000 times.
	 */
	t = daemon_sock_table_since(u->d, u->spawn_job.queued_at);
	if (!t)
		return 0; /* cannot look: the bind will tell */
	for (size_t i = 0; i < u->svc.n_listeners; i++) {
		const struct listener *l = &u->svc.listeners[i];
		sock_match(l, t, NULL, sockets_is_socket_file,
			   &m); /* nothing of it runs: every holder is foreign */
		if (m.n_foreign)
			return refuse(u, l, m.foreign[0], fail);
		if (!m.stale_file)
			continue;
		if (u->cfg->remove_stale)
			remove_stale(u, l->spec->path);
		else
			log_warn("service=%s msg=\"stale unix socket file: nothing listens on it; "
				 "the "
				 "service may fail to bind (remove_stale = yes removes it)\" "
				 "path=%s",
				 u->cfg->name, l->spec->path);
	}
	return 0;
}

const struct unit_module prespawn_module = {
	.name = "prespawn",
	.before_spawn = before_spawn,
};
