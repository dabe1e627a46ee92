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
 *
 * The attack tests' processes (selftests/imee/attack_test.c) are named
 * imee-atk-<role> instead, so that the fixed facts above stay exactly
 * alpha, beta and gamma (tests count the imee-wl- processes):
 *
 *   imee-atk-hide   uid 0, one thread: the process the attack module hides
 *                   (scripts/lab.d/attack/); nothing else ever touches it
 *   imee-atk-delta  starts as uid 0; on SIGUSR1 it drops to uid and gid
 *                   1001 (setgid/setuid), once: the process whose
 *                   credentials change while introspection looks
 *   imee-atk-blink  exits after about 5 ms: started in a loop by tests,
 *                   for short-lived processes
 *
 * /init starts imee-atk-hide and imee-atk-delta; imee-atk-blink is started
 * by tests.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define BETA_ID 1000
#define DELTA_ID 1001

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

static void on_usr1(int sig)
{
	(void)sig;
}

/* Wait for SIGUSR1 (blocked outside sigsuspend: none is lost), then drop root. */
static int delta(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t usr1, others;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigaction(SIGUSR1, &sa, NULL) || sigprocmask(SIG_BLOCK, &usr1, &others)) {
		perror("imee-atk-delta: SIGUSR1");
		return 1;
	}
	sigdelset(&others, SIGUSR1);
	sigsuspend(&others);
	if (setgroups(0, NULL) || setgid(DELTA_ID) || setuid(DELTA_ID)) {
		perror("imee-atk-delta: dropping to uid 1001");
		return 1;
	}
	for (;;)
		pause();
}

static const char *const roles[] = { "alpha", "beta", "gamma", "hide", "delta", "blink" };
#define NR_ROLES (sizeof(roles) / sizeof(roles[0]))
#define FIRST_ATK_ROLE 3 /* roles[3..]: named imee-atk-<role> */

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *role = NULL;
	char comm[16];
	size_t i;

	if (!strncmp(self, "imee-wl-", 8))
		role = self + 8;
	else if (!strncmp(self, "imee-atk-", 9))
		role = self + 9;
	else if (argc > 1)
		role = argv[1];
	for (i = 0; role && i < NR_ROLES; i++)
		if (!strcmp(role, roles[i]))
			break;
	if (!role || i == NR_ROLES) {
		fprintf(stderr, "usage: imee-workload alpha|beta|gamma|hide|delta|blink\n");
		return 2;
	}

	snprintf(marker, sizeof(marker), "imee-workload role=%s", role);
	snprintf(comm, sizeof(comm), "%s-%s", i < FIRST_ATK_ROLE ? "imee-wl" : "imee-atk", role);
	prctl(PR_SET_NAME, comm, 0, 0, 0);

	if (!strcmp(role, "beta")) {
		if (setgroups(0, NULL) || setgid(BETA_ID) || setuid(BETA_ID)) {
			perror("imee-wl-beta: dropping to uid 1000");
			return 1;
		}
	} else if (!strcmp(role, "gamma")) {
		if (start_gamma_threads())
			return 1;
	} else if (!strcmp(role, "delta")) {
		return delta();
	} else if (!strcmp(role, "blink")) {
		struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		return 0;
	}

	for (;;)
		pause();
}
