// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for imee.ko, linked into a test build of imeectl with
 * -Wl,--wrap=open,--wrap=ioctl,--wrap=mmap: opening /dev/imee, IMEE_ATTACH,
 * IMEE_SESSION_INFO and IMEE_READ_PHYS are answered here, following the
 * contract of linux/imee.h, over a memfd that holds the guest of
 * fake_guest.h. The session fd is that memfd, so the library maps it as the
 * view with the real mmap().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/imee.h>

#include "fake_guest.h"
#include "fakemem.h"
#include "ksyms_build.h"

#define CR0_PE_PG 0x80050033ULL
#define CR4_BASE 0x3506f0ULL /* includes PAE */
#define CR4_LA57 (1ULL << 12)
#define EFER_LONG_NX 0xd01ULL /* SCE, LME, LMA, NXE */

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long request, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

static int guest_fd = -1; /* guest-physical memory: the view */
static struct stat guest_st;
static int device_fd = -1; /* the last fd handed out for /dev/imee */
static bool la57, dying, dead;
static unsigned int nr_vcpus = 2;
static uint64_t kernel_pgd, user_pgd;

static bool env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

static void build_kallsyms(struct fake_mem *g)
{
	static char names[FG_NR_FUNCS][16];
	const struct ksb_opts o = { .seqs = true, .abs_percpu = true, .relative_base = FG_TEXT_VA };
	const uint64_t sct[FG_NR_SYSCALLS] = { FG_SYS_READ_VA, FG_FUNC_VA(3), FG_SCT_HOOK,
					       FG_SYS_NI_VA };
	struct ksb_sym syms[FG_NR_KSYMS] = {
		{ "fixed_percpu_data", 'A', 0, true },
		{ "_text", 'T', FG_TEXT_VA, false },
		{ "_stext", 'T', FG_TEXT_VA, false },
	};
	struct ksb_layout lay;
	unsigned char *img;
	unsigned int i, n = 3;

	for (i = 0; i < FG_NR_FUNCS; i++) {
		snprintf(names[i], sizeof(names[i]), "func_%03u", i);
		syms[n++] = (struct ksb_sym){ names[i], 't', FG_FUNC_VA(i), false };
	}
	syms[n++] = (struct ksb_sym){ "__x64_sys_read", 'T', FG_SYS_READ_VA, false };
	syms[n++] = (struct ksb_sym){ "__x64_sys_ni_syscall", 'T', FG_SYS_NI_VA, false };
	syms[n++] = (struct ksb_sym){ "_etext", 'T', FG_ETEXT_VA, false };
	syms[n++] = (struct ksb_sym){ "linux_banner", 'D', FG_BANNER_VA, false };
	syms[n++] = (struct ksb_sym){ "pid_max", 'd', FG_PIDMAX_VA, false };
	syms[n++] = (struct ksb_sym){ "sys_call_table", 'D', FG_SCT_VA, false };
	syms[n++] =
		(struct ksb_sym){ "vdso_image_64", 'D', FG_SCT_VA + 8 * FG_NR_SYSCALLS + 8, false };
	syms[n++] = (struct ksb_sym){ "_end", 'B', FG_DATA_VA + SZ_4K, false };
	if (n != FG_NR_KSYMS)
		abort();
	for (i = 0; i < FG_NR_SYSCALLS; i++)
		fake_write(g, FG_SCT_PA + 8 * i, &sct[i], 8);
	img = malloc(SZ_2M / 4);
	if (!img)
		abort();
	lay = ksb_build(&o, syms, FG_NR_KSYMS, img, SZ_2M / 4);
	fake_write(g, FG_KALLSYMS_PA, img, lay.size);
	free(img);
}

static int build_guest(void)
{
	static const char banner[] = FG_BANNER "\n";
	unsigned int levels;
	struct fake_mem g;
	unsigned char *ram;
	uint64_t pidmax = FG_PIDMAX;
	const char *v;

	la57 = env_flag("IMEE_FAKE_LA57");
	dying = env_flag("IMEE_FAKE_DIE");
	v = getenv("IMEE_FAKE_VCPUS");
	if (v)
		nr_vcpus = (unsigned int)atoi(v);
	levels = la57 ? 5 : 4;

	guest_fd = memfd_create("fake-imee-guest", MFD_CLOEXEC);
	if (guest_fd < 0 || ftruncate(guest_fd, FG_VIEW_SIZE) || fstat(guest_fd, &guest_st))
		return -1;
	ram = __real_mmap(NULL, FG_VIEW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, guest_fd, 0);
	if (ram == MAP_FAILED)
		return -1;

	fake_init_empty(&g);
	fake_add_ram_at(&g, 0, FG_SLOT0_SIZE, ram);
	fake_add_ram_at(&g, FG_SLOT1_GPA, FG_SLOT1_SIZE, ram + FG_SLOT1_GPA);
	kernel_pgd = fake_table(&g, 2);
	user_pgd = kernel_pgd + SZ_4K;
	fake_map(&g, kernel_pgd, levels, FG_TEXT_VA, FG_TEXT_PA, SZ_2M, 0);
	fake_map(&g, kernel_pgd, levels, FG_TEXT_VA + SZ_2M, FG_TEXT_PA + SZ_2M, SZ_2M, 0);
	fake_map(&g, kernel_pgd, levels, FG_DATA_VA, FG_DATA_PA, SZ_4K, PTE_RW | PTE_XD);
	fake_map(&g, kernel_pgd, levels, FG_USER_VA, FG_USER_PA, SZ_4K, PTE_RW | PTE_US);
	fake_map(&g, user_pgd, levels, FG_USER_VA, FG_USER_PA, SZ_4K, PTE_RW | PTE_US);
	fake_write(&g, FG_BANNER_PA, banner, sizeof(banner));
	fake_write(&g, FG_PRINTK_PA, FG_BANNER, sizeof(FG_BANNER));
	fake_write(&g, FG_PIDMAX_PA, &pidmax, sizeof(pidmax));
	fake_write(&g, FG_USER_PA, "user page", 10);
	build_kallsyms(&g);
	fake_free(&g);
	munmap(ram, FG_VIEW_SIZE);
	return 0;
}

static bool is_session(int fd)
{
	struct stat st;

	return guest_fd >= 0 && !fstat(fd, &st) && st.st_dev == guest_st.st_dev &&
	       st.st_ino == guest_st.st_ino;
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	if (strcmp(path, IMEE_DEVICE_PATH))
		return __real_open(path, flags, mode);
	if (env_flag("IMEE_FAKE_NODEV")) {
		errno = ENOENT;
		return -1;
	}
	if (guest_fd < 0 && build_guest()) {
		errno = EIO;
		return -1;
	}
	device_fd = __real_open("/dev/null", flags & O_CLOEXEC);
	return device_fd;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static int do_attach(struct imee_attach *a)
{
	if (a->size != sizeof(*a) || a->reserved[0] || a->reserved[1] ||
	    (a->flags & ~IMEE_ATTACH_F_VM_FD))
		return fail(EINVAL);
	if (a->pid != FG_PID)
		return fail(ESRCH);
	if ((a->flags & IMEE_ATTACH_F_VM_FD) && a->vm_fd != FG_VM_FD)
		return fail(EBADF);
	return fcntl(guest_fd, F_DUPFD_CLOEXEC, 3);
}

static int do_info(struct imee_session_info *in)
{
	const struct imee_memslot slots[] = {
		{ .gpa = FG_SLOT1_GPA, .size = FG_SLOT1_SIZE, .slot = 1 },
		{ .gpa = 0, .size = FG_SLOT0_SIZE, .slot = 0 },
	};
	struct imee_memslot *out_slots = (void *)(uintptr_t)in->memslots;
	struct imee_vcpu_regs *out_vcpus = (void *)(uintptr_t)in->vcpus;
	unsigned int i;

	if (in->size != sizeof(*in))
		return fail(EINVAL);
	in->flags = dead ? IMEE_INFO_F_TARGET_DEAD : 0;
	in->api_version = IMEE_API_VERSION;
	in->vmm_pid = FG_PID;
	in->nr_memslots = 2;
	for (i = 0; i < 2 && i < in->memslots_cap; i++)
		out_slots[i] = slots[i];
	in->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus && i < in->vcpus_cap; i++) {
		struct imee_vcpu_regs v = {
			.vcpu_id = i,
			.flags = IMEE_VCPU_F_CR3_CURRENT,
			.cr0 = CR0_PE_PG,
			.cr4 = CR4_BASE | (la57 ? CR4_LA57 : 0),
			.efer = EFER_LONG_NX,
			.exits = 1000 + i,
			/* vCPU 0 runs a user process under PTI, with PCID 1. */
			.cr3 = i == 0 ? (user_pgd | 0x800 | 1) : kernel_pgd,
		};

		out_vcpus[i] = v;
	}
	in->view_size = FG_VIEW_SIZE;
	in->memslots_generation = 3;
	return 0;
}

static int do_read(struct imee_read_phys *rd)
{
	uint64_t end;

	if (rd->size != sizeof(*rd) || rd->flags || rd->reserved || !rd->len || rd->len > 4096 ||
	    rd->gpa + rd->len < rd->gpa)
		return fail(EINVAL);
	end = rd->gpa + rd->len - 1;
	if ((rd->gpa >> 12) != (end >> 12))
		return fail(EINVAL);
	if (dead)
		return fail(ESRCH);
	if (!(end < FG_SLOT0_SIZE || (rd->gpa >= FG_SLOT1_GPA && end < FG_VIEW_SIZE)))
		return fail(ENXIO);
	if (pread(guest_fd, (void *)(uintptr_t)rd->buf, rd->len, (off_t)rd->gpa) != rd->len)
		return fail(EIO);
	return 0;
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd == device_fd && request == IMEE_ATTACH)
		return do_attach(arg);
	if (is_session(fd)) {
		switch (request) {
		case IMEE_SESSION_INFO:
			return do_info(arg);
		case IMEE_READ_PHYS:
			return do_read(arg);
		default:
			return fail(ENOTTY);
		}
	}
	return __real_ioctl(fd, request, arg);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = __real_mmap(addr, len, prot, flags, fd, off);

	/* The target dies once its view is mapped: the view now faults. */
	if (p != MAP_FAILED && dying && is_session(fd)) {
		if (ftruncate(guest_fd, 0) == 0)
			dead = true;
	}
	return p;
}
