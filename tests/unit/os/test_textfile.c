// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The textfile is replaced atomically: temp file, fsync, rename; never written through a planted
 * link. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/textfile.h"

static void textfile_replaces_atomically(void **state)
{
	char dir[] = "/tmp/readyd-textfile-XXXXXX", path[64], tmp[80], buf[32], why[512];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/readyd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(textfile_write(path, "a 1\n", 4, why, sizeof(why)), 0);
	assert_int_equal(textfile_write(path, "b 2\n", 4, why, sizeof(why)), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	assert_memory_equal(buf, "b 2\n", 4);
	assert_int_equal(stat(tmp, &st), -1); /* no temp file left behind */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* A planted symlink or FIFO at the temp name is removed, never written through. */
	assert_int_equal(symlink("/tmp/readyd-elsewhere", tmp), 0);
	assert_int_equal(textfile_write(path, "c 3\n", 4, why, sizeof(why)), 0);
	assert_int_equal(stat("/tmp/readyd-elsewhere", &st), -1);
	assert_int_equal(mkfifo(tmp, 0600), 0);
	assert_int_equal(textfile_write(path, "d 4\n", 4, why, sizeof(why)),
			 0); /* no hang on the FIFO */
	assert_int_equal(lstat(tmp, &st), -1);
	unlink(path);
	rmdir(dir);
}

/*
 * A directory on the way that another user could change is refused, by the
 * writer at once and by every write: a link swapped in after the check
 * would have had root write where that user chose.
 */
static void an_unsafe_directory_is_refused(void **state)
{
	char dir[] = "/tmp/readyd-textfile-XXXXXX", real[64], link[64], path[96], why[512];
	struct textfile_writer *w = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(path, sizeof(path), "%s/readyd.prom", link);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(textfile_writer_new(path, &w, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "/link is a symlink (to "));
	assert_int_equal(textfile_write(path, "a 1\n", 4, why, sizeof(why)), -ELOOP);
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_nlink, 2); /* nothing was written in it */
	/* a directory not there yet: the writer is made, each write says why it fails */
	snprintf(path, sizeof(path), "%s/later/readyd.prom", dir);
	assert_int_equal(textfile_writer_new(path, &w, why, sizeof(why)), 0);
	assert_int_equal(textfile_writer_submit(w, "a 1\n", 4), -ENOENT);
	assert_non_null(strstr(textfile_writer_error(w), "/later does not exist"));
	snprintf(real, sizeof(real), "%s/later", dir);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(textfile_writer_submit(w, "b 2\n", 4), 0);
	assert_int_equal(textfile_writer_flush(w), 0);
	assert_int_equal(stat(path, &st), 0);
	textfile_writer_free(w);
	unlink(path);
	rmdir(real);
	unlink(link);
	snprintf(real, sizeof(real), "%s/real", dir);
	rmdir(real);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(textfile_replaces_atomically),
		cmocka_unit_test(an_unsafe_directory_is_refused),
	};
	return cmocka_run_group_tests_name("textfile", tests, NULL, NULL);
}
