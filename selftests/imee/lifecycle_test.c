// SPDX-License-Identifier: GPL-2.0
/*
 * Session lifetime: a target killed under an open session, and module
 * unload with sessions open. Runs last: it kills the lab's victim target and
 * reloads imee.ko.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "kselftest_harness.h"

/*
 * Ground truth comes from the guests through an emulated serial line, a
 * second or more per question in the nested lab: a generous bound on each
 * test, not a timing assertion.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#define PAGE 4096ULL

static int child_signal_read(const volatile char *p)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* FOLL_PIN pins held in L1 now: acquired minus released (/proc/vmstat). */
static long long pins_held(void)
{
	long long acquired = -1, released = -1, v;
	char name[64];
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	return acquired < 0 || released < 0 ? -1 : acquired - released;
}

/*
 * In a child: its own session and ImEE on the target, activations one
 * after the other until one fails, each reading 512 guest-physical pages
 * of a window that moves by 2 MiB (so that every activation pins new
 * pages); after each, the number of target pages the ImEE keeps pinned
 * goes to fd. Exits 0 if the activation that failed gave ESRCH (the target
 * was killed), else 1.
 */
static void pinning_reader(const char *target, int fd)
{
	const struct imee_insn prog[] = {
		{ .op = IMEE_OP_JEQK, .regs = IMEE_INSN_REGS(1, 0), .off = 4, .imm = 0 },
		{ .op = IMEE_OP_LDP, .regs = IMEE_INSN_REGS(2, 0), .size = 8 },
		{ .op = IMEE_OP_ADDK, .regs = IMEE_INSN_REGS(0, 0), .imm = 4096 },
		{ .op = IMEE_OP_SUBK, .regs = IMEE_INSN_REGS(1, 0), .imm = 1 },
		{ .op = IMEE_OP_JA, .off = -5 },
		{ .op = IMEE_OP_EXIT },
	};
	struct imee_load ld = { .size = sizeof(ld), .nr_insns = 6, .insns = (uintptr_t)prog };
	struct imee_create cr = { .size = sizeof(cr) };
	struct imee_run run;
	int sfd, efd;
	unsigned int k;

	sfd = lab_attach_target(target);
	efd = sfd >= 0 ? ioctl(sfd, IMEE_CREATE, &cr) : -1;
	if (efd < 0 || ioctl(efd, IMEE_LOAD, &ld))
		_exit(1);
	for (k = 0;; k++) {
		memset(&run, 0, sizeof(run));
		run.size = sizeof(run);
		run.flags = IMEE_RUN_F_VCPU_CR3;
		run.args[0] = 0x100000 + (k % 200) * 0x200000ULL;
		run.args[1] = 512;
		if (ioctl(efd, IMEE_RUN, &run))
			_exit(errno == ESRCH ? 0 : 1);
		if (write(fd, &run.pinned, sizeof(run.pinned)) != sizeof(run.pinned))
			_exit(1);
	}
}

TEST(killed_target_gives_clean_errors)
{
	const char *target = lab_target("VICTIM");
	struct imee_read_phys rd = { .size = sizeof(rd) };
	struct imee_insn exit_prog = { .op = IMEE_OP_EXIT };
	struct imee_load ld = { .size = sizeof(ld), .nr_insns = 1 };
	struct imee_create cr = { .size = sizeof(cr) };
	struct imee_run run = { .size = sizeof(run) };
	struct lab_info li;
	uint64_t gpa = 0x100000;
	int efd;
	char buf[64];
	char *view;
	pid_t vmm, reader;
	int sfd, pipefd[2], status, i;
	uint32_t pinned = 0, last;
	long long pins_before, pins_after;
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)time(NULL), delay_ms;

	if (!target)
		SKIP(return, "the lab has no victim target");
	vmm = lab_vmm_pid(target);
	ASSERT_GT(vmm, 0);
	pins_before = pins_held();
	ASSERT_LE(0, pins_before);
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	ASSERT_TRUE(lab_in_ram(&li, gpa, sizeof(buf)));
	view = mmap(NULL, li.info.view_size, PROT_READ, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, child_signal_read(view + gpa));
	rd.gpa = gpa;
	rd.len = sizeof(buf);
	rd.buf = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(sfd, IMEE_READ_PHYS, &rd));
	/* an ImEE that ran on the target, with its pages pinned */
	efd = ioctl(sfd, IMEE_CREATE, &cr);
	ASSERT_GE(efd, 0);
	ld.insns = (uintptr_t)&exit_prog;
	ASSERT_EQ(0, ioctl(efd, IMEE_LOAD, &ld));
	run.flags = IMEE_RUN_F_VCPU_CR3 | IMEE_RUN_F_PTI_KERNEL;
	ASSERT_EQ(0, ioctl(efd, IMEE_RUN, &run));
	ASSERT_EQ(IMEE_STATUS_OK, run.status);

	/*
	 * Another session's ImEE reads (and pins) the target in a loop; the
	 * target is killed at a random point of that: 0 to 1.5 s after its
	 * first activation ended (the seed is logged).
	 */
	ASSERT_EQ(0, pipe(pipefd));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		close(pipefd[0]);
		pinning_reader(target, pipefd[1]);
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(pinned), read(pipefd[0], &pinned, sizeof(pinned)));
	srand(seed);
	delay_ms = (unsigned int)rand() % 1500;
	TH_LOG("seed %u: killing the target %u ms into the reader's activations", seed, delay_ms);
	usleep(delay_ms * 1000);
	ASSERT_EQ(0, kill(vmm, SIGKILL));
	ASSERT_TRUE(lab_wait_gone(vmm));
	/* the reader's last report: what its ImEE held pinned when it died */
	while (read(pipefd[0], &last, sizeof(last)) == sizeof(last))
		pinned = last;
	close(pipefd[0]);
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the reader's activation after the kill did not end with ESRCH");

	/* the session reports the target gone instead of reading freed memory */
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(ESRCH, errno);
	run.size = sizeof(run);
	ASSERT_EQ(-1, ioctl(efd, IMEE_RUN, &run));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(0, close(efd));
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	ASSERT_TRUE(li.info.flags & IMEE_INFO_F_TARGET_DEAD);
	/* pages already mapped were zapped, others are not mapped again */
	ASSERT_EQ(SIGBUS, child_signal_read(view + gpa));
	ASSERT_EQ(SIGBUS, child_signal_read(view + gpa + 16 * PAGE));
	ASSERT_EQ(0, munmap(view, li.info.view_size));
	ASSERT_EQ(0, close(sfd));
	/* and it can no longer be attached */
	sfd = lab_attach_target(target);
	ASSERT_EQ(-ESRCH, sfd);

	/*
	 * Every pin is given back: the reader's ImEE held at least its first
	 * window's 512 pages; L1 (where nothing else pins pages with FOLL_PIN)
	 * comes back to what it held before. The last releases may follow the
	 * closes by a moment (deferred file releases): waited for, bounded.
	 */
	for (i = 0; i < 100 && (pins_after = pins_held()) != pins_before; i++)
		usleep(100000);
	TH_LOG("FOLL_PIN pins held in L1: %lld before, %lld after; the reader's ImEE had %u",
	       pins_before, pins_after, pinned);
	EXPECT_LE(512, pinned);
	EXPECT_EQ(pins_before, pins_after);
}

static int module_unload(void)
{
	return syscall(SYS_delete_module, "imee", O_NONBLOCK) ? -errno : 0;
}

static int module_load(void)
{
	const char *path = getenv("IMEE_MODULE");
	int fd, rc;

	fd = open(path ? path : "module/imee.ko", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return rc;
}

TEST(unload_refused_while_sessions_open)
{
	const char *target = lab_targets()[0];
	struct imee_create cr = { .size = sizeof(cr) };
	struct lab_info li;
	void *view;
	int sfd, dev, ee, i;

	ASSERT_NE(NULL, target);
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	view = mmap(NULL, li.info.view_size, PROT_READ, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, view);

	/* an open session refuses the unload */
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	/* a mapping alone still holds the session */
	ASSERT_EQ(0, close(sfd));
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	ASSERT_EQ(0, munmap(view, li.info.view_size));
	/* so does an ImEE, whose fd holds its session */
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ee = ioctl(sfd, IMEE_CREATE, &cr);
	ASSERT_GE(ee, 0);
	ASSERT_EQ(0, close(sfd));
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	ASSERT_EQ(0, close(ee));
	/* an open device file holds it too */
	dev = lab_imee_open();
	ASSERT_GE(dev, 0);
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	ASSERT_EQ(0, close(dev));

	ASSERT_EQ(0, module_unload());
	ASSERT_EQ(0, module_load());
	/* the device comes back (devtmpfs) and works */
	for (i = 0; i < 100 && access("/dev/imee", F_OK); i++)
		usleep(20000);
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, close(sfd));
}

TEST_HARNESS_MAIN
