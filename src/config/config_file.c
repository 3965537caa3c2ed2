// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading the config file: what it must be (a regular file, at most
 * CONFIG_FILE_MAX bytes, text), said as config errors when it is not; the
 * text then goes to config_parse_text (config.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#define CONFIG_FILE_MAX                                                                            \
	(16 << 20) /* bytes: read whole, parsed on the loop (10,000 services: ~2 MiB) */

/* Read up to max bytes (the file may shrink meanwhile); NUL-terminates buf. */
static int read_all(int fd, char *buf, size_t max, size_t *len)
{
	size_t done = 0;

	while (done < max) {
		ssize_t n = read(fd, buf + done, max - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	*len = done;
	return 0;
}

static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode)	? "a FIFO"
	       : S_ISDIR(mode)	? "a directory"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
				: "not a regular file";
}

/*
 * The config's text, NUL-terminated: -errno, with a line in diag when the
 * file is there but is no config readyd reads. O_NONBLOCK: opening a FIFO
 * (or a device) must not wait for a writer with the loop held; a symlink to
 * a regular file is fine (config management makes them).
 */
static int read_config_text(const char *path, struct config_diag *diag, char **out)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), err = 0;
	struct stat st;
	size_t len = 0;
	char *text = NULL;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		config_diag_add(diag,
				"%s: %s, not a regular file: readyd reads its config from a "
				"file (a symlink to one is fine)",
				path, file_kind(st.st_mode));
		err = -EINVAL;
	} else if (st.st_size > CONFIG_FILE_MAX) {
		config_diag_add(diag, "%s: %lld bytes, more than the %d a config may have", path,
				(long long)st.st_size, CONFIG_FILE_MAX);
		err = -EFBIG;
	} else if (!(text = malloc((size_t)st.st_size + 1))) {
		err = -ENOMEM;
	} else {
		err = read_all(fd, text, (size_t)st.st_size, &len);
	}
	close(fd);
	if (!err && strlen(text) != len) {
		config_diag_add(diag, "%s: holds a NUL byte at offset %zu: not a text file", path,
				strlen(text));
		err = -EILSEQ;
	}
	if (err)
		free(text);
	else
		*out = text;
	return err;
}

int config_load(const char *path, const struct config_defaults *defaults, struct config *cfg,
		struct config_diag *diag)
{
	char *text = NULL;
	int err;

	memset(diag, 0, sizeof(*diag));
	err = read_config_text(path, diag, &text);
	if (err)
		return err;
	err = config_parse_text(path, text, defaults, cfg, diag);
	if (err)
		free(text);
	else
		cfg->text = text; /* a next readyd rebuilds the running config from it */
	return err;
}
