// SPDX-License-Identifier: GPL-2.0
/*
 * Agent programs in libimee: the check of imee.ko's IMEE_LOAD with a
 * message, and the interpreter the agent runs (module/common/, the very same
 * source) over the software page walker, so that a program gives the same
 * result whichever engine runs it.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#include "imee_prog.h"

/* The interpreter's fault codes are libimee's walk faults, number for number. */
_Static_assert(IMEE_PROG_FAULT_NONE == (int)IMEE_FAULT_NONE, "fault codes");
_Static_assert(IMEE_PROG_FAULT_NOT_MAPPED == (int)IMEE_FAULT_NOT_MAPPED, "fault codes");
_Static_assert(IMEE_PROG_FAULT_NON_CANONICAL == (int)IMEE_FAULT_NON_CANONICAL, "fault codes");
_Static_assert(IMEE_PROG_FAULT_BAD_ENTRY == (int)IMEE_FAULT_BAD_ENTRY, "fault codes");
_Static_assert(IMEE_PROG_FAULT_OUT_OF_RAM == (int)IMEE_FAULT_OUT_OF_RAM, "fault codes");
_Static_assert(sizeof(((struct imee_prog_result *)0)->regs) ==
		       sizeof(((struct imee_prog_state *)0)->regs),
	       "registers");

const char *imee_prog_op_name(unsigned int op)
{
#define OP(name)             \
	case IMEE_OP_##name: \
		return #name
	switch (op) {
		OP(EXIT);
		OP(MOV);
		OP(MOVK);
		OP(ADD);
		OP(ADDK);
		OP(SUB);
		OP(SUBK);
		OP(MUL);
		OP(MULK);
		OP(AND);
		OP(ANDK);
		OP(OR);
		OP(ORK);
		OP(XOR);
		OP(XORK);
		OP(SHL);
		OP(SHLK);
		OP(SHR);
		OP(SHRK);
		OP(JA);
		OP(JEQ);
		OP(JEQK);
		OP(JNE);
		OP(JNEK);
		OP(JLT);
		OP(JLTK);
		OP(JLE);
		OP(JLEK);
		OP(JGT);
		OP(JGTK);
		OP(JGE);
		OP(JGEK);
		OP(LD);
		OP(LDF);
		OP(LDP);
		OP(LDPF);
		OP(COPY);
		OP(COPYF);
		OP(COPYP);
		OP(COPYPF);
		OP(EMIT);
	}
#undef OP
	return "?";
}

const char *imee_prog_status_name(uint32_t status)
{
	switch (status) {
	case IMEE_STATUS_OK:
		return "ok";
	case IMEE_STATUS_FAULT:
		return "fault";
	case IMEE_STATUS_STEP_LIMIT:
		return "step-limit";
	case IMEE_STATUS_OUTPUT_FULL:
		return "output-full";
	case IMEE_STATUS_BAD_PROGRAM:
		return "bad-program";
	}
	return "unknown";
}

const char *imee_prog_fault_name(uint32_t fault)
{
	if (fault == IMEE_PROG_FAULT_AGENT)
		return "agent";
	if (fault > IMEE_PROG_FAULT_OUT_OF_RAM)
		return "unknown";
	return imee_fault_name((enum imee_fault)fault);
}

int imee_prog_verify(const struct imee_insn *insns, size_t nr, size_t *bad_ret)
{
	/* more than the limit is too many, however many more */
	uint32_t nr32 = nr > IMEE_PROG_MAX_INSNS ? IMEE_PROG_MAX_INSNS + 1 : (uint32_t)nr;
	enum imee_prog_bad why;
	uint32_t bad = 0;

	if (!insns && nr)
		return imee_fail(-EINVAL, "agent program: no instructions given");
	why = imee_prog_check_why(insns, nr32, &bad);
	if (why == IMEE_PROG_GOOD)
		return 0;
	if (bad_ret)
		*bad_ret = bad;
	if (why == IMEE_PROG_BAD_NR)
		return imee_fail(-EINVAL, "agent program of %zu instructions: %s", nr,
				 imee_prog_bad_str(why));
	return imee_fail(-EINVAL, "agent program: instruction %" PRIu32 " (%s): %s", bad,
			 imee_prog_op_name(insns[bad].op), imee_prog_bad_str(why));
}

/* ------------------------------------------------------------------ */
/* The interpreter over struct imee_mem and the software page walker   */
/* ------------------------------------------------------------------ */

struct mem_engine {
	const struct imee_mem *mem;
	const struct imee_walk_opts *opts;
	int err; /* the error that aborted the run */
};

/* An error that is not the target's fault: stop the run, report err. */
static uint32_t engine_abort(struct mem_engine *e, int err)
{
	e->err = err;
	return IMEE_PROG_FAULT_ABORT;
}

static uint32_t read_phys(struct mem_engine *e, uint64_t pa, void *dst, uint32_t len)
{
	int err = e->mem->ops->read(e->mem->ctx, pa, dst, len);

	if (err == -ENXIO)
		return IMEE_PROG_FAULT_OUT_OF_RAM;
	if (err) {
		imee_fail_context(err, "agent program: reading 0x%" PRIx64, pa);
		return engine_abort(e, err);
	}
	return IMEE_PROG_FAULT_NONE;
}

/* [va, va + len) lies in one 4 KiB page: one walk translates it all. */
static uint32_t read_virt(struct mem_engine *e, uint64_t va, void *dst, uint32_t len)
{
	struct imee_walk w;
	int err;

	err = imee_walk(e->mem, e->opts, va, &w);
	if (err)
		return engine_abort(e, err);
	if (w.fault != IMEE_FAULT_NONE)
		return (uint32_t)w.fault;
	return read_phys(e, w.pa, dst, len);
}

static uint64_t le_value(const uint8_t *bytes, uint32_t size)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)bytes[i] << (8 * i);
	return v;
}

static u32 copy_virt(void *ctx, u64 va, void *dst, u32 len)
{
	return read_virt(ctx, va, dst, len);
}

static u32 copy_phys(void *ctx, u64 pa, void *dst, u32 len)
{
	return read_phys(ctx, pa, dst, len);
}

static u32 load_virt(void *ctx, u64 va, u32 size, u64 *val)
{
	uint8_t bytes[8];
	uint32_t fault = read_virt(ctx, va, bytes, size);

	if (fault == IMEE_PROG_FAULT_NONE)
		*val = le_value(bytes, size);
	return fault;
}

static u32 load_phys(void *ctx, u64 pa, u32 size, u64 *val)
{
	uint8_t bytes[8];
	uint32_t fault = read_phys(ctx, pa, bytes, size);

	if (fault == IMEE_PROG_FAULT_NONE)
		*val = le_value(bytes, size);
	return fault;
}

int imee_prog_run_mem(const struct imee_mem *mem, const struct imee_walk_opts *opts,
		      const struct imee_insn *insns, size_t nr, const uint64_t args[8],
		      uint64_t max_steps, void *out, size_t out_cap, struct imee_prog_result *res)
{
	struct mem_engine e = { .mem = mem, .opts = opts };
	static uint8_t no_output; /* out_cap is 0 then: never written */
	struct imee_prog_state st;
	struct imee_prog_env env;
	unsigned int i;
	int err;

	if (!mem || !mem->ops || !mem->ops->read || !opts || !res || (!out && out_cap))
		return imee_fail(-EINVAL, "agent program: bad arguments");
	if (opts->paging != IMEE_PAGING_4LEVEL && opts->paging != IMEE_PAGING_5LEVEL)
		return imee_fail(-EOPNOTSUPP,
				 "agent program: paging mode \"%s\" is not supported (only 4-level "
				 "and 5-level)",
				 imee_paging_name(opts->paging));
	err = imee_prog_verify(insns, nr, NULL);
	if (err)
		return err;

	memset(&env, 0, sizeof(env));
	env.load_virt = load_virt;
	env.load_phys = load_phys;
	env.copy_virt = copy_virt;
	env.copy_phys = copy_phys;
	env.ctx = &e;
	/* the interpreter forms out + out_len even when nothing fits: never NULL */
	env.out = out ? out : &no_output;
	env.out_cap = out_cap;
	env.max_steps = imee_prog_max_steps(max_steps);
	env.levels = opts->paging == IMEE_PAGING_5LEVEL ? 5 : 4;
	env.slot_start = env.slot_end = 0; /* no agent here */
	env.physmap_size = UINT64_MAX; /* what is RAM: mem->ops->read decides */

	memset(&st, 0, sizeof(st));
	for (i = 0; args && i < 8; i++)
		st.regs[i] = args[i];
	st.status = IMEE_PROG_RUNNING;
	imee_prog_exec(&st, insns, (uint32_t)nr, &env);
	if (st.status == IMEE_PROG_ABORTED)
		return e.err;

	memset(res, 0, sizeof(*res));
	res->status = st.status;
	res->fault = st.fault;
	res->fault_addr = st.fault_addr;
	res->pc = st.pc;
	res->steps = st.steps;
	res->out_len = st.out_len;
	memcpy(res->regs, st.regs, sizeof(res->regs));
	return 0;
}
