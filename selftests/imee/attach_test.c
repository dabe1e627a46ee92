// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/imee: opening, attaching, session info and the two physical-memory
 * paths (zero-copy view and copying read), checked against what the guests
 * report about themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* Physical address of the guest's linux_banner, from the guest's own facts:
 * the kernel image is mapped linearly, so its offset from _text is the same
 * in virtual and physical space, and /proc/iomem says where _text lies.
 */
static int64_t banner_phys(const char *target)
{
	uint64_t text = lab_guest_symbol(target, "_text");
	uint64_t banner = lab_guest_symbol(target, "linux_banner");
	int64_t code = lab_guest_kernel_code_phys(target);

	if (!text || !banner || code < 0 || banner < text)
		return -1;
	return code + (int64_t)(banner - text);
}

/* Run fn in a child and return the signal that ended it (0 if none). */
static int child_signal(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

TEST(device_node_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/imee", &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 0777);
}

TEST(open_needs_cap_sys_admin)
{
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct data[2];
		int fd;

		/* still uid 0, but without CAP_SYS_ADMIN */
		if (syscall(SYS_capget, &hdr, data))
			_exit(10);
		data[0].effective &= ~(1u << CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(11);
		fd = open("/dev/imee", O_RDWR);
		if (fd >= 0)
			_exit(12);
		_exit(errno == EPERM ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* an ordinary user cannot even open the node */
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (open("/dev/imee", O_RDWR) >= 0)
			_exit(12);
		_exit(errno == EACCES || errno == EPERM ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

FIXTURE(dev)
{
	int fd;
	const char *target;
	pid_t vmm;
};

FIXTURE_SETUP(dev)
{
	self->fd = lab_imee_open();
	ASSERT_GE(self->fd, 0);
	self->target = lab_targets()[0];
	ASSERT_NE(NULL, self->target);
	self->vmm = lab_vmm_pid(self->target);
	ASSERT_GT(self->vmm, 0);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, attach_bad_pid)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* that pid is free now */
	ASSERT_EQ(-ESRCH, lab_imee_attach(self->fd, pid, 0, 0));
	ASSERT_EQ(-ESRCH, lab_imee_attach(self->fd, -5, 0, 0));
}

TEST_F(dev, attach_process_without_vm)
{
	ASSERT_EQ(-ENOENT, lab_imee_attach(self->fd, getpid(), 0, 0));
	ASSERT_EQ(-ENOENT, lab_imee_attach(self->fd, 1, 0, 0));
}

TEST_F(dev, attach_plain_fd)
{
	char path[64];
	int fd;

	/* the VMM's stdin is an ordinary file, not a KVM VM */
	snprintf(path, sizeof(path), "/proc/%d/fd/0", self->vmm);
	ASSERT_EQ(0, access(path, F_OK));
	ASSERT_EQ(-ENOTTY, lab_imee_attach(self->fd, self->vmm, 0,
					   IMEE_ATTACH_F_VM_FD));
	/* a number that is not open in the VMM */
	ASSERT_EQ(-EBADF, lab_imee_attach(self->fd, self->vmm, 1 << 20,
					  IMEE_ATTACH_F_VM_FD));
	ASSERT_EQ(-EBADF, lab_imee_attach(self->fd, self->vmm, -1,
					  IMEE_ATTACH_F_VM_FD));
	(void)fd;
}

TEST_F(dev, attach_bad_arguments)
{
	struct imee_attach a = { .size = sizeof(a), .pid = self->vmm };

	a.flags = 0x80;
	ASSERT_EQ(-1, ioctl(self->fd, IMEE_ATTACH, &a));
	ASSERT_EQ(EINVAL, errno);
	a.flags = 0;
	a.reserved[1] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, IMEE_ATTACH, &a));
	ASSERT_EQ(EINVAL, errno);
	a.reserved[1] = 0;
	a.size = 4;
	ASSERT_EQ(-1, ioctl(self->fd, IMEE_ATTACH, &a));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, IMEE_ATTACH, (void *)16));
	ASSERT_EQ(EFAULT, errno);
	/* a session ioctl on the device, and a device ioctl on nothing */
	ASSERT_EQ(-1, ioctl(self->fd, IMEE_READ_PHYS, &a));
	ASSERT_EQ(ENOTTY, errno);
}

TEST_F(dev, attach_detach_repeatedly)
{
	struct lab_info li;
	int i;

	for (i = 0; i < 50; i++) {
		int sfd = lab_imee_attach(self->fd, self->vmm, 0, 0);

		ASSERT_GE(sfd, 0);
		ASSERT_EQ(0, lab_session_info(sfd, &li));
		ASSERT_EQ(self->vmm, li.info.vmm_pid);
		ASSERT_EQ(IMEE_API_VERSION, li.info.api_version);
		ASSERT_EQ(0, li.info.flags & IMEE_INFO_F_TARGET_DEAD);
		ASSERT_EQ(0, close(sfd));
	}
}

/* Every range of RAM the guest sees is backed by a memslot. */
static void check_ram_covered(struct __test_metadata *_metadata,
			      const char *target)
{
	struct lab_range ram[32];
	struct lab_info li;
	int n, i, sfd;

	n = lab_guest_ram(target, ram, 32);
	ASSERT_GT(n, 0);
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	ASSERT_LE(li.info.nr_memslots, LAB_MAX_SLOTS);
	for (i = 0; i < n; i++) {
		uint64_t a;

		/* memslots may split a range; walk it page by page in steps */
		for (a = ram[i].start & ~(PAGE - 1); a <= ram[i].end; a += PAGE) {
			if (!lab_in_ram(&li, a, PAGE)) {
				TH_LOG("%s: guest RAM page %#llx has no memslot",
				       target, (unsigned long long)a);
				ASSERT_TRUE(0);
			}
		}
	}
	/* the view covers exactly up to the end of the highest memslot */
	for (i = 0; i < (int)li.info.nr_memslots; i++)
		ASSERT_LE(li.slots[i].gpa + li.slots[i].size, li.info.view_size);
	close(sfd);
}

TEST(memslots_cover_guest_ram)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++)
		check_ram_covered(_metadata, *t);
}

TEST(memslots_split_around_pci_hole)
{
	const char *target = lab_target("BIG");
	struct lab_range ram[32];
	struct lab_info li;
	uint64_t above = 0, guest_above = 0;
	int n, i, sfd;

	if (!target)
		SKIP(return, "the lab has no target with more than 3 GiB");
	n = lab_guest_ram(target, ram, 32);
	ASSERT_GT(n, 0);
	for (i = 0; i < n; i++)
		if (ram[i].start >= (1ULL << 32))
			guest_above += ram[i].end + 1 - ram[i].start;
	/* the guest itself sees RAM continuing at 4 GiB */
	ASSERT_GT(guest_above, 0);

	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	for (i = 0; i < (int)li.info.nr_memslots; i++)
		if (li.slots[i].gpa >= (1ULL << 32))
			above += li.slots[i].size;
	/* RAM above 4 GiB is exactly what the guest sees there */
	ASSERT_EQ(guest_above, above);
	ASSERT_EQ((1ULL << 32) + guest_above, li.info.view_size);
	close(sfd);
}

TEST(vcpus_match_guest)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		struct lab_info li;
		char *out = NULL;
		int sfd, la57, ncpu;
		uint32_t i;

		ASSERT_EQ(0, lab_guest(*t, "grep -c ^processor /proc/cpuinfo", &out));
		ncpu = atoi(out);
		free(out);
		/* the kernel clears la57 in cpuinfo unless it runs 5-level paging */
		ASSERT_LE(0, lab_guest(*t, "grep -c -w la57 /proc/cpuinfo", &out));
		la57 = atoi(out) > 0;
		free(out);

		sfd = lab_attach_target(*t);
		ASSERT_GE(sfd, 0);
		ASSERT_EQ(0, lab_session_info(sfd, &li));
		ASSERT_EQ(ncpu, (int)li.info.nr_vcpus);
		for (i = 0; i < li.info.nr_vcpus && i < LAB_MAX_VCPUS; i++) {
			const struct imee_vcpu_regs *r = &li.vcpus[i];

			ASSERT_TRUE(r->cr0 & (1ULL << 31));	/* paging on */
			ASSERT_TRUE(r->efer & (1ULL << 10));	/* long mode active */
			ASSERT_EQ(la57, !!(r->cr4 & (1ULL << 12)));
			ASSERT_NE(0, r->cr3);
		}
		close(sfd);
	}
}

struct view_args {
	const volatile char *p;
};

static void write_view(void *arg)
{
	struct view_args *va = arg;

	*(volatile char *)va->p = 'X';
}

TEST(view_reads_guest_banner_and_is_read_only)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		char *version = lab_guest_proc_version(*t);
		int64_t gpa = banner_phys(*t);
		struct imee_read_phys rd = { .size = sizeof(rd) };
		struct view_args va;
		struct lab_info li;
		char copy[512];
		size_t len;
		char *view;
		int sfd;

		ASSERT_NE(NULL, version);
		ASSERT_GT(gpa, 0);
		len = strlen(version);
		ASSERT_LT(len, sizeof(copy));
		sfd = lab_attach_target(*t);
		ASSERT_GE(sfd, 0);
		ASSERT_EQ(0, lab_session_info(sfd, &li));
		ASSERT_TRUE(lab_in_ram(&li, gpa, len));

		/* writable or executable mappings are refused */
		ASSERT_EQ(MAP_FAILED, mmap(NULL, li.info.view_size,
					   PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0));
		ASSERT_EQ(MAP_FAILED, mmap(NULL, li.info.view_size,
					   PROT_READ | PROT_EXEC, MAP_SHARED, sfd, 0));
		view = mmap(NULL, li.info.view_size, PROT_READ, MAP_SHARED, sfd, 0);
		ASSERT_NE(MAP_FAILED, view);
		ASSERT_NE(0, mprotect(view, PAGE, PROT_READ | PROT_WRITE));

		/* zero-copy: the guest's banner, where the guest says it is */
		ASSERT_EQ(0, memcmp(view + gpa, version, len));

		/* copying read, split at the page boundary */
		{
			uint64_t first = PAGE - (gpa & (PAGE - 1));

			if (first > len)
				first = len;
			rd.gpa = gpa;
			rd.len = first;
			rd.buf = (uintptr_t)copy;
			ASSERT_EQ(0, ioctl(sfd, IMEE_READ_PHYS, &rd));
			if (first < len) {
				rd.gpa = gpa + first;
				rd.len = len - first;
				rd.buf = (uintptr_t)(copy + first);
				ASSERT_EQ(0, ioctl(sfd, IMEE_READ_PHYS, &rd));
			}
			ASSERT_EQ(0, memcmp(copy, version, len));
		}

		/* a write through the view faults in the writer only */
		va.p = view + gpa;
		ASSERT_EQ(SIGSEGV, child_signal(write_view, &va));
		ASSERT_EQ(0, memcmp(view + gpa, version, len));
		{
			char *again = lab_guest_proc_version(*t);

			ASSERT_NE(NULL, again);
			ASSERT_STREQ(version, again);
			free(again);
		}
		munmap(view, li.info.view_size);
		close(sfd);
		free(version);
	}
}

TEST(read_phys_rejects_bad_requests)
{
	const char *target = lab_targets()[0];
	struct imee_read_phys rd = { .size = sizeof(rd) };
	struct lab_info li;
	char buf[2 * PAGE];
	uint64_t hole = 0;
	uint32_t i;
	int sfd;

	ASSERT_NE(NULL, target);
	sfd = lab_attach_target(target);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, lab_session_info(sfd, &li));
	/* a page in no memslot, below the end of the view */
	for (i = 0; i + 1 < li.info.nr_memslots; i++) {
		uint64_t end = li.slots[i].gpa + li.slots[i].size;

		if (end < li.slots[i + 1].gpa) {
			hole = end;
			break;
		}
	}
	ASSERT_NE(0, hole);

	rd.buf = (uintptr_t)buf;
	rd.gpa = hole;
	rd.len = 8;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(ENXIO, errno);
	rd.gpa = li.info.view_size + PAGE;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(ENXIO, errno);
	rd.gpa = 0x100000 + PAGE - 4;	/* crosses a page */
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(EINVAL, errno);
	rd.gpa = 0x100000;
	rd.len = 0;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(EINVAL, errno);
	rd.len = PAGE + 1;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(EINVAL, errno);
	rd.len = 8;
	rd.buf = 16;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(EFAULT, errno);
	rd.buf = (uintptr_t)buf;
	rd.flags = 1;
	ASSERT_EQ(-1, ioctl(sfd, IMEE_READ_PHYS, &rd));
	ASSERT_EQ(EINVAL, errno);
	rd.flags = 0;
	ASSERT_EQ(0, ioctl(sfd, IMEE_READ_PHYS, &rd));
	/* a device ioctl on a session */
	ASSERT_EQ(-1, ioctl(sfd, IMEE_ATTACH, &rd));
	ASSERT_EQ(ENOTTY, errno);
	close(sfd);
}

TEST(two_targets_at_once)
{
	const char *const *t = lab_targets();
	int sfd[2], i;

	if (!t[0] || !t[1])
		SKIP(return, "the lab runs fewer than two targets");
	for (i = 0; i < 2; i++) {
		sfd[i] = lab_attach_target(t[i]);
		ASSERT_GE(sfd[i], 0);
	}
	/* both sessions open: each reads its own guest's banner */
	for (i = 0; i < 2; i++) {
		char *version = lab_guest_proc_version(t[i]);
		int64_t gpa = banner_phys(t[i]);
		struct imee_read_phys rd = { .size = sizeof(rd) };
		char buf[64];

		ASSERT_NE(NULL, version);
		ASSERT_GT(gpa, 0);
		rd.gpa = gpa;
		rd.len = (PAGE - (gpa & (PAGE - 1))) < 32 ? (PAGE - (gpa & (PAGE - 1))) : 32;
		rd.buf = (uintptr_t)buf;
		ASSERT_EQ(0, ioctl(sfd[i], IMEE_READ_PHYS, &rd));
		ASSERT_EQ(0, memcmp(buf, version, rd.len));
		free(version);
	}
	close(sfd[0]);
	close(sfd[1]);
}

TEST_HARNESS_MAIN
