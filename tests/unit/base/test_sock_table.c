// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The socket table's indexes: by port or path, and by inode. */
#include "cmocka_all.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/sock_types.h"
#include "base/util.h"

static void add(struct sock_table *t, int family, uint16_t port, const char *path, uint32_t ino)
{
	struct sock_entry *e;

	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->addr.family = family;
	e->addr.port = port;
	if (path)
		str_copy(e->addr.path, path, sizeof(e->addr.path));
	e->inode = ino;
}

static size_t count_key(const struct sock_table *t, uint64_t key, uint32_t *inodes)
{
	size_t first, n;
	const uint32_t *idx = sock_table_lookup(t, key, &first, &n);

	for (size_t k = 0; k < n; k++)
		inodes[k] = t->v[idx ? idx[first + k] : first + k].inode;
	return n;
}

static void lookups_find_what_shares_a_port_or_path(void **state)
{
	struct sock_table t = { 0 };
	uint32_t got[8];

	(void)state;
	add(&t, AF_INET, 8080, NULL, 11);
	add(&t, AF_UNIX, 0, "/run/a.sock", 12);
	add(&t, AF_INET6, 8080, NULL, 13);
	add(&t, AF_INET, 22, NULL, 14);
	add(&t, AF_UNIX, 0, "/run/b.sock", 15);
	/* Without an index: every entry is a candidate. */
	assert_int_equal(count_key(&t, 8080, got), 5);
	assert_int_equal(sock_table_inode(&t, 14)->addr.port, 22);
	assert_int_equal(sock_table_index(&t), 0);
	assert_int_equal(count_key(&t, 8080, got), 2); /* v4 and v6 */
	assert_true((got[0] == 11 && got[1] == 13) || (got[0] == 13 && got[1] == 11));
	assert_int_equal(count_key(&t, 22, got), 1);
	assert_int_equal(count_key(&t, 9999, got), 0);
	assert_int_equal(count_key(&t, sock_path_key("/run/b.sock"), got), 1);
	assert_int_equal(got[0], 15);
	for (uint32_t ino = 11; ino <= 15; ino++)
		assert_int_equal(sock_table_inode(&t, ino)->inode, ino);
	assert_null(sock_table_inode(&t, 99));
	sock_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookups_find_what_shares_a_port_or_path),
	};
	return cmocka_run_group_tests_name("sock_table", tests, NULL, NULL);
}
