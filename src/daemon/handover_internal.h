/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What handover.c (taking back) and handover_save.c (leaving) share. */
#ifndef READYD_HANDOVER_INTERNAL_H
#define READYD_HANDOVER_INTERNAL_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"
#include "config/config.h"

#define HANDOVER_VERSION 1

struct daemon;

struct handover {
	int dirfd; /* -1: nothing outlives readyd */
	char dir[PATH_MAX];
	char exe[PATH_MAX];	/* the binary readyd runs: exec'd again by default */
	struct config *pending; /* the config file, applied once the services are back */
	cJSON *services;	/* what the earlier readyd left, until taken back */
	bool children;		/* they are readyd's own children: it was an exec */
	uint32_t next_id;
	pid_t earlier_pid;	   /* the readyd whose files these are */
	struct loop_job flush_job; /* services changed this iteration: their files follow */
	struct loop_job exec_job;  /* readyctl reexec: once its reply is out */
	char exec_path[PATH_MAX];
	bool exec_fds;			/* writing for an exec: the fds it keeps are in the files */
	const struct config *saved_cfg; /* the config readyd.json has the text of */
	unsigned int exec_failures;	/* execs that failed: this readyd carried on */
	char exec_error[PATH_MAX + 64];
};

/* Is there a state directory? */
bool handover_on(const struct daemon *d);
bool handover_boot_id(char *buf, size_t size);
/* handover_save.c */
void handover_save_init(struct daemon *d);
void handover_save_close(struct daemon *d);
/* Write readyd.json and every service's file now. */
void handover_save_all(struct daemon *d);
/* Remove every file (a clean stop, or state from another boot). */
void handover_forget_all(struct handover *h);
/* Remove the service files of no unit. */
void handover_forget_others(struct daemon *d);
/* handover_exec.c: the exec job. */
void handover_on_exec(struct loop *loop, struct loop_job *job);
/* Processes in the earlier readyd's cgroups that no unit took back: killed. */
void handover_stop_strays(struct daemon *d);

#endif
