// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/nofile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct rlimit given;
static bool raised;

/* The kernel's ceiling for any process's fd limit (fs.nr_open); 0 if unreadable. */
static rlim_t nr_open(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? (rlim_t)strtoull(buf, NULL, 10) : 0;
}

/* A node of 10,000 services holds ~3 fds each: 1 Mi, where root may have it. */
#define NOFILE_WANTED ((rlim_t)1 << 20)

/*
 * A readyd exec'd by a reexec was started with the raised limit: the one its
 * services get back is the first readyd's, passed in NOFILE_ENV
 * ("CUR MAX"). false if absent or not two numbers 0 < CUR <= MAX <= the
 * hard limit readyd has (it can lower a child's, never raise it).
 */
static bool nofile_from_env(const struct rlimit *now, struct rlimit *out)
{
	const char *v = getenv(NOFILE_ENV);
	unsigned long long cur, max;
	char end;

	if (!v || sscanf(v, "%llu %llu%c", &cur, &max, &end) != 2 || !cur || cur > max ||
	    max > (unsigned long long)now->rlim_max || strchr(v, '-'))
		return false;
	out->rlim_cur = (rlim_t)cur;
	out->rlim_max = (rlim_t)max;
	return true;
}

int nofile_env(char *buf, size_t size)
{
	if (!raised)
		return 0;
	snprintf(buf, size, "%s=%llu %llu", NOFILE_ENV, (unsigned long long)given.rlim_cur,
		 (unsigned long long)given.rlim_max);
	return 1;
}

int nofile_raise(void)
{
	struct rlimit r, wider;
	rlim_t ceiling = nr_open();

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	given = r;
	if (nofile_from_env(&r, &given))
		raised = true; /* (raised already: what follows finds nothing to do) */
	unsetenv(NOFILE_ENV);  /* not for `readyd exec`'s command, nor the next exec */
	/* Root (CAP_SYS_RESOURCE) may lift the hard limit too; otherwise the hard one it is. */
	if (ceiling > r.rlim_max) {
		wider.rlim_cur = wider.rlim_max = ceiling < NOFILE_WANTED ? ceiling : NOFILE_WANTED;
		if (wider.rlim_max > r.rlim_max && setrlimit(RLIMIT_NOFILE, &wider) == 0) {
			raised = true;
			return 0;
		}
	}
	if (r.rlim_cur >= r.rlim_max)
		return 0;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	raised = true;
	return 0;
}

const struct rlimit *nofile_given(void)
{
	return raised ? &given : NULL;
}
