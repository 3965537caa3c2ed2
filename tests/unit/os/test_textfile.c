// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The textfile is replaced atomically: temp file, fsync, rename; never written through a planted
 * link. */
#include "cmocka_all.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/textfile.h"

static void textfile_replaces_atomically(void **state)
{
	char dir[] = "/tmp/readyd-textfile-XXXXXX", path[64], tmp[80], buf[32];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/readyd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(textfile_write(path, "a 1\n", 4), 0);
	assert_int_equal(textfile_write(path, "b 2\n", 4), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	assert_memory_equal(buf, "b 2\n", 4);
	assert_int_equal(stat(tmp, &st), -1); /* no temp file left behind */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* A planted symlink or FIFO at the temp name is removed, never written through. */
	assert_int_equal(symlink("/tmp/readyd-elsewhere", tmp), 0);
	assert_int_equal(textfile_write(path, "c 3\n", 4), 0);
	assert_int_equal(stat("/tmp/readyd-elsewhere", &st), -1);
	assert_int_equal(mkfifo(tmp, 0600), 0);
	assert_int_equal(textfile_write(path, "d 4\n", 4), 0); /* no hang on the FIFO */
	assert_int_equal(lstat(tmp, &st), -1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(textfile_replaces_atomically),
	};
	return cmocka_run_group_tests_name("textfile", tests, NULL, NULL);
}
