// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * remove_stale = yes before a spawn (in/prespawn.c) removes a socket file
 * nothing listens on, and nothing else: not a regular file, not even one that
 * takes the socket's place between the look (lstat) and the unlink. That race
 * is made deterministic here by an lstat that swaps the file right after
 * looking. The daemon is the real composition over the fakes; nothing else
 * on the node listens at these paths.
 */
#include "cmocka_all.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/in/prespawn.h"
#include "daemon/unit.h"
#include "base/log.h"
#include "base/util.h"

/* ---- the race: lstat sees a socket, then a regular file takes its place ---- */

static char swap_path[108], swap_with[128];

int lstat(const char *path, struct stat *st)
{
	int rc = fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);

	if (swap_path[0] && strcmp(path, swap_path) == 0) {
		/* (rename: the path is never missing, as with a real writer) */
		if (rename(swap_with, swap_path) < 0)
			abort();
		swap_path[0] = '\0';
	}
	return rc;
}

/* ---- fixtures ---- */

struct fixture {
	char dir[64], path[108];
	struct config *cfg;
	struct daemon_opts opts;
	struct daemon d;
};

static void make_socket_file(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* what a crashed server leaves: the file, nothing listening */
}

static void make_regular_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void assert_content(const char *path, const char *text)
{
	char buf[256] = { 0 };
	struct stat st;
	FILE *f;

	assert_int_equal(fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) == strlen(text));
	fclose(f);
	assert_string_equal(buf, text);
}

static int start(void **state, bool remove_stale, const char *under)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_diag diag;
	char text[512];

	str_copy(f->dir, "/tmp/readyd-unit-stale-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%sapp.sock", f->dir, under);
	snprintf(text, sizeof(text),
		 "[service \"app\"]\ncommand = /bin/true\nlisten = unix:%s\nremove_stale = %s\n",
		 f->path, remove_stale ? "yes" : "no");
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_int_equal(config_parse_text("test", text, NULL, f->cfg, &diag), 0);
	config_diag_free(&diag);
	f->cfg->refs = 1;
	free(f->cfg->textfile); /* no textfile, no control socket: nothing else to set up */
	free(f->cfg->control);
	f->cfg->textfile = f->cfg->control = NULL;
	f->opts = (struct daemon_opts){ .config_path = "test", .config = f->cfg };
	assert_int_equal(daemon_init(&f->d, &f->opts), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start(state, true, "");
}

static int setup_keep(void **state)
{
	return start(state, false, "");
}

/* The socket's directory is reached through link -> real, as a service's user could make it. */
static int setup_linked(void **state)
{
	struct fixture *f;
	char real[96], link[96];

	start(state, true, "link/");
	f = *state;
	snprintf(real, sizeof(real), "%s/real", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, link), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char other[128];

	daemon_free(&f->d);
	config_unref(f->cfg);
	unlink(f->path);
	snprintf(other, sizeof(other), "%s/other", f->dir);
	unlink(other);
	snprintf(other, sizeof(other), "%s/link", f->dir);
	unlink(other);
	snprintf(other, sizeof(other), "%s/real", f->dir);
	rmdir(other);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int before_spawn(struct fixture *f)
{
	struct svc_exit fail = { 0 };

	return prespawn_module.before_spawn(f->d.units[0], &fail);
}

/* The control case: without it the tests below would pass on a readyd that removes nothing. */
static void a_stale_socket_file_is_removed(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	make_socket_file(f->path);
	assert_int_equal(before_spawn(f), 0);
	assert_int_equal(fstatat(AT_FDCWD, f->path, &st, AT_SYMLINK_NOFOLLOW), -1);
}

static void a_regular_file_is_never_removed(void **state)
{
	struct fixture *f = *state;

	make_regular_file(f->path, "not a socket\n");
	assert_int_equal(before_spawn(f), 0);
	assert_content(f->path, "not a socket\n");
}

static void without_remove_stale_a_socket_file_stays(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	make_socket_file(f->path);
	assert_int_equal(before_spawn(f), 0);
	assert_int_equal(fstatat(AT_FDCWD, f->path, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

/* Judged a stale socket, then replaced by a regular file before the unlink: it survives. */
static void a_regular_file_swapped_in_after_the_look_survives(void **state)
{
	struct fixture *f = *state;

	make_socket_file(f->path);
	snprintf(swap_with, sizeof(swap_with), "%s/other", f->dir);
	make_regular_file(swap_with, "swapped in after the look\n");
	snprintf(swap_path, sizeof(swap_path), "%s", f->path);
	assert_int_equal(before_spawn(f), 0);
	assert_string_equal(swap_path, ""); /* the look happened, and the swap with it */
	assert_content(f->path, "swapped in after the look\n");
}

/* A link on the way to the socket file: what it leads to is left alone. */
static void a_socket_file_behind_a_link_is_not_removed(void **state)
{
	struct fixture *f = *state;
	char real[128];
	struct stat st;

	snprintf(real, sizeof(real), "%s/real/app.sock", f->dir);
	make_socket_file(real);
	assert_int_equal(before_spawn(f), 0);
	assert_int_equal(fstatat(AT_FDCWD, real, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_stale_socket_file_is_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(a_regular_file_is_never_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(without_remove_stale_a_socket_file_stays,
						setup_keep, teardown),
		cmocka_unit_test_setup_teardown(a_regular_file_swapped_in_after_the_look_survives,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_socket_file_behind_a_link_is_not_removed,
						setup_linked, teardown),
	};

	log_init("readyd", getenv("READYD_TEST_VERBOSE") ? LOG_DEBUG : LOG_WARNING);
	return cmocka_run_group_tests_name("prespawn", tests, NULL, NULL);
}
