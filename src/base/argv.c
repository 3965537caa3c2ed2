// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/argv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int argv_dup(char *const *src, char ***out)
{
	size_t n = 0;
	char **copy;

	while (src[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = strdup(src[i]))) {
			argv_free(copy);
			return -ENOMEM;
		}
	*out = copy;
	return 0;
}

static int push_word(char ***argv, int *argc, const char *word, size_t len)
{
	char **grown = realloc(*argv, sizeof(char *) * (size_t)(*argc + 2));
	char *copy;

	if (!grown)
		return -ENOMEM;
	*argv = grown;
	copy = strndup(word, len);
	if (!copy)
		return -ENOMEM;
	grown[(*argc)++] = copy;
	grown[*argc] = NULL;
	return 0;
}

/* Reads one word starting at *p into buf; advances *p past it. */
static int read_word(const char **p, char *buf, size_t *len, const char **error)
{
	const char *s = *p;
	size_t n = 0;

	while (*s && *s != ' ' && *s != '\t') {
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end) {
				*error = "unterminated single quote";
				return -EINVAL;
			}
			memcpy(buf + n, s + 1, (size_t)(end - s - 1));
			n += (size_t)(end - s - 1);
			s = end + 1;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
					s++;
				buf[n++] = *s;
			}
			if (*s != '"') {
				*error = "unterminated double quote";
				return -EINVAL;
			}
			s++;
		} else if (*s == '\\') {
			if (!s[1]) {
				*error = "trailing backslash";
				return -EINVAL;
			}
			buf[n++] = s[1];
			s += 2;
		} else {
			buf[n++] = *s++;
		}
	}
	*len = n;
	*p = s;
	return 0;
}

int argv_split(const char *line, char ***argv, const char **error)
{
	char *buf = malloc(strlen(line) + 1); /* a word is never longer than the line */
	char **out = NULL;
	int argc = 0, err;
	const char *p = line;

	*error = NULL;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		err = read_word(&p, buf, &len, error);
		if (!err)
			err = push_word(&out, &argc, buf, len);
		if (err)
			goto fail;
	}
	if (argc == 0) {
		*error = "empty command";
		err = -EINVAL;
		goto fail;
	}
	free(buf);
	*argv = out;
	return argc;
fail:
	free(buf);
	argv_free(out);
	return err;
}

void argv_format(char *buf, unsigned long size, char *const *argv)
{
	buf[0] = '\0';
	for (char *const *a = argv; a && *a; a++) {
		bool quote = !**a || strpbrk(*a, " \t\"'\\$`");
		str_append(buf, size, "%s%s%s%s", a == argv ? "" : " ", quote ? "'" : "", *a,
			   quote ? "'" : "");
	}
}
