// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the agent-program checker and interpreter that
 * imee.ko, the agent and libimee share (module/common/), over a fixed fake
 * guest whose page tables map, leave unmapped and point outside RAM (see
 * fuzz_prog.h for the input and the guest).
 *
 * The checker: it never crashes; it accepts exactly the programs that keep
 * the rules of <linux/imee.h> (checked against a model written from them),
 * and a program it rejects is rejected at the first instruction that breaks
 * one, an index below nr, for a reason that instruction does break. The
 * interpreter runs the rejected programs too (imee_prog_exec() promises to
 * stop with IMEE_STATUS_BAD_PROGRAM at whatever the check would have
 * refused, and runs as the agent does, below): a valid result, and the same
 * whether faults return or trap.
 *
 * An accepted program runs:
 *  - in libimee (imee_prog_run_mem(), the software page walker), twice:
 *    the same result both times, and a valid one: a known status, pc inside
 *    the program at an instruction that can end a run that way, steps at
 *    most max_steps (exactly, at the step limit), out_len at most out_cap,
 *    a fault's address inside the access (or its page boundaries, or 0 for
 *    a wrap) and the kind of fault that address has. The output buffer is
 *    exactly out_cap bytes (ASan sees any write beyond it; with
 *    FP_F_NULL_OUT and out_cap 0 there is none, as the API allows), and the
 *    guest's RAM is read-only (any write to it would crash).
 *  - through imee_prog_exec() directly, with callbacks that check what the
 *    interpreter promises them (sizes, one page per chunk, canonical
 *    addresses outside the agent slot, below physmap_size, the output
 *    range), as an engine that returns faults: without an agent slot it
 *    gives libimee's result exactly;
 *  - as an agent whose callbacks trap (longjmp) on a fault and re-enter with
 *    imee_prog_apply_fault() and imee_prog_exec(): the same result again;
 *  - imee_prog_apply_fault() at the instruction where the run stopped, with
 *    any fault code: what the F variants, the other accesses and anything
 *    else do with a fault, and nothing for a run that is over;
 *  - with FP_F_ABORT, once more in each with the Nth read failing: libimee
 *    returns that error, or, when the run never got that far, the same
 *    result; the direct engine ends IMEE_PROG_ABORTED at an access.
 *
 * Seeds: corpus/prog/gen-* from fuzz_seeds.c (a list walk, copies across
 * pages and in physical memory, a loop to the step limit, the F variants'
 * faults, a full output, an agent slot, an abort, rejected programs).
 */
#include <errno.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "fuzz.h"
#include "fuzz_prog.h"
#include "imee_prog.h"

#define PAGE 4096ULL

/* ------------------------------------------------------------------ */
/* The guest                                                           */

static struct fake_mem fm;
static struct imee_mem guest;
static uint64_t root4, root5;

static void *ram_alloc(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	FUZZ_CHECK(p != MAP_FAILED);
	return p;
}

static void fill_pattern(uint64_t pa, uint64_t size)
{
	uint8_t *p = fake_ptr(&fm, pa, size);
	uint64_t i;

	for (i = 0; i < size; i++)
		p[i] = fp_pattern(pa + i);
}

static void map_all(uint64_t root, unsigned int levels)
{
	uint64_t i;

	fake_map(&fm, root, levels, FP_DATA_VA, 0x300000, SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, FP_DATA_VA + PAGE, 0x301000, SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, FP_DATA_VA + 2 * PAGE, FP_RAM_END - PAGE, SZ_4K, PTE_RW);
	/* page 3 unmapped */
	fake_map(&fm, root, levels, FP_DATA_VA + 4 * PAGE, 0x500000, SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, FP_DATA_VA + 5 * PAGE, 0x301000 | (1ULL << (FP_MAXPHYADDR + 2)),
		 SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, FP_DATA_VA + 6 * PAGE, 0x301000, SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, FP_2M_VA, 0x200000, SZ_2M, PTE_RW);
	fake_map(&fm, root, levels, FP_1G_VA, 0, SZ_1G, PTE_RW);
	for (i = 0; i < FP_LIST_PAGES; i++)
		fake_map(&fm, root, levels, FP_LIST_VA + i * PAGE,
			 FP_LIST_PA + (FP_LIST_PAGES - 1 - i) * PAGE, SZ_4K, PTE_RW | PTE_XD);
	fake_map(&fm, root, levels, FP_LOW_TOP_VA, 0x302000, SZ_4K, PTE_RW | PTE_US);
	if (levels == 5) {
		fake_map(&fm, root, levels, FP_LOW_TOP5_VA, 0x303000, SZ_4K, PTE_RW | PTE_US);
		fake_map(&fm, root, levels, FP_LA57_VA, 0x304000, SZ_4K, PTE_RW);
	}
	fake_map(&fm, root, levels, FP_TOP_VA, 0x305000, SZ_4K, PTE_RW);
	fake_map(&fm, root, levels, 0, 0x306000, SZ_4K, PTE_RW | PTE_US);
}

/* The list's page that holds virtual page i (map_all() reverses them). */
static uint64_t list_pa(uint64_t va)
{
	uint64_t page = (va - FP_LIST_VA) / PAGE;

	return FP_LIST_PA + (FP_LIST_PAGES - 1 - page) * PAGE + (va & (PAGE - 1));
}

static void guest_init(void)
{
	unsigned int i;

	fake_init_empty(&fm);
	fake_add_ram_at(&fm, 0, FP_RAM0_SIZE, ram_alloc(FP_RAM0_SIZE));
	fake_add_ram_at(&fm, FP_RAM1_PA, FP_RAM1_SIZE, ram_alloc(FP_RAM1_SIZE));
	fill_pattern(0, FP_RAM0_SIZE);
	fill_pattern(FP_RAM1_PA, FP_RAM1_SIZE);
	root4 = fake_table(&fm, 1);
	root5 = fake_table(&fm, 1);
	map_all(root4, 4);
	map_all(root5, 5);
	for (i = 0; i < FP_LIST_NODES; i++) {
		uint64_t va = fp_list_node_va(i);

		fake_set(&fm, list_pa(va), fp_list_node_va((i + 1) % FP_LIST_NODES));
		fake_set(&fm, list_pa(va) + 8, i * 3 + 1);
	}
	/* Nothing may write to the guest from here on. */
	FUZZ_CHECK(!mprotect(fake_ptr(&fm, 0, FP_RAM0_SIZE), FP_RAM0_SIZE, PROT_READ));
	FUZZ_CHECK(!mprotect(fake_ptr(&fm, FP_RAM1_PA, FP_RAM1_SIZE), FP_RAM1_SIZE, PROT_READ));
	guest = fake_mem(&fm);
}

/* ------------------------------------------------------------------ */
/* The input                                                           */

struct input {
	unsigned int flags;
	unsigned int levels;
	unsigned long abort_at;
	uint32_t fault; /* for imee_prog_apply_fault() */
	uint64_t max_steps;
	size_t out_cap;
	uint64_t slot_start, slot_end;
	uint64_t physmap_size;
	uint64_t args[8];
	struct imee_insn *insns;
	uint32_t nr;
	struct imee_walk_opts opts;
};

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void parse(const uint8_t *data, size_t size, struct input *in)
{
	unsigned int i;

	memset(in, 0, sizeof(*in));
	in->flags = data[FP_OFF_FLAGS];
	in->levels = (in->flags & FP_F_5LEVEL) ? 5 : 4;
	in->abort_at = data[FP_OFF_ABORT] ? data[FP_OFF_ABORT] : 1;
	in->fault = data[FP_OFF_FAULT];
	in->max_steps = 1 + get_le(data + FP_OFF_STEPS, 4) %
				    (in->flags & FP_F_LONG ? FP_MAX_STEPS : FP_SHORT_STEPS);
	in->out_cap = get_le(data + FP_OFF_OUT_CAP, 4) % (FP_OUT_MAX + 1);
	in->physmap_size = UINT64_MAX;
	if (in->flags & FP_F_AGENT) {
		in->physmap_size = get_le(data + FP_OFF_PHYSMAP, 8);
		switch (data[FP_OFF_SLOT] % FP_SLOT_NR) {
		case FP_SLOT_DATA:
			in->slot_start = FP_DATA_VA + PAGE;
			in->slot_end = FP_DATA_VA + 2 * PAGE;
			break;
		case FP_SLOT_LINUX:
			in->slot_start = in->levels == 5 ? FP_SLOT_LINUX5_VA : FP_SLOT_LINUX4_VA;
			in->slot_end = in->slot_start + (in->levels == 5 ? 1ULL << 48 : 1ULL << 39);
			break;
		case FP_SLOT_ZERO:
			in->slot_start = 0;
			in->slot_end = PAGE;
			break;
		}
	}
	for (i = 0; i < 8; i++)
		in->args[i] = get_le(data + FP_OFF_REGS + 8 * i, 8);
	in->nr = (uint32_t)((size - FP_HDR) / sizeof(struct imee_insn));
	/* Exactly nr instructions: ASan sees a read past the end. */
	in->insns = malloc(in->nr ? in->nr * sizeof(struct imee_insn) : 1);
	FUZZ_CHECK(in->insns);
	memcpy(in->insns, data + FP_HDR, in->nr * sizeof(struct imee_insn));
	in->opts.sz = sizeof(in->opts);
	in->opts.paging = in->levels == 5 ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL;
	in->opts.cr3 = in->levels == 5 ? root5 : root4;
	in->opts.maxphyaddr = FP_MAXPHYADDR;
}

/* ------------------------------------------------------------------ */
/* The checker, against the rules                                      */

static int is_jump(uint8_t op)
{
	return op >= IMEE_OP_JA && op <= IMEE_OP_JGEK;
}

static int is_fjump(uint8_t op)
{
	return op == IMEE_OP_LDF || op == IMEE_OP_LDPF || op == IMEE_OP_COPYF ||
	       op == IMEE_OP_COPYPF;
}

static int is_sized(uint8_t op)
{
	return (op >= IMEE_OP_LD && op <= IMEE_OP_LDPF) || op == IMEE_OP_EMIT;
}

static int is_copy(uint8_t op)
{
	return op >= IMEE_OP_COPY && op <= IMEE_OP_COPYPF;
}

static int is_access(uint8_t op)
{
	return op >= IMEE_OP_LD && op <= IMEE_OP_COPYPF;
}

static int inside(uint32_t pc, uint32_t nr, int64_t rel)
{
	__int128 target = (__int128)pc + 1 + rel;

	return target >= 0 && target < nr;
}

/* The rules insn at pc breaks: a bit per IMEE_PROG_BAD_*. */
static unsigned int broken_rules(const struct imee_insn *insn, uint32_t pc, uint32_t nr)
{
	unsigned int bad = 0;
	uint8_t op = insn->op;

	if (!strcmp(imee_prog_op_name(op), "?"))
		return 1U << IMEE_PROG_BAD_OP; /* nothing else is defined for it */
	if (insn->flags)
		bad |= 1U << IMEE_PROG_BAD_FLAGS;
	if (is_sized(op)
		    ? (insn->size != 1 && insn->size != 2 && insn->size != 4 && insn->size != 8)
		    : insn->size != 0)
		bad |= 1U << IMEE_PROG_BAD_SIZE;
	if (is_jump(op) && !inside(pc, nr, insn->off))
		bad |= 1U << IMEE_PROG_BAD_JUMP;
	if (is_fjump(op) && !inside(pc, nr, (int64_t)insn->imm))
		bad |= 1U << IMEE_PROG_BAD_FAULT_JUMP;
	if (pc == nr - 1 && op != IMEE_OP_EXIT && op != IMEE_OP_JA)
		bad |= 1U << IMEE_PROG_BAD_END;
	return bad;
}

/* Returns whether the program was accepted. */
static int check_checker(const struct input *in)
{
	enum imee_prog_bad why;
	uint32_t bad32 = ~0U, want_bad = in->nr, pc;
	size_t bad = ~(size_t)0;
	unsigned int rules = 0;
	int ret;

	for (pc = 0; pc < in->nr && want_bad == in->nr; pc++) {
		rules = broken_rules(&in->insns[pc], pc, in->nr);
		if (rules)
			want_bad = pc;
	}
	why = imee_prog_check_why(in->insns, in->nr, &bad32);
	FUZZ_CHECK(imee_prog_bad_str(why) != NULL);
	ret = imee_prog_verify(in->insns, in->nr, &bad);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK((ret == 0) == (why == IMEE_PROG_GOOD));
	FUZZ_CHECK(ret == imee_prog_check(in->insns, in->nr, &bad32));
	if (in->nr == 0 || in->nr > IMEE_PROG_MAX_INSNS) {
		FUZZ_CHECK(why == IMEE_PROG_BAD_NR);
		return 0;
	}
	FUZZ_SAY("check: %s (insn %u)\n", imee_prog_bad_str(why), why ? bad32 : 0);
	if (want_bad == in->nr) {
		FUZZ_CHECK(why == IMEE_PROG_GOOD);
		return 1;
	}
	FUZZ_CHECK(why != IMEE_PROG_GOOD && why != IMEE_PROG_BAD_NR);
	FUZZ_CHECK(bad32 < in->nr && bad == bad32);
	FUZZ_CHECK(bad32 == want_bad);
	FUZZ_CHECK(rules & (1U << why));
	return 0;
}

/* Programs of a wrong length, which the checker must refuse unread. */
static void check_bad_nr(const struct input *in)
{
	size_t bad = 1;
	uint32_t bad32 = 1;

	FUZZ_CHECK(imee_prog_check_why(in->insns, 0, &bad32) == IMEE_PROG_BAD_NR && bad32 == 0);
	FUZZ_CHECK(imee_prog_check_why(in->insns, IMEE_PROG_MAX_INSNS + 1, &bad32) ==
			   IMEE_PROG_BAD_NR &&
		   bad32 == IMEE_PROG_MAX_INSNS);
	FUZZ_CHECK(imee_prog_verify(in->insns, 0, &bad) == -EINVAL && bad == 0);
	FUZZ_CHECK(imee_prog_verify(in->insns, SIZE_MAX, &bad) == -EINVAL);
}

/* ------------------------------------------------------------------ */
/* A run's result                                                      */

struct outcome {
	int err; /* libimee's return, or 1 for IMEE_PROG_ABORTED */
	struct imee_prog_result res;
	uint8_t *out;
};

static void outcome_free(struct outcome *o)
{
	free(o->out);
	o->out = NULL;
}

static int canonical(uint64_t va, unsigned int levels)
{
	unsigned int unused = levels == 5 ? 7 : 16;

	return (uint64_t)((int64_t)(va << unused) >> unused) == va;
}

/* The fault at fault_addr of the access [addr, addr + len): does it hold? */
static void check_fault(const struct input *in, int agent, int phys, uint64_t addr, uint64_t len,
			uint32_t fault, uint64_t fault_addr)
{
	uint64_t d = fault_addr - addr; /* modulo 2^64 */
	int wrapped = fault_addr == 0 && d != 0;
	uint64_t n; /* the chunk that faulted: [fault_addr, fault_addr + n) */
	struct imee_walk w;

	FUZZ_CHECK(d < len && (d == 0 || !(fault_addr & (PAGE - 1))));
	n = len - d;
	if (n > PAGE - (fault_addr & (PAGE - 1)))
		n = PAGE - (fault_addr & (PAGE - 1));
	if (phys) {
		FUZZ_CHECK(fault == IMEE_PROG_FAULT_OUT_OF_RAM);
		FUZZ_CHECK(wrapped || !fake_ptr(&fm, fault_addr, n) ||
			   (agent && fault_addr + n - 1 >= in->physmap_size));
		return;
	}
	if (fault == IMEE_PROG_FAULT_NON_CANONICAL) {
		FUZZ_CHECK(wrapped || !canonical(fault_addr, in->levels));
		return;
	}
	FUZZ_CHECK(canonical(fault_addr, in->levels));
	if (fault == IMEE_PROG_FAULT_AGENT) {
		FUZZ_CHECK(agent);
		FUZZ_CHECK(fault_addr < in->slot_end && fault_addr + n - 1 >= in->slot_start);
		return;
	}
	FUZZ_CHECK(fault == IMEE_PROG_FAULT_NOT_MAPPED || fault == IMEE_PROG_FAULT_BAD_ENTRY ||
		   fault == IMEE_PROG_FAULT_OUT_OF_RAM);
	FUZZ_CHECK(imee_walk(&guest, &in->opts, fault_addr, &w) == 0);
	FUZZ_CHECK((uint32_t)w.fault == fault);
}

/*
 * A run ended (not aborted): is the result one the program can have? An
 * unchecked program (one the checker rejected) may also end
 * IMEE_STATUS_BAD_PROGRAM outside the program or at a bad instruction.
 */
static void check_result(const struct input *in, int agent, int checked,
			 const struct imee_prog_result *r)
{
	const struct imee_insn *insn;
	uint64_t addr, len;

	FUZZ_SAY("run: %s fault %s at 0x%llx, pc %llu, %llu steps, %llu bytes out\n",
		 imee_prog_status_name(r->status), imee_prog_fault_name(r->fault),
		 (unsigned long long)r->fault_addr, (unsigned long long)r->pc,
		 (unsigned long long)r->steps, (unsigned long long)r->out_len);
	FUZZ_CHECK(r->steps >= 1 && r->steps <= in->max_steps);
	FUZZ_CHECK(r->out_len <= in->out_cap);
	if (r->status != IMEE_STATUS_FAULT)
		FUZZ_CHECK(r->fault == 0 && r->fault_addr == 0);
	if (!checked && r->status == IMEE_STATUS_BAD_PROGRAM && r->pc >= in->nr)
		return;
	FUZZ_CHECK(r->pc < in->nr);
	insn = &in->insns[r->pc];
	addr = r->regs[IMEE_INSN_SRC(insn)] + (uint64_t)(int64_t)insn->off;
	len = is_copy(insn->op) ? r->regs[IMEE_INSN_DST(insn)] : insn->size;
	switch (r->status) {
	case IMEE_STATUS_OK:
		FUZZ_CHECK(insn->op == IMEE_OP_EXIT);
		break;
	case IMEE_STATUS_STEP_LIMIT:
		FUZZ_CHECK(r->steps == in->max_steps);
		break;
	case IMEE_STATUS_FAULT:
		FUZZ_CHECK(is_access(insn->op) && !is_fjump(insn->op));
		FUZZ_CHECK(len <= IMEE_PROG_MAX_COPY);
		check_fault(in, agent, insn->op == IMEE_OP_LDP || insn->op == IMEE_OP_COPYP, addr,
			    len, r->fault, r->fault_addr);
		break;
	case IMEE_STATUS_OUTPUT_FULL:
		FUZZ_CHECK(insn->op == IMEE_OP_EMIT || is_copy(insn->op));
		FUZZ_CHECK(len <= IMEE_PROG_MAX_COPY);
		FUZZ_CHECK(len > in->out_cap - r->out_len);
		break;
	case IMEE_STATUS_BAD_PROGRAM:
		/* the one check a checked program can fail at run time */
		if (is_copy(insn->op) && len > IMEE_PROG_MAX_COPY)
			break;
		FUZZ_CHECK(!checked);
		FUZZ_CHECK(!strcmp(imee_prog_op_name(insn->op), "?") ||
			   (is_sized(insn->op) && (broken_rules(insn, (uint32_t)r->pc, in->nr) &
						   (1U << IMEE_PROG_BAD_SIZE))));
		break;
	default:
		FUZZ_CHECK(!"a known status");
	}
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
	FUZZ_CHECK(a->err == b->err);
	if (a->err)
		return;
	FUZZ_CHECK(a->res.status == b->res.status);
	FUZZ_CHECK(a->res.fault == b->res.fault);
	FUZZ_CHECK(a->res.fault_addr == b->res.fault_addr);
	FUZZ_CHECK(a->res.pc == b->res.pc);
	FUZZ_CHECK(a->res.steps == b->res.steps);
	FUZZ_CHECK(a->res.out_len == b->res.out_len);
	FUZZ_CHECK(!memcmp(a->res.regs, b->res.regs, sizeof(a->res.regs)));
	FUZZ_CHECK(!a->res.out_len || !memcmp(a->out, b->out, a->res.out_len));
}

/* An output buffer of exactly out_cap bytes (none with FP_F_NULL_OUT). */
static uint8_t *out_alloc(const struct input *in, int may_be_null)
{
	uint8_t *out;

	if (!in->out_cap && may_be_null && (in->flags & FP_F_NULL_OUT))
		return NULL;
	out = malloc(in->out_cap ? in->out_cap : 1);
	FUZZ_CHECK(out);
	return out;
}

/* ------------------------------------------------------------------ */
/* libimee                                                             */

/* The guest, with the abort_at-th read failing with -EIO. */
struct failing {
	const struct input *in;
	unsigned long reads;
};

static int failing_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct failing *f = ctx;

	if (++f->reads == f->in->abort_at)
		return -EIO;
	return guest.ops->read(guest.ctx, gpa, buf, len);
}

static int failing_read_u64(void *ctx, uint64_t gpa, uint64_t *val)
{
	struct failing *f = ctx;

	if (++f->reads == f->in->abort_at)
		return -EIO;
	return guest.ops->read_u64(guest.ctx, gpa, val);
}

static bool failing_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return guest.ops->is_ram(guest.ctx, gpa, len);
}

static const struct imee_mem_ops failing_ops = {
	.read = failing_read,
	.read_u64 = failing_read_u64,
	.is_ram = failing_is_ram,
};

static void run_lib(const struct input *in, const struct imee_mem *mem, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->out = out_alloc(in, 1);
	o->err = imee_prog_run_mem(mem, &in->opts, in->insns, in->nr, in->args, in->max_steps,
				   o->out, in->out_cap, &o->res);
}

/* ------------------------------------------------------------------ */
/* The interpreter itself, with callbacks that check what it promises  */

struct direct {
	const struct input *in;
	const struct imee_prog_env *env;
	struct imee_prog_state *st;
	unsigned long calls;
	unsigned long abort_at; /* 0: never */
	int trap; /* faults longjmp to jb instead of returning */
	jmp_buf jb;
	uint32_t trap_fault;
	uint64_t trap_addr;
	uint64_t acc_steps; /* the access under way: st->steps at it */
	uint64_t acc_next; /* where its next chunk must start */
};

static void check_chunk(struct direct *d, int phys, uint64_t addr, uint32_t len)
{
	const struct imee_prog_env *env = d->env;

	FUZZ_CHECK(len >= 1 && len <= PAGE);
	FUZZ_CHECK((addr & (PAGE - 1)) + len <= PAGE);
	if (phys) {
		FUZZ_CHECK(addr < env->physmap_size && addr + len - 1 < env->physmap_size);
		return;
	}
	FUZZ_CHECK(canonical(addr, d->in->levels));
	FUZZ_CHECK(addr + len - 1 < env->slot_start || addr >= env->slot_end);
}

/* A fault: returned, or trapped (the access never returns). */
static uint32_t direct_fault(struct direct *d, uint32_t fault, uint64_t addr)
{
	if (fault != IMEE_PROG_FAULT_NONE && d->trap) {
		d->trap_fault = fault;
		d->trap_addr = addr;
		longjmp(d->jb, 1);
	}
	return fault;
}

static uint32_t direct_read(struct direct *d, int phys, uint64_t addr, void *dst, uint32_t len)
{
	struct imee_walk w;
	uint64_t pa = addr;
	int err;

	check_chunk(d, phys, addr, len);
	if (d->abort_at && ++d->calls == d->abort_at)
		return IMEE_PROG_FAULT_ABORT;
	if (!phys) {
		FUZZ_CHECK(imee_walk(&guest, &d->in->opts, addr, &w) == 0);
		if (w.fault != IMEE_FAULT_NONE)
			return direct_fault(d, (uint32_t)w.fault, addr);
		pa = w.pa;
	}
	err = guest.ops->read(guest.ctx, pa, dst, len);
	FUZZ_CHECK(err == 0 || err == -ENXIO);
	return direct_fault(d, err ? IMEE_PROG_FAULT_OUT_OF_RAM : IMEE_PROG_FAULT_NONE, addr);
}

/*
 * A callback for [addr, addr + len), the whole access of a load (whole), or
 * a page chunk of a copy or of a load across pages (into dst): it belongs
 * to the instruction at pc, which reads this space, and the chunks of one
 * access come lowest first, without a gap or a wrap past 2^64; a copy's go
 * to the output, in order, after what is already there.
 */
static void check_access(struct direct *d, int phys, uint64_t addr, uint32_t len, int whole,
			 const uint8_t *dst)
{
	const struct imee_prog_state *st = d->st;
	const struct imee_insn *insn;
	uint64_t start, total, done;
	uint8_t op;

	FUZZ_CHECK(st->pc < d->in->nr);
	insn = &d->in->insns[st->pc];
	op = insn->op;
	FUZZ_CHECK(is_access(op));
	FUZZ_CHECK(phys == (op == IMEE_OP_LDP || op == IMEE_OP_LDPF || op == IMEE_OP_COPYP ||
			    op == IMEE_OP_COPYPF));
	start = st->regs[IMEE_INSN_SRC(insn)] + (uint64_t)(int64_t)insn->off;
	total = is_copy(op) ? st->regs[IMEE_INSN_DST(insn)] : insn->size;
	if (st->steps != d->acc_steps) {
		d->acc_steps = st->steps;
		d->acc_next = start;
	}
	FUZZ_CHECK(addr == d->acc_next && (addr != 0 || addr == start));
	done = addr - start;
	FUZZ_CHECK(done < total && len <= total - done);
	d->acc_next = addr + len;
	if (whole)
		FUZZ_CHECK(!is_copy(op) && addr == start && len == total);
	else if (is_copy(op))
		FUZZ_CHECK(dst == d->env->out + st->out_len + done &&
			   st->out_len + total <= d->env->out_cap);
	else
		FUZZ_CHECK(len < total);
}

static uint32_t direct_load(struct direct *d, int phys, uint64_t addr, uint32_t size, u64 *val)
{
	uint8_t bytes[8];
	uint32_t fault;

	FUZZ_CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	check_access(d, phys, addr, size, 1, NULL);
	fault = direct_read(d, phys, addr, bytes, size);
	if (fault == IMEE_PROG_FAULT_NONE)
		*val = get_le(bytes, size);
	return fault;
}

static uint32_t direct_copy(struct direct *d, int phys, uint64_t addr, void *dst, uint32_t len)
{
	check_access(d, phys, addr, len, 0, dst);
	return direct_read(d, phys, addr, dst, len);
}

static u32 cb_load_virt(void *ctx, u64 va, u32 size, u64 *val)
{
	return direct_load(ctx, 0, va, size, val);
}

static u32 cb_load_phys(void *ctx, u64 pa, u32 size, u64 *val)
{
	return direct_load(ctx, 1, pa, size, val);
}

static u32 cb_copy_virt(void *ctx, u64 va, void *dst, u32 len)
{
	return direct_copy(ctx, 0, va, dst, len);
}

static u32 cb_copy_phys(void *ctx, u64 pa, void *dst, u32 len)
{
	return direct_copy(ctx, 1, pa, dst, len);
}

/* Static: what a trap leaves of it must survive the longjmp. */
static struct direct dctx;
static struct imee_prog_state dstate;

static void run_direct(const struct input *in, int trap, unsigned long abort_at, struct outcome *o)
{
	struct imee_prog_env env;
	unsigned int i;

	memset(o, 0, sizeof(*o));
	o->out = out_alloc(in, 0);
	memset(&env, 0, sizeof(env));
	env.load_virt = cb_load_virt;
	env.load_phys = cb_load_phys;
	env.copy_virt = cb_copy_virt;
	env.copy_phys = cb_copy_phys;
	env.ctx = &dctx;
	env.out = o->out;
	env.out_cap = in->out_cap;
	env.max_steps = imee_prog_max_steps(in->max_steps);
	env.levels = in->levels;
	env.slot_start = in->slot_start;
	env.slot_end = in->slot_end;
	env.physmap_size = in->physmap_size;

	memset(&dctx, 0, sizeof(dctx));
	dctx.in = in;
	dctx.env = &env;
	dctx.st = &dstate;
	dctx.abort_at = abort_at;
	dctx.trap = trap;
	memset(&dstate, 0, sizeof(dstate));
	for (i = 0; i < 8; i++)
		dstate.regs[i] = in->args[i];
	dstate.status = IMEE_PROG_RUNNING;
	/* every trap ends a step: at most max_steps of them */
	while (setjmp(dctx.jb))
		imee_prog_apply_fault(&dstate, in->insns, in->nr, dctx.trap_fault, dctx.trap_addr);
	imee_prog_exec(&dstate, in->insns, in->nr, &env);

	FUZZ_CHECK(dstate.status != IMEE_PROG_RUNNING);
	o->err = dstate.status == IMEE_PROG_ABORTED;
	o->res.status = dstate.status;
	o->res.fault = dstate.fault;
	o->res.fault_addr = dstate.fault_addr;
	o->res.pc = dstate.pc;
	o->res.steps = dstate.steps;
	o->res.out_len = dstate.out_len;
	memcpy(o->res.regs, dstate.regs, sizeof(o->res.regs));
}

/*
 * imee_prog_apply_fault() at the instruction where a run stopped, with the
 * input's fault code, as an agent would after a trap there.
 */
static void check_apply_fault(const struct input *in, const struct imee_prog_result *r)
{
	struct imee_prog_state st, before;
	const struct imee_insn *insn = r->pc < in->nr ? &in->insns[r->pc] : NULL;
	uint64_t addr = in->args[1];

	memset(&st, 0, sizeof(st));
	memcpy(st.regs, r->regs, sizeof(st.regs));
	st.pc = r->pc;
	st.steps = r->steps;
	st.out_len = r->out_len;
	st.status = r->status;
	before = st;
	/* a run that is over stays over */
	imee_prog_apply_fault(&st, in->insns, in->nr, in->fault, addr);
	FUZZ_CHECK(!memcmp(&st, &before, sizeof(st)));

	st.status = before.status = IMEE_PROG_RUNNING;
	imee_prog_apply_fault(&st, in->insns, in->nr, in->fault, addr);
	if (insn && is_fjump(insn->op)) {
		before.regs[IMEE_INSN_DST(insn)] = in->fault;
		before.pc += 1 + insn->imm;
	} else if (insn && is_access(insn->op)) {
		before.status = IMEE_STATUS_FAULT;
		before.fault = in->fault;
		before.fault_addr = addr;
	} else {
		before.status = IMEE_STATUS_BAD_PROGRAM;
	}
	FUZZ_CHECK(!memcmp(&st, &before, sizeof(st)));
}

/* A program the checker rejected: the interpreter copes with it all the same. */
static void run_rejected(const struct input *in)
{
	struct imee_prog_result res;
	struct outcome d, t;
	uint8_t out[8];

	FUZZ_CHECK(imee_prog_run_mem(&guest, &in->opts, in->insns, in->nr, in->args, in->max_steps,
				     out, sizeof(out), &res) == -EINVAL);
	if (!in->nr || in->nr > IMEE_PROG_MAX_INSNS)
		return;
	run_direct(in, 0, 0, &d);
	FUZZ_CHECK(d.err == 0);
	check_result(in, (in->flags & FP_F_AGENT) != 0, 0, &d.res);
	check_apply_fault(in, &d.res);
	run_direct(in, 1, 0, &t);
	check_same(&d, &t);
	outcome_free(&t);
	outcome_free(&d);
}

/* ------------------------------------------------------------------ */

static void run_accepted(const struct input *in)
{
	struct outcome a, b, d, t, f;
	struct failing fail = { .in = in };
	struct imee_mem failing_mem = { .ops = &failing_ops, .ctx = &fail };
	int agent = (in->flags & FP_F_AGENT) != 0;

	run_lib(in, &guest, &a);
	FUZZ_CHECK(a.err == 0);
	check_result(in, 0, 1, &a.res);
	run_lib(in, &guest, &b);
	check_same(&a, &b);
	outcome_free(&b);

	run_direct(in, 0, 0, &d);
	FUZZ_CHECK(d.err == 0);
	check_result(in, agent, 1, &d.res);
	check_apply_fault(in, &d.res);
	if (!agent)
		check_same(&a, &d);
	run_direct(in, 1, 0, &t);
	check_same(&d, &t);
	outcome_free(&t);

	if (in->flags & FP_F_ABORT) {
		run_lib(in, &failing_mem, &f);
		FUZZ_SAY("abort at read %lu of %lu: %d\n", in->abort_at, fail.reads, f.err);
		if (fail.reads >= in->abort_at) {
			FUZZ_CHECK(f.err == -EIO);
		} else {
			check_same(&a, &f);
		}
		outcome_free(&f);

		run_direct(in, 0, in->abort_at, &f);
		if (dctx.calls >= in->abort_at) {
			FUZZ_CHECK(f.err == 1 && f.res.status == IMEE_PROG_ABORTED);
			FUZZ_CHECK(f.res.pc < in->nr && is_access(in->insns[f.res.pc].op));
			FUZZ_CHECK(f.res.steps >= 1 && f.res.steps <= d.res.steps);
			FUZZ_CHECK(f.res.out_len <= d.res.out_len);
		} else {
			check_same(&d, &f);
		}
		outcome_free(&f);
	}
	outcome_free(&a);
	outcome_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct input in;

	if (!ready) {
		guest_init();
		ready = 1;
	}
	if (size < FP_HDR)
		return 0;
	parse(data, size, &in);
	check_bad_nr(&in);
	if (check_checker(&in))
		run_accepted(&in);
	else
		run_rejected(&in);
	free(in.insns);
	return 0;
}
