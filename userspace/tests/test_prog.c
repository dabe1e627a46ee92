// SPDX-License-Identifier: GPL-2.0
/*
 * Agent programs: the verifier (each rule), every instruction's semantics,
 * wraparound and shift counts, faults of every kind and the address each
 * reports, the F variants, COPY's rollback, a full output, the step limit, a
 * 1000-node linked-list walk with a cycle bound, the agent slot and the
 * physmap limit, and a simulated agent whose accesses trap and re-enter the
 * interpreter (which must then end exactly as when they return the fault).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "imee_prog.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define RAM_SIZE (16ULL << 20)
/*
 * Two mapped data pages, physically apart, then an unmapped one:
 * DATA_VA -> DATA_PA, DATA_VA + 4K -> DATA_PA + 12K, DATA_VA + 8K unmapped.
 */
#define DATA_VA 0xffff888000400000ULL
#define DATA_PA 0x400000ULL
#define DATA_PHYS_LEN 0x4000ULL /* the pattern covers DATA_PA..+16K */
#define HOLE_VA (DATA_VA + 2 * SZ_4K)
#define NONRAM_VA (DATA_VA + 5 * SZ_4K) /* mapped to a frame outside RAM */
#define BADENT_VA (DATA_VA + 6 * SZ_4K) /* its PTE has reserved bits (MAXPHYADDR 46) */
#define RETRY_VA (DATA_VA + 7 * SZ_4K) /* mapped again, to DATA_PA */
#define LOW_TOP_VA 0x00007ffffffff000ULL /* last page of the lower half (4-level) */
#define TOP_VA 0xfffffffffffff000ULL /* the last page of the address space */
/* The linked list: 1000 nodes of { next, value } in 8 pages, scattered. */
#define LIST_VA 0xffffc90000000000ULL
#define LIST_PA 0x800000ULL
#define LIST_PAGES 8
#define LIST_NODES 1000
/* The simulated agent's own slot (direct interpreter tests). */
#define SLOT_VA 0xffffff0000000000ULL
#define SLOT_LEN 0x10000ULL

/* Enough for every program here: a bug that loops stops soon. */
#define MAX_STEPS 1000000

static struct fake_mem fm;
static struct imee_mem mem;
static uint64_t root4, root5;
static unsigned int maxphy; /* the walk's MAXPHYADDR, 0 for 52 */
static struct imee_prog_result res;
static uint8_t out[65536];

static uint8_t pat(uint64_t pa)
{
	return (uint8_t)(pa * 31 + (pa >> 8) * 7 + 0x5a);
}

static uint64_t data_pa(uint64_t va)
{
	uint64_t off = va - DATA_VA;

	return off < SZ_4K ? DATA_PA + off : DATA_PA + 3 * SZ_4K + (off - SZ_4K);
}

/* The little-endian value of size bytes of the data pages at va / pa. */
static uint64_t want_virt(uint64_t va, unsigned int size)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)pat(data_pa(va + i)) << (8 * i);
	return v;
}

static uint64_t want_phys(uint64_t pa, unsigned int size)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)pat(pa + i) << (8 * i);
	return v;
}

static uint64_t node_va(unsigned int i)
{
	return LIST_VA + (uint64_t)((i * 37) % LIST_NODES) * 32;
}

static uint64_t node_value(unsigned int i)
{
	return i * 0x1000001ULL + 7;
}

/* Map va in both the 4-level and the 5-level hierarchy. */
static void map_both(uint64_t va, uint64_t pa, uint64_t flags)
{
	fake_map(&fm, root4, 4, va, pa, SZ_4K, flags);
	fake_map(&fm, root5, 5, va, pa, SZ_4K, flags);
}

static void setup(void)
{
	uint64_t pa;
	unsigned int i;

	fake_free(&fm);
	fake_init(&fm, RAM_SIZE);
	mem = fake_mem(&fm);
	root4 = fake_table(&fm, 1);
	root5 = fake_table(&fm, 1);
	maxphy = 0;
	for (pa = DATA_PA; pa < DATA_PA + DATA_PHYS_LEN; pa++)
		*(uint8_t *)fake_ptr(&fm, pa, 1) = pat(pa);
	map_both(DATA_VA, DATA_PA, PTE_RW);
	map_both(DATA_VA + SZ_4K, DATA_PA + 3 * SZ_4K, PTE_RW);
	map_both(NONRAM_VA, 0x80000000ULL, PTE_RW);
	map_both(BADENT_VA, DATA_PA | (1ULL << 50), PTE_RW);
	map_both(RETRY_VA, DATA_PA, PTE_RW);
	fake_map(&fm, root4, 4, LOW_TOP_VA, DATA_PA, SZ_4K, PTE_RW);
	fake_map(&fm, root4, 4, TOP_VA, DATA_PA, SZ_4K, PTE_RW);

	/* the list's pages, in a scrambled physical order */
	for (i = 0; i < LIST_PAGES; i++)
		map_both(LIST_VA + i * SZ_4K, LIST_PA + ((i * 3) % LIST_PAGES) * SZ_4K, PTE_RW);
}

/* Write the list through the page tables: node i -> node i + 1, last -> last_next. */
static void write_list(uint64_t last_next)
{
	struct imee_walk w;
	unsigned int i;

	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = root4);
	for (i = 0; i < LIST_NODES; i++) {
		uint64_t next = i + 1 < LIST_NODES ? node_va(i + 1) : last_next;

		if (imee_walk(&mem, &o, node_va(i), &w) || w.fault)
			abort();
		fake_set(&fm, w.pa, next);
		fake_set(&fm, w.pa + 8, node_value(i));
	}
}

static struct imee_walk_opts opts_for(unsigned int levels)
{
	IMEE_OPTS(imee_walk_opts, o,
		  .paging = levels == 5 ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL,
		  .cr3 = levels == 5 ? root5 : root4, .maxphyaddr = maxphy);
	return o;
}

static int run_full(unsigned int levels, const struct imee_insn *insns, size_t nr,
		    const uint64_t *args, uint64_t max_steps, size_t out_cap)
{
	struct imee_walk_opts o = opts_for(levels);

	memset(out, 0xee, sizeof(out));
	memset(&res, 0xa5, sizeof(res));
	return imee_prog_run_mem(&mem, &o, insns, nr, args, max_steps, out, out_cap, &res);
}

/* Run on 4-level paging with r0 = a0, r1 = a1, a big output, 10^6 steps. */
static int run2(const struct imee_insn *insns, size_t nr, uint64_t a0, uint64_t a1)
{
	uint64_t args[8] = { a0, a1 };

	return run_full(4, insns, nr, args, MAX_STEPS, sizeof(out));
}

#define RUN(prog) run2(prog, N(prog), 0, 0)
#define RUN_ARGS(prog, a0, a1) run2(prog, N(prog), a0, a1)

/* The run stopped at pc with a fault of this kind at this address. */
#define EXPECT_FAULT(pc_, fault_, addr_)                   \
	do {                                               \
		EXPECT_INT(res.status, IMEE_STATUS_FAULT); \
		EXPECT_INT(res.fault, fault_);             \
		EXPECT_U64(res.fault_addr, addr_);         \
		EXPECT_U64(res.pc, pc_);                   \
	} while (0)

/* ------------------------------------------------------------------ */
/* The verifier                                                        */
/* ------------------------------------------------------------------ */

static void verify_accepts(void)
{
	static const struct imee_insn all[] = {
		IMEE_MOV(1, 2),
		IMEE_MOVK(1, 5),
		IMEE_ADD(1, 2),
		IMEE_ADDK(1, 1),
		IMEE_SUB(1, 2),
		IMEE_SUBK(1, 1),
		IMEE_MUL(1, 2),
		IMEE_MULK(1, 3),
		IMEE_AND(1, 2),
		IMEE_ANDK(1, 3),
		IMEE_OR(1, 2),
		IMEE_ORK(1, 3),
		IMEE_XOR(1, 2),
		IMEE_XORK(1, 3),
		IMEE_SHL(1, 2),
		IMEE_SHLK(1, 3),
		IMEE_SHR(1, 2),
		IMEE_SHRK(1, 3),
		IMEE_JA(0),
		IMEE_JEQ(1, 2, 0),
		IMEE_JEQK(1, 2, 0),
		IMEE_JNE(1, 2, 0),
		IMEE_JNEK(1, 2, 0),
		IMEE_JLT(1, 2, 0),
		IMEE_JLTK(1, 2, 0),
		IMEE_JLE(1, 2, 0),
		IMEE_JLEK(1, 2, 0),
		IMEE_JGT(1, 2, 0),
		IMEE_JGTK(1, 2, 0),
		IMEE_JGE(1, 2, 0),
		IMEE_JGEK(1, 2, 0),
		IMEE_LD(1, 2, 0, 1),
		IMEE_LDF(1, 2, 0, 2, 0),
		IMEE_LDP(1, 2, 0, 4),
		IMEE_LDPF(1, 2, -8, 8, 0),
		IMEE_COPY(1, 2, 0),
		IMEE_COPYF(1, 2, 0, 0),
		IMEE_COPYP(1, 2, 0),
		IMEE_COPYPF(1, 2, 0, 0),
		IMEE_EMIT(1, 8),
		IMEE_JA(-41),
		IMEE_EXIT(),
	};
	static const struct imee_insn loop[] = { IMEE_JA(-1) }; /* JA may end a program */
	/* a jump to the first and to the last instruction; a fault jump to itself */
	static const struct imee_insn edges[] = {
		IMEE_JEQ(0, 0, 2),
		IMEE_LDF(0, 0, 0, 8, -1),
		IMEE_JNEK(0, 1, -3),
		IMEE_EXIT(),
	};
	struct imee_insn *big = calloc(IMEE_PROG_MAX_INSNS, sizeof(*big)); /* all EXIT */
	size_t bad = 99;
	uint32_t bad32 = 99;

	EXPECT_INT(imee_prog_verify(all, N(all), &bad), 0);
	EXPECT_INT(bad, 99);
	EXPECT_INT(imee_prog_check(all, N(all), &bad32), 0);
	EXPECT_INT(imee_prog_verify(loop, N(loop), NULL), 0);
	EXPECT_INT(imee_prog_verify(edges, N(edges), NULL), 0);
	REQUIRE(big);
	EXPECT_INT(imee_prog_verify(big, IMEE_PROG_MAX_INSNS, NULL), 0);
	free(big);
}

/* insns must be rejected at bad for why; the message must contain msg. */
static void expect_bad(const struct imee_insn *insns, size_t nr, size_t want_bad,
		       enum imee_prog_bad want_why, const char *msg, int line)
{
	uint32_t bad32 = 12345;
	size_t bad = 12345;
	uint32_t nr32 = nr > IMEE_PROG_MAX_INSNS ? IMEE_PROG_MAX_INSNS + 1 : (uint32_t)nr;

	if (!tap_expect_int(imee_prog_check_why(insns, nr32, &bad32), want_why, "why", __FILE__,
			    line))
		return;
	tap_expect_int(bad32, want_bad, "bad", __FILE__, line);
	tap_expect_int(imee_prog_check(insns, nr32, &bad32), -EINVAL, "imee_prog_check", __FILE__,
		       line);
	tap_expect_int(imee_prog_verify(insns, nr, &bad), -EINVAL, "imee_prog_verify", __FILE__,
		       line);
	tap_expect_int(bad, want_bad, "bad_ret", __FILE__, line);
	tap_expect_has(imee_errmsg(), msg, "message", __FILE__, line);
	/* and it is not run */
	tap_expect_int(run2(insns, nr, 0, 0), -EINVAL, "run", __FILE__, line);
}

#define EXPECT_BAD(prog, bad, why, msg) expect_bad(prog, N(prog), bad, why, msg, __LINE__)

static void verify_rejects(void)
{
	static const uint8_t unknown_ops[] = {
		0x13, 0x1f, 0x2d, 0x30, 0x3f, 0x48, 0x4f, 0x51, 0xff
	};
	struct imee_insn prog[4] = { IMEE_MOVK(1, 2), IMEE_MOVK(1, 3), IMEE_MOVK(1, 4),
				     IMEE_EXIT() };
	struct imee_insn *big;
	unsigned int i;

	setup();
	/* the number of instructions */
	EXPECT_INT(imee_prog_verify(prog, 0, NULL), -EINVAL);
	EXPECT_HAS(imee_errmsg(), "1 to 65536");
	expect_bad(prog, 0, 0, IMEE_PROG_BAD_NR, "agent program of 0 instructions", __LINE__);
	big = calloc(IMEE_PROG_MAX_INSNS + 1, sizeof(*big));
	REQUIRE(big);
	expect_bad(big, IMEE_PROG_MAX_INSNS + 1, IMEE_PROG_MAX_INSNS, IMEE_PROG_BAD_NR,
		   "of 65537 instructions", __LINE__);
	free(big);

	/* unknown opcodes */
	for (i = 0; i < N(unknown_ops); i++) {
		struct imee_insn p[] = { IMEE_MOVK(1, 2), IMEE_MOVK(1, 2), IMEE_EXIT() };

		p[1].op = unknown_ops[i];
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_OP, "instruction 1 (?): unknown opcode");
	}

	/* flags */
	{
		struct imee_insn p[] = { IMEE_MOVK(1, 2), IMEE_EXIT() };

		p[0].flags = 0x80;
		EXPECT_BAD(p, 0, IMEE_PROG_BAD_FLAGS, "instruction 0 (MOVK): flags");
	}

	/* sizes */
	{
		struct imee_insn p[] = { IMEE_MOVK(1, 2), IMEE_LD(1, 2, 0, 3), IMEE_EXIT() };

		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "instruction 1 (LD): bad size");
		p[1].size = 0;
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(LD): bad size");
		p[1] = (struct imee_insn)IMEE_LDP(1, 2, 0, 16);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(LDP): bad size");
		p[1] = (struct imee_insn)IMEE_LDPF(1, 2, 0, 5, 0);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(LDPF): bad size");
		p[1] = (struct imee_insn)IMEE_EMIT(1, 0);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(EMIT): bad size");
		p[1] = (struct imee_insn)IMEE_MOV(1, 2);
		p[1].size = 8;
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(MOV): bad size");
		p[1] = (struct imee_insn)IMEE_COPY(1, 2, 0);
		p[1].size = 8;
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_SIZE, "(COPY): bad size");
		p[1] = (struct imee_insn)IMEE_MOVK(1, 2);
		p[2].size = 1;
		EXPECT_BAD(p, 2, IMEE_PROG_BAD_SIZE, "(EXIT): bad size");
	}

	/* jump targets: pc + 1 + off in [0, nr) */
	{
		struct imee_insn p[] = { IMEE_JA(2), IMEE_MOVK(1, 2), IMEE_EXIT() };

		EXPECT_BAD(p, 0, IMEE_PROG_BAD_JUMP, "instruction 0 (JA): jump target outside");
		p[0] = (struct imee_insn)IMEE_JA(-2);
		EXPECT_BAD(p, 0, IMEE_PROG_BAD_JUMP, "(JA): jump target");
		p[0] = (struct imee_insn)IMEE_MOVK(1, 2);
		p[1] = (struct imee_insn)IMEE_JEQK(1, 2, 1);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_JUMP, "instruction 1 (JEQK)");
		p[1] = (struct imee_insn)IMEE_JGE(1, 2, INT32_MIN);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_JUMP, "(JGE)");
		p[1] = (struct imee_insn)IMEE_JLT(1, 2, INT32_MAX);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_JUMP, "(JLT)");
		p[1] = (struct imee_insn)IMEE_JNE(1, 2, -3);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_JUMP, "(JNE)");
		/* the F variants' off is a displacement, not a jump */
		p[1] = (struct imee_insn)IMEE_LDF(1, 2, 0x10000, 8, 0);
		EXPECT_INT(imee_prog_verify(p, N(p), NULL), 0);
	}

	/* fault jump targets: pc + 1 + imm, imm a signed 64-bit offset */
	{
		struct imee_insn p[] = { IMEE_MOVK(1, 2), IMEE_LDF(1, 2, 0, 8, 1), IMEE_EXIT() };

		EXPECT_BAD(p, 1, IMEE_PROG_BAD_FAULT_JUMP,
			   "instruction 1 (LDF): fault jump target");
		p[1] = (struct imee_insn)IMEE_LDPF(1, 2, 0, 8, -3);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_FAULT_JUMP, "(LDPF)");
		p[1] = (struct imee_insn)IMEE_COPYF(1, 2, 0, 1ULL << 63);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_FAULT_JUMP, "(COPYF)");
		p[1] = (struct imee_insn)IMEE_COPYPF(1, 2, 0, 0x100000000ULL);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_FAULT_JUMP, "(COPYPF)");
		p[1] = (struct imee_insn)IMEE_COPYPF(1, 2, 0, -2);
		EXPECT_INT(imee_prog_verify(p, N(p), NULL), 0);
		/* imm of the other instructions is an operand, not a jump */
		p[1] = (struct imee_insn)IMEE_MOVK(1, 1ULL << 63);
		EXPECT_INT(imee_prog_verify(p, N(p), NULL), 0);
	}

	/* the last instruction: EXIT or JA, nothing that can fall off the end */
	{
		struct imee_insn p[] = { IMEE_MOVK(1, 2), IMEE_MOVK(1, 2) };

		EXPECT_BAD(p, 1, IMEE_PROG_BAD_END, "instruction 1 (MOVK): the last instruction");
		p[1] = (struct imee_insn)IMEE_JEQ(1, 1, -2);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_END, "(JEQ)");
		p[1] = (struct imee_insn)IMEE_LDF(1, 2, 0, 8, -2);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_END, "(LDF)");
		p[1] = (struct imee_insn)IMEE_EMIT(1, 8);
		EXPECT_BAD(p, 1, IMEE_PROG_BAD_END, "(EMIT)");
		p[1] = (struct imee_insn)IMEE_JA(-2);
		EXPECT_INT(imee_prog_verify(p, N(p), NULL), 0);
	}

	/* the first of several bad instructions is named */
	prog[1].flags = 1;
	prog[2].op = 0x77;
	prog[3].op = IMEE_OP_MOV;
	EXPECT_BAD(prog, 1, IMEE_PROG_BAD_FLAGS, "instruction 1");
}

/* ------------------------------------------------------------------ */
/* Registers, arithmetic, jumps                                        */
/* ------------------------------------------------------------------ */

static void registers(void)
{
	static const struct imee_insn prog[] = { IMEE_EXIT() };
	uint64_t args[8] = { 1, 2, 3, 4, 5, 6, 7, UINT64_MAX };
	unsigned int i;

	setup();
	REQUIRE(run_full(4, prog, 1, args, 0, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_INT(res.fault, 0);
	EXPECT_U64(res.fault_addr, 0);
	EXPECT_U64(res.pc, 0);
	EXPECT_U64(res.steps, 1);
	EXPECT_U64(res.out_len, 0);
	for (i = 0; i < 8; i++)
		EXPECT_U64(res.regs[i], args[i]);
	for (i = 8; i < IMEE_PROG_NR_REGS; i++)
		EXPECT_U64(res.regs[i], 0);

	/* no arguments: all zero; and out may be NULL without room */
	{
		IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = root4);

		REQUIRE(imee_prog_run_mem(&mem, &o, prog, 1, NULL, 0, NULL, 0, &res) == 0);
		for (i = 0; i < IMEE_PROG_NR_REGS; i++)
			EXPECT_U64(res.regs[i], 0);
	}

	/* r15 and a register as both operands */
	{
		static const struct imee_insn p[] = { IMEE_MOVK(15, 21), IMEE_ADD(15, 15),
						      IMEE_MOV(9, 15), IMEE_EXIT() };

		REQUIRE(RUN(p) == 0);
		EXPECT_U64(res.regs[15], 42);
		EXPECT_U64(res.regs[9], 42);
	}
}

struct alu_case {
	uint8_t op; /* the register form; op + 1 is the K form */
	uint64_t a, b, want;
};

static void alu(void)
{
	static const struct alu_case cases[] = {
		{ IMEE_OP_MOV, 1, 0xdeadbeefcafef00dULL, 0xdeadbeefcafef00dULL },
		{ IMEE_OP_ADD, 40, 2, 42 },
		{ IMEE_OP_ADD, UINT64_MAX, 2, 1 }, /* wraps */
		{ IMEE_OP_SUB, 50, 8, 42 },
		{ IMEE_OP_SUB, 0, 1, UINT64_MAX }, /* wraps */
		{ IMEE_OP_MUL, 6, 7, 42 },
		{ IMEE_OP_MUL, 0x100000001ULL, 0x100000001ULL, 0x200000001ULL }, /* mod 2^64 */
		{ IMEE_OP_MUL, UINT64_MAX, UINT64_MAX, 1 },
		{ IMEE_OP_AND, 0xff00ff00ff00ff00ULL, 0x0ff00ff00ff00ff0ULL,
		  0x0f000f000f000f00ULL },
		{ IMEE_OP_OR, 0xf0, 0x0f00000000000000ULL, 0x0f000000000000f0ULL },
		{ IMEE_OP_XOR, 0xffff, 0x0ff0, 0xf00f },
		{ IMEE_OP_SHL, 1, 63, 1ULL << 63 },
		{ IMEE_OP_SHL, 3, 64, 3 }, /* counts modulo 64 */
		{ IMEE_OP_SHL, 3, 65, 6 },
		{ IMEE_OP_SHL, 0x8000000000000001ULL, 1, 2 },
		{ IMEE_OP_SHR, 1ULL << 63, 63, 1 }, /* logical */
		{ IMEE_OP_SHR, UINT64_MAX, 60, 15 },
		{ IMEE_OP_SHR, 0x1234, 64, 0x1234 },
		{ IMEE_OP_SHR, 1ULL << 63, 127, 1 },
		{ IMEE_OP_SHR, 0x100, UINT64_MAX, 0 }, /* count 63 */
	};
	unsigned int i;

	setup();
	for (i = 0; i < N(cases); i++) {
		const struct alu_case *c = &cases[i];
		struct imee_insn reg[] = { IMEE_INSN(c->op, 1, 2, 0, 0, 0), IMEE_EXIT() };
		struct imee_insn k[] = { IMEE_INSN(c->op + 1, 1, 0, 0, 0, c->b), IMEE_EXIT() };

		/* r1 = a, r2 = b: the arguments are r0..r7 */
		{
			uint64_t args[8] = { 0, c->a, c->b };

			REQUIRE(run_full(4, reg, N(reg), args, 0, 0) == 0);
			if (!EXPECT_U64(res.regs[1], c->want))
				printf("# case %u (%s)\n", i, imee_prog_op_name(c->op));
			EXPECT_U64(res.regs[2], c->b);
			REQUIRE(run_full(4, k, N(k), args, 0, 0) == 0);
			if (!EXPECT_U64(res.regs[1], c->want))
				printf("# case %u (%s)\n", i, imee_prog_op_name(c->op + 1));
		}
	}
}

struct jump_case {
	uint8_t op; /* the register form; op + 1 is the K form */
	uint64_t a, b;
	bool taken;
};

static void jumps(void)
{
	static const struct jump_case cases[] = {
		{ IMEE_OP_JEQ, 5, 5, true },	       { IMEE_OP_JEQ, 5, 6, false },
		{ IMEE_OP_JNE, 5, 6, true },	       { IMEE_OP_JNE, 5, 5, false },
		{ IMEE_OP_JLT, 1, UINT64_MAX, true }, /* unsigned */
		{ IMEE_OP_JLT, UINT64_MAX, 1, false }, { IMEE_OP_JLT, 5, 5, false },
		{ IMEE_OP_JLE, 5, 5, true },	       { IMEE_OP_JLE, 6, 5, false },
		{ IMEE_OP_JGT, UINT64_MAX, 1, true },  { IMEE_OP_JGT, 5, 5, false },
		{ IMEE_OP_JGE, 5, 5, true },	       { IMEE_OP_JGE, 4, 5, false },
		{ IMEE_OP_JGE, 1ULL << 63, 5, true },
	};
	/* count to 10: 1 + 10 * 2 + 1 steps */
	static const struct imee_insn loop[] = { IMEE_MOVK(1, 0), IMEE_ADDK(1, 1),
						 IMEE_JLTK(1, 10, -2), IMEE_EXIT() };
	static const struct imee_insn ja[] = { IMEE_JA(1), IMEE_EXIT(), IMEE_MOVK(3, 9),
					       IMEE_JA(-3) };
	unsigned int i;

	setup();
	for (i = 0; i < N(cases); i++) {
		const struct jump_case *c = &cases[i];
		/* r3 = 1 on the path that does not jump */
		struct imee_insn reg[] = { IMEE_INSN(c->op, 1, 2, 0, 1, 0), IMEE_MOVK(3, 1),
					   IMEE_EXIT() };
		struct imee_insn k[] = { IMEE_INSN(c->op + 1, 1, 0, 0, 1, c->b), IMEE_MOVK(3, 1),
					 IMEE_EXIT() };
		uint64_t args[8] = { 0, c->a, c->b };

		REQUIRE(run_full(4, reg, N(reg), args, 0, 0) == 0);
		if (!EXPECT_U64(res.regs[3], c->taken ? 0 : 1))
			printf("# case %u (%s)\n", i, imee_prog_op_name(c->op));
		EXPECT_U64(res.pc, 2);
		EXPECT_U64(res.steps, c->taken ? 2 : 3);
		REQUIRE(run_full(4, k, N(k), args, 0, 0) == 0);
		if (!EXPECT_U64(res.regs[3], c->taken ? 0 : 1))
			printf("# case %u (%s)\n", i, imee_prog_op_name(c->op + 1));
	}

	REQUIRE(RUN(loop) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[1], 10);
	EXPECT_U64(res.steps, 22);
	EXPECT_U64(res.pc, 3);

	REQUIRE(RUN(ja) == 0);
	EXPECT_U64(res.regs[3], 9);
	EXPECT_U64(res.steps, 4);
	EXPECT_U64(res.pc, 1);
}

/* ------------------------------------------------------------------ */
/* Loads, copies, emits                                                */
/* ------------------------------------------------------------------ */

static void loads(void)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	unsigned int i;

	setup();
	for (i = 0; i < N(sizes); i++) {
		unsigned int sz = sizes[i];
		/* r0 = address: +0x10, -0x10 + 0x20, across the page, physical */
		struct imee_insn p[] = {
			IMEE_LD(1, 0, 0x10, sz),
			IMEE_LD(2, 0, -0x10, sz),
			IMEE_LD(3, 0, 0xffd - 0x20, sz),
			IMEE_LDP(4, 1 + 4, 0, sz), /* r5 = the physical address */
			IMEE_LDP(6, 5, 0xffe, sz),
			IMEE_EXIT(),
		};
		uint64_t args[8] = { DATA_VA + 0x20, 0, 0, 0, 0, DATA_PA + 0x10 };

		REQUIRE(run_full(4, p, N(p), args, 0, 0) == 0);
		EXPECT_INT(res.status, IMEE_STATUS_OK);
		EXPECT_U64(res.regs[1], want_virt(DATA_VA + 0x30, sz));
		EXPECT_U64(res.regs[2], want_virt(DATA_VA + 0x10, sz));
		EXPECT_U64(res.regs[3], want_virt(DATA_VA + 0xffd, sz));
		EXPECT_U64(res.regs[4], want_phys(DATA_PA + 0x10, sz));
		EXPECT_U64(res.regs[6], want_phys(DATA_PA + 0x100e, sz));
		/* the same on 5-level paging */
		REQUIRE(run_full(5, p, N(p), args, 0, 0) == 0);
		EXPECT_INT(res.status, IMEE_STATUS_OK);
		EXPECT_U64(res.regs[3], want_virt(DATA_VA + 0xffd, sz));
	}
	/* zero extension: a byte with its top bit set */
	for (i = 0; i < 64; i++)
		if (pat(DATA_PA + i) & 0x80)
			break;
	{
		struct imee_insn p[] = { IMEE_MOVK(1, UINT64_MAX), IMEE_LDP(1, 0, 0, 1),
					 IMEE_EXIT() };

		REQUIRE(RUN_ARGS(p, DATA_PA + i, 0) == 0);
		EXPECT_U64(res.regs[1], pat(DATA_PA + i));
	}
}

static void copies_and_emits(void)
{
	/* r0 = virtual, r1 = physical, r2 = lengths, r3 = a value */
	static const struct imee_insn p[] = {
		IMEE_MOVK(3, 0x1122334455667788ULL),
		IMEE_EMIT(3, 1),
		IMEE_EMIT(3, 2),
		IMEE_EMIT(3, 4),
		IMEE_EMIT(3, 8), /* 15 bytes */
		IMEE_MOVK(2, 100),
		IMEE_COPY(2, 0, 0xfc0), /* across the page: 100 bytes */
		IMEE_MOVK(2, 0),
		IMEE_COPY(2, 0, 0x7000), /* nothing, from anywhere */
		IMEE_MOVK(2, 4096),
		IMEE_COPY(2, 0, 0x800), /* the most */
		IMEE_MOVK(2, 33),
		IMEE_COPYP(2, 1, 0xff0), /* across a physical page */
		IMEE_EXIT(),
	};
	static const struct imee_insn too_long[] = { IMEE_MOVK(2, 4097), IMEE_COPY(2, 0, 0),
						     IMEE_EXIT() };
	static const uint8_t emitted[15] = { 0x88, 0x88, 0x77, 0x88, 0x77, 0x66, 0x55, 0x88,
					     0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	size_t at = sizeof(emitted);
	unsigned int i;
	bool same = true;

	setup();
	REQUIRE(RUN_ARGS(p, DATA_VA, DATA_PA) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.out_len, 15 + 100 + 4096 + 33);
	EXPECT(memcmp(out, emitted, sizeof(emitted)) == 0);
	for (i = 0; i < 100; i++)
		same = same && out[at + i] == pat(data_pa(DATA_VA + 0xfc0 + i));
	at += 100;
	for (i = 0; i < 4096; i++)
		same = same && out[at + i] == pat(data_pa(DATA_VA + 0x800 + i));
	at += 4096;
	for (i = 0; i < 33; i++)
		same = same && out[at + i] == pat(DATA_PA + 0xff0 + i);
	at += 33;
	EXPECT(same);
	EXPECT_INT(out[at], 0xee); /* nothing beyond */

	REQUIRE(RUN_ARGS(too_long, DATA_VA, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_BAD_PROGRAM);
	EXPECT_U64(res.pc, 1);
	EXPECT_U64(res.out_len, 0);
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */
/* ------------------------------------------------------------------ */

static void faults(void)
{
	/* r0 = address; a load of size 8 */
	static const struct imee_insn ld[] = { IMEE_MOVK(5, 1), IMEE_LD(1, 0, 0, 8), IMEE_EXIT() };
	static const struct imee_insn ld1[] = { IMEE_MOVK(5, 1), IMEE_LD(1, 0, 0, 1), IMEE_EXIT() };
	static const struct imee_insn ldp[] = { IMEE_MOVK(5, 1), IMEE_LDP(1, 0, 0, 8),
						IMEE_EXIT() };
	static const struct imee_insn copy[] = { IMEE_MOVK(5, 64), IMEE_COPY(5, 0, 0),
						 IMEE_EXIT() };
	static const struct imee_insn copyp[] = { IMEE_MOVK(5, 64), IMEE_COPYP(5, 0, 0),
						  IMEE_EXIT() };

	setup();
	/* not mapped: the address itself, or the first byte of the next page */
	REQUIRE(RUN_ARGS(ld, HOLE_VA + 8, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NOT_MAPPED, HOLE_VA + 8);
	EXPECT_U64(res.steps, 2); /* the faulting instruction counts */
	EXPECT_U64(res.regs[1], 0);
	EXPECT_U64(res.regs[5], 1);
	REQUIRE(RUN_ARGS(ld, HOLE_VA - 3, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NOT_MAPPED, HOLE_VA);
	REQUIRE(RUN_ARGS(copy, HOLE_VA - 40, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NOT_MAPPED, HOLE_VA);
	EXPECT_U64(res.out_len, 0);

	/* non-canonical, 4-level: the lower half ends at 2^47 */
	REQUIRE(RUN_ARGS(ld, 0x0000800000000000ULL, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0x0000800000000000ULL);
	REQUIRE(RUN_ARGS(ld, 0xffff7ffffffffff8ULL, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0xffff7ffffffffff8ULL);
	/* across the end of the lower half: its last page is mapped */
	REQUIRE(RUN_ARGS(ld, LOW_TOP_VA + 0xffc, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0x0000800000000000ULL);
	REQUIRE(RUN_ARGS(ld1, LOW_TOP_VA + 0xfff, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[1], pat(DATA_PA + 0xfff));
	/* wrapping past 2^64: the part at 0 is what cannot be read */
	REQUIRE(RUN_ARGS(ld, TOP_VA + 0xffc, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0);
	REQUIRE(RUN_ARGS(copy, TOP_VA + 0xff0, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0);
	EXPECT_U64(res.out_len, 0);

	/* non-canonical, 5-level: 2^47 is canonical (and not mapped), 2^56 is not */
	{
		uint64_t args[8] = { 0x0000800000000000ULL };

		REQUIRE(run_full(5, ld, N(ld), args, 0, 0) == 0);
		EXPECT_FAULT(1, IMEE_PROG_FAULT_NOT_MAPPED, 0x0000800000000000ULL);
		args[0] = 0x0100000000000000ULL;
		REQUIRE(run_full(5, ld, N(ld), args, 0, 0) == 0);
		EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0x0100000000000000ULL);
		args[0] = 0xfeffffffffffffffULL;
		REQUIRE(run_full(5, ld1, N(ld1), args, 0, 0) == 0);
		EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0xfeffffffffffffffULL);
		args[0] = 0x0100000000000000ULL;
		REQUIRE(run_full(4, ld, N(ld), args, 0, 0) == 0);
		EXPECT_FAULT(1, IMEE_PROG_FAULT_NON_CANONICAL, 0x0100000000000000ULL);
	}

	/* out of RAM: a page mapped outside RAM; physical addresses beyond it */
	REQUIRE(RUN_ARGS(ld, NONRAM_VA + 0x10, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, NONRAM_VA + 0x10);
	REQUIRE(RUN_ARGS(ldp, RAM_SIZE, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, RAM_SIZE);
	REQUIRE(RUN_ARGS(ldp, RAM_SIZE - 4, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, RAM_SIZE);
	REQUIRE(RUN_ARGS(copyp, RAM_SIZE - 32, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, RAM_SIZE);
	EXPECT_U64(res.out_len, 0);
	REQUIRE(RUN_ARGS(ldp, UINT64_MAX - 3, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, UINT64_MAX - 3);
	REQUIRE(RUN_ARGS(ldp, RAM_SIZE - 8, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);

	/* a bad entry: bit 50 of a PTE is reserved with MAXPHYADDR 46 */
	maxphy = 46;
	REQUIRE(RUN_ARGS(ld, BADENT_VA + 0x20, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_BAD_ENTRY, BADENT_VA + 0x20);
	maxphy = 0;
	REQUIRE(RUN_ARGS(ld, BADENT_VA + 0x20, 0) == 0);
	EXPECT_FAULT(1, IMEE_PROG_FAULT_OUT_OF_RAM, BADENT_VA + 0x20);
}

static void fault_variants(void)
{
	/*
	 * r0 = address. The F variant sets r1 to the fault code and jumps
	 * over "r3 = 1"; without a fault r3 = 1.
	 */
	static const struct imee_insn ldf[] = { IMEE_MOVK(1, 77), IMEE_LDF(1, 0, 0, 8, 1),
						IMEE_MOVK(3, 1), IMEE_EXIT() };
	static const struct imee_insn ldpf[] = { IMEE_MOVK(1, 77), IMEE_LDPF(1, 0, 0, 4, 1),
						 IMEE_MOVK(3, 1), IMEE_EXIT() };
	static const struct imee_insn copyf[] = { IMEE_MOVK(1, 77), IMEE_COPYF(1, 0, 0, 1),
						  IMEE_MOVK(3, 1), IMEE_EXIT() };
	static const struct imee_insn copypf[] = { IMEE_MOVK(1, 77), IMEE_COPYPF(1, 0, 0, 1),
						   IMEE_MOVK(3, 1), IMEE_EXIT() };
	/* a fault jump backwards: retry at the next page until it works */
	static const struct imee_insn retry[] = {
		IMEE_LDF(1, 0, 0, 8, 1), IMEE_EXIT(), IMEE_ADDK(0, 4096),
		IMEE_ADDK(4, 1),	 IMEE_JA(-5),
	};

	setup();
	REQUIRE(RUN_ARGS(ldf, HOLE_VA, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_NOT_MAPPED);
	EXPECT_U64(res.regs[3], 0);
	EXPECT_U64(res.pc, 3);
	EXPECT_U64(res.steps, 3);
	EXPECT_INT(res.fault, 0);
	EXPECT_U64(res.fault_addr, 0);
	REQUIRE(RUN_ARGS(ldf, 0x0000900000000000ULL, 0) == 0);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_NON_CANONICAL);
	REQUIRE(RUN_ARGS(ldf, NONRAM_VA, 0) == 0);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_OUT_OF_RAM);
	maxphy = 46;
	REQUIRE(RUN_ARGS(ldf, BADENT_VA, 0) == 0);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_BAD_ENTRY);
	maxphy = 0;
	REQUIRE(RUN_ARGS(ldf, DATA_VA + 0xffc, 0) == 0);
	EXPECT_U64(res.regs[1], want_virt(DATA_VA + 0xffc, 8));
	EXPECT_U64(res.regs[3], 1);

	REQUIRE(RUN_ARGS(ldpf, RAM_SIZE - 2, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_OUT_OF_RAM);
	EXPECT_U64(res.regs[3], 0);
	REQUIRE(RUN_ARGS(ldpf, DATA_PA, 0) == 0);
	EXPECT_U64(res.regs[1], want_phys(DATA_PA, 4));

	REQUIRE(RUN_ARGS(copyf, HOLE_VA - 1, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_NOT_MAPPED);
	EXPECT_U64(res.out_len, 0);
	REQUIRE(RUN_ARGS(copypf, RAM_SIZE - 1, 0) == 0);
	EXPECT_U64(res.regs[1], IMEE_PROG_FAULT_OUT_OF_RAM);
	EXPECT_U64(res.out_len, 0);
	REQUIRE(RUN_ARGS(copypf, DATA_PA, 0) == 0);
	EXPECT_U64(res.regs[3], 1);
	EXPECT_U64(res.out_len, 77);

	/* from the hole up: 8K, 12K, 16K unmapped, 20K and 24K not RAM, 28K is */
	REQUIRE(RUN_ARGS(retry, HOLE_VA, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[4], 5);
	EXPECT_U64(res.regs[0], RETRY_VA);
	EXPECT_U64(res.regs[1], want_phys(DATA_PA, 8));
}

static void copy_rollback(void)
{
	/* emit 8 bytes, then a copy that faults half way: only the 8 remain */
	static const struct imee_insn p[] = {
		IMEE_MOVK(5, 0x1122334455667788ULL),
		IMEE_EMIT(5, 8),
		IMEE_MOVK(1, 64),
		IMEE_COPY(1, 0, 0),
		IMEE_EXIT(),
	};
	/* the same with COPYF: the next emit goes where the copy would have */
	static const struct imee_insn pf[] = {
		IMEE_MOVK(5, 0x1122334455667788ULL),
		IMEE_EMIT(5, 8),
		IMEE_MOVK(1, 64),
		IMEE_COPYF(1, 0, 0, 0),
		IMEE_EMIT(1, 1),
		IMEE_EXIT(),
	};

	setup();
	REQUIRE(RUN_ARGS(p, HOLE_VA - 32, 0) == 0);
	EXPECT_FAULT(3, IMEE_PROG_FAULT_NOT_MAPPED, HOLE_VA);
	EXPECT_U64(res.steps, 4);
	EXPECT_U64(res.out_len, 8);
	EXPECT_U64(out[0], 0x88);
	EXPECT_U64(out[7], 0x11);

	REQUIRE(RUN_ARGS(pf, HOLE_VA - 32, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.out_len, 9);
	EXPECT_U64(out[8], IMEE_PROG_FAULT_NOT_MAPPED);
}

static void output_full(void)
{
	static const struct imee_insn p[] = { IMEE_MOVK(1, 0x0102030405060708ULL), IMEE_EMIT(1, 8),
					      IMEE_EMIT(1, 8), IMEE_EMIT(1, 1), IMEE_EXIT() };
	static const struct imee_insn c[] = { IMEE_MOVK(1, 0x0102030405060708ULL), IMEE_EMIT(1, 8),
					      IMEE_MOVK(2, 9), IMEE_COPY(2, 0, 0), IMEE_EXIT() };
	uint64_t args[8] = { 0 };

	setup();
	/* 16 bytes fit exactly; the third emit does not */
	REQUIRE(run_full(4, p, N(p), args, 0, 16) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OUTPUT_FULL);
	EXPECT_U64(res.out_len, 16);
	EXPECT_U64(res.pc, 3);
	EXPECT_U64(res.steps, 4);
	EXPECT_INT(out[16], 0xee);
	/* 10 bytes: the second emit does not fit and writes nothing */
	REQUIRE(run_full(4, p, N(p), args, 0, 10) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OUTPUT_FULL);
	EXPECT_U64(res.out_len, 8);
	EXPECT_U64(res.pc, 2);
	EXPECT_INT(out[8], 0xee);
	EXPECT_INT(out[9], 0xee);
	/* no room at all */
	REQUIRE(run_full(4, p, N(p), args, 0, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OUTPUT_FULL);
	EXPECT_U64(res.pc, 1);
	/* a copy that does not fit is not even read: room is checked first */
	args[0] = HOLE_VA;
	REQUIRE(run_full(4, c, N(c), args, 0, 16) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OUTPUT_FULL);
	EXPECT_U64(res.pc, 3);
	EXPECT_U64(res.out_len, 8);
	args[0] = DATA_VA;
	REQUIRE(run_full(4, c, N(c), args, 0, 17) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.out_len, 17);
}

static void step_limit(void)
{
	static const struct imee_insn spin[] = { IMEE_JA(-1) };
	static const struct imee_insn loop[] = { IMEE_MOVK(1, 0), IMEE_ADDK(1, 1),
						 IMEE_JLTK(1, 10, -2), IMEE_EXIT() };
	uint64_t args[8] = { 0 };

	setup();
	REQUIRE(run_full(4, spin, 1, args, 1000, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_STEP_LIMIT);
	EXPECT_U64(res.steps, 1000);
	EXPECT_U64(res.pc, 0);
	REQUIRE(run_full(4, spin, 1, args, 1, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_STEP_LIMIT);
	EXPECT_U64(res.steps, 1);

	/* EXIT as the last allowed step is fine; one step less is not */
	REQUIRE(run_full(4, loop, N(loop), args, 22, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.steps, 22);
	REQUIRE(run_full(4, loop, N(loop), args, 21, 0) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_STEP_LIMIT);
	EXPECT_U64(res.steps, 21);
	EXPECT_U64(res.pc, 3);
	EXPECT_U64(res.regs[1], 10);

	/* 0 and anything above 2^32 mean 2^32 */
	EXPECT_U64(imee_prog_max_steps(0), 1ULL << 32);
	EXPECT_U64(imee_prog_max_steps(1ULL << 32), 1ULL << 32);
	EXPECT_U64(imee_prog_max_steps((1ULL << 32) + 1), 1ULL << 32);
	EXPECT_U64(imee_prog_max_steps(UINT64_MAX), 1ULL << 32);
	EXPECT_U64(imee_prog_max_steps(5), 5);
}

/* ------------------------------------------------------------------ */
/* A linked list of 1000 nodes                                         */
/* ------------------------------------------------------------------ */

/* r0 = head, r1 = bound: emit every value; r2 = nodes seen, r3 = 1 if bound hit */
static const struct imee_insn list_walk[] = {
	IMEE_MOVK(2, 0),     IMEE_JEQK(0, 0, 6), /* 1: end of the list -> 8 */
	IMEE_JGE(2, 1, 6), /* 2: the bound -> 9 */
	IMEE_LD(4, 0, 8, 8), /* 3: the value */
	IMEE_EMIT(4, 8), /* 4 */
	IMEE_LD(0, 0, 0, 8), /* 5: next */
	IMEE_ADDK(2, 1), /* 6 */
	IMEE_JA(-7), /* 7: -> 1 */
	IMEE_EXIT(), /* 8 */
	IMEE_MOVK(3, 1), /* 9 */
	IMEE_EXIT(), /* 10 */
};

static bool list_output_ok(unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		unsigned int node = i < LIST_NODES ? i : 500 + (i - LIST_NODES) % 500;
		uint64_t v;

		memcpy(&v, out + 8 * i, 8);
		if (v != node_value(node)) {
			printf("# value %u is 0x%llx\n", i, (unsigned long long)v);
			return false;
		}
	}
	return true;
}

static void linked_list(void)
{
	uint64_t args[8] = { node_va(0), 5000 };

	setup();
	write_list(0);
	REQUIRE(run_full(4, list_walk, N(list_walk), args, 0, sizeof(out)) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[2], LIST_NODES);
	EXPECT_U64(res.regs[3], 0);
	EXPECT_U64(res.out_len, 8 * LIST_NODES);
	EXPECT_U64(res.steps, 1 + 7 * LIST_NODES + 2);
	EXPECT_U64(res.pc, 8);
	EXPECT(list_output_ok(LIST_NODES));
	/* 5-level paging maps it too */
	REQUIRE(run_full(5, list_walk, N(list_walk), args, 0, sizeof(out)) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[2], LIST_NODES);

	/* a cycle: the last node points back to node 500; the bound stops it */
	write_list(node_va(500));
	args[1] = 1500;
	REQUIRE(run_full(4, list_walk, N(list_walk), args, 0, sizeof(out)) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OK);
	EXPECT_U64(res.regs[2], 1500);
	EXPECT_U64(res.regs[3], 1);
	EXPECT_U64(res.out_len, 8 * 1500);
	EXPECT(list_output_ok(1500));
	/* or the step limit does */
	args[1] = UINT64_MAX;
	REQUIRE(run_full(4, list_walk, N(list_walk), args, 20000, sizeof(out)) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_STEP_LIMIT);
	EXPECT_U64(res.steps, 20000);
	/* or the output buffer does */
	REQUIRE(run_full(4, list_walk, N(list_walk), args, 0, 4000) == 0);
	EXPECT_INT(res.status, IMEE_STATUS_OUTPUT_FULL);
	EXPECT_U64(res.out_len, 4000);
	EXPECT_U64(res.pc, 4);
	EXPECT(list_output_ok(500));

	/* a broken link: a node points into the hole */
	write_list(HOLE_VA + 0x100);
	args[1] = 5000;
	REQUIRE(run_full(4, list_walk, N(list_walk), args, 0, sizeof(out)) == 0);
	EXPECT_FAULT(3, IMEE_PROG_FAULT_NOT_MAPPED, HOLE_VA + 0x108);
	EXPECT_U64(res.steps, 1 + 7 * LIST_NODES + 3);
	EXPECT_U64(res.out_len, 8 * LIST_NODES);
}

/* ------------------------------------------------------------------ */
/* The interpreter directly: agent slot, physmap, trapping accesses     */
/* ------------------------------------------------------------------ */

struct direct {
	struct imee_walk_opts opts;
	bool trap; /* a fault longjmps out, as the agent's accesses trap */
	jmp_buf jmp;
	uint32_t trap_fault;
	uint64_t trap_addr;
	unsigned int traps;
};

static struct direct dr;

static uint32_t direct_read(bool phys, uint64_t addr, void *dst, uint32_t len)
{
	uint32_t fault = IMEE_PROG_FAULT_NONE;
	int err;

	if (phys)
		err = fake_ptr(&fm, addr, len) ? mem.ops->read(&fm, addr, dst, len) : -ENXIO;
	else
		err = imee_virt_read(&mem, &dr.opts, addr, dst, len);
	if (err)
		fault = phys ? IMEE_PROG_FAULT_OUT_OF_RAM : (uint32_t)imee_last_error()->fault;
	if (err && !fault)
		abort();
	if (fault && dr.trap) {
		dr.trap_fault = fault;
		dr.trap_addr = addr;
		longjmp(dr.jmp, 1);
	}
	return fault;
}

static u32 d_copy_virt(void *ctx, u64 va, void *dst, u32 len)
{
	(void)ctx;
	return direct_read(false, va, dst, len);
}

static u32 d_copy_phys(void *ctx, u64 pa, void *dst, u32 len)
{
	(void)ctx;
	return direct_read(true, pa, dst, len);
}

static u32 d_load(bool phys, u64 addr, u32 size, u64 *val)
{
	uint8_t b[8];
	uint32_t fault = direct_read(phys, addr, b, size), i;

	if (!fault) {
		*val = 0;
		for (i = 0; i < size; i++)
			*val |= (uint64_t)b[i] << (8 * i);
	}
	return fault;
}

static u32 d_load_virt(void *ctx, u64 va, u32 size, u64 *val)
{
	(void)ctx;
	return d_load(false, va, size, val);
}

static u32 d_load_phys(void *ctx, u64 pa, u32 size, u64 *val)
{
	(void)ctx;
	return d_load(true, pa, size, val);
}

static struct imee_prog_env direct_env(uint64_t out_cap, uint64_t physmap_size)
{
	struct imee_prog_env env = {
		.load_virt = d_load_virt,
		.load_phys = d_load_phys,
		.copy_virt = d_copy_virt,
		.copy_phys = d_copy_phys,
		.out = out,
		.out_cap = out_cap,
		.max_steps = MAX_STEPS,
		.levels = 4,
		.slot_start = SLOT_VA,
		.slot_end = SLOT_VA + SLOT_LEN,
		.physmap_size = physmap_size,
	};

	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = root4);
	dr.opts = o;
	return env;
}

static void state_init(struct imee_prog_state *st, uint64_t a0, uint64_t a1)
{
	memset(st, 0, sizeof(*st));
	st->regs[0] = a0;
	st->regs[1] = a1;
	st->status = IMEE_PROG_RUNNING;
}

/* Run as the agent does: a faulting access traps; enter again after it. */
static void run_trapping(struct imee_prog_state *st, const struct imee_insn *insns, uint32_t nr,
			 const struct imee_prog_env *env)
{
	dr.trap = true;
	if (setjmp(dr.jmp)) {
		dr.traps++;
		imee_prog_apply_fault(st, insns, nr, dr.trap_fault, dr.trap_addr);
	}
	imee_prog_exec(st, insns, nr, env);
	dr.trap = false;
}

static void agent_slot_and_physmap(void)
{
	static const struct imee_insn ld[] = { IMEE_LD(1, 0, 0, 8), IMEE_EXIT() };
	static const struct imee_insn ldp[] = { IMEE_LDP(1, 0, 0, 8), IMEE_EXIT() };
	static const struct imee_insn copyp[] = { IMEE_MOVK(2, 64), IMEE_COPYP(2, 0, 0),
						  IMEE_EXIT() };
	struct imee_prog_env env;
	struct imee_prog_state st;

	setup();
	map_both(SLOT_VA, DATA_PA, PTE_RW); /* mapped, but the agent's */
	map_both(SLOT_VA - SZ_4K, DATA_PA, PTE_RW);
	env = direct_env(sizeof(out), 8ULL << 20);

	state_init(&st, SLOT_VA + 8, 0);
	imee_prog_exec(&st, ld, N(ld), &env);
	EXPECT_INT(st.status, IMEE_STATUS_FAULT);
	EXPECT_INT(st.fault, IMEE_PROG_FAULT_AGENT);
	EXPECT_U64(st.fault_addr, SLOT_VA + 8);
	/* the page below is not: an access across the start faults there */
	state_init(&st, SLOT_VA - 4, 0);
	imee_prog_exec(&st, ld, N(ld), &env);
	EXPECT_INT(st.fault, IMEE_PROG_FAULT_AGENT);
	EXPECT_U64(st.fault_addr, SLOT_VA);
	state_init(&st, SLOT_VA - 8, 0);
	imee_prog_exec(&st, ld, N(ld), &env);
	EXPECT_INT(st.status, IMEE_STATUS_OK);
	EXPECT_U64(st.regs[1], want_phys(DATA_PA + 0xff8, 8));

	/* physical addresses from physmap_size on are not RAM */
	state_init(&st, 8ULL << 20, 0);
	imee_prog_exec(&st, ldp, N(ldp), &env);
	EXPECT_INT(st.status, IMEE_STATUS_FAULT);
	EXPECT_INT(st.fault, IMEE_PROG_FAULT_OUT_OF_RAM);
	EXPECT_U64(st.fault_addr, 8ULL << 20);
	state_init(&st, (8ULL << 20) - 4, 0);
	imee_prog_exec(&st, ldp, N(ldp), &env);
	EXPECT_INT(st.fault, IMEE_PROG_FAULT_OUT_OF_RAM);
	EXPECT_U64(st.fault_addr, 8ULL << 20);
	state_init(&st, (8ULL << 20) - 32, 0);
	imee_prog_exec(&st, copyp, N(copyp), &env);
	EXPECT_INT(st.fault, IMEE_PROG_FAULT_OUT_OF_RAM);
	EXPECT_U64(st.fault_addr, 8ULL << 20);
	EXPECT_U64(st.out_len, 0);
	state_init(&st, (8ULL << 20) - 8, 0);
	imee_prog_exec(&st, ldp, N(ldp), &env);
	EXPECT_INT(st.status, IMEE_STATUS_OK);
}

static void runtime_checks(void)
{
	/* not checked: a jump out of the program, a bad size, a bad opcode */
	static const struct imee_insn out_of_range[] = { IMEE_MOVK(1, 1), IMEE_JA(5) };
	static const struct imee_insn backwards[] = { IMEE_JA(-2), IMEE_EXIT() };
	static const struct imee_insn bad_size[] = { IMEE_LD(1, 0, 0, 3), IMEE_EXIT() };
	static const struct imee_insn bad_emit[] = { IMEE_EMIT(1, 16), IMEE_EXIT() };
	static const struct imee_insn bad_op[] = { IMEE_INSN(0x13, 0, 0, 0, 0, 0), IMEE_EXIT() };
	static const struct imee_insn not_a_load[] = { IMEE_MOVK(1, 1), IMEE_EXIT() };
	static const struct imee_insn ld[] = { IMEE_LD(1, 0, 0, 8), IMEE_EXIT() };
	struct imee_prog_env env;
	struct imee_prog_state st;

	setup();
	env = direct_env(sizeof(out), UINT64_MAX);

	state_init(&st, DATA_VA, 0);
	imee_prog_exec(&st, out_of_range, N(out_of_range), &env);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	EXPECT_U64(st.pc, 7);
	EXPECT_U64(st.steps, 2);
	state_init(&st, DATA_VA, 0);
	imee_prog_exec(&st, backwards, N(backwards), &env);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	EXPECT_U64(st.pc, UINT64_MAX);
	state_init(&st, DATA_VA, 0);
	imee_prog_exec(&st, bad_size, N(bad_size), &env);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	EXPECT_U64(st.pc, 0);
	state_init(&st, DATA_VA, 0);
	imee_prog_exec(&st, bad_emit, N(bad_emit), &env);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	EXPECT_U64(st.out_len, 0);
	state_init(&st, DATA_VA, 0);
	imee_prog_exec(&st, bad_op, N(bad_op), &env);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);

	/* a fault where there is no access, or outside the program */
	state_init(&st, DATA_VA, 0);
	imee_prog_apply_fault(&st, not_a_load, N(not_a_load), IMEE_PROG_FAULT_NOT_MAPPED, 0);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	state_init(&st, DATA_VA, 0);
	st.pc = 2;
	imee_prog_apply_fault(&st, ld, N(ld), IMEE_PROG_FAULT_NOT_MAPPED, 0);
	EXPECT_INT(st.status, IMEE_STATUS_BAD_PROGRAM);
	/* nothing happens to a run that is over */
	state_init(&st, DATA_VA, 0);
	st.status = IMEE_STATUS_OK;
	imee_prog_apply_fault(&st, ld, N(ld), IMEE_PROG_FAULT_NOT_MAPPED, 0);
	imee_prog_exec(&st, ld, N(ld), &env);
	EXPECT_INT(st.status, IMEE_STATUS_OK);
	EXPECT_U64(st.steps, 0);
}

struct trap_case {
	const struct imee_insn *insns;
	uint32_t nr;
	uint64_t a0, a1;
	uint64_t out_cap;
};

static void trapping_agent(void)
{
	static const struct imee_insn ld[] = { IMEE_MOVK(5, 1), IMEE_LD(1, 0, 0, 8), IMEE_EXIT() };
	static const struct imee_insn ldf[] = { IMEE_MOVK(1, 77), IMEE_LDF(1, 0, 0, 8, 1),
						IMEE_MOVK(3, 1), IMEE_EXIT() };
	static const struct imee_insn retry[] = {
		IMEE_LDF(1, 0, 0, 8, 1), IMEE_EXIT(), IMEE_ADDK(0, 4096),
		IMEE_ADDK(4, 1),	 IMEE_JA(-5),
	};
	static const struct imee_insn copy[] = {
		IMEE_MOVK(5, 0x1122334455667788ULL),
		IMEE_EMIT(5, 8),
		IMEE_MOVK(1, 64),
		IMEE_COPYF(1, 0, 0, 0),
		IMEE_EMIT(1, 1),
		IMEE_MOVK(1, 64),
		IMEE_COPY(1, 0, 0),
		IMEE_EXIT(),
	};
	static const struct imee_insn copyp[] = { IMEE_MOVK(2, 64), IMEE_COPYPF(2, 0, 0, 0),
						  IMEE_EMIT(2, 8), IMEE_EXIT() };
	const struct trap_case cases[] = {
		{ ld, N(ld), HOLE_VA - 3, 0, sizeof(out) },
		{ ld, N(ld), NONRAM_VA, 0, sizeof(out) },
		{ ld, N(ld), DATA_VA + 0xffa, 0, sizeof(out) },
		{ ldf, N(ldf), HOLE_VA, 0, sizeof(out) },
		{ retry, N(retry), HOLE_VA, 0, sizeof(out) },
		{ copy, N(copy), HOLE_VA - 32, 0, sizeof(out) },
		{ copy, N(copy), HOLE_VA - 32, 0, 12 },
		{ copyp, N(copyp), RAM_SIZE - 4, 0, sizeof(out) },
		{ list_walk, N(list_walk), node_va(0), 5000, sizeof(out) },
	};
	static uint8_t ref_out[sizeof(out)];
	struct imee_prog_state ref, st;
	struct imee_prog_env env;
	unsigned int i, traps = 0;

	setup();
	write_list(HOLE_VA + 0x40); /* the walk ends with a fault */
	for (i = 0; i < N(cases); i++) {
		const struct trap_case *c = &cases[i];

		env = direct_env(c->out_cap, RAM_SIZE);
		memset(out, 0xee, sizeof(out));
		state_init(&ref, c->a0, c->a1);
		imee_prog_exec(&ref, c->insns, c->nr, &env);
		memcpy(ref_out, out, sizeof(out));

		memset(out, 0xee, sizeof(out));
		dr.traps = 0;
		state_init(&st, c->a0, c->a1);
		run_trapping(&st, c->insns, c->nr, &env);
		traps += dr.traps;
		if (!EXPECT(memcmp(&st, &ref, sizeof(st)) == 0) ||
		    !EXPECT(memcmp(out, ref_out, ref.out_len) == 0))
			printf("# case %u: status %u/%u pc %llu/%llu\n", i, st.status, ref.status,
			       (unsigned long long)st.pc, (unsigned long long)ref.pc);
	}
	EXPECT(traps >= 8);
}

/* ------------------------------------------------------------------ */
/* libimee's side                                                      */
/* ------------------------------------------------------------------ */

static void run_errors(void)
{
	static const struct imee_insn ld[] = { IMEE_LD(1, 0, 0, 8), IMEE_EXIT() };
	static const struct imee_insn bad[] = { IMEE_LD(1, 0, 0, 8), IMEE_MOVK(1, 0) };
	uint64_t args[8] = { DATA_VA };
	uint8_t buf[8];

	setup();
	{
		IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_PAE, .cr3 = root4);

		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, buf, 8, &res),
			   -EOPNOTSUPP);
		o.paging = IMEE_PAGING_4LEVEL;
		EXPECT_INT(imee_prog_run_mem(NULL, &o, ld, N(ld), args, 0, buf, 8, &res), -EINVAL);
		EXPECT_INT(imee_prog_run_mem(&mem, NULL, ld, N(ld), args, 0, buf, 8, &res),
			   -EINVAL);
		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, NULL, 8, &res), -EINVAL);
		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, buf, 8, NULL), -EINVAL);
		EXPECT_INT(imee_prog_run_mem(&mem, &o, bad, N(bad), args, 0, buf, 8, &res),
			   -EINVAL);
		EXPECT_HAS(imee_errmsg(), "instruction 1 (MOVK)");
		/* bad walk options are the walker's error */
		o.flags = 0x80;
		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, buf, 8, &res), -EINVAL);
		o.flags = 0;
		/* a read that fails for another reason than "not RAM" aborts the run */
		fm.fail_err = -ESRCH;
		memset(&res, 0xa5, sizeof(res));
		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, buf, 8, &res), -ESRCH);
		EXPECT_U64(res.pc, 0xa5a5a5a5a5a5a5a5ULL); /* not written */
		fm.fail_err = 0;
		EXPECT_INT(imee_prog_run_mem(&mem, &o, ld, N(ld), args, 0, buf, 8, &res), 0);
		EXPECT_U64(res.regs[1], want_virt(DATA_VA, 8));
	}
}

static void names(void)
{
	EXPECT_STR(imee_prog_op_name(IMEE_OP_EXIT), "EXIT");
	EXPECT_STR(imee_prog_op_name(IMEE_OP_LDPF), "LDPF");
	EXPECT_STR(imee_prog_op_name(IMEE_OP_EMIT), "EMIT");
	EXPECT_STR(imee_prog_op_name(0x13), "?");
	EXPECT_STR(imee_prog_op_name(1000), "?");
	EXPECT_STR(imee_prog_status_name(IMEE_STATUS_OK), "ok");
	EXPECT_STR(imee_prog_status_name(IMEE_STATUS_STEP_LIMIT), "step-limit");
	EXPECT_STR(imee_prog_status_name(IMEE_STATUS_BAD_PROGRAM), "bad-program");
	EXPECT_STR(imee_prog_status_name(99), "unknown");
	EXPECT_STR(imee_prog_fault_name(IMEE_PROG_FAULT_NOT_MAPPED), "not-mapped");
	EXPECT_STR(imee_prog_fault_name(IMEE_PROG_FAULT_OUT_OF_RAM), "out-of-ram");
	EXPECT_STR(imee_prog_fault_name(IMEE_PROG_FAULT_AGENT), "agent");
	EXPECT_STR(imee_prog_fault_name(6), "unknown");
}

int main(void)
{
	tap_run(verify_accepts, "verifier accepts every opcode, edge jumps, 65536 instructions");
	tap_run(verify_rejects, "verifier rejects each rule, naming the first bad instruction");
	tap_run(registers, "arguments in r0..r7, r8..r15 zero, registers reported");
	tap_run(alu, "arithmetic, wraparound, shifts modulo 64, register and K forms");
	tap_run(jumps, "conditional jumps (unsigned), JA, loops");
	tap_run(loads, "loads of every size, displacements, across pages, physical");
	tap_run(copies_and_emits, "emits, copies across pages, 0 and 4096 bytes, 4097 is bad");
	tap_run(faults, "faults: not mapped, non-canonical (4-, 5-level), out of RAM, bad entry");
	tap_run(fault_variants, "F variants set dst to the fault code and jump");
	tap_run(copy_rollback, "a faulting copy emits nothing");
	tap_run(output_full, "a full output stops the program and writes nothing of the insn");
	tap_run(step_limit, "the step limit");
	tap_run(linked_list, "1000-node linked list, with a cycle bounded three ways");
	tap_run(agent_slot_and_physmap, "the agent's slot and the physmap's size fault");
	tap_run(runtime_checks, "runtime checks of unchecked programs");
	tap_run(trapping_agent, "trapping accesses re-entered end as returned faults do");
	tap_run(run_errors, "imee_prog_run_mem() errors");
	tap_run(names, "op, status and fault names");
	fake_free(&fm);
	return tap_done();
}
