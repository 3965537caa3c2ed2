// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/bpf_holder.h"
#include "os/closer.h"
#include "os/tracer_event.h"
#include "base/log.h"
#include "readyd.skel.h"
#include "base/clock.h"
#include "base/util.h"

_Static_assert(sizeof(struct rd_event) == RD_EVENT_SIZE, "rd_event ABI changed size");

#define TRACEFS		  "/sys/kernel/tracing"
#define SYSCALL_SECTION	  "tracepoint/syscalls/"
#define MAX_SYSCALL_PROGS 16

struct tracer {
	struct readyd_bpf *skel;
	struct ring_buffer *rb;
	enum tracer_mode mode;
	tracer_event_fn on_event;
	void *ctx;
	struct bpf_program *syscall_progs[MAX_SYSCALL_PROGS];
	struct bpf_link *syscall_links[MAX_SYSCALL_PROGS];
	size_t n_syscall;
	bool syscalls_on;
	struct closer *closer; /* destroys syscall links off the loop */
	uint64_t *percpu;      /* scratch for reading the per-CPU drop counter */
	int ncpus;
	uint64_t events; /* delivered to on_event */
};

static const char *const mode_names[] = {
	[TRACER_AUTO] = "auto",
	[TRACER_FENTRY] = "fentry",
	[TRACER_TRACEPOINT] = "tracepoint",
	[TRACER_POLL] = "poll",
};

const char *tracer_mode_name(enum tracer_mode m)
{
	return m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

int tracer_mode_parse(const char *s, enum tracer_mode *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum tracer_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* libbpf's own chatter: shown with -v only, as debug lines. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512], esc[1024];
	size_t n;

	if (level == LIBBPF_DEBUG || log_level() < LOG_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("msg=\"libbpf: %s\"", log_escape(esc, sizeof(esc), line));
	return 0;
}

/* Syscall tracepoints need tracefs; a fresh node may not have it mounted. */
static int ensure_tracefs(void)
{
	struct stat st;

	if (stat(TRACEFS "/events", &st) == 0 || stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	log_info("msg=\"mounted tracefs\" path=%s", TRACEFS);
	return 0;
}

static bool is_syscall_prog(const struct bpf_program *p)
{
	return str_starts_with(bpf_program__section_name(p), SYSCALL_SECTION);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	struct rd_event e;

	if (tracer_event_decode(data, size, &e) < 0)
		return 0; /* not our ABI: ignore rather than misread */
	t->events++;
	t->on_event(&e, t->ctx);
	return 0;
}

/* Attach the always-on programs; the skeleton owns (and destroys) these links. */
static int attach_base(struct tracer *t, bool fentry)
{
	struct readyd_bpf *s = t->skel;

	s->links.on_fork = bpf_program__attach(s->progs.on_fork);
	if (!s->links.on_fork)
		return -errno;
	s->links.on_exit = bpf_program__attach(s->progs.on_exit);
	if (!s->links.on_exit)
		return -errno;
	s->links.on_tcp_destroy = bpf_program__attach(s->progs.on_tcp_destroy);
	if (!s->links.on_tcp_destroy)
		return -errno;
	s->links.on_sock_state = bpf_program__attach(s->progs.on_sock_state);
	if (!s->links.on_sock_state)
		return -errno;
	if (fentry) {
		s->links.on_csk_accept = bpf_program__attach(s->progs.on_csk_accept);
		if (!s->links.on_csk_accept)
			return -errno;
	}
	return 0;
}

static void collect_syscall_progs(struct tracer *t)
{
	struct bpf_program *p;

	t->n_syscall = 0;
	bpf_object__for_each_program(p, t->skel->obj) if (bpf_program__autoload(p) &&
							  is_syscall_prog(p) &&
							  t->n_syscall < MAX_SYSCALL_PROGS)
		t->syscall_progs[t->n_syscall++] = p;
}

static void detach_syscalls(struct tracer *t);

static void unload(struct tracer *t)
{
	if (t->syscalls_on)
		detach_syscalls(t);
	ring_buffer__free(t->rb);
	t->rb = NULL;
	readyd_bpf__destroy(t->skel);
	t->skel = NULL;
}

static int load(struct tracer *t, enum tracer_mode mode, const struct tracer_opts *o)
{
	bool fentry = mode == TRACER_FENTRY;
	int err;

	t->skel = readyd_bpf__open();
	if (!t->skel)
		return -errno;
	bpf_map__set_max_entries(t->skel->maps.events,
				 o->ringbuf_bytes ? o->ringbuf_bytes : 256 * 1024);
	bpf_map__set_max_entries(t->skel->maps.watched_tgids,
				 o->max_watched ? o->max_watched : 16384);
	bpf_map__set_max_entries(t->skel->maps.listeners,
				 o->max_listeners ? o->max_listeners : 8192);
	bpf_map__set_max_entries(t->skel->maps.queue_ports,
				 o->max_listeners ? o->max_listeners : 8192);
	/*
	 * fentry adds accepts seen in the socket layer (io_uring too); the
	 * accept tracepoints stay, unix sockets never reach inet_csk_accept.
	 */
	bpf_program__set_autoload(t->skel->progs.on_csk_accept, fentry);
	err = readyd_bpf__load(t->skel);
	if (!err)
		err = attach_base(t, fentry);
	if (!err) {
		t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), handle_event, t, NULL);
		err = t->rb ? 0 : -errno;
	}
	if (!err) {
		collect_syscall_progs(t);
		/*
		 * Prove now that the tracepoints attach, not at the first spawn.
		 * They stay attached: services start next, and the daemon
		 * detaches them once nothing is starting.
		 */
		err = tracer_set_syscalls(t, true);
	}
	if (err)
		unload(t);
	else
		t->mode = mode;
	return err;
}

int tracer_open(const struct tracer_opts *opts, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	t->on_event = opts->on_event;
	t->ctx = opts->ctx;
	t->ncpus = libbpf_num_possible_cpus();
	t->percpu = calloc(t->ncpus > 0 ? (size_t)t->ncpus : 1, sizeof(uint64_t));
	libbpf_set_print(libbpf_log);
	if (opts->want == TRACER_POLL)
		goto poll;
	err = closer_start(&t->closer);
	if (err)
		log_warn("msg=\"no closer thread: detaching will block the loop\" err=\"%s\"",
			 strerror(-err));
	err = ensure_tracefs();
	if (err)
		log_warn("msg=\"cannot mount tracefs: syscall tracepoints will not attach\" "
			 "path=%s err=\"%s\"",
			 TRACEFS, strerror(-err));
	if (opts->want == TRACER_AUTO || opts->want == TRACER_FENTRY) {
		err = load(t, TRACER_FENTRY, opts);
		if (!err)
			goto done;
		if (opts->want == TRACER_FENTRY) {
			log_err("msg=\"fentry mode unavailable\" err=\"%s\"", strerror(-err));
			goto fail;
		}
		log_info("msg=\"fentry mode unavailable, falling back to tracepoints\" err=\"%s\"",
			 strerror(-err));
	}
	err = load(t, TRACER_TRACEPOINT, opts);
	if (err && opts->want == TRACER_TRACEPOINT) {
		log_err("msg=\"cannot load BPF programs\" mode=tracepoint err=\"%s\"",
			strerror(-err));
		goto fail;
	}
	if (err) {
		/* Not root, an old kernel, a locked-down node: readyd still works, from /proc. */
		log_warn("msg=\"BPF unavailable, falling back to poll mode (sock_diag and /proc)\" "
			 "err=\"%s\"",
			 strerror(-err));
		goto poll;
	}
done:
	log_info("msg=\"tracer ready\" mode=%s syscall_programs=%zu", tracer_mode_name(t->mode),
		 t->n_syscall);
	*out = t;
	return 0;
poll:
	closer_stop(t->closer);
	t->closer = NULL;
	t->mode = TRACER_POLL;
	log_info("msg=\"tracer ready\" mode=poll");
	*out = t;
	return 0;
fail:
	closer_stop(t->closer);
	free(t->percpu);
	free(t);
	return err;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	if (t->skel) /* readyd is about to exit: let another process wait for the kernel */
		bpf_holder_start();
	unload(t);
	closer_stop(t->closer); /* joins the thread: queued links are destroyed first */
	free(t->percpu);
	free(t);
}

enum tracer_mode tracer_mode(const struct tracer *t)
{
	return t ? t->mode : TRACER_AUTO;
}

/* Poll mode has no BPF: every call below is then a no-op or "not known". */
int tracer_fd(const struct tracer *t)
{
	return t->rb ? ring_buffer__epoll_fd(t->rb) : -1;
}

int tracer_consume(struct tracer *t)
{
	return t->rb ? ring_buffer__consume(t->rb) : 0;
}

int tracer_watch(struct tracer *t, pid_t tgid, uint32_t kid)
{
	__u32 key = (__u32)tgid;

	if (!t->skel)
		return 0;
	if (bpf_map__update_elem(t->skel->maps.watched_tgids, &key, sizeof(key), &kid, sizeof(kid),
				 BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* The value of both maps starts with the kernel id: (unit << RD_PROC_BITS) | process. */
static uint32_t kid_of_value(const void *value)
{
	uint32_t kid;

	memcpy(&kid, value, sizeof(kid));
	return kid;
}

#define WALK_BATCH 256

typedef bool (*walk_fn)(const void *key, const void *value, void *ctx); /* false: stop */

/* get_next_key and a lookup per entry: for kernels without batch lookups (before 5.6). */
static void walk_one_by_one(int fd, walk_fn fn, void *ctx)
{
	uint64_t key[2] = { 0 }, value[4] = { 0 };
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : key, key) == 0) {
		first = false;
		if (bpf_map_lookup_elem(fd, key, value) == 0 && !fn(key, value, ctx))
			return;
	}
}

/*
 * Every entry of a hash map, WALK_BATCH per bpf() call: a walk of a map of
 * 10,000 entries was 20,000 calls one by one.
 */
static void walk_map(struct bpf_map *map, size_t key_size, size_t value_size, walk_fn fn, void *ctx)
{
	static uint64_t keys[WALK_BATCH * 2], values[WALK_BATCH * 4];
	uint64_t in[2], out[2];
	bool first = true;
	int fd = bpf_map__fd(map);

	_Static_assert(sizeof(struct rd_listener) <= 4 * sizeof(uint64_t), "value buffer");
	for (;;) {
		__u32 count = WALK_BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, values, &count,
					       NULL);
		if (err < 0 && errno != ENOENT) {
			if (first) /* not supported: the old way */
				walk_one_by_one(fd, fn, ctx);
			return;
		}
		for (__u32 i = 0; i < count; i++)
			if (!fn((char *)keys + i * key_size, (char *)values + i * value_size, ctx))
				return;
		if (err < 0) /* ENOENT: that was the last batch */
			return;
		memcpy(in, out, sizeof(in));
		first = false;
	}
}

struct doomed {
	uint32_t unit;
	size_t key_size;
	uint64_t *keys;
	size_t n, cap;
};

static bool collect_doomed(const void *key, const void *value, void *ctx)
{
	struct doomed *d = ctx;

	if (RD_KID_UNIT(kid_of_value(value)) != d->unit)
		return true;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		uint64_t *grown = realloc(d->keys, cap * sizeof(*grown));
		if (!grown)
			return false;
		d->keys = grown;
		d->cap = cap;
	}
	d->keys[d->n] = 0;
	memcpy(&d->keys[d->n++], key, d->key_size);
	return true;
}

/*
 * Delete every entry of `map` that belongs to the unit. Keys are collected
 * first: deleting during a walk restarts it.
 */
static void forget_in(struct bpf_map *map, size_t key_size, size_t value_size, uint32_t unit)
{
	struct doomed d = { .unit = unit, .key_size = key_size };

	walk_map(map, key_size, value_size, collect_doomed, &d);
	for (size_t i = 0; i < d.n; i++)
		bpf_map_delete_elem(bpf_map__fd(map), &d.keys[i]);
	free(d.keys);
}

int tracer_kid_of(struct tracer *t, pid_t tgid, uint32_t *kid)
{
	__u32 key = (__u32)tgid;

	if (!t->skel)
		return -ENOENT;
	if (bpf_map__lookup_elem(t->skel->maps.watched_tgids, &key, sizeof(key), kid, sizeof(*kid),
				 0) < 0)
		return -errno;
	return 0;
}

void tracer_forget_sock(struct tracer *t, uint64_t sk)
{
	if (t->skel)
		bpf_map__delete_elem(t->skel->maps.listeners, &sk, sizeof(sk), 0);
}

void tracer_forget_unit(struct tracer *t, uint32_t unit)
{
	if (!t->skel)
		return;
	forget_in(t->skel->maps.watched_tgids, sizeof(__u32), sizeof(__u32), unit);
	forget_in(t->skel->maps.listeners, sizeof(__u64), sizeof(struct rd_listener), unit);
}

int tracer_watch_map_fd(const struct tracer *t)
{
	return t && t->skel ? bpf_map__fd(t->skel->maps.watched_tgids) : -1;
}

/* ---- event-armed accept-queue checks ---- */

bool tracer_queue_events(const struct tracer *t)
{
	return t && t->skel;
}

int tracer_queue_watch(struct tracer *t, uint16_t port, uint32_t kid)
{
	struct rd_queue_port q = { .kid = kid, .refs = 1, .armed = 1 };
	uint32_t key = port;

	if (!t->skel)
		return -EOPNOTSUPP;
	if (!bpf_map__lookup_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q), 0)) {
		q.refs++;
		q.kid = q.kid == kid ? kid : RD_KID_SHARED;
		q.armed = 1;
	}
	return bpf_map__update_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q), 0);
}

void tracer_queue_unwatch(struct tracer *t, uint16_t port)
{
	struct rd_queue_port q;
	uint32_t key = port;

	if (!t->skel ||
	    bpf_map__lookup_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q), 0))
		return;
	if (q.refs <= 1) {
		bpf_map__delete_elem(t->skel->maps.queue_ports, &key, sizeof(key), 0);
		return;
	}
	q.refs--; /* a shared port stays shared until its last listener goes */
	bpf_map__update_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q),
			     BPF_EXIST);
}

int tracer_queue_rearm(struct tracer *t, uint16_t port)
{
	struct rd_queue_port q;
	uint32_t key = port;
	int err;

	if (!t->skel)
		return -EOPNOTSUPP;
	err = bpf_map__lookup_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q), 0);
	if (err || q.armed)
		return err;
	q.armed = 1;
	return bpf_map__update_elem(t->skel->maps.queue_ports, &key, sizeof(key), &q, sizeof(q),
				    BPF_EXIST);
}

struct tree_walk {
	uint32_t kid;
	bool whole_unit;
	pid_t *pids;
	size_t n, max;
};

static bool collect_tree(const void *key, const void *value, void *ctx)
{
	struct tree_walk *w = ctx;
	uint32_t kid = kid_of_value(value), tgid;

	if (w->whole_unit ? RD_KID_UNIT(kid) != RD_KID_UNIT(w->kid) : kid != w->kid)
		return true;
	memcpy(&tgid, key, sizeof(tgid));
	w->pids[w->n++] = (pid_t)tgid;
	return w->n < w->max;
}

int tracer_tree(struct tracer *t, uint32_t kid, bool whole_unit, pid_t *pids, size_t max)
{
	struct tree_walk w = { .kid = kid, .whole_unit = whole_unit, .pids = pids, .max = max };

	if (!t->skel)
		return -ENOENT;
	if (max)
		walk_map(t->skel->maps.watched_tgids, sizeof(__u32), sizeof(__u32), collect_tree,
			 &w);
	return (int)w.n;
}

/* Detach: hand the links to the closer thread (the kernel waits an RCU grace period each). */
static void detach_syscalls(struct tracer *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_syscall; i++)
		if (t->syscall_links[i])
			t->syscall_links[n++] = t->syscall_links[i];
	if (t->closer)
		closer_push_links(t->closer, t->syscall_links, n);
	else
		for (size_t i = 0; i < n; i++)
			bpf_link__destroy(t->syscall_links[i]);
	memset(t->syscall_links, 0, sizeof(t->syscall_links));
	t->syscalls_on = false;
}

int tracer_set_syscalls(struct tracer *t, bool on)
{
	uint64_t t0;
	int err;

	if (on == t->syscalls_on || !t->skel)
		return 0;
	if (!on) {
		detach_syscalls(t);
		log_debug("msg=\"syscall tracepoints detached\"");
		return 0;
	}
	/* Attaching is quick (~0.1 ms each); waiting for a detach in flight is not. */
	if (!closer_idle(t->closer))
		return -EBUSY;
	t0 = now_mono_ns();
	for (size_t i = 0; i < t->n_syscall; i++) {
		t->syscall_links[i] = bpf_program__attach(t->syscall_progs[i]);
		if (!t->syscall_links[i]) {
			err = -errno;
			log_err("msg=\"cannot attach syscall tracepoint\" program=%s err=\"%s\"",
				bpf_program__name(t->syscall_progs[i]), strerror(-err));
			detach_syscalls(t);
			return err;
		}
	}
	t->syscalls_on = true;
	log_debug("msg=\"syscall tracepoints attached\" took_us=%llu",
		  (unsigned long long)((now_mono_ns() - t0) / 1000));
	return 0;
}

bool tracer_syscalls_on(const struct tracer *t)
{
	return t->syscalls_on;
}

uint64_t tracer_dropped(struct tracer *t)
{
	uint32_t key = 0;
	uint64_t sum = 0;

	if (!t->skel || !t->percpu || t->ncpus <= 0 ||
	    bpf_map__lookup_elem(t->skel->maps.dropped, &key, sizeof(key), t->percpu,
				 sizeof(uint64_t) * (size_t)t->ncpus, 0) < 0)
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += t->percpu[i];
	return sum;
}

uint64_t tracer_events(const struct tracer *t)
{
	return t ? t->events : 0;
}
