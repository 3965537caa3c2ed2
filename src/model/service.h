/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-service state machine. Pure: events with their data and the time
 * come in; a new state, a cause and actions (spawn, signal) come out; the
 * caller does the I/O. Sensors never write a service's state: what they see
 * (a socket's level, an accept queue, a datagram, a probe's result, an
 * exit) is an event, and the machine records it and decides.
 *
 *   machine.c          the transition table: one cell per state x event
 *   machine_common.c   the actions several cells share
 *   service_sockets.c  sockets and accept queues recorded on listeners
 *   service_query.c    set-up, and questions about a service (ready? probing?)
 *   service_describe.c names and the texts of causes
 */
#ifndef READYD_SERVICE_H
#define READYD_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "model/health.h"
#include "model/listener.h"
#include "model/notify_msg.h"

#define SVC_OBSERVED_MAX 8
#define SVC_CAUSE_MAX	 320
/*
 * How long a daemon may take from its READY=1 (or marker, or fd line) to the
 * accept the kernel shows: mariadb, sshd and php-fpm call poll()/accept() 0.2
 * to 4 ms after their READY=1; gunicorn's workers accept ~76 ms after it.
 */
#define CROSSCHECK_GRACE_NS (25ULL * 1000000ULL)

/* Why an sd_notify datagram was dropped (counted per service). */
enum notify_reject {
	REJECT_MALFORMED,
	REJECT_OVERSIZED,
	REJECT_FOREIGN,
	REJECT_NO_CREDENTIALS,
	REJECT_COUNT
};

enum svc_state {
	SVC_STOPPED,
	SVC_STARTING,
	SVC_RUNNING,
	SVC_UNHEALTHY,
	SVC_FAILED,
	SVC_STOPPING,
	SVC_STATE_COUNT
};

enum svc_event {
	SVC_EV_START,	      /* operator or boot wants it up */
	SVC_EV_STOP,	      /* operator or shutdown wants it down */
	SVC_EV_RESTART,	      /* operator: stop if running, then start */
	SVC_EV_RESET,	      /* operator: forget the start limit and the backoff */
	SVC_EV_SOCKET,	      /* a socket of its trees changed level or failed to bind (.sock) */
	SVC_EV_QUEUE,	      /* a declared listener's accept queue was sampled (.queue) */
	SVC_EV_PROBE,	      /* a probe finished (.probe, .ok, .why, .duration_ns) */
	SVC_EV_NOTIFY,	      /* an sd_notify message from its tree (.notify) */
	SVC_EV_MARKER,	      /* its ready marker file appeared (.ok) or went away (.at: when) */
	SVC_EV_FD_READY,      /* it wrote the readiness line on its notification fd (.at) */
	SVC_EV_EXIT,	      /* the main process is gone, or could not be spawned (.exit) */
	SVC_EV_READY_TIMEOUT, /* not ready within ready_timeout */
	SVC_EV_KILL_TIMEOUT,  /* SIGTERM was sent stop_timeout ago */
	SVC_EV_RESTART_DUE,   /* the backoff delay before a restart is over */
	SVC_EV_WATCHDOG,      /* no WATCHDOG=1 within the watchdog interval */
	SVC_EV_CROSSCHECK,    /* svc.crosscheck_at passed: judge a self-report by the kernel */
	SVC_EV_COUNT
};

/* What svc.deadline means when it passes: svc_deadline_event() names its event. */
enum svc_deadline {
	DEADLINE_NONE,
	DEADLINE_READY,
	DEADLINE_KILL,
	DEADLINE_RESTART,
	DEADLINE_WATCHDOG
};

struct svc_exit {
	int code;      /* exit status, or -1 */
	int signal;    /* terminating signal, or 0 */
	bool unknown;  /* a main process readyd did not fork: how it ended cannot be known */
	bool detached; /* a [watch] let go of its processes, which still run */
	bool away;     /* (unknown) it ended while no readyd ran: a next one took the rest back */
	char process[SERVICE_NAME_MAX + 1]; /* which process of several ended, or "" */
	char spawn_error[256]; /* non-empty: the command never ran ("exec: No such file...") */
	char last_words[200];  /* what it printed last, the line that says why if any */
};

/* What a sensor saw of one socket of the service's trees (SVC_EV_SOCKET). */
struct svc_sock {
	uint64_t sk;  /* its identity: the kernel's struct sock, or a scan's stand-in */
	uint64_t ino; /* its inode (sock_diag's name for it), 0 if unknown */
	const struct sock_addr *addr; /* where it is bound; NULL for a close */
	enum level level;	      /* reached BOUND, LISTENING, ACCEPTING, or CLOSED */
	int bind_errno;		      /* a bind() on addr failed (level is ignored) */
	const char *holder;	      /* EADDRINUSE: "tcp:...:80 is held by pid 42 (nginx)" */
	bool may_observe;	      /* with no declared listener, it may become an observed one */
	bool declared_only; /* counts only for a declared listener (a scan's bound socket) */
	pid_t pid;	    /* ACCEPTING: who waits on it */
	const char *comm;
	unsigned int via;    /* ACCEPTING: enum accept_via */
	bool main_exiting;   /* CLOSED by a main process on its way out: the exit is the news */
	const char *seen_by; /* for the log: "scan", "sock_diag"; NULL: a kernel event */
	uint64_t at;	     /* when, on CLOCK_MONOTONIC (the kernel's stamp for an event) */
};

/* One declared listener's sockets as a scan found them (SVC_EV_QUEUE). */
struct svc_queue {
	size_t listener;	 /* index into the declared listeners */
	bool sampled;		 /* a stream listener with a backlog: depth and backlog are real */
	uint32_t depth, backlog; /* connections waiting, and the most that may */
	uint64_t node_overflows; /* the node's ListenOverflows counter now (0: unknown) */
	uint32_t findings;	 /* 1 << enum sock_finding: what the scan can tell on its own */
	uint64_t at;
};

struct svc_input {
	const char *why;		 /* START/STOP/RESTART: who asks; PROBE: why it failed */
	struct svc_exit exit;		 /* EXIT */
	unsigned int probe;		 /* PROBE: index into cfg->probes */
	bool ok;			 /* PROBE: passed? MARKER: present? */
	const struct notify_msg *notify; /* NOTIFY */
	const struct svc_sock *sock;	 /* SOCKET */
	const struct svc_queue *queue;	 /* QUEUE */
	uint64_t at; /* NOTIFY, MARKER, FD_READY: when it was said (the kernel's clock; 0: now) */
	uint64_t duration_ns; /* PROBE */
	uint32_t random;      /* for restart jitter */
};

struct svc_actions {
	bool spawn;
	int signal;   /* to the process group: 0, SIGTERM or SIGKILL */
	bool changed; /* a transition from -> to (the cause says why) */
	enum svc_state from, to;
	bool dirty;    /* something the textfile shows changed (a transition always is) */
	bool counters; /* only counters or timings moved */
	const struct listener *listener; /* SOCKET, QUEUE: the listener it concerned, or NULL */
	bool level_changed;		 /* SOCKET: that listener's level changed */
	bool queue_changed; /* QUEUE: its accept queue stalled, overflowed, or moves again */
	bool mismatch;	    /* it said it is ready while the kernel disagrees (newly so) */
};

struct svc {
	const struct service_config *cfg;
	enum svc_state state;
	uint64_t since;		   /* when the current state began */
	char cause[SVC_CAUSE_MAX]; /* why the last transition happened */
	pid_t pid;		   /* main process, 0 if none */
	uint64_t spawned_at, ready_at;
	uint64_t deadline;
	enum svc_deadline deadline_kind;
	bool want_up;	       /* false once stopped by operator or shutdown */
	bool start_pending;    /* operator: start as soon as the current process is gone */
	bool pending_restart;  /* ... and that start is a restart */
	bool liveness_restart; /* on_unhealthy=restart: restart (with backoff) once it is gone */
	unsigned int attempt;  /* consecutive failures, for backoff */
	uint64_t restarts;     /* restarts: by policy, on_unhealthy, or operator */
	uint64_t transitions[SVC_STATE_COUNT]; /* into each state */
	/* Start times in the start-limit window, oldest first. */
	uint64_t starts[START_LIMIT_BURST_MAX + 1];
	size_t n_starts;
	bool start_limit_hit;
	/*
	 * start_limit_cooldown, like a circuit breaker's: the limit armed one more
	 * try at cooldown_at (0: none armed); trial: this instance is it (half-open),
	 * running clears the limit, a failure arms the cool-down again.
	 */
	uint64_t cooldown_at;
	bool trial;
	bool ready_timed_out; /* this instance failed at ready_timeout (readyd exec: 124) */
	bool has_exit;
	struct svc_exit last_exit;
	uint64_t last_exit_at;
	/* Arrays as long as the config makes them: a service costs what it declares. */
	struct listener *listeners; /* declared, in config order: n_listeners */
	size_t n_listeners;
	struct listener *observed; /* when none is declared: up to SVC_OBSERVED_MAX, made on need */
	size_t n_observed;
	/* With listeners declared: where this instance listens that none was declared ("" none
	 * seen), so that a wrong port is named in its cause ("the service listens on ..."). */
	char undeclared[SOCK_ADDR_TEXT_MAX];
	struct probe_health *probes; /* like cfg->probes: cfg->n_probes */
	/* What the current instance said about itself (sd_notify, marker). */
	bool notified_ready; /* READY=1 */
	bool reloading;	     /* RELOADING=1, until READY=1 */
	bool stopping_notified;
	bool marker_present;
	bool fd_ready;			     /* the line on its notification fd (ready = fd:N) */
	char status_text[NOTIFY_STATUS_MAX]; /* STATUS= */
	int notify_errno;		     /* ERRNO= */
	uint64_t watchdog_ns;		     /* in force: `watchdog`, or WATCHDOG_USEC= */
	bool watchdog_expired;
	/*
	 * It said ready while the kernel showed a declared listener not accepting.
	 * Judged by time, not arrival order: a report the kernel has not caught up
	 * with gets CROSSCHECK_GRACE_NS (crosscheck_at), and counts against it only
	 * if no listener was accepting by then.
	 */
	bool ready_mismatch;
	uint64_t ready_mismatches; /* times that happened */
	uint64_t report_at;	   /* when the report being judged was made */
	uint64_t crosscheck_at;	   /* when to judge it (0: nothing to judge) */
	uint64_t notify_accepted;
	uint64_t notify_rejected[REJECT_COUNT];
};

/* ---- machine.c: the machine ---- */
void svc_handle(struct svc *s, enum svc_event ev, const struct svc_input *in, uint64_t now,
		struct svc_actions *out);
/* The event svc.deadline stands for (SVC_EV_COUNT: none is armed). */
enum svc_event svc_deadline_event(const struct svc *s);

/* One cell of the table: what the event does in that state, and where it may lead. */
struct svc_cell {
	const char *name; /* its function, for docs and tests; NULL: the event changes nothing */
	unsigned int to;  /* 1 << each state it may enter (0: it never changes the state) */
};
const struct svc_cell *svc_cell(enum svc_state st, enum svc_event ev);
/* Tests and the docs generator watch every cell run: fn(state before, event, actions). */
typedef void (*svc_trace_fn)(enum svc_state st, enum svc_event ev, const struct svc_actions *out,
			     void *ctx);
void svc_set_trace(svc_trace_fn fn, void *ctx);

/* ---- service_query.c ---- */
/* A new service (s's memory is overwritten). 0, or -ENOMEM (then svc_free() it). */
int svc_init(struct svc *s, const struct service_config *cfg);
/* Free what svc_init and svc_set_config allocated (s may be reused by svc_init). */
void svc_free(struct svc *s);
/*
 * Follow a reloaded config whose behaviour is equal (config_service_equal):
 * only the pointers change.
 */
void svc_rebind(struct svc *s, const struct service_config *cfg);
/*
 * Switch to a different configuration (reload) before the next spawn:
 * listeners and probes follow the new one; state, counters and history stay.
 */
int svc_set_config(struct svc *s, const struct service_config *cfg);
/*
 * The spawn action was carried out at `now` (the daemon queues forks, see
 * loop_job): this is the main process; the ready timeout starts.
 */
void svc_spawned(struct svc *s, pid_t pid, uint64_t now);
/* The main process is another one now (it daemonized, or said MAINPID=). */
void svc_main_changed(struct svc *s, pid_t pid);
/* A datagram from its tree was dropped: count it. The total dropped so far. */
uint64_t svc_notify_rejected(struct svc *s, enum notify_reject why);
/* Every readiness condition holds (listeners per `ready`, probes). */
bool svc_ready(const struct svc *s);
/* The listener half of it: every declared listener ready (or, with none, one observed). */
bool svc_listeners_ready(const struct svc *s);
/* A listener that served this instance is closed now. */
bool svc_listener_lost(const struct svc *s);
/* Needs the syscall tracepoints: waiting to see a listener accept. */
bool svc_needs_syscalls(const struct svc *s);
/*
 * Should probe i run now? Only once the kernel has shown every declared
 * listener accepting (unless `ready` lacks accept), so a probe's own
 * connection is never what makes a listener "accepting". A serving check
 * (until_ready) runs while starting, until it passes; a probe while starting
 * with ready = probe, and then as long as the service runs.
 */
bool svc_probe_wanted(const struct svc *s, size_t i);
/* Any of them? */
bool svc_probing(const struct svc *s);
/* Probe i is for readiness now (a failure is retried fast): starting, and it gates that. */
bool svc_probe_for_readiness(const struct svc *s, size_t i);
/* Its accept queues are worth watching: alive, running or unhealthy, declared listeners. */
bool svc_queues_watched(const struct svc *s);
/* The start limit's next try is armed: how long from now until it (0 if due). */
bool svc_next_try(const struct svc *s, uint64_t now, uint64_t *in_ns);
/*
 * Say why a start is held before its spawn (waiting for a dependency), or why
 * a service is not started (autostart = no): the cause only, no transition.
 * True if it changed.
 */
bool svc_set_held(struct svc *s, const char *why);
/* When the service reached `level` on all declared listeners (0: not yet). */
uint64_t svc_phase_at(const struct svc *s, enum level level);

/* ---- service_sockets.c ---- */
/*
 * The listener a socket belongs to: the one that already holds sk, else a
 * declared one whose spec the address satisfies, else (for services that
 * declare none, when `create`) a new observed listener.
 */
struct listener *svc_listener_for(struct svc *s, uint64_t sk, const struct sock_addr *a,
				  bool create);
/* The socket with this inode among s's listeners (declared and observed), or NULL. */
const struct listener_sock *svc_sock_by_ino(const struct svc *s, uint64_t ino);
/* One more observed listener (zeroed), for a service that declares none; NULL: no room. */
struct listener *svc_observed_add(struct svc *s);

/* ---- service_describe.c ---- */
/* "tcp:127.0.0.1:8080 listening, unix:/run/a.sock absent" */
void svc_describe_listeners(const struct svc *s, char *buf, size_t size);
/* "no READY=1 yet (STATUS=loading)", "no marker /run/x", or "" */
void svc_describe_reports(const struct svc *s, char *buf, size_t size);
/* "probe http://...: HTTP 503" for each probe not OK, or "" */
void svc_describe_probes(const struct svc *s, char *buf, size_t size);
const char *svc_state_name(enum svc_state st);
const char *svc_event_name(enum svc_event ev);
const char *notify_reject_name(enum notify_reject r);
void svc_exit_describe(const struct svc_exit *e, char *buf, size_t size);
const char *accept_via_name(unsigned int via);

#endif
