// SPDX-License-Identifier: GPL-2.0
/*
 * The lab's known workload: long-lived processes in every L2 target, so that
 * introspection has something to find and tests have fixed facts to check.
 *
 * One static binary (built by `scripts/lab prepare` with gcc -static -O2),
 * installed in the L2 initramfs as /bin/imee-workload with the symlinks
 * /bin/imee-wl-alpha, /bin/imee-wl-beta and /bin/imee-wl-gamma. The role is
 * taken from the name it was started under (or from argv[1]), so that comm
 * and the command line both read "imee-wl-<role>":
 *
 *   imee-wl-alpha   uid 0, one thread
 *   imee-wl-beta    uid 1000, gid 1000 (drops root with setgid/setuid)
 *   imee-wl-gamma   uid 0, the main thread plus two threads whose comms are
 *                   imee-wl-gamma-1 and imee-wl-gamma-2
 *
 * Each process keeps the string "imee-workload role=<role>" in its data, and
 * then sleeps in pause() until killed. The L2 /init starts one of each.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define BETA_ID 1000

/* Not const: it lives in .data, a page of the process's own memory. */
static char marker[64];

static void *gamma_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int start_gamma_threads(void)
{
	for (int i = 1; i <= 2; i++) {
		char name[16];
		pthread_t t;
		int err = pthread_create(&t, NULL, gamma_thread, NULL);

		if (err) {
			fprintf(stderr, "imee-wl-gamma: pthread_create: %s\n", strerror(err));
			return -1;
		}
		snprintf(name, sizeof(name), "imee-wl-gamma-%d", i);
		pthread_setname_np(t, name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *role = NULL;
	char comm[16];

	if (!strncmp(self, "imee-wl-", 8))
		role = self + 8;
	else if (argc > 1)
		role = argv[1];
	if (!role || (strcmp(role, "alpha") && strcmp(role, "beta") && strcmp(role, "gamma"))) {
		fprintf(stderr, "usage: imee-workload alpha|beta|gamma\n");
		return 2;
	}

	snprintf(marker, sizeof(marker), "imee-workload role=%s", role);
	snprintf(comm, sizeof(comm), "imee-wl-%s", role);
	prctl(PR_SET_NAME, comm, 0, 0, 0);

	if (!strcmp(role, "beta")) {
		if (setgroups(0, NULL) || setgid(BETA_ID) || setuid(BETA_ID)) {
			perror("imee-wl-beta: dropping to uid 1000");
			return 1;
		}
	} else if (!strcmp(role, "gamma")) {
		if (start_gamma_threads())
			return 1;
	}

	for (;;)
		pause();
}
