// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/clock.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void str_append(char *dst, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(dst, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + len, size - len, fmt, ap);
	va_end(ap);
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void str_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			*s = '?';
}

void fmt_duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / NSEC_PER_SEC;

	if (ns < NSEC_PER_MSEC)
		snprintf(buf, size, "%lluus", (unsigned long long)(ns / 1000));
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, size, "%.1fms", (double)ns / NSEC_PER_MSEC);
	else if (s < 60)
		snprintf(buf, size, "%.2fs", (double)ns / NSEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, size, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
}

void fmt_exit_status(char *buf, size_t size, int code, int signal)
{
	if (signal)
		snprintf(buf, size, "killed by signal %d (SIG%s)", signal,
			 sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
	else
		snprintf(buf, size, "exited with status %d", code);
}

int fd_close(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

int mkdir_parents(const char *dir, unsigned int mode)
{
	char path[4096];
	size_t len = str_copy(path, dir, sizeof(path));

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

ssize_t file_read_text(int dirfd, const char *path, char *buf, size_t size)
{
	/* O_NONBLOCK: a FIFO planted at the name must not hold the loop in open() */
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	size_t len = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		n = -errno;
		fd_close(fd);
		return n;
	}
	if (!S_ISREG(st.st_mode)) {
		fd_close(fd);
		return -EINVAL;
	}
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		n = -errno;
		fd_close(fd);
		return n;
	}
	fd_close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}
