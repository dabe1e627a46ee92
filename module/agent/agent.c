// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the agent, the code that the ImEE vCPU runs (see agent_abi.h).
 *
 * Freestanding x86-64 code, not kernel code: it runs at CPL 0 inside the
 * ImEE, in the target's paging mode, at an address chosen per activation,
 * with nothing but its control page, its stack, the program, the output
 * buffer and the target's memory mapped. It interprets the program with
 * imee_prog_exec() (module/common/imee_prog_exec.c, the interpreter that
 * libimee runs too), reading target memory directly: a virtual address is a
 * load through the target's own page tables, a guest-physical one a load
 * from the physmap. Before each such access it records in the control page
 * that it is reading target memory, and where; an access that faults traps
 * to the module, which enters the agent again at its fault entry. The
 * program's whole state is in the control page, so the run goes on there.
 *
 * Built by module/Kbuild with its own flags, not the kernel's: position
 * independent, no writable data, no relocations (agent.lds and
 * check-agent.sh make sure).
 */
/*
 * Everything is hidden: calls go straight to their target (no GOT), even to
 * functions of the interpreter, which are declared without this.
 */
#pragma GCC visibility push(hidden)

#include "../common/imee_prog.h"
#include "agent_abi.h"

#include "agent.h"

/*
 * The layout of the binary's start (agent.lds puts .agent.header first,
 * .text.entry right after it):
 *
 *  - struct imee_agent_header, written in assembly so that the offsets are
 *    link time constants, not relocations; the constants come from
 *    agent_abi.h (the magic as two little-endian halves); the layout is
 *    checked below and by agent.lds;
 *  - the two entry points. Both get RDI = the control page and a fresh
 *    stack, and end in HLT, which the module intercepts: the activation is
 *    over.
 *
 * The function itself is a RET that nothing calls.
 */
void agent_layout(void)
{
	/* the header is written field by field */
	AGENT_STATIC_CHECK(sizeof(struct imee_agent_header) == 24 &&
			   OFFSET_OF(struct imee_agent_header, version) == 8 &&
			   OFFSET_OF(struct imee_agent_header, entry) == 12 &&
			   OFFSET_OF(struct imee_agent_header, fault_entry) == 16 &&
			   OFFSET_OF(struct imee_agent_header, size) == 20);

	asm volatile(".pushsection .agent.header, \"a\"\n"
		"imee_agent_header:\n"
		"	.long %c0, %c1\n"
		"	.long %c2\n"
		"	.long imee_agent_entry - imee_agent_header\n"
		"	.long imee_agent_fault_entry - imee_agent_header\n"
		"	.long imee_agent_end - imee_agent_header\n"
		".popsection\n"
		".pushsection .text.entry, \"ax\"\n"
		"	.globl imee_agent_entry\n"
		"	.hidden imee_agent_entry\n"
		"imee_agent_entry:\n"
		"	cld\n"
		"	andq $-16, %%rsp\n"
		"	xorl %%ebp, %%ebp\n"
		"	call agent_main\n"
		"1:	hlt\n"
		"	jmp 1b\n"
		"	.globl imee_agent_fault_entry\n"
		"	.hidden imee_agent_fault_entry\n"
		"imee_agent_fault_entry:\n"
		"	cld\n"
		"	andq $-16, %%rsp\n"
		"	xorl %%ebp, %%ebp\n"
		"	call agent_fault\n"
		"2:	hlt\n"
		"	jmp 2b\n"
		".popsection\n"
		: : "i" ((u32)(IMEE_AGENT_MAGIC & 0xffffffffU)),
		"i" ((u32)(IMEE_AGENT_MAGIC >> 32)),
		"i" (IMEE_AGENT_VERSION));
}

/*
 * Accesses to target memory. Each one is a single instruction (a MOV, or a
 * REP MOVSB within one page; with views, a MOV or a loop of MOVs within one
 * page, each between two view switches) between setting and clearing
 * ctl->in_access,
 * with ctl->access_addr the start of the page chunk. The "memory" clobbers
 * make the compiler store everything it holds for *ctl (the program's state
 * included) before the access, and reload it after.
 */
static void access_begin(struct imee_agent_ctl *ctl, u64 addr)
{
	ctl->access_addr = addr;
	ctl->in_access = 1;
}

static void access_end(struct imee_agent_ctl *ctl)
{
	ctl->in_access = 0;
}

static u64 raw_load(const void *p, u32 size)
{
	u64 v;

	switch (size) {
	case 1:
		asm volatile("movzbl (%1), %k0" : "=r" (v) : "r" (p) : "memory");
		break;
	case 2:
		asm volatile("movzwl (%1), %k0" : "=r" (v) : "r" (p) : "memory");
		break;
	case 4:
		asm volatile("movl (%1), %k0" : "=r" (v) : "r" (p) : "memory");
		break;
	default:
		asm volatile("movq (%1), %0" : "=r" (v) : "r" (p) : "memory");
		break;
	}
	return v;
}

static void raw_copy(void *dst, const void *src, u32 len)
{
	unsigned long n = len;

	asm volatile("rep movsb"
		     : "+D" (dst), "+S" (src), "+c" (n) : : "memory");
}

/*
 * Reads in the target's view (ctl->view_switch): VMFUNC leaf 0 (EAX = 0)
 * with a view's index in ECX switches the EPT pointer without a VM exit.
 * Between the switch to the target's view and the switch back, the agent
 * uses nothing but registers: of its pages only its code and page tables are
 * mapped there. A fault there traps to the module, which re-enters the agent
 * at its fault entry in its own view.
 */
#define TO_TARGET	"movl %3, %%ecx\n\tvmfunc\n\t"
#define TO_AGENT	"\n\tmovl %4, %%ecx\n\tvmfunc"
/* operands: %0 the value read, %1 the address */
#define VIEW_INPUTS	"r" (p), "a" (0), "i" (IMEE_AGENT_VIEW_TARGET), \
			"i" (IMEE_AGENT_VIEW_AGENT)

static u64 view_load(const void *p, u32 size)
{
	u64 v;

	switch (size) {
	case 1:
		asm volatile(TO_TARGET "movzbl (%1), %k0" TO_AGENT
			     : "=&r" (v) : VIEW_INPUTS : "rcx", "memory");
		break;
	case 2:
		asm volatile(TO_TARGET "movzwl (%1), %k0" TO_AGENT
			     : "=&r" (v) : VIEW_INPUTS : "rcx", "memory");
		break;
	case 4:
		asm volatile(TO_TARGET "movl (%1), %k0" TO_AGENT
			     : "=&r" (v) : VIEW_INPUTS : "rcx", "memory");
		break;
	default:
		asm volatile(TO_TARGET "movq (%1), %0" TO_AGENT
			     : "=&r" (v) : VIEW_INPUTS : "rcx", "memory");
		break;
	}
	return v;
}

/* A copy in the target's view: eight bytes per pair of switches. */
static void view_copy(void *dst, const void *src, u32 len)
{
	const u8 *s = src;
	u8 *d = dst;
	u64 v;

	for (; len >= 8; len -= 8, s += 8, d += 8) {
		v = view_load(s, 8);
		__builtin_memcpy(d, &v, 8);
	}
	for (; len; len--)
		*d++ = (u8)view_load(s++, 1);
}

static u64 target_load(struct imee_agent_ctl *ctl, const void *p, u32 size)
{
	return ctl->view_switch ? view_load(p, size) : raw_load(p, size);
}

static void target_copy(struct imee_agent_ctl *ctl, void *dst, const void *src,
			u32 len)
{
	if (ctl->view_switch)
		view_copy(dst, src, len);
	else
		raw_copy(dst, src, len);
}

static const void *virt_ptr(u64 va)
{
	return (const void *)(unsigned long)va;
}

static const void *phys_ptr(struct imee_agent_ctl *ctl, u64 pa)
{
	return (const void *)(unsigned long)(ctl->physmap_va + pa);
}

static u32 load_virt(void *ctx, u64 va, u32 size, u64 *val)
{
	struct imee_agent_ctl *ctl = ctx;

	access_begin(ctl, va);
	*val = target_load(ctl, virt_ptr(va), size);
	access_end(ctl);
	return IMEE_PROG_FAULT_NONE;
}

static u32 load_phys(void *ctx, u64 pa, u32 size, u64 *val)
{
	struct imee_agent_ctl *ctl = ctx;

	access_begin(ctl, pa);
	*val = target_load(ctl, phys_ptr(ctl, pa), size);
	access_end(ctl);
	return IMEE_PROG_FAULT_NONE;
}

static u32 copy_virt(void *ctx, u64 va, void *dst, u32 len)
{
	struct imee_agent_ctl *ctl = ctx;

	access_begin(ctl, va);
	target_copy(ctl, dst, virt_ptr(va), len);
	access_end(ctl);
	return IMEE_PROG_FAULT_NONE;
}

static u32 copy_phys(void *ctx, u64 pa, void *dst, u32 len)
{
	struct imee_agent_ctl *ctl = ctx;

	access_begin(ctl, pa);
	target_copy(ctl, dst, phys_ptr(ctl, pa), len);
	access_end(ctl);
	return IMEE_PROG_FAULT_NONE;
}

/*
 * The environment, built on the stack at every entry: a static one would
 * need relocations for its function pointers.
 */
static void env_init(struct imee_prog_env *env, struct imee_agent_ctl *ctl)
{
	env->load_virt = load_virt;
	env->load_phys = load_phys;
	env->copy_virt = copy_virt;
	env->copy_phys = copy_phys;
	env->ctx = ctl;
	env->out = (u8 *)(unsigned long)ctl->out_va;
	env->out_cap = ctl->out_cap;
	env->max_steps = ctl->max_steps;
	env->levels = ctl->levels;
	env->slot_start = ctl->slot_start;
	env->slot_end = ctl->slot_end;
	env->physmap_size = ctl->physmap_size;
}

static const struct imee_insn *insns(struct imee_agent_ctl *ctl)
{
	return (const struct imee_insn *)(unsigned long)ctl->insns_va;
}

static void run(struct imee_agent_ctl *ctl)
{
	struct imee_prog_env env;

	env_init(&env, ctl);
	imee_prog_exec(&ctl->state, insns(ctl), ctl->nr_insns, &env);
}

/* The module has set up ctl->state: pc 0, registers, status running. */
void agent_main(struct imee_agent_ctl *ctl)
{
	ctl->in_access = 0;
	if (ctl->magic != IMEE_AGENT_MAGIC) {
		ctl->state.status = IMEE_STATUS_BAD_PROGRAM;
		return;
	}
	run(ctl);
}

/*
 * An access trapped: the module says why in ctl->trap_fault. The fault
 * address is the chunk's start, ctl->access_addr, which is what the
 * interpreter reports when an engine's callback returns the fault (the
 * trap's CR2 is the same address, as every access is one instruction within
 * one page, but need not be for a REP MOVSB that was resumed).
 */
void agent_fault(struct imee_agent_ctl *ctl)
{
	ctl->in_access = 0;
	if (ctl->magic != IMEE_AGENT_MAGIC) {
		ctl->state.status = IMEE_STATUS_BAD_PROGRAM;
		return;
	}
	imee_prog_apply_fault(&ctl->state, insns(ctl), ctl->nr_insns,
			      ctl->trap_fault, ctl->access_addr);
	run(ctl);
}

/*
 * The compiler may turn struct copies and loops into calls to these; they
 * must not become calls to themselves, hence the string instructions.
 */
void *memcpy(void *dst, const void *src, unsigned long n)
{
	void *d = dst;

	asm volatile("rep movsb" : "+D" (d), "+S" (src), "+c" (n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, unsigned long n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* overlapping, dst above src: copy backwards */
	d += n - 1;
	s += n - 1;
	asm volatile("std\n\trep movsb\n\tcld"
		     : "+D" (d), "+S" (s), "+c" (n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, unsigned long n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D" (d), "+c" (n) : "a" (c) : "memory");
	return dst;
}
