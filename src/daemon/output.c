// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/output.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/unit.h"
#include "os/journal.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

#define READ_PER_WAKEUP (64 * 1024)

struct outputs {
	int journal_fd; /* -1: lines go to readyd's stderr */
};

struct unit_output {
	char lines[OUTPUT_KEPT][OUTPUT_LINE_MAX];
	size_t next, n;
	/* Rate limit: a token bucket of OUTPUT_RATE a second, OUTPUT_RATE * 10 deep. */
	uint64_t tokens_at;
	unsigned int tokens;
	uint64_t unlogged; /* lines not logged since the last one that was */
};

int output_open(struct daemon *d)
{
	bool journal = log_stderr_is_journal();

	d->outputs = calloc(1, sizeof(*d->outputs));
	if (!d->outputs)
		return -ENOMEM;
	d->outputs->journal_fd = journal ? journal_open() : -1;
	if (journal && d->outputs->journal_fd < 0)
		log_warn("msg=\"no journal socket: services' output goes to readyd's stderr\" "
			 "err=\"%s\"",
			 strerror(-d->outputs->journal_fd));
	return 0;
}

void output_close(struct daemon *d)
{
	if (!d->outputs)
		return;
	fd_close(d->outputs->journal_fd);
	free(d->outputs);
	d->outputs = NULL;
}

/* ---- keeping and judging lines ---- */

static bool has_error_word(const char *line)
{
	static const char *const words[] = { "emerg", "alert", "crit", "fatal",
					     "panic", "error", "fail" };
	char low[OUTPUT_LINE_MAX];
	size_t i;

	for (i = 0; line[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)line[i]);
	low[i] = '\0';
	for (size_t w = 0; w < ARRAY_SIZE(words); w++)
		if (strstr(low, words[w]))
			return true;
	return false;
}

static struct unit_output *kept(struct unit *u)
{
	if (!u->output)
		u->output = calloc(1, sizeof(*u->output));
	return u->output;
}

void output_new_instance(struct unit *u)
{
	if (u->output)
		u->output->n = u->output->next = 0;
}

void output_free(struct unit *u)
{
	free(u->output);
	u->output = NULL;
}

void output_lines(const struct unit *u, void (*fn)(const char *line, void *ctx), void *ctx)
{
	const struct unit_output *o = u->output;

	for (size_t i = 0; o && i < o->n; i++)
		fn(o->lines[(o->next + OUTPUT_KEPT - o->n + i) % OUTPUT_KEPT], ctx);
}

const char *output_last_words(const struct unit *u)
{
	const struct unit_output *o = u->output;
	const char *last = "";

	for (size_t i = 0; o && i < o->n; i++) {
		const char *l = o->lines[(o->next + OUTPUT_KEPT - 1 - i) % OUTPUT_KEPT];
		if (has_error_word(l))
			return l;
		if (!last[0])
			last = l;
	}
	return last;
}

/* ---- logging, bounded ---- */

static bool may_log(struct unit_output *o)
{
	uint64_t now = now_mono_ns();
	uint64_t earned = (now - o->tokens_at) * OUTPUT_RATE / NSEC_PER_SEC;

	if (!o->tokens_at || earned) {
		o->tokens = o->tokens_at && o->tokens + earned < OUTPUT_RATE * 10
				    ? o->tokens + (unsigned int)earned
				    : OUTPUT_RATE * 10;
		o->tokens_at = now;
	}
	if (!o->tokens)
		return false;
	o->tokens--;
	return true;
}

static void log_line(struct unit_proc *p, struct unit_output *o, const char *line, size_t len)
{
	struct unit *u = p->u;
	int fd = u->d->outputs->journal_fd;
	int prio = has_error_word(line) ? LOG_WARNING : LOG_INFO;
	char esc[2 * OUTPUT_LINE_MAX];

	if (!may_log(o)) {
		o->unlogged++;
		return;
	}
	if (o->unlogged) {
		log_warn("service=%s msg=\"output lines not logged: more than %d a second\" "
			 "lines=%llu",
			 u->cfg->name, OUTPUT_RATE, (unsigned long long)o->unlogged);
		o->unlogged = 0;
	}
	if (fd >= 0 && journal_send(fd, prio, u->cfg->name, line, len) == 0)
		return;
	log_escape(esc, sizeof(esc), line);
	if (u->procs.n > 1)
		log_msg(prio, "service=%s process=%s output=\"%s\"", u->cfg->name,
			u->cfg->procs[p->idx].name, esc);
	else
		log_msg(prio, "service=%s output=\"%s\"", u->cfg->name, esc);
}

static void take_line(struct unit_proc *p)
{
	struct output_pipe *op = &p->out;
	struct unit_output *o = kept(p->u);
	size_t len = op->len;

	while (len && (op->partial[len - 1] == '\r' || op->partial[len - 1] == ' '))
		len--;
	op->partial[len] = '\0';
	op->len = 0;
	if (!len || !o)
		return;
	for (char *c = op->partial; *c; c++) /* kept as printed, but for control bytes */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	str_copy(o->lines[o->next], op->partial, OUTPUT_LINE_MAX);
	o->next = (o->next + 1) % OUTPUT_KEPT;
	o->n += o->n < OUTPUT_KEPT;
	log_line(p, o, op->partial, len);
}

/* Split what was read into lines; a line longer than OUTPUT_LINE_MAX is cut. */
static size_t split(struct unit_proc *p, const char *buf, size_t n)
{
	struct output_pipe *op = &p->out;
	size_t lines = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!op->cut)
				take_line(p), lines++;
			op->cut = false;
			op->len = 0;
		} else if (op->cut) {
			continue; /* the rest of a line too long to keep */
		} else if (op->len + 1 < OUTPUT_LINE_MAX) {
			op->partial[op->len++] = buf[i];
		} else if (!op->cut) {
			take_line(p); /* what fits is a line; the rest of it goes */
			lines++;
			op->cut = true;
		}
	}
	return lines;
}

/* Read at most READ_PER_WAKEUP; true at EOF (every writer closed it). */
static bool read_some(struct unit_proc *p, size_t *lines)
{
	char buf[4096];
	size_t total = 0;

	while (total < READ_PER_WAKEUP) {
		ssize_t n = read(p->out.src.fd, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0)
			return errno != EAGAIN && errno != EINTR;
		*lines += split(p, buf, (size_t)n);
		total += (size_t)n;
	}
	return false;
}

static void close_pipe(struct unit_proc *p)
{
	if (p->out.src.fd < 0)
		return;
	if (p->out.len)
		take_line(p); /* a last line without its newline */
	loop_del(p->u->d->loop, &p->out.src);
	p->out.src.fd = fd_close(p->out.src.fd);
}

static void on_output(struct loop *loop, struct loop_source *src, uint32_t events)
{
	struct unit_proc *p = src->data;
	size_t lines = 0;
	bool eof;

	(void)loop, (void)events;
	eof = read_some(p, &lines);
	if (eof)
		close_pipe(p);
	if (lines) /* a daemon that printed something may serve now: a serving check retries */
		unit_observe(p->u, &(struct unit_news){ .output = true });
}

int output_adopt(struct unit_proc *p, int fd, uint64_t ino)
{
	struct stat st;
	int err = 0;

	if (fstat(fd, &st) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		err = -errno;
	else if (!S_ISFIFO(st.st_mode) || (ino && st.st_ino != ino))
		err = -ESTALE; /* not the pipe readyd gave it: its stdout is something else now */
	if (err) {
		fd_close(fd);
		return err;
	}
	p->out = (struct output_pipe){ .src = { .fd = fd, .fn = on_output, .data = p },
				       .ino = st.st_ino };
	err = loop_add(p->u->d->loop, &p->out.src, EPOLLIN);
	if (err)
		p->out.src.fd = fd_close(fd);
	return err;
}

int output_capture(struct unit_proc *p)
{
	int fds[2];

	if (p->u->cfg->inherit_output || pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if (output_adopt(p, fds[0], 0) < 0) {
		fd_close(fds[1]);
		return -1;
	}
	return fds[1];
}

void output_drain(struct unit_proc *p)
{
	size_t lines = 0;

	if (p->out.src.fd >= 0 && read_some(p, &lines))
		close_pipe(p);
}

void output_release(struct unit_proc *p)
{
	output_drain(p);
	close_pipe(p);
}
