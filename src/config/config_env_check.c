// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A parsed config against the host it will run on: what can be known
 * without running anything. Parsing stays pure (config.c); this reads the
 * filesystem. At start-up and reload these are warnings (a package may
 * install the binary later, a mount bring the directory); --check-config
 * fails on them. docs/configuration.md, "Checks against the host".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "base/util.h"

/* "file:line: text", or "file: text" for a default no line set. */
static void finding(struct config_diag *diag, const char *file, unsigned int line, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
static void finding(struct config_diag *diag, const char *file, unsigned int line, const char *fmt,
		    ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line)
		config_diag_add(diag, "%s:%u: %s", file, line, text);
	else
		config_diag_add(diag, "%s: %s", file, text);
}

/* Whom the process runs as: its user and group, or readyd's own. */
struct runner {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

static bool in_groups(const struct runner *r, gid_t gid)
{
	if (gid == r->gid)
		return true;
	for (size_t i = 0; i < r->n_groups; i++)
		if (r->groups[i] == gid)
			return true;
	return false;
}

/* Would execve(2) by r find a program here (mode bits, as the kernel checks them)? */
bool config_can_exec(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups,
		     size_t n_groups)
{
	const struct runner r = { uid, gid, groups, n_groups };

	if (!S_ISREG(st->st_mode))
		return false;
	if (uid == 0)
		return st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH);
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (in_groups(&r, st->st_gid))
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* PATH as the process gets it: its own environment = PATH=..., else readyd's default. */
static const char *path_of(const struct process_config *p)
{
	for (size_t i = 0; i < p->n_env; i++)
		if (str_starts_with(p->environment[i], "PATH="))
			return p->environment[i] + 5;
	return CONFIG_SERVICE_PATH;
}

/* execvp's search for name in path: 0 with the first executable hit in out, else -ENOENT. */
int config_path_search(const char *path, const char *name, char *out, size_t size)
{
	struct stat st;

	for (const char *d = path; *d;) {
		size_t len = strcspn(d, ":");
		/* An empty entry is the current directory, as execvp takes it. */
		if ((size_t)snprintf(out, size, "%.*s/%s", (int)(len ? len : 1), len ? d : ".",
				     name) < size &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return 0;
		d += len + (d[len] == ':');
	}
	return -ENOENT;
}

static void check_program(const char *file, const struct process_config *p, const struct runner *r,
			  struct config_diag *diag)
{
	const char *exe = p->argv[0], *who = p->user ? p->user : "readyd's user";
	unsigned int line = p->command_line;
	char found[4096];
	struct stat st;

	if (stat(exe, &st) < 0) {
		finding(diag, file, line, "command: %s: %s; install it, or correct the path", exe,
			strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		finding(diag, file, line, "command: %s is not a program (not a regular file)", exe);
		return;
	}
	if (!config_can_exec(&st, r->uid, r->gid, r->groups, r->n_groups)) {
		finding(diag, file, line,
			"command: %s is not executable by %s (mode %04o); "
			"chmod +x it, or run it as another user",
			exe, who, (unsigned int)(st.st_mode & 07777));
		return;
	}
	/* /usr/bin/env NAME: env searches PATH, as execvp would; the service's PATH if it sets one.
	 */
	if (strcmp(strrchr(exe, '/') + 1, "env") == 0 && p->argv[1] && p->argv[1][0] != '-' &&
	    !strchr(p->argv[1], '=') && !strchr(p->argv[1], '/') &&
	    config_path_search(path_of(p), p->argv[1], found, sizeof(found)) < 0)
		finding(diag, file, line,
			"command: %s finds no %s in PATH=%s; install it, write its "
			"absolute path, or add environment = PATH=...",
			exe, p->argv[1], path_of(p));
}

static void check_directory(const char *file, unsigned int line, const char *key, const char *dir,
			    struct config_diag *diag)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		finding(diag, file, line,
			"%s: %s: %s; create it (mkdir -p %s), or correct the path", key, dir,
			strerror(errno), dir);
	else if (!S_ISDIR(st.st_mode))
		finding(diag, file, line, "%s: %s is not a directory", key, dir);
}

static void check_process(const char *file, const struct process_config *p,
			  struct config_diag *diag)
{
	gid_t own[CONFIG_MAX_GROUPS];
	int n = getgroups(CONFIG_MAX_GROUPS, own);
	struct runner r = { geteuid(), getegid(), own, n < 0 ? 0 : (size_t)n };

	if (p->user)
		r = (struct runner){ p->uid, p->gid, p->groups, p->n_groups };
	else if (p->group)
		r.gid = p->gid, r.n_groups = 0; /* setgroups() leaves it that one group */
	if (p->argv && p->argv[0])
		check_program(file, p, &r, diag);
	if (p->working_directory)
		check_directory(file, p->seen[3], "working_directory", p->working_directory, diag);
}

/* The textfile's directory: the file is replaced in it, so it must be there. */
static void check_textfile(const struct config *cfg, struct config_diag *diag)
{
	char dir[4096];
	char *slash;

	if (!cfg->textfile || str_copy(dir, cfg->textfile, sizeof(dir)) >= sizeof(dir))
		return;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	check_directory(cfg->path, cfg->seen[0], "textfile", dir, diag);
}

size_t config_env_check(const struct config *cfg, struct config_diag *diag)
{
	size_t before = diag->n;

	check_textfile(cfg, diag);
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct service_config *s = &cfg->services[i];
		for (size_t j = 0; !s->adopted && j < s->n_procs; j++)
			check_process(cfg->path, &s->procs[j], diag);
	}
	return diag->n - before;
}
