/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libimee: read the memory of running KVM guests through /dev/imee.
 *
 * Conventions (the same everywhere):
 *  - Functions that can fail return 0 or a negative errno, and write their
 *    outputs through *_ret pointers (always the last arguments) only on
 *    success.
 *  - After a failure, imee_last_error() describes it: the errno, a message,
 *    and for failed page walks the kind of fault, its level and address. The
 *    description lives in thread-local storage and is never allocated, so it
 *    is available after -ENOMEM too.
 *  - Options structs start with a size field (fill it with sizeof, or use
 *    IMEE_OPTS()), so fields can be appended without breaking callers built
 *    against an older header.
 *  - Objects are opaque; a session is used by one thread at a time.
 */
#ifndef IMEE_IMEE_H
#define IMEE_IMEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/imee.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Declare and zero an options struct with its size filled in. */
#define IMEE_OPTS(type, name, ...) struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Why a guest page walk did not yield a physical address. */
enum imee_fault {
	IMEE_FAULT_NONE = 0,
	IMEE_FAULT_NOT_MAPPED, /* an entry has its present bit clear */
	IMEE_FAULT_NON_CANONICAL, /* the address is not canonical for the paging mode */
	IMEE_FAULT_BAD_ENTRY, /* reserved bits set, or PS where the level forbids it */
	IMEE_FAULT_OUT_OF_RAM, /* a table or the page lies outside guest RAM */
};

/* "not-mapped", "non-canonical", "bad-entry", "out-of-ram" ("none"). */
const char *imee_fault_name(enum imee_fault fault);

/* The errno a fault turns into when a function fails because of it. */
int imee_fault_errno(enum imee_fault fault);

#define IMEE_ERRMSG_MAX 256

struct imee_error {
	int err; /* the negative errno that was returned */
	enum imee_fault fault; /* IMEE_FAULT_NONE unless a guest page walk failed */
	unsigned int level; /* paging level of the fault (1 = PTE .. 5 = PML5E), or 0 */
	uint64_t address; /* the address the fault concerns, if any */
	char message[IMEE_ERRMSG_MAX];
};

/*
 * The last failure of a libimee call in this thread. Only meaningful right
 * after a call returned a negative errno. Never NULL.
 */
const struct imee_error *imee_last_error(void);

/* imee_last_error()->message. */
const char *imee_errmsg(void);

/* ------------------------------------------------------------------ */
/* Guest-physical memory, as seen by page walks                        */
/* ------------------------------------------------------------------ */

/*
 * A source of guest-physical memory. The page walker and everything built
 * on it (virtual reads, the banner search) read memory only through these
 * operations, so they run unchanged over a live session (either engine) or
 * over a synthetic memory image in a test.
 */
struct imee_mem_ops {
	/*
	 * Copy [gpa, gpa + len) into buf. Returns 0 or a negative errno;
	 * -ENXIO when part of the range is not guest RAM.
	 */
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/*
	 * Read the little-endian 64-bit word at gpa (8-byte aligned). Optional:
	 * when NULL, read() is used.
	 */
	int (*read_u64)(void *ctx, uint64_t gpa, uint64_t *val_ret);
	/*
	 * Is [gpa, gpa + len) guest RAM? Optional: when NULL, a translation to
	 * an address outside RAM is only noticed when it is read.
	 */
	bool (*is_ram)(void *ctx, uint64_t gpa, uint64_t len);
};

struct imee_mem {
	const struct imee_mem_ops *ops;
	void *ctx;
};

/* ------------------------------------------------------------------ */
/* x86-64 page walks                                                   */
/* ------------------------------------------------------------------ */

enum imee_paging {
	IMEE_PAGING_OFF = 0, /* CR0.PG clear: linear = physical */
	IMEE_PAGING_32BIT, /* 2-level, 32-bit (not supported by the walker) */
	IMEE_PAGING_PAE, /* 3-level PAE (not supported by the walker) */
	IMEE_PAGING_4LEVEL, /* IA-32e, 4 levels, 48-bit addresses */
	IMEE_PAGING_5LEVEL, /* IA-32e with CR4.LA57, 5 levels, 57-bit addresses */
};

/* The paging mode a vCPU is in, from CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57. */
enum imee_paging imee_paging_mode(uint64_t cr0, uint64_t cr4, uint64_t efer);

/* "off", "32-bit", "pae", "4-level", "5-level". */
const char *imee_paging_name(enum imee_paging paging);

/* EFER.NXE is clear: bit 63 of every entry is reserved, and nothing is NX. */
#define IMEE_WALK_F_NO_NXE (1U << 0)

#define IMEE_MAXPHYADDR_DEFAULT 52

struct imee_walk_opts {
	size_t sz; /* sizeof(struct imee_walk_opts) */
	enum imee_paging paging; /* IMEE_PAGING_4LEVEL or IMEE_PAGING_5LEVEL */
	/*
	 * The CR3 value to walk from. Bits 0-11 (PCID or PWT/PCD) and the bits
	 * at and above MAXPHYADDR (bit 63: "no flush") are ignored.
	 */
	uint64_t cr3;
	unsigned int maxphyaddr; /* the guest CPU's MAXPHYADDR, 0 for 52 */
	uint32_t flags; /* IMEE_WALK_F_* */
};

/* Fill walk options (paging mode, CR3, NXE) from a vCPU's registers. */
void imee_walk_opts_from_vcpu(const struct imee_vcpu_regs *vcpu, struct imee_walk_opts *opts);

#define IMEE_WALK_MAX_LEVELS 5

/* One paging-structure entry the walk read. */
struct imee_walk_step {
	unsigned int level; /* 5 PML5E, 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
	unsigned int index; /* 0..511 */
	uint64_t table; /* guest-physical address of the table */
	uint64_t entry; /* the entry's value */
};

/* "PML5E", "PML4E", "PDPTE", "PDE", "PTE" for levels 5..1. */
const char *imee_walk_level_name(unsigned int level);

/* The record of one page walk. */
struct imee_walk {
	uint64_t va; /* the address walked */
	enum imee_fault fault; /* IMEE_FAULT_NONE: translated */
	/*
	 * Translated: the level of the leaf entry (1 for a 4 KiB page, 2 for
	 * 2 MiB, 3 for 1 GiB). Fault: the level of the entry at fault (for an
	 * out-of-RAM table, the level of the table that could not be read),
	 * or 0 for a non-canonical address.
	 */
	unsigned int level;
	/*
	 * Bytes from va to the end of the range that shares this outcome: the
	 * rest of the page when translated, the rest of the range the missing
	 * or bad entry covers when not, the rest of the non-canonical hole.
	 * Scanners continue at va + skip (which may wrap to 0 at the top).
	 */
	uint64_t skip;
	/*
	 * Translated: the guest-physical address of va. IMEE_FAULT_OUT_OF_RAM:
	 * the address that is not RAM (the table, or va's physical address).
	 */
	uint64_t pa;
	/* Translated (and out-of-RAM at the leaf): 4096, 2 MiB or 1 GiB. */
	uint64_t page_size;
	/*
	 * Translated: the permissions, combined across levels as the hardware
	 * does: writable and user only if every level allows it, nx if any
	 * level sets XD. (Supervisor writes may still succeed when CR0.WP is
	 * clear.)
	 */
	bool writable;
	bool user;
	bool nx;
	/* IMEE_FAULT_BAD_ENTRY only: the bits of the entry that made it bad. */
	uint64_t bad_bits;
	unsigned int nr_steps; /* entries read, top level first */
	struct imee_walk_step steps[IMEE_WALK_MAX_LEVELS];
};

/*
 * Walk the page tables for va. Returns 0 when the walk reached a conclusion:
 * walk_ret->fault is IMEE_FAULT_NONE for a translation, or tells why there is
 * none (that is a fact about the guest, not a failure of the call). Returns a
 * negative errno when the walk could not be done: -EINVAL bad options,
 * -EOPNOTSUPP a paging mode the walker does not handle, or the error of a
 * memory read other than "not RAM" (e.g. -ESRCH: the target is gone).
 */
int imee_walk(const struct imee_mem *mem, const struct imee_walk_opts *opts, uint64_t va,
	      struct imee_walk *walk_ret);

/*
 * Turn a faulted walk into an error: records it as the last error (fault,
 * level, address and a message naming the entry) and returns its errno
 * (imee_fault_errno()). Returns 0 for a walk without a fault.
 */
int imee_walk_error(const struct imee_walk *walk);

/*
 * Read [va, va + len) of guest virtual memory: each page is translated with
 * imee_walk() and read through mem. Fails with the errno of the first fault
 * (see imee_last_error() for its kind); nothing is partially reported.
 */
int imee_virt_read(const struct imee_mem *mem, const struct imee_walk_opts *opts, uint64_t va,
		   void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Sessions: /dev/imee                                                 */
/* ------------------------------------------------------------------ */

struct imee_session;

#define IMEE_DEVICE_PATH "/dev/" IMEE_DEVICE_NAME

struct imee_attach_opts {
	size_t sz; /* sizeof(struct imee_attach_opts) */
	const char *device; /* NULL: IMEE_DEVICE_PATH */
	pid_t pid; /* the VMM process */
	bool has_vm_fd; /* pass vm_fd: needed when the VMM owns several VMs */
	int vm_fd; /* the VMM's file descriptor of its KVM VM */
};

/*
 * Attach to the KVM VM of a VMM process: open the device, attach, read the
 * session info and map the zero-copy view. Errors are those of IMEE_ATTACH
 * (see linux/imee.h), of open() (-ENOENT: imee.ko is not loaded), or of the
 * info ioctl and mmap.
 */
int imee_session_attach(const struct imee_attach_opts *opts, struct imee_session **session_ret);

/* Unmap the view, close the session. NULL is allowed. */
void imee_session_detach(struct imee_session *session);

/*
 * Re-read IMEE_SESSION_INFO (memslots, vCPU registers) and remap the view if
 * it grew. Pointers from imee_session_memslots() and imee_session_vcpus()
 * are invalidated.
 */
int imee_session_refresh(struct imee_session *session);

/* 0 while the target lives, -ESRCH once its VMM is gone, or another -errno. */
int imee_session_check_alive(struct imee_session *session);

pid_t imee_session_vmm_pid(const struct imee_session *session);
uint32_t imee_session_api_version(const struct imee_session *session);
uint64_t imee_session_view_size(const struct imee_session *session);
uint64_t imee_session_memslots_generation(const struct imee_session *session);

/* The memslots, sorted by address, as of the last attach or refresh. */
size_t imee_session_memslots(const struct imee_session *session,
			     const struct imee_memslot **slots_ret);

/* The vCPUs' registers, as of the last attach or refresh. */
size_t imee_session_vcpus(const struct imee_session *session,
			  const struct imee_vcpu_regs **vcpus_ret);

/* Does [gpa, gpa + len) lie in guest RAM (one or several adjacent memslots)? */
bool imee_session_is_ram(const struct imee_session *session, uint64_t gpa, uint64_t len);

/* How guest-physical memory is read. */
enum imee_engine {
	/*
	 * Through the zero-copy view: loads from the session's mapping, with
	 * the memslot checked first and faults caught (-EFAULT, or -ESRCH when
	 * the target died). The first such read installs a process-wide SIGBUS
	 * handler that passes faults outside the view on to the handler it
	 * replaced; a program that installs its own SIGBUS handler later must
	 * do the same.
	 */
	IMEE_ENGINE_SOFTWARE = 0,
	/* Through the copying IMEE_READ_PHYS ioctl, one request per page. */
	IMEE_ENGINE_LEGACY,
};

/* "software", "legacy". */
const char *imee_engine_name(enum imee_engine engine);

/*
 * Read [gpa, gpa + len) of guest-physical memory. -ENXIO: not all of it is
 * guest RAM; -ESRCH: the target is gone; -EFAULT: the view faulted (the
 * memory changed under us); -ENODEV: the memory was removed.
 */
int imee_session_read_phys(struct imee_session *session, enum imee_engine engine, uint64_t gpa,
			   void *buf, size_t len);

/*
 * Memory operations for imee_walk() and friends that read the session's
 * guest through the given engine. Valid until the session is detached.
 */
int imee_session_mem(struct imee_session *session, enum imee_engine engine,
		     struct imee_mem *mem_ret);

/* ------------------------------------------------------------------ */
/* Linux guests                                                        */
/* ------------------------------------------------------------------ */

/* Where x86-64 Linux maps its kernel image (KASLR moves it inside). */
#define IMEE_LINUX_KERNEL_IMAGE_START 0xffffffff80000000ULL
#define IMEE_LINUX_KERNEL_IMAGE_END 0xffffffffc0000000ULL

/*
 * The CR3 to walk va with. With page-table isolation, Linux allocates each
 * top-level table as an 8 KiB pair, kernel half first, user half at +4 KiB,
 * and runs user code on the user half, which maps almost nothing of the
 * kernel. So for a kernel-half address (bit 63 set) the kernel table is
 * cr3 with bits 0-12 and bit 63 cleared; a user-half address keeps cr3.
 * (Without PTI the table is 8 KiB aligned as well in kernels built with PTI
 * support, so the rule is harmless there.)
 */
uint64_t imee_linux_cr3_for(uint64_t cr3, uint64_t va);

/* linux_banner is "Linux version ...\n": shorter than this with its NUL. */
#define IMEE_LINUX_BANNER_MAX 512

struct imee_linux_banner {
	uint64_t va; /* virtual address of linux_banner */
	uint64_t pa; /* guest-physical address of its first byte */
	size_t len; /* strlen(text) */
	char text[IMEE_LINUX_BANNER_MAX]; /* without the trailing newline */
};

/*
 * Find linux_banner: the string "Linux version ...\n" followed by NUL,
 * printable and shorter than IMEE_LINUX_BANNER_MAX, that comes last on
 * read-only pages (else last on any page: see linux.c), in the kernel image's
 * virtual range (searched in ascending order of virtual address through the
 * page tables of opts, with imee_linux_cr3_for() applied; unmapped ranges are
 * skipped whole). The printk buffer's copy has no newline and is not taken.
 * -ENOENT when there is none.
 */
int imee_linux_find_banner(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			   struct imee_linux_banner *banner_ret);

/* ------------------------------------------------------------------ */
/* Linux guests: kallsyms                                              */
/* ------------------------------------------------------------------ */

/* Where x86-64 Linux links its kernel without KASLR (_text). */
#define IMEE_LINUX_TEXT_DEFAULT 0xffffffff81000000ULL

/* KSYM_NAME_LEN of Linux 6.1 and later (with the type letter and NUL). */
#define IMEE_LINUX_KSYM_NAME_MAX 512

/* The kernel's kallsyms tables, decoded into host memory. */
struct imee_linux_kallsyms;

struct imee_linux_ksym {
	uint64_t address;
	char type; /* the letter /proc/kallsyms shows: 'T', 't', 'D', ... */
	const char *name; /* valid until imee_linux_kallsyms_free() */
	size_t index; /* position in the kernel's table (address order) */
};

/* How the tables were laid out, and where they are. */
struct imee_linux_kallsyms_info {
	uint64_t num_syms;
	uint64_t relative_base; /* kallsyms_relative_base (after KASLR) */
	uint64_t offsets_va; /* kallsyms_offsets */
	uint64_t names_va; /* kallsyms_names */
	uint64_t markers_va; /* kallsyms_markers */
	uint64_t token_table_va; /* kallsyms_token_table */
	uint64_t token_index_va; /* kallsyms_token_index */
	bool seqs_of_names; /* kallsyms_seqs_of_names is present (6.1.y, 6.2+) */
	bool offsets_last; /* the tables after token_index (6.4+ order) */
	bool absolute_percpu; /* negative offsets are relative to relative_base - 1 */
};

/*
 * Find and decode the guest kernel's kallsyms tables from its memory alone
 * (CONFIG_KALLSYMS_BASE_RELATIVE kernels): the token table is searched for in
 * the kernel image's virtual range through the page tables of opts (with
 * imee_linux_cr3_for() applied), and every table around it is validated
 * before it is used. -ENOENT: no kallsyms tables found; -EPROTO: tables found
 * but in a layout not recognised. Free with imee_linux_kallsyms_free().
 */
int imee_linux_kallsyms_load(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			     struct imee_linux_kallsyms **ks_ret);

void imee_linux_kallsyms_free(struct imee_linux_kallsyms *ks);

size_t imee_linux_kallsyms_count(const struct imee_linux_kallsyms *ks);

void imee_linux_kallsyms_info(const struct imee_linux_kallsyms *ks,
			      struct imee_linux_kallsyms_info *info_ret);

/* The index-th symbol in the kernel's (address) order; -ERANGE past the end. */
int imee_linux_kallsyms_get(const struct imee_linux_kallsyms *ks, size_t index,
			    struct imee_linux_ksym *sym_ret);

/*
 * The symbol called name (the first in address order when several are:
 * *nr_matches_ret, if not NULL, tells how many). -ENOENT if there is none.
 */
int imee_linux_kallsyms_lookup_name(const struct imee_linux_kallsyms *ks, const char *name,
				    struct imee_linux_ksym *sym_ret, size_t *nr_matches_ret);

/*
 * The symbol with the highest address <= address (the last of equals).
 * -ENOENT if every symbol lies above it.
 */
int imee_linux_kallsyms_lookup_address(const struct imee_linux_kallsyms *ks, uint64_t address,
				       struct imee_linux_ksym *sym_ret);

/* ------------------------------------------------------------------ */
/* KVM VMs on this host                                                */
/* ------------------------------------------------------------------ */

struct imee_vm {
	pid_t pid; /* the VMM process */
	int vm_fd; /* its file descriptor of the VM */
	char comm[17]; /* the VMM's /proc/PID/comm */
};

struct imee_vm_list {
	struct imee_vm *vms; /* sorted by pid, then fd */
	size_t nr;
	size_t nr_unreadable; /* processes whose fds could not be listed (EACCES) */
};

struct imee_vms_opts {
	size_t sz; /* sizeof(struct imee_vms_opts) */
	const char *proc; /* NULL: "/proc" */
};

/*
 * Find KVM VMs: file descriptors linked to "anon_inode:kvm-vm" in
 * /proc/PID/fd. Free the list with imee_vm_list_free().
 */
int imee_vms_find(const struct imee_vms_opts *opts, struct imee_vm_list *list_ret);

void imee_vm_list_free(struct imee_vm_list *list);

#ifdef __cplusplus
}
#endif

#endif /* IMEE_IMEE_H */
