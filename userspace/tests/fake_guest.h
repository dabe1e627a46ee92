/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest that fake_device.c emulates behind a fake /dev/imee, and what
 * test_run.c expects imeectl to find in it.
 *
 * Guest RAM: [0, 16 MiB) and [32 MiB, 48 MiB), a hole between. Page tables
 * are a Linux PTI pair; vCPU 0 runs a user process (CR3 = the user half,
 * with a PCID), vCPU 1 the kernel. Environment knobs: IMEE_FAKE_LA57=1 for
 * 5-level paging, IMEE_FAKE_VCPUS=N vCPUs, IMEE_FAKE_DIE=1 for a target that
 * dies right after the view is mapped (its view then raises SIGBUS),
 * IMEE_FAKE_NODEV=1 for no /dev/imee.
 */
#ifndef IMEE_TESTS_FAKE_GUEST_H
#define IMEE_TESTS_FAKE_GUEST_H

#define FG_PID 4242
#define FG_VM_FD 7

#define FG_SLOT0_SIZE (16ULL << 20)
#define FG_SLOT1_GPA (32ULL << 20)
#define FG_SLOT1_SIZE (16ULL << 20)
#define FG_VIEW_SIZE (FG_SLOT1_GPA + FG_SLOT1_SIZE)
#define FG_HOLE_PA 0x1000000ULL

/* Kernel text: two 2 MiB pages, read-only, executable. */
#define FG_TEXT_VA 0xffffffff81000000ULL
#define FG_TEXT_PA 0x2000000ULL
#define FG_BANNER_VA (FG_TEXT_VA + 0x200100)
#define FG_BANNER_PA (FG_TEXT_PA + 0x200100)
/* Kernel data: one 4 KiB page, writable, NX, physically below the text. */
#define FG_DATA_VA 0xffffffff82000000ULL
#define FG_DATA_PA 0x300000ULL
#define FG_PRINTK_PA (FG_DATA_PA + 0x100) /* the banner as logged: no newline */
#define FG_PIDMAX_VA (FG_DATA_VA + 0x800)
#define FG_PIDMAX_PA (FG_DATA_PA + 0x800)
#define FG_PIDMAX 32768
/*
 * kallsyms tables (tests/ksyms_build.c, the 6.1.y layout) in the second text
 * page: fixed_percpu_data (A, 0), _text and _stext (T), func_000..func_019
 * (t, at FG_FUNC_VA(i)), __x64_sys_read and __x64_sys_ni_syscall (T, at
 * FG_SYS_READ_VA and FG_SYS_NI_VA), _etext (T), linux_banner (D,
 * FG_BANNER_VA), pid_max (d, FG_PIDMAX_VA), sys_call_table (D,
 * FG_SCT_VA: FG_NR_SYSCALLS entries, then 8 bytes of padding),
 * vdso_image_64 (D) after it, and _end (B) at the end of the data page.
 */
#define FG_KALLSYMS_PA (FG_TEXT_PA + 0x300000)
#define FG_FUNC_VA(i) (FG_TEXT_VA + 0x1000 + 0x10 * (i))
#define FG_NR_FUNCS 20
#define FG_NR_KSYMS (FG_NR_FUNCS + 11)
#define FG_SYS_READ_VA (FG_TEXT_VA + 0x2000)
#define FG_SYS_NI_VA (FG_TEXT_VA + 0x2040)
#define FG_ETEXT_VA (FG_TEXT_VA + 0x100000)
/* read, func_003 (flagged: not a handler), a module's address (flagged), ni_syscall */
#define FG_SCT_VA (FG_DATA_VA + 0x900)
#define FG_SCT_PA (FG_DATA_PA + 0x900)
#define FG_NR_SYSCALLS 4
#define FG_SCT_HOOK 0xffffffffc0001000ULL
/* A user page, in both halves of the pair. */
#define FG_USER_VA 0x400000ULL
#define FG_USER_PA 0x500000ULL

#define FG_BANNER                                                                   \
	"Linux version 6.1.0-fake-amd64 (debian-kernel@lists.debian.org) (gcc-12 "  \
	"(Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP " \
	"PREEMPT_DYNAMIC Debian 6.1.0-1 (2024-01-01)"

#endif /* IMEE_TESTS_FAKE_GUEST_H */
