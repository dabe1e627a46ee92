// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the AMD vendor layer, an SVM vCPU owned by the module.
 *
 * It runs next to kvm_amd on the same CPUs and borrows nothing of KVM's but
 * what the CPU needs to run any guest: EFER.SVME and the host save area
 * (MSR_VM_HSAVE_PA), which kvm_amd sets up on every CPU while a VM exists
 * (the attached target is one). Both are checked, with interrupts off,
 * before each VMRUN; neither is changed.
 *
 * What VMRUN does not switch is not touched by the agent either: it runs
 * no VMLOAD, so FS, GS, TR, LDTR and the syscall MSRs stay the host's and
 * the agent never uses them; it uses no FPU or vector state.
 *
 * TLB entries are tagged with an ASID, and KVM hands out every ASID the CPU
 * has to its own guests without flushing one it gives to a vCPU (it flushes
 * all ASIDs when it runs out). So the ImEE flushes its ASID when it starts
 * an activation (no stale translation from anyone), and before the CPU can
 * go back to KVM it enters once more with a flush and an empty nested page
 * table: the "scrub" entry exits at its first instruction fetch and leaves
 * nothing of the ImEE's translations tagged with that ASID.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/mem_encrypt.h>
#include <asm/msr.h>
#include <asm/pgtable.h>
#include <asm/svm.h>
#include <asm/traps.h>

#include <linux/imee.h>
#include "ee.h"

/* guest general-purpose registers VMRUN does not switch: svm_vmrun.S */
struct imee_gprs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/**
 * struct imee_vcpu - the SVM ImEE vCPU
 * @vmcb:	its VMCB
 * @scrub:	the VMCB of the scrub entry (see above)
 * @scrub_npt:	an empty nested page table for it
 * @iopm:	I/O permission map, all intercepted
 * @msrpm:	MSR permission map, all intercepted
 * @gprs:	guest registers between entries
 * @flush_ctl:	TLB_CONTROL value that flushes this ImEE's ASID
 * @flush:	flush at the next entry
 * @npt_root:	the ImEE's nested page table
 * @nr_asids:	the CPU's number of ASIDs
 */
struct imee_vcpu {
	struct vmcb *vmcb;
	struct vmcb *scrub;
	void *scrub_npt;
	void *iopm;
	void *msrpm;
	struct imee_gprs gprs;
	u8 flush_ctl;
	bool flush;
	void *npt_root;
	u32 nr_asids;
};

#define IOPM_ORDER	2	/* 12 KiB used */
#define MSRPM_ORDER	1	/* 8 KiB */

/* segment attributes: type, S, DPL 0, P, and L, D/B, G as needed */
#define SEG_CODE64	0x029b
#define SEG_CODE32	0x0c9b
#define SEG_DATA	0x0c93

/* DR7's reset value: bit 10 reads as one */
#define IMEE_DR7_FIXED	0x400

static inline void imee_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void imee_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

static void svm_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_seg(struct vmcb_seg *seg, u16 sel, u16 attrib)
{
	seg->selector = sel;
	seg->attrib = attrib;
	seg->limit = 0xffffffff;
	seg->base = 0;
}

/*
 * Intercepts, ASID and nested paging shared by both VMCBs: the whole
 * control area, written again before every entry (svm_run()), so that an
 * entry never runs on anything else than this, whatever was left there.
 * (In the emulated lab an exit was seen to carry the host's state: see
 * ee_exit(); an ImEE run whose host interrupts did not end it followed.)
 */
static void svm_init_control(struct imee_vcpu *v, struct vmcb *vmcb,
			     void *npt_root)
{
	static const unsigned int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_INIT,
		INTERCEPT_CPUID, INTERCEPT_RSM, INTERCEPT_INTn,
		INTERCEPT_INVD, INTERCEPT_HLT, INTERCEPT_INVLPGA,
		INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_TASK_SWITCH, INTERCEPT_FERR_FREEZE,
		INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
		INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI,
		INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_ICEBP,
		INTERCEPT_WBINVD, INTERCEPT_MONITOR, INTERCEPT_MWAIT,
		INTERCEPT_MWAIT_COND, INTERCEPT_XSETBV,
	};
	struct vmcb_control_area *c = &vmcb->control;
	u32 nr_asids = v->nr_asids;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->intercepts[INTERCEPT_EXCEPTION] = ~0U;
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_intercept(vmcb, intercepts[i]);
	c->iopm_base_pa = __sme_pa(v->iopm);
	c->msrpm_base_pa = __sme_pa(v->msrpm);
	/* any ASID is also KVM's: see the comment at the top */
	c->asid = nr_asids - 1;
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = __sme_pa(npt_root);
}

/* The scrub entry: 32-bit protected mode, no paging, nothing mapped. */
static void svm_init_scrub(struct imee_vcpu *v)
{
	struct vmcb_save_area *s = &v->scrub->save;
	u64 pat;

	svm_init_control(v, v->scrub, v->scrub_npt);
	svm_seg(&s->cs, 0x08, SEG_CODE32);
	svm_seg(&s->ss, 0x10, SEG_DATA);
	svm_seg(&s->ds, 0x10, SEG_DATA);
	svm_seg(&s->es, 0x10, SEG_DATA);
	s->cpl = 0;
	s->efer = EFER_SVME;
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	s->cr4 = 0;
	s->dr6 = DR6_RESERVED;
	s->dr7 = IMEE_DR7_FIXED;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0;
	rdmsrl(MSR_IA32_CR_PAT, pat);
	s->g_pat = pat;
}

static unsigned int svm_npt_levels(void)
{
	/* the nested walk uses the host's paging mode */
	return pgtable_l5_enabled() ? 5 : 4;
}

static void svm_destroy(struct imee_vcpu *v)
{
	if (!v)
		return;
	free_page((unsigned long)v->vmcb);
	free_page((unsigned long)v->scrub);
	free_page((unsigned long)v->scrub_npt);
	free_pages((unsigned long)v->iopm, IOPM_ORDER);
	free_pages((unsigned long)v->msrpm, MSRPM_ORDER);
	kfree(v);
}

/* One nested page table, readable code, an ASID shared with KVM (above). */
static u32 svm_features(void)
{
	return 0;
}

static int svm_create(struct imee_npt *npt, struct imee_npt *agent_npt,
		      u32 features, struct imee_vcpu **vcpup)
{
	struct imee_vcpu *v;

	if (WARN_ON_ONCE(agent_npt || features))
		return -EINVAL;
	if (cpuid_ebx(SVM_CPUID_FUNC) < 2)
		return -EOPNOTSUPP;
	v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	if (!v)
		return -ENOMEM;
	v->vmcb = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	v->scrub = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	v->scrub_npt = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	v->iopm = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT, IOPM_ORDER);
	v->msrpm = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT, MSRPM_ORDER);
	if (!v->vmcb || !v->scrub || !v->scrub_npt || !v->iopm || !v->msrpm) {
		svm_destroy(v);
		return -ENOMEM;
	}
	memset(v->iopm, 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(v->msrpm, 0xff, PAGE_SIZE << MSRPM_ORDER);
	v->flush_ctl = boot_cpu_has(X86_FEATURE_FLUSHBYASID) ?
		       TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	v->npt_root = npt->root;
	v->nr_asids = cpuid_ebx(SVM_CPUID_FUNC);

	svm_init_control(v, v->vmcb, npt->root);
	svm_init_scrub(v);
	v->flush = true;
	*vcpup = v;
	return 0;
}

static void svm_set_state(struct imee_vcpu *v, const struct imee_vcpu_state *st)
{
	struct vmcb_save_area *s = &v->vmcb->save;
	u64 pat;

	memset(s, 0, sizeof(*s));
	svm_seg(&s->cs, 0x08, SEG_CODE64);
	svm_seg(&s->ss, 0x10, SEG_DATA);
	svm_seg(&s->ds, 0x10, SEG_DATA);
	svm_seg(&s->es, 0x10, SEG_DATA);
	s->cpl = 0;
	s->efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NX;
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		 X86_CR0_WP | X86_CR0_PG;
	s->cr4 = X86_CR4_PAE | (st->la57 ? X86_CR4_LA57 : 0);
	s->cr3 = st->cr3;
	s->dr6 = DR6_RESERVED;
	s->dr7 = IMEE_DR7_FIXED;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = st->rip;
	s->rsp = st->rsp;
	rdmsrl(MSR_IA32_CR_PAT, pat);
	s->g_pat = pat;
	memset(&v->gprs, 0, sizeof(v->gprs));
	v->gprs.rdi = st->rdi;
	v->flush = true;
}

static void svm_flush(struct imee_vcpu *v)
{
	v->flush = true;
}

/* Can this CPU run a guest now? Interrupts are off. */
static bool svm_cpu_ready(void)
{
	u64 efer, hsave;

	rdmsrl(MSR_EFER, efer);
	if (!(efer & EFER_SVME))
		return false;
	rdmsrl(MSR_VM_HSAVE_PA, hsave);
	return hsave != 0;
}

/* One VMRUN of @vmcb. Called with interrupts off; they are off on return. */
static int svm_run(struct imee_vcpu *v, struct vmcb *vmcb, u8 tlb_ctl)
{
	int faulted;

	if (!svm_cpu_ready())
		return -EBUSY;
	svm_init_control(v, vmcb, vmcb == v->scrub ? v->scrub_npt : v->npt_root);
	vmcb->control.tlb_ctl = tlb_ctl;
	vmcb->control.clean = 0;
	imee_clgi();
	/*
	 * With V_INTR_MASKING, the host's RFLAGS.IF at VMRUN decides whether
	 * physical interrupts are masked while the ImEE runs. Set it, so that
	 * a host interrupt ends the run at once (INTR is intercepted) and an
	 * activation never holds off the host's interrupts; GIF=0 keeps them
	 * pending in host code all along. KVM does the same before its VMRUN.
	 */
	raw_local_irq_enable();
	faulted = imee_svm_vmrun(__sme_pa(vmcb), &v->gprs);
	raw_local_irq_disable();
	imee_stgi();
	/* a #VMEXIT clears DR7 */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	return faulted ? -EBUSY : 0;
}

static void svm_decode(struct vmcb *vmcb, struct imee_exit *exit)
{
	const struct vmcb_control_area *c = &vmcb->control;
	u32 code = c->exit_code;

	memset(exit, 0, sizeof(*exit));
	exit->raw = ((u64)c->exit_code_hi << 32) | c->exit_code;
	exit->rip = vmcb->save.rip;
	exit->cr3 = vmcb->save.cr3;
	exit->cr4 = vmcb->save.cr4;
	if (c->exit_code_hi) {
		exit->kind = IMEE_EXIT_FAILED;
		return;
	}
	switch (code) {
	case SVM_EXIT_HLT:
		exit->kind = IMEE_EXIT_HLT;
		return;
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		exit->kind = IMEE_EXIT_IRQ;
		return;
	case SVM_EXIT_EXCP_BASE + MC_VECTOR:
		exit->kind = IMEE_EXIT_MCE;
		return;
	case SVM_EXIT_NPF:
		exit->kind = IMEE_EXIT_NPF;
		exit->error = c->exit_info_1;
		exit->addr = c->exit_info_2;
		exit->npf_write = c->exit_info_1 & BIT_ULL(1);
		exit->npf_walk = c->exit_info_1 & BIT_ULL(33);
		return;
	}
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		exit->kind = IMEE_EXIT_EXCEPTION;
		exit->vector = code - SVM_EXIT_EXCP_BASE;
		exit->error = c->exit_info_1;
		exit->addr = c->exit_info_2;
		return;
	}
	exit->kind = IMEE_EXIT_FAILED;
}

static int svm_enter(struct imee_vcpu *v, struct imee_exit *exit)
{
	int ret;

	ret = svm_run(v, v->vmcb, v->flush ? v->flush_ctl :
					      TLB_CONTROL_DO_NOTHING);
	if (ret)
		return ret;
	v->flush = false;
	svm_decode(v->vmcb, exit);
	return 0;
}

static void svm_leave(struct imee_vcpu *v)
{
	struct imee_gprs saved = v->gprs;

	v->scrub->save.rip = 0;
	/*
	 * Exits at once: an NPF on the first fetch, or an interrupt before
	 * it. If SVM is gone there is nothing to scrub either.
	 */
	svm_run(v, v->scrub, v->flush_ctl);
	v->gprs = saved;
	/* whatever the scrub did, the ImEE's next entry flushes too */
	v->flush = true;
}

static const struct imee_vendor svm_vendor = {
	.name		= "svm",
	.hw		= IMEE_HW_SVM_NPT,
	.npt_fmt	= &imee_npt_fmt_amd,
	.npt_levels	= svm_npt_levels,
	.features	= svm_features,
	.create		= svm_create,
	.destroy	= svm_destroy,
	.set_state	= svm_set_state,
	.flush		= svm_flush,
	.enter		= svm_enter,
	.leave		= svm_leave,
};

/* The AMD vendor layer, if this CPU has SVM with nested paging. */
const struct imee_vendor *imee_svm_probe(void)
{
	if (!boot_cpu_has(X86_FEATURE_SVM) || !boot_cpu_has(X86_FEATURE_NPT))
		return NULL;
	return &svm_vendor;
}
