// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/control_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/clock.h"
#include "base/safe_path.h"
#include "base/util.h"
#include "os/accept_spare.h"

struct control_client {
	struct control *ctl;
	struct loop_source src;
	struct loop_timer idle;
	struct control_peer peer;
	char in[CONTROL_REQUEST_MAX + 1]; /* the request, newline included, and a NUL */
	size_t in_len;
	char *out;
	size_t out_len, out_done;
	bool replied;	  /* the final line is queued: close once it is sent */
	bool dead;	  /* closed: every call is a no-op until free_job runs */
	const void *wait; /* waiting on this tag */
	int wait_kind;
	void *stream; /* a stream's (control_stream): freed with the client */
	void (*stream_free)(void *data);
	struct loop_job free_job;
};

struct control {
	struct loop *loop;
	struct loop_source src;
	struct accept_pause pause; /* out of fds with no spare: src rests */
	char path[108];
	control_request_fn fn;
	void *ctx;
	struct control_client *clients[CONTROL_CLIENTS_MAX];
};

static void on_free_job(struct loop *loop, struct loop_job *job)
{
	struct control_client *c = job->data;
	struct control *ctl = c->ctl;

	(void)loop;
	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] == c)
			ctl->clients[i] = NULL;
	if (c->stream_free)
		c->stream_free(c->stream);
	free(c->out);
	free(c);
}

/*
 * Close now, free later (from a loop job): callers up the stack may still
 * hold the pointer within this callback, and every call on it is a no-op.
 */
static void client_free(struct control_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->wait = NULL;
	loop_del(c->ctl->loop, &c->src);
	loop_timer_cancel(c->ctl->loop, &c->idle);
	close(c->src.fd);
	c->src.fd = -1;
	/* Its slot is free once this runs: ahead of queued forks (a storm's 1,000 of them). */
	loop_job_queue_first(c->ctl->loop, &c->free_job);
}

/* Send what is queued; close after the final line. Returns false if c was freed. */
static bool client_flush(struct control_client *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n = send(c->src.fd, c->out + c->out_done, c->out_len - c->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			loop_mod(c->ctl->loop, &c->src, EPOLLOUT | EPOLLRDHUP);
			return true;
		}
		if (n <= 0) {
			client_free(c); /* the peer went away: nothing to tell it */
			return false;
		}
		c->out_done += (size_t)n;
	}
	c->out_len = c->out_done = 0;
	if (c->replied) {
		client_free(c);
		return false;
	}
	loop_mod(c->ctl->loop, &c->src, EPOLLIN | EPOLLRDHUP);
	return true;
}

/*
 * What was sent goes, but the start of a line half sent stays (client_drop
 * finishes that line): a stream whose reader keeps up but never quite
 * empties the buffer must not reach CONTROL_OUTPUT_MAX on bytes long gone.
 */
static void compact(struct control_client *c)
{
	size_t start = c->out_done;

	while (start && c->out[start - 1] != '\n')
		start--;
	if (!start)
		return;
	memmove(c->out, c->out + start, c->out_len - start);
	c->out_len -= start;
	c->out_done -= start;
}

/* Append a line; a client that does not read is dropped past CONTROL_OUTPUT_MAX. */
static bool client_queue(struct control_client *c, const char *data)
{
	size_t len = strlen(data);
	char *grown;

	compact(c);
	if (c->out_len + len + 1 > CONTROL_OUTPUT_MAX ||
	    !(grown = realloc(c->out, c->out_len + len + 1))) {
		client_free(c);
		return false;
	}
	c->out = grown;
	memcpy(c->out + c->out_len, data, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

bool control_send(struct control_client *c, const char *data)
{
	return !c->dead && client_queue(c, data) && client_flush(c);
}

void control_reply(struct control_client *c, const char *data)
{
	if (c->dead)
		return;
	c->replied = true;
	c->wait = NULL;
	if (client_queue(c, data))
		client_flush(c);
}

/*
 * The backlog goes, but not the rest of a line half sent (the client would
 * read a broken line): it ends, then `last`, which closes the connection.
 * A client that never reads again is closed by the idle timer, so a dropped
 * stream holds its slot CONTROL_DROP_NS at most.
 */
static void client_drop(struct control_client *c, const char *last)
{
	char *nl = NULL;

	if (c->out_done && c->out[c->out_done - 1] != '\n')
		nl = memchr(c->out + c->out_done, '\n', c->out_len - c->out_done);
	c->out_len = nl ? (size_t)(nl - c->out) + 1 : c->out_done;
	control_reply(c, last);
	if (!c->dead)
		loop_timer_arm(c->ctl->loop, &c->idle, now_mono_ns() + CONTROL_DROP_NS);
}

bool control_send_bounded(struct control_client *c, const char *data, size_t limit,
			  const char *last)
{
	if (c->dead || c->replied)
		return false;
	if (c->out_len - c->out_done + strlen(data) + 1 > limit) {
		client_drop(c, last);
		return false;
	}
	return control_send(c, data);
}

void control_stream(struct control_client *c, const void *tag, void *data,
		    void (*free_fn)(void *data))
{
	int size = CONTROL_STREAM_SNDBUF;

	if (c->dead) {
		free_fn(data);
		return;
	}
	c->stream = data;
	c->stream_free = free_fn;
	/*
	 * A small kernel buffer: a reader that stops is noticed after
	 * ~2 x CONTROL_STREAM_SNDBUF, not the node's default 200 KiB (best effort).
	 */
	if (setsockopt(c->src.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		log_debug("msg=\"SO_SNDBUF not set\" err=\"%s\"", strerror(errno));
	control_wait(c, tag, 0);
}

void *control_stream_data(const struct control_client *c)
{
	return c->stream;
}

size_t control_waiting_on(const struct control *ctl, const void *tag)
{
	size_t n = 0;

	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
		n += ctl->clients[i] && !ctl->clients[i]->dead && ctl->clients[i]->wait == tag;
	return n;
}

static size_t count_waiting(const struct control *ctl, const struct control_client *but)
{
	size_t n = 0;

	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
		n += ctl->clients[i] && ctl->clients[i] != but && !ctl->clients[i]->dead &&
		     ctl->clients[i]->wait;
	return n;
}

bool control_may_wait(const struct control_client *c)
{
	return count_waiting(c->ctl, c) < CONTROL_WAITERS_MAX;
}

void control_wait(struct control_client *c, const void *tag, int kind)
{
	if (c->dead)
		return;
	if (!control_may_wait(c)) { /* callers ask first; a slot for the rest is kept regardless */
		char line[128];
		snprintf(line, sizeof(line),
			 "{\"ok\":false,\"error\":\"too many clients waiting (%d); try again\"}",
			 CONTROL_WAITERS_MAX);
		control_reply(c, line);
		return;
	}
	c->wait = tag;
	c->wait_kind = kind;
	loop_timer_cancel(c->ctl->loop, &c->idle);
}

int control_wait_kind(const struct control_client *c)
{
	return c->wait_kind;
}

void control_wake(struct control *ctl, const void *tag,
		  void (*fn)(struct control_client *c, void *ctx), void *ctx)
{
	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] && !ctl->clients[i]->dead && ctl->clients[i]->wait == tag)
			fn(ctl->clients[i], ctx);
}

static void client_read(struct control_client *c)
{
	char *nl;
	ssize_t n;

	n = recv(c->src.fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) { /* closed (a waiter that gave up) or error */
		client_free(c);
		return;
	}
	if (c->replied || c->wait)
		return; /* one request per connection */
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	nl = memchr(c->in, '\n', c->in_len);
	if (!nl && c->in_len == CONTROL_REQUEST_MAX) {
		log_warn("msg=\"control request rejected: too large\" peer_pid=%d limit=%d",
			 (int)c->peer.cred.pid, CONTROL_REQUEST_MAX);
		control_reply(c, "{\"ok\":false,\"error\":\"request larger than 4096 bytes\"}");
		return;
	}
	if (!nl)
		return;
	*nl = '\0';
	c->ctl->fn(c, c->in, &c->peer, c->ctl->ctx);
}

static void on_client(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct control_client *c = src->data;

	(void)loop;
	if ((events & EPOLLOUT) && !client_flush(c))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		client_read(c);
}

static void on_idle(struct loop *loop, struct loop_timer *t)
{
	struct control_client *c = t->data;

	(void)loop;
	if (c->replied)
		log_warn("msg=\"control client closed: its last line unread\" peer_pid=%d",
			 (int)c->peer.cred.pid);
	else
		log_warn("msg=\"control client dropped: no request within 10s\" peer_pid=%d",
			 (int)c->peer.cred.pid);
	client_free(c);
}

/*
 * No room: say so in the protocol's error format, then close. Best effort
 * and never waiting: the line is far smaller than an empty socket buffer,
 * and a client that is not there to read it loses nothing.
 */
static void refuse_client(int fd, bool full)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n",
			 full ? "too many clients (" STR(CONTROL_CLIENTS_MAX) "); try again"
			      : "out of memory");

	log_warn("msg=\"control client refused: %s\" limit=%d",
		 full ? "too many clients" : "out of memory", CONTROL_CLIENTS_MAX);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("msg=\"refusal not sent\" err=\"%s\"", strerror(errno));
	close(fd);
}

static void on_accept(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct control *ctl = src->data;
	struct control_client *c;
	socklen_t len = sizeof(struct ucred), glen;
	size_t slot;
	int fd;

	(void)events;
	fd = accept_or_shed(&ctl->pause, "control");
	if (fd < 0)
		return; /* none waits, or out of fds: shed and logged there */
	for (slot = 0; slot < CONTROL_CLIENTS_MAX && ctl->clients[slot]; slot++)
		;
	c = slot < CONTROL_CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		refuse_client(fd, slot == CONTROL_CLIENTS_MAX);
		return;
	}
	c->ctl = ctl;
	c->free_job = (struct loop_job){ .fn = on_free_job, .data = c };
	c->src = (struct loop_source){ .fd = fd, .fn = on_client, .data = c };
	c->idle = (struct loop_timer){ .fn = on_idle, .data = c };
	glen = sizeof(c->peer.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->peer.groups, &glen) == 0)
		c->peer.n_groups =
			glen / sizeof(gid_t); /* (too many: none; root or primary group only) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer.cred, &len) < 0 ||
	    loop_add(loop, &c->src, EPOLLIN | EPOLLRDHUP) < 0) {
		close(fd);
		free(c);
		return;
	}
	ctl->clients[slot] = c;
	loop_timer_arm(loop, &c->idle, now_mono_ns() + CONTROL_IDLE_NS);
}

/* Is someone answering on path? Then it is not ours to remove. dirfd: its checked directory. */
static int check_existing(int dirfd, const char *base, const char *path, char *why, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
		if (err != -ENOENT)
			snprintf(why, size, "%s: %s", path, strerror(-err));
		return err == -ENOENT ? 0 : err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, size,
			 "%s exists and is not a socket: remove it or choose another path", path);
		return -EEXIST;
	}
	str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, size, "socket: %s", strerror(-err));
		return err;
	}
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? -EADDRINUSE : 0;
	close(fd);
	if (err) {
		snprintf(why, size, "another readyd is answering on %s", path);
		return err;
	}
	if (unlinkat(dirfd, base, 0) < 0) { /* stale: left by a readyd that died */
		err = -errno;
		snprintf(why, size, "cannot remove the stale socket %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * The mode comes from the umask at bind (0600, or 0660 with a group), so
 * there is no window where others could connect; fchownat never follows a
 * symlink, and the directory is one nobody but root can change.
 */
static int bind_private(int fd, int dirfd, const char *base, const char *path, gid_t gid, char *why,
			size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old = umask(gid != (gid_t)-1 ? 0117 : 0177);
	int err = 0;

	str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	umask(old);
	if (!err && gid != (gid_t)-1 && fchownat(dirfd, base, 0, gid, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno;
	if (err)
		snprintf(why, size, "bind %s: %s", path, strerror(-err));
	return err;
}

/* The listening socket at path, in its checked directory; -errno with why set. */
static int listen_at(struct control *ctl, const char *path, gid_t gid, char *why, size_t size)
{
	const char *base;
	int dirfd = safe_path_parent(path, SAFE_PATH_CREATE, &base, why, size);
	int err = dirfd < 0 ? dirfd : check_existing(dirfd, base, path, why, size);

	if (!err) {
		ctl->src.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		err = ctl->src.fd < 0 ? -errno : 0;
		if (err)
			snprintf(why, size, "socket: %s", strerror(-err));
	}
	if (!err)
		err = bind_private(ctl->src.fd, dirfd, base, path, gid, why, size);
	if (!err && listen(ctl->src.fd, 16) < 0) {
		err = -errno;
		snprintf(why, size, "listen: %s", strerror(-err));
		unlinkat(dirfd, base, 0);
	}
	if (err && ctl->src.fd >= 0)
		ctl->src.fd = fd_close(ctl->src.fd);
	fd_close(dirfd);
	return err;
}

int control_open(struct loop *loop, const char *path, gid_t gid, control_request_fn fn, void *ctx,
		 struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	char why[SAFE_PATH_WHY_MAX], text[SAFE_PATH_WHY_MAX + 64];
	int err;

	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->fn = fn;
	ctl->ctx = ctx;
	ctl->src = (struct loop_source){ .fd = -1, .fn = on_accept, .data = ctl };
	accept_pause_init(&ctl->pause, loop, &ctl->src);
	if (str_copy(ctl->path, path, sizeof(ctl->path)) >= sizeof(ctl->path)) {
		snprintf(why, sizeof(why), "longer than %zu bytes", sizeof(ctl->path) - 1);
		err = -ENAMETOOLONG;
	} else {
		err = listen_at(ctl, path, gid, why, sizeof(why));
	}
	if (!err) {
		err = loop_add(loop, &ctl->src, EPOLLIN);
		if (err) {
			snprintf(why, sizeof(why), "epoll: %s", strerror(-err));
			close(ctl->src.fd);
			unlink(path);
		}
	}
	if (err) {
		log_err("msg=\"cannot open control socket\" path=%s err=\"%s\"", path,
			log_escape(text, sizeof(text), why));
		free(ctl);
		return err;
	}
	*out = ctl;
	return 0;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct control_client *c = ctl->clients[i];
		if (!c)
			continue;
		client_free(c);
		loop_job_cancel(ctl->loop, &c->free_job);
		on_free_job(ctl->loop, &c->free_job);
	}
	accept_pause_cancel(&ctl->pause);
	loop_del(ctl->loop, &ctl->src);
	close(ctl->src.fd);
	unlink(ctl->path);
	free(ctl);
}
