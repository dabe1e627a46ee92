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
/* Agent programs                                                      */
/* ------------------------------------------------------------------ */

/*
 * Agent programs (struct imee_insn: the instruction set is documented in
 * <linux/imee.h>) are what the ImEE's agent runs inside the target. libimee
 * runs them too, with the very same interpreter (module/common/), so a
 * program gives the same result (status, fault and its address, pc, steps,
 * registers, output) on every engine.
 *
 * Writing one in C: each macro below is the initializer of one instruction.
 * Registers are numbers 0..15; r0..r7 start with the arguments, r8..r15
 * with 0. Jump offsets count instructions from the one after the jump.
 *
 *	// r0 = the head of a list of { next, value } nodes: emit the values
 *	static const struct imee_insn prog[] = {
 *		IMEE_JEQK(0, 0, 4),   // 0: if r0 == 0 goto 5
 *		IMEE_LD(1, 0, 8, 8),  // 1: r1 = *(u64 *)(r0 + 8)
 *		IMEE_EMIT(1, 8),      // 2: emit the 8 bytes of r1
 *		IMEE_LD(0, 0, 0, 8),  // 3: r0 = r0->next
 *		IMEE_JA(-5),          // 4: goto 0
 *		IMEE_EXIT(),          // 5
 *	};
 *
 * (A real program also bounds the walk: a counter and a JEQK, or the step
 * limit.) Use (struct imee_insn)IMEE_MOV(1, 2) where an expression is needed.
 */
#define IMEE_INSN(op_, dst_, src_, size_, off_, imm_)                                             \
	{                                                                                         \
		.op = (op_), .regs = IMEE_INSN_REGS((dst_), (src_)), .size = (size_), .flags = 0, \
		.off = (off_), .imm = (uint64_t)(imm_)                                            \
	}

#define IMEE_EXIT() IMEE_INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0)
/* dst = src, dst = imm */
#define IMEE_MOV(dst, src) IMEE_INSN(IMEE_OP_MOV, dst, src, 0, 0, 0)
#define IMEE_MOVK(dst, imm) IMEE_INSN(IMEE_OP_MOVK, dst, 0, 0, 0, imm)
/* dst = dst op src, dst = dst op imm (wrapping; shifts modulo 64, SHR logical) */
#define IMEE_ADD(dst, src) IMEE_INSN(IMEE_OP_ADD, dst, src, 0, 0, 0)
#define IMEE_ADDK(dst, imm) IMEE_INSN(IMEE_OP_ADDK, dst, 0, 0, 0, imm)
#define IMEE_SUB(dst, src) IMEE_INSN(IMEE_OP_SUB, dst, src, 0, 0, 0)
#define IMEE_SUBK(dst, imm) IMEE_INSN(IMEE_OP_SUBK, dst, 0, 0, 0, imm)
#define IMEE_MUL(dst, src) IMEE_INSN(IMEE_OP_MUL, dst, src, 0, 0, 0)
#define IMEE_MULK(dst, imm) IMEE_INSN(IMEE_OP_MULK, dst, 0, 0, 0, imm)
#define IMEE_AND(dst, src) IMEE_INSN(IMEE_OP_AND, dst, src, 0, 0, 0)
#define IMEE_ANDK(dst, imm) IMEE_INSN(IMEE_OP_ANDK, dst, 0, 0, 0, imm)
#define IMEE_OR(dst, src) IMEE_INSN(IMEE_OP_OR, dst, src, 0, 0, 0)
#define IMEE_ORK(dst, imm) IMEE_INSN(IMEE_OP_ORK, dst, 0, 0, 0, imm)
#define IMEE_XOR(dst, src) IMEE_INSN(IMEE_OP_XOR, dst, src, 0, 0, 0)
#define IMEE_XORK(dst, imm) IMEE_INSN(IMEE_OP_XORK, dst, 0, 0, 0, imm)
#define IMEE_SHL(dst, src) IMEE_INSN(IMEE_OP_SHL, dst, src, 0, 0, 0)
#define IMEE_SHLK(dst, imm) IMEE_INSN(IMEE_OP_SHLK, dst, 0, 0, 0, imm)
#define IMEE_SHR(dst, src) IMEE_INSN(IMEE_OP_SHR, dst, src, 0, 0, 0)
#define IMEE_SHRK(dst, imm) IMEE_INSN(IMEE_OP_SHRK, dst, 0, 0, 0, imm)
/* goto pc + 1 + off; if (dst cmp src) ..., if (dst cmp imm) ... (unsigned) */
#define IMEE_JA(off) IMEE_INSN(IMEE_OP_JA, 0, 0, 0, off, 0)
#define IMEE_JEQ(dst, src, off) IMEE_INSN(IMEE_OP_JEQ, dst, src, 0, off, 0)
#define IMEE_JEQK(dst, imm, off) IMEE_INSN(IMEE_OP_JEQK, dst, 0, 0, off, imm)
#define IMEE_JNE(dst, src, off) IMEE_INSN(IMEE_OP_JNE, dst, src, 0, off, 0)
#define IMEE_JNEK(dst, imm, off) IMEE_INSN(IMEE_OP_JNEK, dst, 0, 0, off, imm)
#define IMEE_JLT(dst, src, off) IMEE_INSN(IMEE_OP_JLT, dst, src, 0, off, 0)
#define IMEE_JLTK(dst, imm, off) IMEE_INSN(IMEE_OP_JLTK, dst, 0, 0, off, imm)
#define IMEE_JLE(dst, src, off) IMEE_INSN(IMEE_OP_JLE, dst, src, 0, off, 0)
#define IMEE_JLEK(dst, imm, off) IMEE_INSN(IMEE_OP_JLEK, dst, 0, 0, off, imm)
#define IMEE_JGT(dst, src, off) IMEE_INSN(IMEE_OP_JGT, dst, src, 0, off, 0)
#define IMEE_JGTK(dst, imm, off) IMEE_INSN(IMEE_OP_JGTK, dst, 0, 0, off, imm)
#define IMEE_JGE(dst, src, off) IMEE_INSN(IMEE_OP_JGE, dst, src, 0, off, 0)
#define IMEE_JGEK(dst, imm, off) IMEE_INSN(IMEE_OP_JGEK, dst, 0, 0, off, imm)
/*
 * dst = size (1, 2, 4, 8) bytes at virtual (LD) or guest-physical (LDP)
 * address src + off. The F forms: on a fault, dst = the fault code
 * (IMEE_PROG_FAULT_*) and goto pc + 1 + foff.
 */
#define IMEE_LD(dst, src, off, size) IMEE_INSN(IMEE_OP_LD, dst, src, size, off, 0)
#define IMEE_LDF(dst, src, off, size, foff) IMEE_INSN(IMEE_OP_LDF, dst, src, size, off, foff)
#define IMEE_LDP(dst, src, off, size) IMEE_INSN(IMEE_OP_LDP, dst, src, size, off, 0)
#define IMEE_LDPF(dst, src, off, size, foff) IMEE_INSN(IMEE_OP_LDPF, dst, src, size, off, foff)
/*
 * Emit register len's value in bytes (at most IMEE_PROG_MAX_COPY) read from
 * virtual (COPY) or guest-physical (COPYP) address src + off. The F forms:
 * on a fault, len = the fault code and goto pc + 1 + foff.
 */
#define IMEE_COPY(len, src, off) IMEE_INSN(IMEE_OP_COPY, len, src, 0, off, 0)
#define IMEE_COPYF(len, src, off, foff) IMEE_INSN(IMEE_OP_COPYF, len, src, 0, off, foff)
#define IMEE_COPYP(len, src, off) IMEE_INSN(IMEE_OP_COPYP, len, src, 0, off, 0)
#define IMEE_COPYPF(len, src, off, foff) IMEE_INSN(IMEE_OP_COPYPF, len, src, 0, off, foff)
/* emit the low size (1, 2, 4, 8) bytes of register src, little-endian */
#define IMEE_EMIT(src, size) IMEE_INSN(IMEE_OP_EMIT, src, 0, size, 0, 0)

/* "LD", "JEQK", ...; "?" for an unknown opcode. */
const char *imee_prog_op_name(unsigned int op);

/* IMEE_STATUS_*: "ok", "fault", "step-limit", "output-full", "bad-program". */
const char *imee_prog_status_name(uint32_t status);

/* IMEE_PROG_FAULT_*: the names of imee_fault_name(), and "agent". */
const char *imee_prog_fault_name(uint32_t fault);

/*
 * Check a program as imee.ko's IMEE_LOAD does (the same code): opcodes,
 * sizes, flags, jump targets, length, the last instruction. -EINVAL when it
 * is bad: the message names the first bad instruction and why, and
 * *bad_ret, if not NULL, gets its index (0 for a bad number of
 * instructions).
 */
int imee_prog_verify(const struct imee_insn *insns, size_t nr, size_t *bad_ret);

/* How a run ended: the fields of struct imee_run that the program decides. */
struct imee_prog_result {
	uint32_t status; /* IMEE_STATUS_* */
	uint32_t fault; /* IMEE_PROG_FAULT_* with IMEE_STATUS_FAULT, else 0 */
	uint64_t fault_addr; /* the lowest address that could not be read */
	uint64_t pc; /* the instruction the program stopped at */
	uint64_t steps; /* instructions run (the stopping one included) */
	uint64_t out_len; /* bytes of output */
	uint64_t regs[IMEE_PROG_NR_REGS];
};

/*
 * Run a program over mem with the software page walker: virtual loads are
 * translated with imee_walk() through the page tables of opts, exactly as
 * given (imee_linux_cr3_for() is not applied), walk faults becoming the
 * IMEE_PROG_FAULT_* of the same number; guest-physical loads read mem
 * directly (-ENXIO from mem->ops->read is IMEE_PROG_FAULT_OUT_OF_RAM).
 * args (NULL: zeros) are r0..r7; max_steps as imee_run's (0: 2^32); output
 * goes to out (out_cap bytes). Returns 0 when the program ran, however it
 * ended (*res says how), or a negative errno when it could not run: -EINVAL
 * a bad program (see imee_prog_verify()) or arguments, -EOPNOTSUPP a paging
 * mode other than 4- and 5-level, or the error of a memory read that is not
 * the target's fault (e.g. -ESRCH: the target is gone).
 */
int imee_prog_run_mem(const struct imee_mem *mem, const struct imee_walk_opts *opts,
		      const struct imee_insn *insns, size_t nr, const uint64_t args[8],
		      uint64_t max_steps, void *out, size_t out_cap, struct imee_prog_result *res);

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

/*
 * The registers of vCPU index (in imee_session_vcpus() order) as they are
 * now, without a refresh: what imee_session_vcpus() gives stays valid.
 */
int imee_session_vcpu_now(struct imee_session *session, size_t index,
			  struct imee_vcpu_regs *regs_ret);

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
	/*
	 * By the agent inside the session's ImEE vCPU (created on first use:
	 * see "The ImEE" below). Physical reads go through the agent's map of
	 * guest RAM; virtual reads (imee_session_vmem()) through the CPU's
	 * MMU over the target's own page tables.
	 */
	IMEE_ENGINE_IMEE,
};

/* "software", "legacy", "imee". */
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

/*
 * A copy of the kernel's top-level page table, taken once, read in place of
 * the live one. The kernel is found through a vCPU's CR3, which is often a
 * process's: when that process exits, its top-level table is freed and its
 * page reused (zeroed, or as anything) while a search still reads through
 * it. The kernel half of every process's table is the kernel's own, and the
 * tables under it are the kernel's, kept for its whole life: so a walk of a
 * kernel address through the copy goes on as it began. (User addresses walk
 * through the copy too: use it for the kernel only.)
 */
struct imee_linux_top_copy {
	struct imee_mem under; /* the memory read for everything else */
	uint64_t gpa; /* the page copied */
	unsigned int present; /* present entries in the kernel half */
	unsigned char page[4096];
};

/*
 * Copy the kernel's top-level table of walk (imee_linux_cr3_for() applied to
 * its CR3) from under, and make *mem_ret read through copy (which must
 * outlive it, as under must). -EAGAIN when the kernel half maps nothing: not
 * a top-level table (any more); take the vCPU's CR3 again.
 */
int imee_linux_top_copy(struct imee_linux_top_copy *copy, const struct imee_mem *under,
			const struct imee_walk_opts *walk, struct imee_mem *mem_ret);

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
	/* From a System.map (imee_linux_system_map_parse()): the *_va above are 0. */
	bool from_system_map;
	uint64_t kaslr_slide; /* System.map: what was added to its addresses */
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

/* Where imee_linux_kallsyms_load_from() loads from. */
struct imee_linux_kallsyms_from {
	const struct imee_mem *mem;
	const struct imee_walk_opts *walk;
};

/*
 * imee_linux_kallsyms_load() as imee_linux_open_opts.load_kallsyms wants
 * it: arg is a struct imee_linux_kallsyms_from.
 */
int imee_linux_kallsyms_load_from(void *arg, struct imee_linux_kallsyms **ks_ret);

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

/* The largest System.map read (Debian 6.1's is about 6 MiB). */
#define IMEE_LINUX_SYSTEM_MAP_MAX (256U << 20)

/*
 * The kernel's symbols from a System.map instead of its memory (an override
 * for a kernel whose kallsyms imee cannot decode): one "ADDRESS TYPE NAME"
 * per line, as nm prints them. /proc/kallsyms's format is taken too: its
 * module symbols ("NAME\t[module]") are left out, as kallsyms in memory has
 * none. The addresses are link-time ones: the KASLR slide is banner->va (the
 * guest's linux_banner, from imee_linux_find_banner()) less the map's
 * linux_banner, and must be a whole number of 2 MiB (the alignment of the
 * kernel image), else the map is another kernel's (-ESTALE, "does not
 * match"); every address in the kernel image range is slid by it. The
 * result works as one loaded from memory, in address order. -ENOENT: no
 * linux_banner in the map; -EBADMSG: a line that is not a symbol (named).
 */
int imee_linux_system_map_parse(const char *text, size_t len,
				const struct imee_linux_banner *banner,
				struct imee_linux_kallsyms **ks_ret);

/* The same from a file (at most IMEE_LINUX_SYSTEM_MAP_MAX bytes); errors name it. */
int imee_linux_system_map_load(const char *path, const struct imee_linux_banner *banner,
			       struct imee_linux_kallsyms **ks_ret);

/* ------------------------------------------------------------------ */
/* Guest virtual memory, whatever the engine                           */
/* ------------------------------------------------------------------ */

/*
 * A reader of guest virtual memory. The Linux structure walkers (BTF,
 * process lists, pid lists, credentials) read the guest only through it, so
 * they run unchanged whatever does the reads: software page walks over a
 * session (either engine), a synthetic image in a test, or an agent inside
 * the guest's address space.
 */
struct imee_vmem_list_spec;

struct imee_vmem_ops {
	/*
	 * Copy [va, va + len) of guest virtual memory into buf. Returns 0, or
	 * a negative errno with imee_last_error() set (for a page-walk fault:
	 * its kind, level and address, as imee_virt_read() records them).
	 * Nothing is partially reported.
	 */
	int (*read)(void *ctx, uint64_t va, void *buf, size_t len);
	/* Free ctx (imee_vmem_release()). Optional. */
	void (*release)(void *ctx);
	/* imee_vmem_prefetch_list() and imee_vmem_forget(). Optional. */
	int (*prefetch_list)(void *ctx, const struct imee_vmem_list_spec *spec);
	void (*forget)(void *ctx);
};

struct imee_vmem {
	const struct imee_vmem_ops *ops;
	void *ctx;
};

/* vmem->ops->read(), with the arguments checked (-EINVAL, and ranges that wrap). */
int imee_vmem_read(const struct imee_vmem *vmem, uint64_t va, void *buf, size_t len);

/*
 * A reader that walks the guest's page tables in software over mem (which
 * must outlive it), with the paging mode and CR3 of opts; for kernel-half
 * addresses the CR3 is taken through imee_linux_cr3_for(), so kernel memory
 * reads right even while the vCPU runs a user process under page-table
 * isolation. Release it with imee_vmem_release().
 */
int imee_vmem_from_walk(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			struct imee_vmem *vmem_ret);

/* Call ops->release and clear *vmem. NULL, and a cleared vmem, are allowed. */
void imee_vmem_release(struct imee_vmem *vmem);

#define IMEE_VMEM_DEREFS_MAX 4
#define IMEE_VMEM_BLOCK_MAX (1U << 20)

/*
 * A linked list to read ahead: from the pointer at first_at, node after
 * node (each node's next pointer at node + next_off) until head or max
 * nodes; of each node the block [node + block_off, + block_len), and, for
 * each deref, the pointer at node + ptr_off (which must lie inside the
 * block) followed: [pointer + off, + len). Offsets wrap modulo 2^64 (a
 * list_head inside a struct: block_off is negative).
 */
struct imee_vmem_list_spec {
	uint64_t first_at;
	uint64_t head;
	uint64_t next_off;
	uint64_t block_off;
	uint32_t block_len; /* 1..IMEE_VMEM_BLOCK_MAX */
	uint32_t max; /* most nodes, 1..IMEE_LINUX_WALK_MAX */
	unsigned int nr_derefs; /* 0..IMEE_VMEM_DEREFS_MAX */
	struct {
		uint64_t ptr_off;
		uint64_t off;
		uint32_t len; /* 1..IMEE_VMEM_BLOCK_MAX */
	} derefs[IMEE_VMEM_DEREFS_MAX];
};

/*
 * Read a list ahead where the engine gains by it (the ImEE: the whole walk
 * in one activation, as the paper's agents do, instead of one per read).
 * Later reads that fall inside what was read ahead are served from that
 * copy, taken at one moment, until imee_vmem_forget(); the rest are read
 * as always. The read-ahead follows the guest's pointers blindly and stops
 * at the first fault, the output's end or max nodes: the caller still
 * checks every node it is served. Returns 0 also when the engine reads
 * nothing ahead (the software walker has nothing to gain), -EINVAL for a
 * bad spec; a read-ahead that fails is not an error (reads go on as
 * always).
 */
int imee_vmem_prefetch_list(const struct imee_vmem *vmem, const struct imee_vmem_list_spec *spec);

/* Drop what was read ahead. NULL is allowed. */
void imee_vmem_forget(const struct imee_vmem *vmem);

/* ------------------------------------------------------------------ */
/* Linux guests: BTF                                                   */
/* ------------------------------------------------------------------ */

/* The largest .BTF accepted (Debian 6.1's is about 5 MiB). */
#define IMEE_LINUX_BTF_MAX (64U << 20)
/* BTF's header: magic 0xeB9F, version 1, and the header's own length. */
#define IMEE_LINUX_BTF_MAGIC 0xeb9f
#define IMEE_LINUX_BTF_HDR_LEN 24

/* The kernel's type information, parsed with libbpf. */
struct imee_linux_btf;

struct imee_linux_btf_info {
	uint64_t va; /* where it was read from (0: parsed from a buffer) */
	uint32_t size; /* bytes of the blob, header included */
	uint64_t checksum; /* FNV-1a (64-bit) of the blob */
	uint32_t nr_types; /* type ids 1..nr_types */
	bool scanned; /* found by scanning, not at the place given */
};

/*
 * Check a raw BTF blob (magic, version, header and section lengths, all
 * against len) and parse it with libbpf's btf__new(), which checks every
 * type and string offset. The data is copied. -EBADMSG: not valid BTF.
 */
int imee_linux_btf_parse(const void *data, size_t len, struct imee_linux_btf **btf_ret);

struct imee_linux_btf_find_opts {
	size_t sz; /* sizeof(struct imee_linux_btf_find_opts) */
	/*
	 * Where the kernel's .BTF lies (__start_BTF, __stop_BTF from
	 * kallsyms), or 0, 0 when not known.
	 */
	uint64_t start, end;
	/*
	 * Searched for a BTF header when start is 0 or holds no valid BTF
	 * (0, 0: the kernel image range, IMEE_LINUX_KERNEL_IMAGE_START..END).
	 * Unmapped parts are skipped as the fault's level allows.
	 */
	uint64_t scan_start, scan_end;
	bool no_scan; /* only look at start..end */
};

/*
 * Read the guest kernel's .BTF through vmem and parse it. -ENOENT: no BTF
 * where it was looked for (a kernel without CONFIG_DEBUG_INFO_BTF);
 * -EBADMSG: a BTF header whose contents do not parse.
 */
int imee_linux_btf_load(const struct imee_vmem *vmem, const struct imee_linux_btf_find_opts *opts,
			struct imee_linux_btf **btf_ret);

/*
 * The kernel's BTF from a file instead of its memory (an override for a
 * kernel without CONFIG_DEBUG_INFO_BTF, or whose .BTF imee cannot find): raw
 * BTF, as /sys/kernel/btf/vmlinux gives it, or an ELF file with a .BTF
 * section (a vmlinux, read with libbpf's btf__parse_elf()). Checked and
 * parsed as imee_linux_btf_parse() does (info.va is 0). Errors name the path.
 */
int imee_linux_btf_load_file(const char *path, struct imee_linux_btf **btf_ret);

void imee_linux_btf_free(struct imee_linux_btf *btf);

void imee_linux_btf_info(const struct imee_linux_btf *btf, struct imee_linux_btf_info *info_ret);

/* The kinds of types a member can have, typedefs and qualifiers resolved. */
enum imee_linux_btf_kind {
	IMEE_LINUX_BTF_OTHER = 0,
	IMEE_LINUX_BTF_INT,
	IMEE_LINUX_BTF_PTR,
	IMEE_LINUX_BTF_ARRAY,
	IMEE_LINUX_BTF_STRUCT,
	IMEE_LINUX_BTF_UNION,
	IMEE_LINUX_BTF_ENUM,
};

/* Where a member lies in its outermost struct. */
struct imee_linux_btf_member {
	uint64_t offset; /* bytes from the start of the outermost struct */
	uint64_t size; /* bytes of the member's type (0 for a flexible array) */
	uint32_t bit_offset; /* bitfields: the first bit, counted from offset */
	uint32_t bit_size; /* bitfields: the width; 0 for a whole-byte member */
	uint32_t nelems; /* arrays: the number of elements, else 0 */
	uint64_t elem_size; /* arrays: bytes of one element, else 0 */
	uint32_t type_id; /* the member's type, typedefs and qualifiers resolved */
	enum imee_linux_btf_kind kind;
	bool is_signed; /* a signed integer or enum */
	/*
	 * Pointers: the type pointed to; arrays: the element's type (resolved,
	 * as type_id). 0 and IMEE_LINUX_BTF_OTHER for void * and for others.
	 */
	uint32_t target_id;
	enum imee_linux_btf_kind target_kind;
	bool target_signed;
};

/*
 * The size of a struct or union (or of a typedef of one) by name:
 * "task_struct". -ENOENT: no such type.
 */
int imee_linux_btf_type_size(const struct imee_linux_btf *btf, const char *name,
			     uint64_t *size_ret);

/*
 * A member by a dotted path from a struct or union name:
 * "task_struct.tasks", "pid_namespace.idr.idr_rt.xa_head", "pid.numbers[0].nr".
 * Members of anonymous structs and unions are found by their own names, as
 * C finds them; typedefs and qualifiers are seen through; "[N]" indexes an
 * array (checked against its length). -ENOENT: no such type or member;
 * -EINVAL: a bad path (a member of a pointer or of an integer, ...).
 */
int imee_linux_btf_member(const struct imee_linux_btf *btf, const char *path,
			  struct imee_linux_btf_member *member_ret);

/*
 * The same from a struct or union given by type id (a member's type_id or
 * target_id), with a path of members only: "uid.val", "numbers[0].nr".
 */
int imee_linux_btf_member_in(const struct imee_linux_btf *btf, uint32_t type_id, const char *path,
			     struct imee_linux_btf_member *member_ret);

/* A struct or union (or a typedef of one) by name: its type id and size. -ENOENT: none. */
int imee_linux_btf_composite(const struct imee_linux_btf *btf, const char *name,
			     uint32_t *type_id_ret, uint64_t *size_ret);

/* The name of a type ("" when it has none, or there is no such type). */
const char *imee_linux_btf_type_name(const struct imee_linux_btf *btf, uint32_t type_id);

/*
 * The byte offset of a member by path, as imee_linux_btf_member(); a
 * bitfield has none: -EOPNOTSUPP.
 */
int imee_linux_btf_offset(const struct imee_linux_btf *btf, const char *path, uint64_t *offset_ret);

/* The value of an enumerator by name ("PIDTYPE_PID"). -ENOENT if none. */
int imee_linux_btf_enum_value(const struct imee_linux_btf *btf, const char *name,
			      int64_t *value_ret);

/* ------------------------------------------------------------------ */
/* Linux guests: a kernel, its symbols and layouts, cached per build   */
/* ------------------------------------------------------------------ */

/*
 * What the Linux jobs need to know about one guest kernel: the addresses of
 * a few symbols (from kallsyms) and the offsets of the fields they read
 * (from BTF only). Built once per attach; the result is cached per kernel
 * build (see imee_linux_open()).
 */
struct imee_linux;

struct imee_linux_open_opts {
	size_t sz; /* sizeof(struct imee_linux_open_opts) */
	/* The guest's banner, from imee_linux_find_banner() (required). */
	const struct imee_linux_banner *banner;
	/*
	 * Load the guest's kallsyms when the cache cannot answer (required:
	 * imee_linux_kallsyms_load() over the same guest). Called at most once;
	 * the tables are freed before imee_linux_open() returns.
	 */
	int (*load_kallsyms)(void *arg, struct imee_linux_kallsyms **ks_ret);
	void *load_arg;
	/* The paging mode: kernel pointers are checked to be canonical for it. */
	enum imee_paging paging;
	/* Neither read nor write the cache. IMEE_CACHE=0 in the environment does the same. */
	bool no_cache;
	/*
	 * The cache's directory. NULL: $IMEE_CACHE_DIR, else
	 * $XDG_CACHE_HOME/imee, else $HOME/.cache/imee.
	 */
	const char *cache_dir;
	/*
	 * Overrides, for a kernel whose kallsyms or BTF imee cannot find in its
	 * memory. system_map: the symbols come from this System.map
	 * (imee_linux_system_map_load(); load_kallsyms is not called). btf: the
	 * layouts from this BTF file (imee_linux_btf_load_file()), the .BTF in
	 * memory is not looked for. With either, the cache is neither read nor
	 * written (info.cache is IMEE_LINUX_CACHE_OFF: what a file says is never
	 * mixed with what memory says), and init_task's comm, read with both, must
	 * be "swapper..." (else -ESTALE: the override is another kernel's).
	 */
	const char *system_map;
	const char *btf;
};

enum imee_linux_cache_state {
	IMEE_LINUX_CACHE_OFF = 0, /* not used (disabled) */
	IMEE_LINUX_CACHE_HIT, /* the results came from the cache */
	IMEE_LINUX_CACHE_WRITTEN, /* a miss; the results were computed and saved */
	IMEE_LINUX_CACHE_UNWRITABLE, /* a miss; saving them failed (see cache_error) */
};

#define IMEE_LINUX_PATH_MAX 4096

struct imee_linux_info {
	uint64_t text; /* _text, after KASLR */
	uint64_t kaslr_slide; /* _text - IMEE_LINUX_TEXT_DEFAULT */
	uint64_t btf_va; /* the kernel's .BTF */
	uint32_t btf_size;
	uint64_t btf_checksum; /* FNV-1a (64-bit) of the .BTF */
	enum imee_linux_cache_state cache;
	char cache_path[IMEE_LINUX_PATH_MAX]; /* the cache file ("" when off) */
	char cache_error[IMEE_ERRMSG_MAX]; /* why it could not be read or written */
	bool symbols_from_file; /* opts.system_map was used */
	bool btf_from_file; /* opts.btf was used (btf_va is 0) */
};

/*
 * Learn what the Linux jobs need about the kernel that vmem reads. With the
 * cache: a file per kernel build, named after the banner and holding the
 * .BTF checksum, is used only when the guest's banner, .BTF and kallsyms
 * tables are byte for byte those it was made from (their checksums are
 * verified through vmem on every use); a corrupt or foreign file is a miss.
 * Otherwise kallsyms are loaded (opts->load_kallsyms), the .BTF is found at
 * __start_BTF (else by scanning) and parsed, every field offset is resolved
 * and checked, and the cache file is written (atomically; failing to write
 * it is not an error: see info.cache). -ENOENT names what is missing (no
 * BTF, a symbol, a field) and, for kallsyms and BTF, the override that
 * supplies it (opts.system_map, opts.btf).
 */
int imee_linux_open(const struct imee_vmem *vmem, const struct imee_linux_open_opts *opts,
		    struct imee_linux **lx_ret);

void imee_linux_close(struct imee_linux *lx);

/*
 * The kernel's own page table (init_top_pgt, as a CR3 value without flags),
 * checked to map linux_banner where walk (a vCPU's CR3) maps it. A vCPU's
 * CR3 is often a process's, whose page table is freed when it exits, while
 * the guest runs on: the kernel's stays. -ENOENT when the kernel's symbols
 * did not give it (a System.map without it, an older cache entry).
 */
int imee_linux_kernel_cr3(const struct imee_linux *lx, const struct imee_mem *mem,
			  const struct imee_walk_opts *walk, const struct imee_linux_banner *banner,
			  uint64_t *cr3_ret);

void imee_linux_get_info(const struct imee_linux *lx, struct imee_linux_info *info_ret);

/*
 * The kernel's BTF, parsed on first use (after a cache hit it was not) and
 * owned by lx. vmem reads the same guest as at open.
 */
int imee_linux_btf(struct imee_linux *lx, const struct imee_vmem *vmem,
		   const struct imee_linux_btf **btf_ret);

/* ------------------------------------------------------------------ */
/* Linux guests: tasks, pids, credentials                              */
/* ------------------------------------------------------------------ */

#define IMEE_LINUX_COMM_LEN 16 /* TASK_COMM_LEN */
/* Default and largest bound of one walk (tasks, pids). */
#define IMEE_LINUX_WALK_DEFAULT 65536
#define IMEE_LINUX_WALK_MAX (1U << 22)

/* A task's credentials (its real_cred, what /proc/PID/status shows). */
struct imee_linux_cred {
	uint64_t address; /* the struct cred */
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
	/* task->cred (used for its own accesses) is not task->real_cred */
	bool overridden;
};

struct imee_linux_task {
	uint64_t address; /* the task_struct */
	int32_t pid; /* the thread's id */
	int32_t tgid; /* the process's id */
	int32_t ppid; /* real_parent->tgid, as /proc shows it (0 for pid 1, kthreadd) */
	char comm[IMEE_LINUX_COMM_LEN + 1];
	char state; /* the letter /proc shows: R S D T t X Z P I */
	uint32_t state_raw; /* __state */
	uint32_t exit_state;
	uint32_t flags; /* PF_* */
	bool kthread; /* PF_KTHREAD */
	uint64_t start_time_ns; /* start_time: CLOCK_MONOTONIC at fork */
	uint64_t start_boottime_ns; /* start_boottime: CLOCK_BOOTTIME (/proc's starttime) */
	struct imee_linux_cred cred;
	int cred_err; /* 0, or why cred could not be read (the rest is valid) */
};

/* The result of a bounded walk: what was read, and why it stopped early. */
struct imee_linux_task_list {
	struct imee_linux_task *tasks;
	size_t nr;
	/*
	 * 0: the walk went round the whole list. Else the negative errno that
	 * stopped it (-ELOOP a cycle that misses the head, -E2BIG the bound
	 * was reached, -EBADMSG an inconsistent or non-canonical pointer, or a
	 * read's error); error holds its description.
	 */
	int err;
	struct imee_error error;
};

struct imee_linux_tasks_opts {
	size_t sz; /* sizeof(struct imee_linux_tasks_opts) */
	bool threads; /* every thread (signal->thread_head), not only group leaders */
	size_t max; /* most tasks reported: 0 IMEE_LINUX_WALK_DEFAULT, at most _MAX */
};

/*
 * Walk the task list from init_task (init_task itself, pid 0, is not
 * reported, as ps does not). Returns 0 with *list_ret filled, even when the
 * walk stopped early (list_ret->err says why), or a negative errno when
 * nothing could be read. Free with imee_linux_task_list_free().
 */
int imee_linux_tasks(const struct imee_linux *lx, const struct imee_vmem *vmem,
		     const struct imee_linux_tasks_opts *opts,
		     struct imee_linux_task_list *list_ret);

void imee_linux_task_list_free(struct imee_linux_task_list *list);

/* One pid number of the initial pid namespace. */
struct imee_linux_pid {
	int32_t nr; /* the number */
	uint64_t address; /* its struct pid */
	uint64_t task; /* the task it is the pid of (PIDTYPE_PID), or 0 */
	int32_t tgid; /* that task's, when task is not 0 */
	char comm[IMEE_LINUX_COMM_LEN + 1];
};

struct imee_linux_pid_list {
	struct imee_linux_pid *pids; /* in increasing order of nr */
	size_t nr;
	int err; /* as in struct imee_linux_task_list */
	struct imee_error error;
};

struct imee_linux_pids_opts {
	size_t sz; /* sizeof(struct imee_linux_pids_opts) */
	size_t max; /* as in struct imee_linux_tasks_opts */
};

/*
 * Every pid of init_pid_ns from its IDR (the xarray under
 * init_pid_ns.idr), independently of the task list. As
 * imee_linux_tasks() for the result.
 */
int imee_linux_pids(const struct imee_linux *lx, const struct imee_vmem *vmem,
		    const struct imee_linux_pids_opts *opts, struct imee_linux_pid_list *list_ret);

void imee_linux_pid_list_free(struct imee_linux_pid_list *list);

/* The two views of the processes that imee_linux_hidden() compares. */
#define IMEE_LINUX_VIEW_PSLIST 1U /* the task list, threads included */
#define IMEE_LINUX_VIEW_PIDLIST 2U /* the pid IDR (pids that have a task) */
/* Rounds (both views each) a difference must persist through to be reported. */
#define IMEE_LINUX_HIDDEN_ROUNDS 3

/* A pid that one view has and the other has not. */
struct imee_linux_hidden {
	int32_t pid;
	int32_t tgid;
	char comm[IMEE_LINUX_COMM_LEN + 1];
	uint64_t task; /* the task_struct, as the view that has it gives it */
	unsigned int seen_in; /* IMEE_LINUX_VIEW_* */
	unsigned int missing_from;
};

struct imee_linux_hidden_list {
	struct imee_linux_hidden *entries; /* in increasing order of pid */
	size_t nr;
	size_t nr_tasks, nr_pids; /* the sizes of the views of the last round */
	unsigned int rounds; /* rounds taken (1 when the views agreed at once) */
};

struct imee_linux_hidden_opts {
	size_t sz; /* sizeof(struct imee_linux_hidden_opts) */
	size_t max; /* bound of each view's walk, as in struct imee_linux_tasks_opts */
};

/*
 * The cross-view check: the pids of the pid IDR that have a task
 * (imee_linux_pids()) against the tasks of the task list, threads included
 * (imee_linux_tasks()). A pid in one and not in the other is a candidate;
 * the guest runs while the views are taken, so both are taken again (up to
 * IMEE_LINUX_HIDDEN_ROUNDS rounds in all) and only a candidate that every
 * round finds, the same way round and with the same task, is reported.
 * A view that cannot be taken whole (any error, the bound included) fails
 * the check with that error: half a view would report the other half as
 * hidden. Free with imee_linux_hidden_list_free().
 */
int imee_linux_hidden(const struct imee_linux *lx, const struct imee_vmem *vmem,
		      const struct imee_linux_hidden_opts *opts,
		      struct imee_linux_hidden_list *list_ret);

void imee_linux_hidden_list_free(struct imee_linux_hidden_list *list);

/* ------------------------------------------------------------------ */
/* Linux guests: a generic list walk, by names from BTF                */
/* ------------------------------------------------------------------ */

#define IMEE_LINUX_WALK_FIELDS_MAX 32 /* fields one walk emits */
#define IMEE_LINUX_WALK_DEREFS_MAX 4 /* pointers one field follows ("->") */
#define IMEE_LINUX_WALK_VALUE_MAX 4096 /* bytes of one field's value */
#define IMEE_LINUX_WALK_PATH_MAX 255 /* bytes of a field's or the list's path */
#define IMEE_LINUX_WALK_ENTRY_MAX (1U << 20) /* bytes of the entries' struct */

/* What a field's value is. */
enum imee_linux_walk_kind {
	IMEE_LINUX_WALK_INT, /* an integer or an enum, perhaps a bitfield */
	IMEE_LINUX_WALK_PTR, /* a pointer: its value */
	IMEE_LINUX_WALK_STRING, /* an array of 1-byte integers (char comm[16]) */
	IMEE_LINUX_WALK_ARRAY, /* an array of integers or of pointers */
};

struct imee_linux_walk_field {
	const char *path; /* as given (owned by the walk) */
	enum imee_linux_walk_kind kind;
	uint64_t size; /* bytes of the value read (a bitfield: the bytes that hold it) */
	bool is_signed; /* INT, and ARRAY's elements */
	uint32_t bit_offset, bit_size; /* INT bitfields (bit_size 0: a whole integer) */
	uint32_t nelems; /* ARRAY: elements; STRING: bytes */
	uint64_t elem_size; /* ARRAY: bytes of one element */
	bool elem_ptr; /* ARRAY: the elements are pointers */
	unsigned int derefs; /* pointers followed on the way ("->") */
};

struct imee_linux_walk_opts {
	size_t sz; /* sizeof(struct imee_linux_walk_opts) */
	const char *type; /* the struct of the entries: "task_struct" */
	/* its struct list_head member that links them: "tasks", "se.group_node" */
	const char *list;
	/*
	 * The list's head: a struct list_head (LIST_HEAD(modules)), or with
	 * head_is_entry an entry whose list member is the head (init_task):
	 * the head is not an entry of the list, as for_each_process() skips
	 * init_task.
	 */
	uint64_t head;
	bool head_is_entry;
	/*
	 * Members of each entry to read: "pid", "comm", "se.load.weight",
	 * "pid_links[0].next", and through pointers "real_cred->uid.val"
	 * (up to IMEE_LINUX_WALK_DEREFS_MAX). Each must end at an integer, an
	 * enum, a pointer, or an array of those (char arrays are strings).
	 */
	const char *const *fields;
	size_t nr_fields; /* 1..IMEE_LINUX_WALK_FIELDS_MAX */
	size_t max; /* as in struct imee_linux_tasks_opts */
};

/* The result of a walk: the entries read, each field's value. */
struct imee_linux_walk;

/*
 * Walk a list by names resolved through the guest kernel's BTF (parsed
 * on first use: see imee_linux_btf()), bounded and checked as the task
 * walk is (max, cycles, canonical pointers, each node's prev). Each entry
 * is read once, in one read covering its fields; a field through a
 * pointer reads from there on. Returns -ENOENT naming the struct or member
 * the kernel does not have, -EINVAL a field that cannot be read as a value
 * (a struct: name a member), before anything is walked; else 0 with
 * *walk_ret, even when the walk stopped early (imee_linux_walk_error()),
 * or a negative errno when nothing could be read.
 */
int imee_linux_walk(struct imee_linux *lx, const struct imee_vmem *vmem,
		    const struct imee_linux_walk_opts *opts, struct imee_linux_walk **walk_ret);

void imee_linux_walk_free(struct imee_linux_walk *walk);

/* The fields, in the order given. */
const struct imee_linux_walk_field *imee_linux_walk_fields(const struct imee_linux_walk *walk,
							   size_t *nr_ret);

/* How many entries; 0 or why the walk stopped early (into *error_ret, if not NULL). */
size_t imee_linux_walk_count(const struct imee_linux_walk *walk);
int imee_linux_walk_error(const struct imee_linux_walk *walk, struct imee_error *error_ret);

/* Entry i's address (the struct, not its list member). */
uint64_t imee_linux_walk_address(const struct imee_linux_walk *walk, size_t i);

/*
 * Field k of entry i: 0 and its bytes (field size), -ENODATA when a
 * pointer on the way is NULL (*at_ret: where it was read), or the error
 * that reading it gave (-EBADMSG a pointer that is not a kernel pointer,
 * a read's error; *at_ret: the address that failed).
 */
int imee_linux_walk_value(const struct imee_linux_walk *walk, size_t i, size_t k,
			  const unsigned char **bytes_ret, uint64_t *at_ret);

/*
 * Integer j of a value (0 for INT; an ARRAY's element j), sign-extended
 * when signed, a bitfield's bits extracted.
 */
uint64_t imee_linux_walk_int(const struct imee_linux_walk_field *field, const unsigned char *bytes,
			     size_t j);

/* ------------------------------------------------------------------ */
/* Linux guests: loaded modules                                        */
/* ------------------------------------------------------------------ */

/* Bytes of a module's name kept (MODULE_NAME_LEN is 56 on 64-bit), with the NUL. */
#define IMEE_LINUX_MODULE_NAME_MAX 64

enum imee_linux_module_state {
	IMEE_LINUX_MODULE_LIVE = 0, /* MODULE_STATE_LIVE: /proc/modules' "Live" */
	IMEE_LINUX_MODULE_COMING, /* being loaded: "Loading" */
	IMEE_LINUX_MODULE_GOING, /* being unloaded: "Unloading" */
	IMEE_LINUX_MODULE_UNFORMED, /* still being set up (not in /proc/modules) */
	IMEE_LINUX_MODULE_UNKNOWN, /* a value none of the kernel's enumerators has */
};

/* "live", "coming", "going", "unformed", "unknown". */
const char *imee_linux_module_state_name(enum imee_linux_module_state state);

struct imee_linux_module {
	uint64_t address; /* the struct module */
	char name[IMEE_LINUX_MODULE_NAME_MAX];
	enum imee_linux_module_state state;
	uint32_t state_raw; /* module.state as read */
	/* Where its code starts: core_layout.base (6.4+: mem[MOD_TEXT].base). */
	uint64_t base;
	/*
	 * Bytes of all its memory, as /proc/modules shows them: core_layout
	 * and init_layout sizes (6.4+: every mem[] region's).
	 */
	uint64_t size;
	bool has_refcount; /* CONFIG_MODULE_UNLOAD: refcount is known */
	int64_t refcount; /* refcnt - MODULE_REF_BASE, as /proc/modules shows it */
};

struct imee_linux_module_list {
	struct imee_linux_module *modules; /* in list order: the last loaded first */
	size_t nr;
	int err; /* as in struct imee_linux_task_list */
	struct imee_error error;
};

struct imee_linux_modules_opts {
	size_t sz; /* sizeof(struct imee_linux_modules_opts) */
	size_t max; /* as in struct imee_linux_tasks_opts */
};

/*
 * Walk the kernel's list of loaded modules ("modules", along module.list),
 * bounded and checked as the task list is; every struct module must lie in
 * the module area (0xffffffffa0000000..0xffffffffff000000). -ENOENT: the
 * kernel has no modules (no "modules" symbol, or no struct module in its
 * BTF). As imee_linux_tasks() for the result.
 */
int imee_linux_modules(const struct imee_linux *lx, const struct imee_vmem *vmem,
		       const struct imee_linux_modules_opts *opts,
		       struct imee_linux_module_list *list_ret);

void imee_linux_module_list_free(struct imee_linux_module_list *list);

/* ------------------------------------------------------------------ */
/* Linux guests: the system call tables                                */
/* ------------------------------------------------------------------ */

/* The most entries a table may have (x86-64 Linux 6.x has under 500). */
#define IMEE_LINUX_SYSCALLS_MAX 1024

enum imee_linux_syscall_abi {
	IMEE_LINUX_SYSCALLS_X64 = 0, /* sys_call_table */
	IMEE_LINUX_SYSCALLS_IA32, /* ia32_sys_call_table (32-bit programs) */
};

/* Why an entry is suspect. */
enum imee_linux_syscall_flag {
	IMEE_LINUX_SYSCALL_OK = 0,
	/* The handler lies outside the kernel's text (_stext.._etext). */
	IMEE_LINUX_SYSCALL_OUTSIDE_TEXT,
	/*
	 * In the text, but not at the start of a symbol named as the kernel
	 * names this table's handlers (see imee_linux_syscalls()).
	 */
	IMEE_LINUX_SYSCALL_NOT_A_HANDLER,
};

/* "ok", "outside-text", "not-a-handler". */
const char *imee_linux_syscall_flag_name(enum imee_linux_syscall_flag flag);

struct imee_linux_syscall {
	uint32_t nr; /* the system call's number: the index in the table */
	uint64_t handler; /* the entry */
	/*
	 * The kernel symbol at or below handler (NULL when handler is not in
	 * the kernel image, _text.._end): an expected handler's name when one
	 * starts at handler. Valid until the kallsyms are freed.
	 */
	const char *symbol;
	char type; /* its kallsyms type letter */
	uint64_t offset; /* handler - the symbol's address */
	enum imee_linux_syscall_flag flag;
};

/* How a table's number of entries was learned. */
enum imee_linux_syscall_count {
	/* BTF: trace_array.enter_syscall_files has NR_syscalls elements */
	IMEE_LINUX_SYSCALL_COUNT_BTF = 0,
	/* kallsyms: up to the next symbol, less trailing alignment padding */
	IMEE_LINUX_SYSCALL_COUNT_KALLSYMS,
};

struct imee_linux_syscall_table {
	enum imee_linux_syscall_abi abi;
	const char *name; /* "sys_call_table", "ia32_sys_call_table" */
	uint64_t address;
	size_t size; /* entries the table has */
	enum imee_linux_syscall_count count_source;
	/*
	 * false when the kernel dispatches system calls with a switch
	 * (x64_sys_call(), ia32_sys_call(): Linux 6.9, and the 2024 stable
	 * backports): the table is then kept for tracing only, and a clean
	 * table says nothing of what the entry code calls.
	 */
	bool used_for_dispatch;
	uint64_t stext, etext; /* the kernel text the handlers must lie in */
	struct imee_linux_syscall *entries;
	size_t nr; /* entries read (size, or fewer: see err) */
	size_t nr_flagged;
	int err; /* 0, or -E2BIG: more than opts->max entries */
	struct imee_error error;
};

struct imee_linux_syscalls_opts {
	size_t sz; /* sizeof(struct imee_linux_syscalls_opts) */
	enum imee_linux_syscall_abi abi;
	/*
	 * Optional: the same guest opened with imee_linux_open(), whose BTF
	 * gives NR_syscalls for the x64 table (else it is learned from
	 * kallsyms alone).
	 */
	const struct imee_linux *lx;
	size_t max; /* most entries reported: 0 every one (at most IMEE_LINUX_SYSCALLS_MAX) */
};

/*
 * Read a system call table (its address and the symbols around it from ks,
 * its entries in one read through vmem) and name each entry's handler.
 * An entry is flagged when its handler lies outside _stext.._etext, or
 * does not start a symbol named as Linux (4.17+, with syscall wrappers)
 * names the handlers it puts in that table: for sys_call_table
 * "__x64_sys_*", for ia32_sys_call_table "__ia32_sys_*" or
 * "__ia32_compat_sys_*", and for both "sys_ni_syscall" (aliases at the
 * same address count). The number of entries is NR_syscalls from BTF
 * when lx has it and it fits before the next symbol, else the distance to
 * the next symbol in kallsyms less the zero words of alignment padding at
 * its end; at most IMEE_LINUX_SYSCALLS_MAX. -ENOENT: the kernel has no
 * such table (64-bit kernels with the 2024 hardening have no
 * ia32_sys_call_table), or no _stext/_etext. Free with
 * imee_linux_syscall_table_free().
 */
int imee_linux_syscalls(const struct imee_linux_kallsyms *ks, const struct imee_vmem *vmem,
			const struct imee_linux_syscalls_opts *opts,
			struct imee_linux_syscall_table *table_ret);

void imee_linux_syscall_table_free(struct imee_linux_syscall_table *table);

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

/* ------------------------------------------------------------------ */
/* The ImEE                                                            */
/* ------------------------------------------------------------------ */

/*
 * A session's ImEE (see <linux/imee.h>): a vCPU owned by imee.ko that runs
 * agent programs inside the target's address space. The imee engine creates
 * one per session on first use; these calls give direct access.
 */
struct imee_ee;

struct imee_ee_opts {
	size_t sz; /* sizeof(struct imee_ee_opts) */
	uint32_t out_size; /* output buffer bytes, a multiple of 4096; 0: 1 MiB */
};

/*
 * Build the session's ImEE. -EOPNOTSUPP: this host cannot run one (the
 * message says why); -EBUSY: the session has one already.
 */
int imee_ee_create(struct imee_session *session, const struct imee_ee_opts *opts,
		   struct imee_ee **ee_ret);

/* NULL is allowed. */
void imee_ee_destroy(struct imee_ee *ee);

/* IMEE_HW_SVM_NPT or IMEE_HW_VMX_EPT. */
uint32_t imee_ee_hw(const struct imee_ee *ee);

/* "amd-svm-npt", "intel-vmx-ept" ("none" for 0). */
const char *imee_ee_hw_name(uint32_t hw);

/* IMEE_HW_F_*: views switched by VMFUNC, execute-only agent code, own VPID. */
uint32_t imee_ee_hw_flags(const struct imee_ee *ee);

/* Nanoseconds the module spent building it. */
uint64_t imee_ee_launch_ns(const struct imee_ee *ee);

size_t imee_ee_out_size(const struct imee_ee *ee);

struct imee_ee_run_opts {
	size_t sz; /* sizeof(struct imee_ee_run_opts) */
	/* the page table: cr3 and levels (4 or 5), or a vCPU's current one */
	uint64_t cr3;
	unsigned int levels;
	bool use_vcpu_cr3;
	uint32_t vcpu; /* with use_vcpu_cr3: its index in imee_session_vcpus() */
	bool pti_kernel; /* with use_vcpu_cr3: the kernel half of a PTI pair */
	uint64_t args[8]; /* r0..r7 */
	uint64_t max_steps; /* 0: 2^32 */
	uint64_t out_cap; /* bytes of output allowed; 0: the whole buffer */
};

/*
 * One activation: load the program (unless it is the one loaded last) and
 * run it. *run_ret gets the module's report (status, fault, registers,
 * timings); *out_ret, if not NULL, the output buffer (run_ret->out_len bytes
 * are the program's output, valid until the next run).
 */
int imee_ee_run(struct imee_ee *ee, const struct imee_insn *insns, size_t nr,
		const struct imee_ee_run_opts *opts, struct imee_run *run_ret,
		const void **out_ret);

/* The report of the last successful imee_ee_run(). */
const struct imee_run *imee_ee_last_run(const struct imee_ee *ee);

/*
 * The session's own ImEE, the one the imee engine uses: created on first
 * use, destroyed with the session. ee_ret may be NULL (only "can this host
 * run one?").
 */
int imee_session_ee(struct imee_session *session, struct imee_ee **ee_ret);

/*
 * Run an agent program on any engine, with the same result on each: imee
 * runs it in the session's ImEE (one activation, on the page tables of opts:
 * cr3 and paging mode as given, no PTI rule applied), software and legacy
 * interpret it with imee_prog_run_mem() over that engine's memory. The
 * output goes to out (at most out_cap bytes, IMEE_STATUS_OUTPUT_FULL beyond;
 * out_cap at most the ImEE's output size for imee).
 */
int imee_session_run_prog(struct imee_session *session, enum imee_engine engine,
			  const struct imee_walk_opts *opts, const struct imee_insn *insns,
			  size_t nr, const uint64_t args[8], uint64_t max_steps, void *out,
			  size_t out_cap, struct imee_prog_result *res);

/* imee_session_read_phys() with IMEE_ENGINE_IMEE. */
int imee_ee_read_phys(struct imee_session *session, uint64_t gpa, void *buf, size_t len);

/*
 * A guest-virtual reader through the session's ImEE, for the page tables of
 * opts (imee_linux_cr3_for() applied per address, as imee_vmem_from_walk()
 * does). Faults are described as the software walker describes them.
 * Release it with imee_vmem_release().
 */
int imee_ee_vmem(struct imee_session *session, const struct imee_walk_opts *opts,
		 struct imee_vmem *vmem_ret);

#ifdef __cplusplus
}
#endif

#endif /* IMEE_IMEE_H */
