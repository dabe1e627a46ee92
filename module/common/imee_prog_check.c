// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the static check of agent programs (see imee_prog.h).
 *
 * Shared by imee.ko (IMEE_LOAD) and libimee: plain C on the fixed-width
 * types only.
 */
#include <linux/errno.h>

#include "imee_prog.h"

/* Is op one of IMEE_OP_*? */
static int op_known(u8 op)
{
	switch (op) {
	case IMEE_OP_EXIT:
	case IMEE_OP_MOV ... IMEE_OP_SHRK:
	case IMEE_OP_JA ... IMEE_OP_JGEK:
	case IMEE_OP_LD ... IMEE_OP_COPYPF:
	case IMEE_OP_EMIT:
		return 1;
	}
	return 0;
}

/* Does op take an access size (1, 2, 4 or 8)? All others take 0. */
static int op_sized(u8 op)
{
	switch (op) {
	case IMEE_OP_LD:
	case IMEE_OP_LDF:
	case IMEE_OP_LDP:
	case IMEE_OP_LDPF:
	case IMEE_OP_EMIT:
		return 1;
	}
	return 0;
}

/* Is op one of the F variants, which jump by imm on a fault? */
static int op_fault_jumps(u8 op)
{
	switch (op) {
	case IMEE_OP_LDF:
	case IMEE_OP_LDPF:
	case IMEE_OP_COPYF:
	case IMEE_OP_COPYPF:
		return 1;
	}
	return 0;
}

/* Is pc + 1 + rel inside [0, nr)? (pc < nr; no signed overflow here) */
static int target_ok(u32 pc, u32 nr, s64 rel)
{
	s64 lowest = -(s64)pc - 1;		/* target 0 */
	s64 highest = (s64)nr - (s64)pc - 2;	/* target nr - 1 */

	return rel >= lowest && rel <= highest;
}

static enum imee_prog_bad check_insn(const struct imee_insn *insn, u32 pc,
				     u32 nr)
{
	u8 op = insn->op;

	if (!op_known(op))
		return IMEE_PROG_BAD_OP;
	if (insn->flags)
		return IMEE_PROG_BAD_FLAGS;
	if (op_sized(op)) {
		if (insn->size != 1 && insn->size != 2 && insn->size != 4 &&
		    insn->size != 8)
			return IMEE_PROG_BAD_SIZE;
	} else if (insn->size) {
		return IMEE_PROG_BAD_SIZE;
	}
	if (op >= IMEE_OP_JA && op <= IMEE_OP_JGEK &&
	    !target_ok(pc, nr, insn->off))
		return IMEE_PROG_BAD_JUMP;
	if (op_fault_jumps(op) && !target_ok(pc, nr, (s64)insn->imm))
		return IMEE_PROG_BAD_FAULT_JUMP;
	if (pc == nr - 1 && op != IMEE_OP_EXIT && op != IMEE_OP_JA)
		return IMEE_PROG_BAD_END;
	return IMEE_PROG_GOOD;
}

enum imee_prog_bad imee_prog_check_why(const struct imee_insn *insns, u32 nr,
				       u32 *bad)
{
	enum imee_prog_bad why;
	u32 pc;

	if (nr == 0 || nr > IMEE_PROG_MAX_INSNS) {
		*bad = nr ? IMEE_PROG_MAX_INSNS : 0;
		return IMEE_PROG_BAD_NR;
	}
	for (pc = 0; pc < nr; pc++) {
		why = check_insn(&insns[pc], pc, nr);
		if (why != IMEE_PROG_GOOD) {
			*bad = pc;
			return why;
		}
	}
	return IMEE_PROG_GOOD;
}

int imee_prog_check(const struct imee_insn *insns, u32 nr, u32 *bad)
{
	return imee_prog_check_why(insns, nr, bad) == IMEE_PROG_GOOD ?
	       0 : -EINVAL;
}

const char *imee_prog_bad_str(enum imee_prog_bad why)
{
	switch (why) {
	case IMEE_PROG_GOOD:
		return "no error";
	case IMEE_PROG_BAD_NR:
		return "the program must have 1 to 65536 instructions";
	case IMEE_PROG_BAD_OP:
		return "unknown opcode";
	case IMEE_PROG_BAD_FLAGS:
		return "flags must be zero";
	case IMEE_PROG_BAD_SIZE:
		return "bad size (1, 2, 4 or 8 for LD*, EMIT; 0 for the others)";
	case IMEE_PROG_BAD_JUMP:
		return "jump target outside the program";
	case IMEE_PROG_BAD_FAULT_JUMP:
		return "fault jump target (imm) outside the program";
	case IMEE_PROG_BAD_END:
		return "the last instruction must be EXIT or JA";
	}
	return "unknown error";
}
