// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the interpreter of agent programs (see imee_prog.h).
 *
 * The same source runs inside the ImEE vCPU (the agent, freestanding) and
 * in libimee (the software and legacy engines), so that a program gives the
 * same result on every engine: the checks of addresses, the split of
 * accesses into page chunks, the order of the checks and what a fault or a
 * full output leaves behind are all decided here, never by an engine.
 */
#include "imee_prog.h"

#define PAGE_OFFSET_MASK	((u64)IMEE_PROG_PAGE_SIZE - 1)

/* The address spaces an access can read. */
enum space {
	SPACE_VIRT,
	SPACE_PHYS,
};

static void stop(struct imee_prog_state *st, u32 status)
{
	st->status = status;
}

/* Does a virtual address have bits 63..va_bits-1 all equal? */
static int canonical(u64 va, u32 levels)
{
	u32 unused = levels == 5 ? 64 - 57 : 64 - 48;

	/* an arithmetic shift right of a u64 cast to s64 */
	return (u64)((s64)(va << unused) >> unused) == va;
}

/*
 * The fault, if any, that the interpreter itself finds for the chunk
 * [addr, addr + len), which lies in one page (addr + len may be 2^64).
 */
static u32 chunk_check(const struct imee_prog_env *env, enum space space,
		       u64 addr, u32 len)
{
	u64 last = addr + len - 1;

	if (space == SPACE_PHYS) {
		if (addr >= env->physmap_size || last >= env->physmap_size)
			return IMEE_PROG_FAULT_OUT_OF_RAM;
		return IMEE_PROG_FAULT_NONE;
	}
	/* the canonical boundaries are page aligned: the chunk's start tells */
	if (!canonical(addr, env->levels))
		return IMEE_PROG_FAULT_NON_CANONICAL;
	if (addr < env->slot_end && last >= env->slot_start)
		return IMEE_PROG_FAULT_AGENT;
	return IMEE_PROG_FAULT_NONE;
}

/* The fault of an access that runs past 2^64 and wraps to address 0. */
static u32 wrap_fault(enum space space)
{
	return space == SPACE_PHYS ? IMEE_PROG_FAULT_OUT_OF_RAM :
	       IMEE_PROG_FAULT_NON_CANONICAL;
}

/* Bytes from addr to the end of its page, at most len. */
static u32 chunk_len(u64 addr, u32 len)
{
	u64 room = IMEE_PROG_PAGE_SIZE - (addr & PAGE_OFFSET_MASK);

	return room < len ? (u32)room : len;
}

/*
 * Copy [addr, addr + len) to dst, page chunk by page chunk, lowest first.
 * On a fault, *fault_addr is the start of the chunk that faulted.
 */
static u32 read_range(const struct imee_prog_env *env, enum space space,
		      u64 addr, u8 *dst, u32 len, u64 *fault_addr)
{
	u32 done = 0;

	/* one round per page: at most len / 4096 + 2 */
	while (done < len) {
		u64 at = addr + done;
		u32 n = chunk_len(at, len - done);
		u32 fault;

		if (done && at == 0)
			fault = wrap_fault(space);
		else
			fault = chunk_check(env, space, at, n);
		if (fault == IMEE_PROG_FAULT_NONE) {
			if (space == SPACE_PHYS)
				fault = env->copy_phys(env->ctx, at, dst + done,
						       n);
			else
				fault = env->copy_virt(env->ctx, at, dst + done,
						       n);
		}
		if (fault != IMEE_PROG_FAULT_NONE) {
			*fault_addr = at;
			return fault;
		}
		done += n;
	}
	return IMEE_PROG_FAULT_NONE;
}

/* Load size bytes at addr: one callback when they lie in one page. */
static u32 load(const struct imee_prog_env *env, enum space space, u64 addr,
		u32 size, u64 *val, u64 *fault_addr)
{
	u8 bytes[8];
	u32 fault, i;
	u64 v = 0;

	if (chunk_len(addr, size) == size) {
		fault = chunk_check(env, space, addr, size);
		if (fault == IMEE_PROG_FAULT_NONE) {
			if (space == SPACE_PHYS)
				fault = env->load_phys(env->ctx, addr, size, val);
			else
				fault = env->load_virt(env->ctx, addr, size, val);
		}
		if (fault != IMEE_PROG_FAULT_NONE)
			*fault_addr = addr;
		return fault;
	}
	/* across a page boundary: two chunks */
	fault = read_range(env, space, addr, bytes, size, fault_addr);
	if (fault != IMEE_PROG_FAULT_NONE)
		return fault;
	for (i = 0; i < size; i++)
		v |= (u64)bytes[i] << (8 * i);
	*val = v;
	return IMEE_PROG_FAULT_NONE;
}

/* A fault of the access of insn: see imee_prog_apply_fault(). */
static void fault_insn(struct imee_prog_state *st, const struct imee_insn *insn,
		       u32 fault, u64 addr)
{
	switch (insn->op) {
	case IMEE_OP_LDF:
	case IMEE_OP_LDPF:
	case IMEE_OP_COPYF:
	case IMEE_OP_COPYPF:
		st->regs[IMEE_INSN_DST(insn)] = fault;
		st->pc = st->pc + 1 + insn->imm;
		return;
	case IMEE_OP_LD:
	case IMEE_OP_LDP:
	case IMEE_OP_COPY:
	case IMEE_OP_COPYP:
		st->fault = fault;
		st->fault_addr = addr;
		stop(st, IMEE_STATUS_FAULT);
		return;
	}
	stop(st, IMEE_STATUS_BAD_PROGRAM);
}

void imee_prog_apply_fault(struct imee_prog_state *st,
			   const struct imee_insn *insns, u32 nr, u32 fault,
			   u64 addr)
{
	if (st->status != IMEE_PROG_RUNNING)
		return;
	if (st->pc >= nr) {
		stop(st, IMEE_STATUS_BAD_PROGRAM);
		return;
	}
	fault_insn(st, &insns[st->pc], fault, addr);
}

/* The end of an access: the fault's consequences, or 0 to go on. */
static int access_failed(struct imee_prog_state *st,
			 const struct imee_insn *insn, u32 fault, u64 addr)
{
	if (fault == IMEE_PROG_FAULT_NONE)
		return 0;
	if (fault == IMEE_PROG_FAULT_ABORT)
		stop(st, IMEE_PROG_ABORTED);
	else
		fault_insn(st, insn, fault, addr);
	return 1;
}

static int size_ok(u32 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Is there room for len more bytes of output? */
static int out_room(const struct imee_prog_state *st,
		    const struct imee_prog_env *env, u64 len)
{
	return st->out_len <= env->out_cap && len <= env->out_cap - st->out_len;
}

/* LD, LDF, LDP, LDPF */
static void exec_load(struct imee_prog_state *st, const struct imee_insn *insn,
		      const struct imee_prog_env *env, enum space space)
{
	u64 addr = st->regs[IMEE_INSN_SRC(insn)] + (u64)(s64)insn->off;
	u64 val = 0, fault_addr = 0;
	u32 fault;

	if (!size_ok(insn->size)) {
		stop(st, IMEE_STATUS_BAD_PROGRAM);
		return;
	}
	fault = load(env, space, addr, insn->size, &val, &fault_addr);
	if (access_failed(st, insn, fault, fault_addr))
		return;
	st->regs[IMEE_INSN_DST(insn)] = val;
	st->pc++;
}

/* COPY, COPYF, COPYP, COPYPF: out_len grows only once all of it is read. */
static void exec_copy(struct imee_prog_state *st, const struct imee_insn *insn,
		      const struct imee_prog_env *env, enum space space)
{
	u64 addr = st->regs[IMEE_INSN_SRC(insn)] + (u64)(s64)insn->off;
	u64 len = st->regs[IMEE_INSN_DST(insn)];
	u64 fault_addr = 0;
	u32 fault;

	if (len > IMEE_PROG_MAX_COPY) {
		stop(st, IMEE_STATUS_BAD_PROGRAM);
		return;
	}
	if (!out_room(st, env, len)) {
		stop(st, IMEE_STATUS_OUTPUT_FULL);
		return;
	}
	fault = read_range(env, space, addr, env->out + st->out_len, (u32)len,
			   &fault_addr);
	if (access_failed(st, insn, fault, fault_addr))
		return;
	st->out_len += len;
	st->pc++;
}

static void exec_emit(struct imee_prog_state *st, const struct imee_insn *insn,
		      const struct imee_prog_env *env)
{
	u64 val = st->regs[IMEE_INSN_DST(insn)];
	u8 *out = env->out + st->out_len;
	u32 i;

	if (!size_ok(insn->size)) {
		stop(st, IMEE_STATUS_BAD_PROGRAM);
		return;
	}
	if (!out_room(st, env, insn->size)) {
		stop(st, IMEE_STATUS_OUTPUT_FULL);
		return;
	}
	for (i = 0; i < insn->size; i++)
		out[i] = (u8)(val >> (8 * i));
	st->out_len += insn->size;
	st->pc++;
}

/* MOV..SHRK: dst = dst op b. */
static void alu(u8 op, u64 *dst, u64 b)
{
	switch (op) {
	case IMEE_OP_MOV:
	case IMEE_OP_MOVK:
		*dst = b;
		break;
	case IMEE_OP_ADD:
	case IMEE_OP_ADDK:
		*dst += b;
		break;
	case IMEE_OP_SUB:
	case IMEE_OP_SUBK:
		*dst -= b;
		break;
	case IMEE_OP_MUL:
	case IMEE_OP_MULK:
		*dst *= b;
		break;
	case IMEE_OP_AND:
	case IMEE_OP_ANDK:
		*dst &= b;
		break;
	case IMEE_OP_OR:
	case IMEE_OP_ORK:
		*dst |= b;
		break;
	case IMEE_OP_XOR:
	case IMEE_OP_XORK:
		*dst ^= b;
		break;
	case IMEE_OP_SHL:
	case IMEE_OP_SHLK:
		*dst <<= b & 63;
		break;
	case IMEE_OP_SHR:
	case IMEE_OP_SHRK:
		*dst >>= b & 63;
		break;
	}
}

/* JA..JGEK: is the jump taken? */
static int taken(u8 op, u64 a, u64 b)
{
	switch (op) {
	case IMEE_OP_JEQ:
	case IMEE_OP_JEQK:
		return a == b;
	case IMEE_OP_JNE:
	case IMEE_OP_JNEK:
		return a != b;
	case IMEE_OP_JLT:
	case IMEE_OP_JLTK:
		return a < b;
	case IMEE_OP_JLE:
	case IMEE_OP_JLEK:
		return a <= b;
	case IMEE_OP_JGT:
	case IMEE_OP_JGTK:
		return a > b;
	case IMEE_OP_JGE:
	case IMEE_OP_JGEK:
		return a >= b;
	}
	return 1;	/* JA */
}

/*
 * The second operand of MOV..SHRK and JA..JGEK: imm for the *K forms, which
 * are the even opcodes there (JA, even too, ignores it), else the source
 * register.
 */
static u64 operand(const struct imee_prog_state *st,
		   const struct imee_insn *insn)
{
	if (insn->op & 1)
		return st->regs[IMEE_INSN_SRC(insn)];
	return insn->imm;
}

/* Run the instruction at st->pc (< nr). */
static void step(struct imee_prog_state *st, const struct imee_insn *insn,
		 const struct imee_prog_env *env)
{
	u8 op = insn->op;

	switch (op) {
	case IMEE_OP_EXIT:
		stop(st, IMEE_STATUS_OK);
		return;
	case IMEE_OP_MOV ... IMEE_OP_SHRK:
		alu(op, &st->regs[IMEE_INSN_DST(insn)], operand(st, insn));
		st->pc++;
		return;
	case IMEE_OP_JA ... IMEE_OP_JGEK:
		if (taken(op, st->regs[IMEE_INSN_DST(insn)], operand(st, insn)))
			st->pc += 1 + (u64)(s64)insn->off;
		else
			st->pc++;
		return;
	case IMEE_OP_LD:
	case IMEE_OP_LDF:
		exec_load(st, insn, env, SPACE_VIRT);
		return;
	case IMEE_OP_LDP:
	case IMEE_OP_LDPF:
		exec_load(st, insn, env, SPACE_PHYS);
		return;
	case IMEE_OP_COPY:
	case IMEE_OP_COPYF:
		exec_copy(st, insn, env, SPACE_VIRT);
		return;
	case IMEE_OP_COPYP:
	case IMEE_OP_COPYPF:
		exec_copy(st, insn, env, SPACE_PHYS);
		return;
	case IMEE_OP_EMIT:
		exec_emit(st, insn, env);
		return;
	}
	stop(st, IMEE_STATUS_BAD_PROGRAM);
}

void imee_prog_exec(struct imee_prog_state *st, const struct imee_insn *insns,
		    u32 nr, const struct imee_prog_env *env)
{
	while (st->status == IMEE_PROG_RUNNING) {
		if (st->pc >= nr) {
			stop(st, IMEE_STATUS_BAD_PROGRAM);
			break;
		}
		if (st->steps >= env->max_steps) {
			stop(st, IMEE_STATUS_STEP_LIMIT);
			break;
		}
		st->steps++;
		step(st, &insns[st->pc], env);
	}
}
