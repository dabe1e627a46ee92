// SPDX-License-Identifier: GPL-2.0
/*
 * Running imeectl as a subprocess in the tests.
 */
#include "subproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 32

static int temp_fd(void)
{
	char path[] = "/tmp/imee-test-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static void slurp(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

int subproc_run(const char *path, const char *const *args, const char *const *env,
		const char *input, struct subproc_result *r)
{
	const char *argv[MAX_ARGS + 2];
	int in[2], out_fd, err_fd, status;
	size_t n;
	pid_t pid;

	r->status = -1;
	r->out[0] = r->err[0] = '\0';
	out_fd = temp_fd();
	err_fd = temp_fd();
	if (out_fd < 0 || err_fd < 0 || pipe(in))
		return -1;
	argv[0] = path;
	for (n = 0; args[n] && n < MAX_ARGS; n++)
		argv[n + 1] = args[n];
	argv[n + 1] = NULL;

	pid = fork();
	if (pid == 0) {
		for (n = 0; env && env[n]; n++)
			putenv((char *)env[n]);
		dup2(in[0], 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		close(in[0]);
		close(in[1]);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	/* Job files are small: the pipe buffer holds them. */
	if (pid > 0 && input && write(in[1], input, strlen(input)) < 0)
		perror("write");
	close(in[1]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		close(out_fd);
		close(err_fd);
		return -1;
	}
	slurp(out_fd, r->out, sizeof(r->out));
	slurp(err_fd, r->err, sizeof(r->err));
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return r->status;
}
