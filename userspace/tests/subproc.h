/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a program for a test: arguments, extra environment, stdin from a
 * string; its exit status, stdout and stderr.
 */
#ifndef IMEE_TESTS_SUBPROC_H
#define IMEE_TESTS_SUBPROC_H

#include <stddef.h>

struct subproc_result {
	int status; /* exit status, 128 + signal, or -1 if it could not run */
	char out[4 << 20]; /* stdout, NUL-terminated (cut if longer) */
	char err[1 << 16]; /* stderr, likewise */
};

/*
 * Run path with args (NULL-terminated, without argv[0]), env (NULL or
 * NULL-terminated "NAME=value" strings added to ours) and input on stdin
 * (NULL for none). Fills *r and returns r->status.
 */
int subproc_run(const char *path, const char *const *args, const char *const *env,
		const char *input, struct subproc_result *r);

#endif /* IMEE_TESTS_SUBPROC_H */
