/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * imee: introspection of KVM guests from the host.
 *
 * The one interface shared by imee.ko and its userspace. Every struct starts
 * with a size field that the caller fills with sizeof() of the version it was
 * built against, so fields can be appended later without breaking old
 * binaries. Only fixed-width types; no kernel addresses are ever copied out.
 *
 * Flow:
 *   fd = open("/dev/imee", O_RDWR)            needs CAP_SYS_ADMIN
 *   sfd = ioctl(fd, IMEE_ATTACH, &attach)     returns a session fd
 *   ioctl(sfd, IMEE_SESSION_INFO, &info)      memslots, vCPU registers
 *   view = mmap(NULL, len, PROT_READ, MAP_SHARED, sfd, 0)
 *                                             view[gpa] is guest-physical
 *                                             byte gpa (zero-copy, read-only)
 *   ioctl(sfd, IMEE_READ_PHYS, &rd)           copying read, one page at most
 *   close(sfd)
 */
#ifndef _UAPI_LINUX_IMEE_H
#define _UAPI_LINUX_IMEE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IMEE_DEVICE_NAME	"imee"
#define IMEE_API_VERSION	1

#define IMEE_IOCTL_MAGIC	0xB8

/**
 * struct imee_attach - attach to the KVM VM of a VMM process
 * @size:	sizeof(struct imee_attach)
 * @flags:	IMEE_ATTACH_F_* flags
 * @pid:	pid of the VMM process (e.g. a QEMU), in the caller's namespace
 * @vm_fd:	the VMM's file descriptor number of its KVM VM; used only with
 *		IMEE_ATTACH_F_VM_FD, needed only when the VMM owns several VMs
 * @reserved:	must be zero
 *
 * Returns a new session file descriptor (O_CLOEXEC) on success.
 * Errors: ESRCH no such process, ENOENT the process owns no KVM VM,
 * EBADF @vm_fd is not open in the VMM, ENOTTY @vm_fd is not a KVM VM,
 * ENOTUNIQ several VMs and no @vm_fd, EPERM not allowed, EINVAL bad
 * arguments (including attaching to a VM of the caller's own process).
 *
 * For every struct here: @size smaller than the first version is EINVAL; a
 * larger @size (a newer caller) is accepted when the bytes this module does
 * not know are zero, and is E2BIG otherwise or above 4096.
 */
struct imee_attach {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__s32 vm_fd;
	__u64 reserved[2];
};

#define IMEE_ATTACH_F_VM_FD	(1U << 0)

/**
 * struct imee_memslot - one guest-physical RAM range of the target
 * @gpa:	first guest-physical address
 * @size:	length in bytes (a multiple of 4096)
 * @flags:	IMEE_MEMSLOT_F_*
 * @slot:	KVM's slot number (informational)
 */
struct imee_memslot {
	__u64 gpa;
	__u64 size;
	__u32 flags;
	__u32 slot;
};

#define IMEE_MEMSLOT_F_READONLY	(1U << 0)	/* the guest cannot write it */
#define IMEE_MEMSLOT_F_LOG_DIRTY	(1U << 1)	/* dirty logging enabled */

/**
 * struct imee_vcpu_regs - control registers of one target vCPU
 * @vcpu_id:	KVM's vCPU id
 * @flags:	IMEE_VCPU_F_*
 * @cr0, @cr3, @cr4, @efer: the values KVM last knew
 * @exits:	number of VM exits of this vCPU so far; the registers are as of
 *		the most recent of them (read @exits twice to tell how fresh)
 */
struct imee_vcpu_regs {
	__u32 vcpu_id;
	__u32 flags;
	__u64 cr0;
	__u64 cr3;
	__u64 cr4;
	__u64 efer;
	__u64 exits;
};

/* CR3 is the guest's current value as of the last VM exit (not a stale cache) */
#define IMEE_VCPU_F_CR3_CURRENT	(1U << 0)
/* the vCPU was executing guest code when the registers were read */
#define IMEE_VCPU_F_IN_GUEST	(1U << 1)

/**
 * struct imee_session_info - describe the attached target
 * @size:	sizeof(struct imee_session_info)
 * @flags:	IMEE_INFO_F_* (out)
 * @api_version: IMEE_API_VERSION of the module (out)
 * @vmm_pid:	pid of the VMM, in the caller's namespace (out)
 * @nr_memslots: number of memslots the target has (out); entries beyond
 *		@memslots_cap are not written
 * @memslots_cap: capacity of the array at @memslots (in)
 * @memslots:	user pointer to struct imee_memslot[@memslots_cap] (in)
 * @nr_vcpus:	number of vCPUs (out)
 * @vcpus_cap:	capacity of the array at @vcpus (in)
 * @vcpus:	user pointer to struct imee_vcpu_regs[@vcpus_cap] (in)
 * @view_size:	length of the mmap view: the end of the highest memslot (out)
 * @memslots_generation: changes whenever the target's memslots change (out)
 * @reserved:	zero (out)
 */
struct imee_session_info {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__s32 vmm_pid;
	__u32 nr_memslots;
	__u32 memslots_cap;
	__u64 memslots;
	__u32 nr_vcpus;
	__u32 vcpus_cap;
	__u64 vcpus;
	__u64 view_size;
	__u64 memslots_generation;
	__u64 reserved[4];
};

/* the target is gone (its VMM exited); only close() is left to do */
#define IMEE_INFO_F_TARGET_DEAD	(1U << 0)

/**
 * struct imee_read_phys - copy guest-physical memory (the per-request path)
 * @size:	sizeof(struct imee_read_phys)
 * @flags:	must be zero
 * @gpa:	guest-physical address
 * @len:	bytes to copy; @gpa .. @gpa + @len - 1 must lie within one 4 KiB
 *		page of one memslot
 * @buf:	user pointer to @len bytes
 *
 * Errors: EFAULT @buf bad, ENXIO @gpa not in any memslot, EINVAL bad
 * arguments, ESRCH the target is gone, ENODEV the memory was removed.
 */
struct imee_read_phys {
	__u32 size;
	__u32 flags;
	__u64 gpa;
	__u32 len;
	__u32 reserved;
	__u64 buf;
};

#define IMEE_ATTACH		_IOW(IMEE_IOCTL_MAGIC, 0x00, struct imee_attach)
#define IMEE_SESSION_INFO	_IOWR(IMEE_IOCTL_MAGIC, 0x10, struct imee_session_info)
#define IMEE_READ_PHYS		_IOW(IMEE_IOCTL_MAGIC, 0x11, struct imee_read_phys)

/*
 * The ImEE: an immersive execution environment for one session.
 *
 *   efd = ioctl(sfd, IMEE_CREATE, &create)   builds the cloned nested page
 *                                            table and the ImEE vCPU; returns
 *                                            an ImEE fd (O_CLOEXEC)
 *   out = mmap(NULL, create.out_size, PROT_READ, MAP_SHARED, efd, 0)
 *                                            the output buffer (read-only)
 *   ioctl(efd, IMEE_LOAD, &load)             check and load an agent program
 *   ioctl(efd, IMEE_RUN, &run)               one activation: the agent runs
 *                                            the program in the target's
 *                                            address space; output in out[]
 *   close(efd)                               destroys the ImEE
 *
 * Agent programs are arrays of struct imee_insn run by the agent, a small
 * interpreter that executes inside the ImEE vCPU. Loads from target virtual
 * addresses are translated by the hardware MMU through the target's own page
 * tables (the same lens); loads from guest-physical addresses go through the
 * agent's map of the target's RAM. Every program is checked before it is
 * loaded (IMEE_LOAD fails with EINVAL and names the first bad instruction)
 * and is bounded at run time by a step limit and the output buffer's size.
 */

/* 16 registers of 64 bits: r0..r7 start with imee_run.args, r8..r15 with 0. */
#define IMEE_PROG_NR_REGS	16
#define IMEE_PROG_MAX_INSNS	65536
#define IMEE_PROG_MAX_COPY	4096	/* bytes one COPY may emit */

/**
 * struct imee_insn - one agent program instruction
 * @op:		IMEE_OP_*
 * @regs:	destination register in bits 0-3, source register in bits 4-7
 * @size:	access size (1, 2, 4 or 8) of LD*, EMIT; 0 for the others
 * @flags:	must be zero
 * @off:	jump offset (JA, J*) or address displacement (LD*, COPY*)
 * @imm:	immediate operand (*K), or, for the F variants, the jump offset
 *		taken on a fault
 *
 * pc is the index of an instruction. A jump goes to pc + 1 + offset; every
 * jump target must lie inside the program, and its last instruction must be
 * EXIT or JA (no falling off the end). Arithmetic wraps modulo 2^64; shift
 * counts are taken modulo 64; comparisons are unsigned.
 *
 *   MOV   dst = src               MOVK  dst = imm
 *   ADD, SUB, MUL, AND, OR, XOR, SHL, SHR (logical):
 *         dst = dst op src        ...K  dst = dst op imm
 *   JA    pc += 1 + off
 *   JEQ, JNE, JLT, JLE, JGT, JGE: if (dst cmp src) pc += 1 + off
 *         ...K: if (dst cmp imm) pc += 1 + off
 *   LD    dst = zero-extended size bytes at virtual address src + off
 *   LDP   the same at guest-physical address src + off
 *   COPY  emit dst bytes (at most IMEE_PROG_MAX_COPY) from virtual address
 *         src + off to the output
 *   COPYP the same from guest-physical address src + off
 *   EMIT  emit the low size bytes of dst to the output (little-endian)
 *   EXIT  stop: the program succeeded
 *
 * A load or copy whose address cannot be read faults: the program stops
 * with IMEE_STATUS_FAULT (imee_run.fault says why), except for the F
 * variants (LDF, LDPF, COPYF, COPYPF), which set dst to the fault code
 * (IMEE_PROG_FAULT_*) and jump to pc + 1 + imm. A faulting COPY emits
 * nothing. Output that does not fit stops the program with
 * IMEE_STATUS_OUTPUT_FULL, leaving what was emitted before that instruction.
 */
struct imee_insn {
	__u8 op;
	__u8 regs;
	__u8 size;
	__u8 flags;
	__s32 off;
	__u64 imm;
};

#define IMEE_INSN_DST(insn)	((insn)->regs & 0xf)
#define IMEE_INSN_SRC(insn)	(((insn)->regs >> 4) & 0xf)
#define IMEE_INSN_REGS(dst, src) ((__u8)(((dst) & 0xf) | (((src) & 0xf) << 4)))

enum imee_op {
	IMEE_OP_EXIT = 0x00,
	IMEE_OP_MOV = 0x01,
	IMEE_OP_MOVK = 0x02,
	IMEE_OP_ADD = 0x03,
	IMEE_OP_ADDK = 0x04,
	IMEE_OP_SUB = 0x05,
	IMEE_OP_SUBK = 0x06,
	IMEE_OP_MUL = 0x07,
	IMEE_OP_MULK = 0x08,
	IMEE_OP_AND = 0x09,
	IMEE_OP_ANDK = 0x0a,
	IMEE_OP_OR = 0x0b,
	IMEE_OP_ORK = 0x0c,
	IMEE_OP_XOR = 0x0d,
	IMEE_OP_XORK = 0x0e,
	IMEE_OP_SHL = 0x0f,
	IMEE_OP_SHLK = 0x10,
	IMEE_OP_SHR = 0x11,
	IMEE_OP_SHRK = 0x12,
	IMEE_OP_JA = 0x20,
	IMEE_OP_JEQ = 0x21,
	IMEE_OP_JEQK = 0x22,
	IMEE_OP_JNE = 0x23,
	IMEE_OP_JNEK = 0x24,
	IMEE_OP_JLT = 0x25,
	IMEE_OP_JLTK = 0x26,
	IMEE_OP_JLE = 0x27,
	IMEE_OP_JLEK = 0x28,
	IMEE_OP_JGT = 0x29,
	IMEE_OP_JGTK = 0x2a,
	IMEE_OP_JGE = 0x2b,
	IMEE_OP_JGEK = 0x2c,
	IMEE_OP_LD = 0x40,
	IMEE_OP_LDF = 0x41,
	IMEE_OP_LDP = 0x42,
	IMEE_OP_LDPF = 0x43,
	IMEE_OP_COPY = 0x44,
	IMEE_OP_COPYF = 0x45,
	IMEE_OP_COPYP = 0x46,
	IMEE_OP_COPYPF = 0x47,
	IMEE_OP_EMIT = 0x50,
};

/* Why a load faulted (the values match libimee's enum imee_fault). */
enum imee_prog_fault {
	IMEE_PROG_FAULT_NONE = 0,
	IMEE_PROG_FAULT_NOT_MAPPED = 1,		/* a paging entry not present */
	IMEE_PROG_FAULT_NON_CANONICAL = 2,	/* a non-canonical address */
	IMEE_PROG_FAULT_BAD_ENTRY = 3,		/* reserved bits in an entry */
	IMEE_PROG_FAULT_OUT_OF_RAM = 4,		/* a table or page not in RAM */
	IMEE_PROG_FAULT_AGENT = 5,		/* inside the agent's own slot */
};

/* How a run ended. */
enum imee_status {
	IMEE_STATUS_OK = 0,		/* EXIT */
	IMEE_STATUS_FAULT = 1,		/* a load faulted: see fault, fault_* */
	IMEE_STATUS_STEP_LIMIT = 2,	/* max_steps instructions ran */
	IMEE_STATUS_OUTPUT_FULL = 3,	/* an emit did not fit */
	IMEE_STATUS_BAD_PROGRAM = 4,	/* a check failed at run time */
};

/* IMEE_CREATE's hw: the kind of hardware the ImEE runs on */
#define IMEE_HW_SVM_NPT		1	/* AMD SVM with nested paging */
#define IMEE_HW_VMX_EPT		2	/* Intel VMX with EPT */

/*
 * IMEE_CREATE's hw_flags: how this ImEE uses the hardware.
 * IMEE_HW_F_VIEWS: two nested page tables, the target's view (its frames
 * read-only, the agent's code) and the agent's view (its code, data and
 * output, no target frame), which the agent switches between around each
 * read of the target without a VM exit (Intel: VMFUNC EPTP switching). Without
 * it one table maps both (AMD; Intel CPUs without VMFUNC).
 * IMEE_HW_F_EXEC_ONLY: the agent's code is execute-only (EPT), not readable.
 * IMEE_HW_F_VPID: the ImEE's TLB entries carry a tag of its own (Intel
 * VPID): its VM entries and exits flush nothing of the host's.
 */
#define IMEE_HW_F_VIEWS		(1U << 0)
#define IMEE_HW_F_EXEC_ONLY	(1U << 1)
#define IMEE_HW_F_VPID		(1U << 2)

/**
 * struct imee_create - build the ImEE of a session
 * @size:	sizeof(struct imee_create)
 * @flags:	must be zero
 * @out_size:	bytes of output buffer (in): a multiple of 4096 up to 16 MiB;
 *		0 for 1 MiB
 * @hw:		IMEE_HW_* (out)
 * @launch_ns:	nanoseconds spent building it (out)
 * @hw_flags:	IMEE_HW_F_* (out; must be zero in)
 * @reserved32:	must be zero
 * @reserved:	must be zero
 *
 * Returns an ImEE fd. Errors: EOPNOTSUPP the host CPU or KVM cannot run an
 * ImEE (no SVM with nested paging, no VMX with EPT), EBUSY the session
 * already has one, ESRCH the target is gone, ENOMEM.
 */
struct imee_create {
	__u32 size;
	__u32 flags;
	__u32 out_size;
	__u32 hw;
	__u64 launch_ns;
	__u32 hw_flags;
	__u32 reserved32;
	__u64 reserved[3];
};

/**
 * struct imee_load - load an agent program
 * @size:	sizeof(struct imee_load)
 * @flags:	must be zero
 * @nr_insns:	number of instructions, 1..IMEE_PROG_MAX_INSNS
 * @bad_insn:	on EINVAL, the index of the first bad instruction (out)
 * @insns:	user pointer to struct imee_insn[@nr_insns]
 * @load_ns:	nanoseconds spent checking and loading (out)
 */
struct imee_load {
	__u32 size;
	__u32 flags;
	__u32 nr_insns;
	__u32 bad_insn;
	__u64 insns;
	__u64 load_ns;
};

/**
 * struct imee_run - one activation of the ImEE
 * @size:	sizeof(struct imee_run)
 * @flags:	IMEE_RUN_F_* (in)
 * @cr3:	the target page table to run on (in), unless IMEE_RUN_F_VCPU_CR3;
 *		the top-level entries are copied from it at this activation
 * @vcpu:	with IMEE_RUN_F_VCPU_CR3: index of the vCPU (in the order of
 *		IMEE_SESSION_INFO) whose current CR3 and paging mode to use
 * @levels:	paging levels of @cr3, 4 or 5 (in; ignored with
 *		IMEE_RUN_F_VCPU_CR3)
 * @args:	initial r0..r7 (in)
 * @max_steps:	instructions the program may run (in); 0 or more than
 *		2^32 means 2^32
 * @out_cap:	bytes of the output buffer the program may fill (in); 0 or
 *		more than its size means all of it
 * @status:	IMEE_STATUS_* (out)
 * @fault:	IMEE_PROG_FAULT_* of a fault that stopped the program (out)
 * @fault_addr:	the address that faulted (out)
 * @pc:		the instruction the program stopped at (out)
 * @out_len:	bytes emitted to the output buffer (out)
 * @steps:	instructions run (out)
 * @regs:	registers at the end (out)
 * @cr3_used:	the CR3 the activation used (out)
 * @run_ns:	nanoseconds from entering to leaving the activation (out)
 * @guest_ns:	of which inside the ImEE vCPU (out)
 * @exits:	VM exits during the activation (out)
 * @npt_faults:	nested page faults during it (pages mapped in) (out)
 * @ad_copies:	target pages copied because the CPU's page walk set an
 *		accessed or dirty bit in them (out; see the README)
 * @irq_exits:	exits for host interrupts (out)
 * @traps:	faults the program saw (out)
 * @restarts:	times the activation started over from the beginning
 *		because the ImEE vCPU's state was lost or it stopped outside
 *		any access to the target (out; see the README)
 * @mem_pages:	pages the ImEE holds after the activation: the agent's pages,
 *		its nested page tables and its private A/D copies (out)
 * @pinned:	target pages it keeps pinned (mapped in its nested page
 *		table; the target's own memory, not more of it) (out)
 *
 * Errors: ENOENT no program loaded, ESRCH the target is gone, EINTR a
 * signal arrived (run again), ETIME the activation ran out of time,
 * EIO the ImEE vCPU failed (details in the kernel log).
 */
struct imee_run {
	__u32 size;
	__u32 flags;
	__u64 cr3;
	__u32 vcpu;
	__u32 levels;
	__u64 args[8];
	__u64 max_steps;
	__u64 out_cap;
	__u32 status;
	__u32 fault;
	__u64 fault_addr;
	__u64 pc;
	__u64 out_len;
	__u64 steps;
	__u64 regs[IMEE_PROG_NR_REGS];
	__u64 cr3_used;
	__u64 run_ns;
	__u64 guest_ns;
	__u32 exits;
	__u32 npt_faults;
	__u32 ad_copies;
	__u32 irq_exits;
	__u32 traps;
	__u32 restarts;
	__u32 mem_pages;
	__u32 pinned;
};

/* use vCPU @vcpu's current CR3 and paging mode instead of @cr3, @levels */
#define IMEE_RUN_F_VCPU_CR3	(1U << 0)
/*
 * with IMEE_RUN_F_VCPU_CR3: use the kernel half of a page-table-isolation
 * pair (clear bits 0-12 of CR3), as Linux guests need for kernel addresses
 */
#define IMEE_RUN_F_PTI_KERNEL	(1U << 1)

#define IMEE_CREATE		_IOWR(IMEE_IOCTL_MAGIC, 0x20, struct imee_create)
#define IMEE_LOAD		_IOWR(IMEE_IOCTL_MAGIC, 0x21, struct imee_load)
#define IMEE_RUN		_IOWR(IMEE_IOCTL_MAGIC, 0x22, struct imee_run)

#endif /* _UAPI_LINUX_IMEE_H */
