/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: agent programs, the code shared by every engine that runs them.
 *
 * One source, compiled three ways:
 *  - into imee.ko (the verifier, imee_prog_check.c, run by IMEE_LOAD),
 *  - into the agent (the interpreter, imee_prog_exec.c), freestanding code
 *    that the ImEE vCPU runs in the target's address space,
 *  - into libimee (both), which runs the same programs over its software
 *    page walker.
 *
 * So this code uses nothing but the fixed-width types of <linux/types.h>:
 * no libc, no kernel API, no bool, no NULL, no globals. The instruction set
 * is documented in <linux/imee.h> (struct imee_insn).
 */
#ifndef IMEE_PROG_H
#define IMEE_PROG_H

#include <linux/types.h>
#include <linux/imee.h>

#ifndef __KERNEL__
/* The kernel's names of the fixed-width types, for the agent and libimee. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
#endif

#include "../agent/agent_abi.h"	/* struct imee_prog_state */

/* imee_prog_state.status while the program runs */
#define IMEE_PROG_RUNNING	(~0U)
/*
 * imee_prog_state.status after an access callback returned
 * IMEE_PROG_FAULT_ABORT: the engine itself failed (libimee: a read error
 * that is no fault of the target, such as the target being gone). Never
 * reported to users as such.
 */
#define IMEE_PROG_ABORTED	(~1U)
/* What an access callback returns to abort the run (see above). */
#define IMEE_PROG_FAULT_ABORT	0xffU

#define IMEE_PROG_PAGE_SIZE	4096U

/* imee_run.max_steps as every engine applies it: 0 or above 2^32 is 2^32. */
static inline u64 imee_prog_max_steps(u64 max_steps)
{
	const u64 limit = 1ULL << 32;

	return (max_steps == 0 || max_steps > limit) ? limit : max_steps;
}

/* Why imee_prog_check() rejected a program. */
enum imee_prog_bad {
	IMEE_PROG_GOOD = 0,
	IMEE_PROG_BAD_NR,		/* not 1..IMEE_PROG_MAX_INSNS insns */
	IMEE_PROG_BAD_OP,		/* unknown opcode */
	IMEE_PROG_BAD_FLAGS,		/* flags not zero */
	IMEE_PROG_BAD_SIZE,		/* size not 1, 2, 4, 8 (LD*, EMIT), not 0 */
	IMEE_PROG_BAD_JUMP,		/* pc + 1 + off outside the program */
	IMEE_PROG_BAD_FAULT_JUMP,	/* pc + 1 + imm outside (F variants) */
	IMEE_PROG_BAD_END,		/* the last insn is not EXIT or JA */
};

/**
 * imee_prog_check() - check a program before it is loaded
 * @insns:	the program
 * @nr:		its number of instructions
 * @bad:	the index of the first bad instruction (on -EINVAL); for a bad
 *		@nr, 0 when @nr is 0 and IMEE_PROG_MAX_INSNS when it is larger
 *
 * Every instruction: a known opcode; flags zero; size 1, 2, 4 or 8 for LD,
 * LDF, LDP, LDPF and EMIT and 0 for all others; every jump target
 * (pc + 1 + off of JA and J*, pc + 1 + imm of the F variants) inside
 * [0, @nr). @nr in 1..IMEE_PROG_MAX_INSNS and the last instruction EXIT or
 * JA. Runs in time linear in @nr.
 *
 * Return: 0, or -EINVAL.
 */
int imee_prog_check(const struct imee_insn *insns, u32 nr, u32 *bad);

/* The same, telling why: IMEE_PROG_GOOD or an IMEE_PROG_BAD_*. */
enum imee_prog_bad imee_prog_check_why(const struct imee_insn *insns, u32 nr,
				       u32 *bad);

/* A short English phrase for an IMEE_PROG_BAD_* ("unknown opcode"). */
const char *imee_prog_bad_str(enum imee_prog_bad why);

/**
 * struct imee_prog_env - what an engine gives the interpreter
 * @load_virt:	load @size (1, 2, 4 or 8) bytes at target virtual address
 *		@va into *@val (zero-extended, little-endian); the bytes lie in
 *		one 4 KiB page, @va is canonical and outside the agent slot
 * @load_phys:	the same at guest-physical address @pa, below @physmap_size
 * @copy_virt:	copy [@va, @va + @len) to @dst; the range lies in one 4 KiB
 *		page (@len 1..4096)
 * @copy_phys:	the same from guest-physical memory
 * @ctx:	passed to the callbacks
 * @out:	the output buffer, @out_cap bytes
 * @out_cap:	its size
 * @max_steps:	instructions the program may run (see imee_prog_max_steps())
 * @levels:	paging levels, 4 or 5: virtual addresses are canonical in 48
 *		or 57 bits (anything else counts as 4)
 * @slot_start:	the agent's own virtual range [@slot_start, @slot_end),
 * @slot_end:	which loads must not read (empty when equal)
 * @physmap_size: guest-physical addresses from here on are not RAM
 *		(~0ULL: no limit; the callbacks decide)
 *
 * Each callback returns IMEE_PROG_FAULT_NONE, the IMEE_PROG_FAULT_* why the
 * range cannot be read (then nothing is stored through @val), or
 * IMEE_PROG_FAULT_ABORT. The interpreter splits every access into chunks
 * that lie in one 4 KiB page and checks each chunk (canonical address,
 * agent slot, @physmap_size) before it calls a callback for it; the agent's
 * callbacks may trap instead of returning a fault (see
 * imee_prog_apply_fault()).
 */
struct imee_prog_env {
	u32 (*load_virt)(void *ctx, u64 va, u32 size, u64 *val);
	u32 (*load_phys)(void *ctx, u64 pa, u32 size, u64 *val);
	u32 (*copy_virt)(void *ctx, u64 va, void *dst, u32 len);
	u32 (*copy_phys)(void *ctx, u64 pa, void *dst, u32 len);
	void *ctx;
	u8 *out;
	u64 out_cap;
	u64 max_steps;
	u32 levels;
	u64 slot_start;
	u64 slot_end;
	u64 physmap_size;
};

/**
 * imee_prog_exec() - run a checked program until it stops
 * @st:		the program's state: registers, pc, steps, out_len, status;
 *		the run continues from it while st->status is
 *		IMEE_PROG_RUNNING (a fresh run: pc, steps and out_len 0,
 *		registers as the arguments say)
 * @insns:	the program (checked by imee_prog_check())
 * @nr:		its number of instructions
 * @env:	the engine
 *
 * Every instruction is one step, counted before it runs. The run stops with
 * st->status IMEE_STATUS_OK (EXIT), IMEE_STATUS_FAULT (st->fault,
 * st->fault_addr), IMEE_STATUS_STEP_LIMIT (st->steps reached
 * env->max_steps), IMEE_STATUS_OUTPUT_FULL (an emit did not fit: nothing of
 * it was written), IMEE_STATUS_BAD_PROGRAM (a runtime check failed: pc
 * outside the program, a COPY longer than IMEE_PROG_MAX_COPY, a bad
 * instruction), or IMEE_PROG_ABORTED. st->pc is then the instruction that
 * stopped the run.
 *
 * A load's or a copy's fault_addr is the lowest address of it that could
 * not be read: the start of the first chunk that faulted (the access's own
 * address, or the start of a later page). An access that would wrap past
 * the top of the address space faults at address 0 (virtual: non-canonical,
 * physical: out of RAM). A faulting COPY emits nothing.
 *
 * All the state the run needs between two instructions is in *@st: the
 * callbacks are opaque calls, before which every change to *@st is stored.
 * An engine whose callback cannot return (a trap) enters again with
 * imee_prog_apply_fault() and imee_prog_exec().
 */
void imee_prog_exec(struct imee_prog_state *st, const struct imee_insn *insns,
		    u32 nr, const struct imee_prog_env *env);

/**
 * imee_prog_apply_fault() - a fault of the access of the instruction at pc
 * @st:		the state, as it was when the access trapped
 * @insns:	the program
 * @nr:		its number of instructions
 * @fault:	IMEE_PROG_FAULT_*
 * @addr:	the address that could not be read (the chunk's start)
 *
 * What the interpreter does when a callback returns @fault: for LDF, LDPF,
 * COPYF and COPYPF, dst = @fault and pc = pc + 1 + imm (the run goes on);
 * for LD, LDP, COPY and COPYP, the run stops with IMEE_STATUS_FAULT,
 * st->fault = @fault and st->fault_addr = @addr. Anything else at pc is
 * IMEE_STATUS_BAD_PROGRAM.
 */
void imee_prog_apply_fault(struct imee_prog_state *st,
			   const struct imee_insn *insns, u32 nr, u32 fault,
			   u64 addr);

#endif /* IMEE_PROG_H */
