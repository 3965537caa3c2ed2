// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The safe path walk: symlinks, other owners, writable directories, each named with its fix. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safe_path.h"

struct tree {
	char root[64];
	char path[192];
	char why[SAFE_PATH_WHY_MAX];
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->root, sizeof(t->root), "/tmp/readyd-safe-path-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static const char *at(struct tree *t, const char *rel)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->root, rel);
	return t->path;
}

static int walk(struct tree *t, const char *rel, unsigned int flags)
{
	int fd = safe_path_dir(at(t, rel), flags, t->why, sizeof(t->why));

	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

static void a_private_tree_passes(void **state)
{
	struct tree *t = *state;
	struct stat st;
	int fd;

	assert_int_equal(mkdir(at(t, "a"), 0755), 0);
	assert_int_equal(mkdir(at(t, "a/b"), 0700), 0);
	fd = safe_path_dir(at(t, "a/b"), 0, t->why, sizeof(t->why));
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* usable as the dirfd of the *at calls */
	assert_int_equal(mkdirat(fd, "c", 0700), 0);
	close(fd);
	assert_int_equal(walk(t, "a//b/./c/", 0), 0);
}

static void a_symlink_is_refused_naming_it(void **state)
{
	struct tree *t = *state;
	char link[192];

	assert_int_equal(mkdir(at(t, "real"), 0755), 0);
	snprintf(link, sizeof(link), "%s", at(t, "link"));
	assert_int_equal(symlink(at(t, "real"), link), 0);
	assert_int_equal(walk(t, "link", 0), -ELOOP);
	assert_non_null(strstr(t->why, link));
	assert_non_null(strstr(t->why, "is a symlink (to "));
	/* also in the middle of the path, and for the parent of a file */
	assert_int_equal(mkdir(at(t, "real/sub"), 0755), 0);
	assert_int_equal(walk(t, "link/sub", 0), -ELOOP);
	assert_true(safe_path_parent(at(t, "link/ctl.sock"), 0, &(const char *){ NULL }, t->why,
				     sizeof(t->why)) == -ELOOP);
}

static void another_owner_is_refused(void **state)
{
	struct tree *t = *state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(at(t, "D"), 0755), 0);
	assert_int_equal(chown(at(t, "D"), 65534, 65534), 0);
	assert_int_equal(walk(t, "D", 0), -EPERM);
	assert_non_null(strstr(t->why, "is owned by uid 65534, not root"));
	assert_non_null(strstr(t->why, "chown root "));
	/* a root-owned directory below it does not help: the owner of D can swap it */
	assert_int_equal(mkdir(at(t, "D/x"), 0755), 0);
	assert_int_equal(walk(t, "D/x", 0), -EPERM);
	assert_non_null(strstr(t->why, "/D is owned"));
}

static void writable_needs_root_and_sticky(void **state)
{
	struct tree *t = *state;

	assert_int_equal(mkdir(at(t, "g"), 0755), 0);
	assert_int_equal(chmod(at(t, "g"), 0775), 0);
	assert_int_equal(walk(t, "g", 0), -EPERM);
	assert_non_null(strstr(t->why, "is writable by its group (mode 0775): chmod go-w "));
	assert_int_equal(chmod(at(t, "g"), 0777), 0);
	assert_int_equal(walk(t, "g", 0), -EPERM);
	assert_non_null(strstr(t->why, "its group and others"));
	/* like /tmp: shared, but only an entry's owner may rename it */
	assert_int_equal(chmod(at(t, "g"), 01777), 0);
	assert_int_equal(walk(t, "g", 0), geteuid() == 0 ? 0 : -EPERM);
}

/* For a service's own directory: another owner is fine, a symlink on the way is not. */
static void any_owner_still_refuses_links(void **state)
{
	struct tree *t = *state;

	assert_int_equal(mkdir(at(t, "w"), 0777), 0);
	assert_int_equal(chmod(at(t, "w"), 0777), 0);
	assert_int_equal(walk(t, "w", SAFE_PATH_ANY_OWNER), 0);
	assert_int_equal(symlink("/etc", at(t, "w/sub")), 0);
	assert_int_equal(walk(t, "w/sub", SAFE_PATH_ANY_OWNER), -ELOOP);
	assert_non_null(strstr(t->why, "/w/sub is a symlink (to /etc)"));
}

static void missing_components_are_created_when_asked(void **state)
{
	struct tree *t = *state;
	struct stat st;

	assert_int_equal(walk(t, "new/deeper", 0), -ENOENT);
	assert_non_null(strstr(t->why, "/new does not exist"));
	assert_int_equal(walk(t, "new/deeper", SAFE_PATH_CREATE), 0);
	assert_int_equal(stat(at(t, "new/deeper"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, geteuid());
	/* a file in the way is not a directory, created or not */
	assert_int_equal(close(open(at(t, "file"), O_CREAT | O_WRONLY, 0644)), 0);
	assert_int_equal(walk(t, "file/x", SAFE_PATH_CREATE), -ENOTDIR);
	assert_non_null(strstr(t->why, "/file is not a directory"));
}

static void paths_it_cannot_check_are_refused(void **state)
{
	struct tree *t = *state;
	const char *base = NULL;
	int fd;

	assert_int_equal(safe_path_dir("relative/dir", 0, t->why, sizeof(t->why)), -EINVAL);
	assert_non_null(strstr(t->why, "not an absolute path"));
	assert_int_equal(mkdir(at(t, "a"), 0755), 0);
	assert_int_equal(walk(t, "a/../a", 0), -EINVAL);
	assert_non_null(strstr(t->why, "without \"..\""));
	fd = safe_path_parent(at(t, "a/control.sock"), 0, &base, t->why, sizeof(t->why));
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(base, "control.sock");
	assert_int_equal(safe_path_parent("/", 0, &base, t->why, sizeof(t->why)), -EINVAL);
	fd = safe_path_parent("/x.sock", 0, &base, t->why, sizeof(t->why));
	assert_true(fd >= 0); /* "/" itself */
	close(fd);
}

/* The rule alone: an unprivileged caller trusts root and itself. */
static void the_rule_trusts_root_and_the_caller(void **state)
{
	struct stat st = { .st_mode = S_IFDIR | 0755, .st_uid = 1000 };
	char buf[SAFE_PATH_WHY_MAX];

	(void)state;
	assert_null(safe_path_unsafe(&st, 1000, "/home/u", buf, sizeof(buf)));
	assert_non_null(safe_path_unsafe(&st, 0, "/home/u", buf, sizeof(buf)));
	assert_non_null(safe_path_unsafe(&st, 1001, "/home/u", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "not root or uid 1001"));
	st.st_uid = 0;
	assert_null(safe_path_unsafe(&st, 1001, "/run", buf, sizeof(buf)));
	st.st_mode = S_IFDIR | 01777; /* /tmp */
	assert_null(safe_path_unsafe(&st, 0, "/tmp", buf, sizeof(buf)));
	st.st_uid = 1000; /* sticky but not root's: its owner can still swap entries */
	assert_non_null(safe_path_unsafe(&st, 0, "/tmp/D", buf, sizeof(buf)));
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 0;
	assert_non_null(safe_path_unsafe(&st, 0, "/etc/x", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_private_tree_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(a_symlink_is_refused_naming_it, setup, teardown),
		cmocka_unit_test_setup_teardown(another_owner_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(writable_needs_root_and_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(any_owner_still_refuses_links, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_components_are_created_when_asked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(paths_it_cannot_check_are_refused, setup, teardown),
		cmocka_unit_test(the_rule_trusts_root_and_the_caller),
	};
	return cmocka_run_group_tests_name("safe_path", tests, NULL, NULL);
}
