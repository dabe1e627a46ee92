// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the Intel vendor layer, a VMX vCPU owned by the module.
 *
 * kvm_intel owns VMX operation on every CPU while a VM exists (VMXON, which
 * sets CR4.VMXE) and keeps one of its VMCSs current on a CPU. The ImEE
 * borrows the CPU between two of KVM's entries, with preemption off: enter()
 * saves the current-VMCS pointer (VMPTRST), makes its own VMCS current, and
 * leave() clears it (VMCLEAR, so it may run on another CPU next time) and
 * makes KVM's current again. KVM's VMCS is never cleared or changed.
 *
 * TLB: with EPT, the ImEE's translations are tagged with its EPT pointers,
 * which no KVM guest uses while the ImEE lives, and with its VPID. The ImEE
 * takes VPID 0xffff where the CPU has VPIDs (module parameter vpid):
 * kvm_intel hands out VPIDs from 1 up and does not export its allocator, so
 * a KVM vCPU could only share it with the 65535th; that would cost it
 * flushes, not correctness, as the ImEE's entries also carry its own EPT
 * pointers. With a VPID, the ImEE's VM entries and exits flush nothing of
 * the host's, and its translations live across the exits of an activation.
 * Without one (VPID 0) every entry and exit flushes them. The ImEE's own
 * TLB flush (a new activation, a changed EPT entry) is INVEPT of its EPT
 * pointers; leave() does one too, so that nothing tagged with them stays in
 * a CPU's TLB once its tables are freed and reused.
 *
 * Views (IMEE_HW_F_VIEWS, module parameter vmfunc): where the CPU has VM
 * functions with EPTP switching, the vCPU gets an EPTP list of two: the
 * agent's view (index 0, where it starts) and the target's (index 1), and
 * the agent switches with VMFUNC around each read of the target (see
 * ee.c). The EPT pointer in use is read back at every exit: an entry after
 * the VMCS was cleared goes on in the view it was left in, a fresh start
 * is in the agent's.
 *
 * Accessed and dirty flags for EPT are enabled where the CPU has them: the
 * CPU's accesses to the target's paging structures are then writes for
 * EPT, so that the first walk through a target page table exits and the
 * shared code maps a private copy (see ee.c). Without them a CPU must
 * still fault on the A/D update itself, which hardware does; bochs does
 * not (it writes A/D bits through a read-only EPT mapping), so there the
 * target's tables would gain A bits.
 *
 * A VM exit loads the host state from the VMCS, not all of it as it was:
 * the GDT and TSS limits (restored at leave(), as KVM does) and LDTR,
 * which is null after an exit: enter() refuses a task with an LDT or with
 * FS/GS selectors a VM exit cannot load (-EBUSY).
 *
 * Interrupts and NMIs exit (the NMI is then raised again on the host, as it
 * was consumed by the exit); every exception exits. This layer builds with
 * the module everywhere; it runs where the CPU has VMX with EPT (the Intel
 * lab under bochs).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <asm/vmx.h>

#include <linux/imee.h>
#include "ee.h"
#include "agent/agent_abi.h"

static bool vmfunc = true;
module_param(vmfunc, bool, 0644);
MODULE_PARM_DESC(vmfunc,
		 "Intel: two views switched by VMFUNC where the CPU can (new ImEEs)");

static bool vpid = true;
module_param(vpid, bool, 0644);
MODULE_PARM_DESC(vpid, "Intel: a VPID of the ImEE's own where the CPU has VPIDs (new ImEEs)");

#define IMEE_VPID	0xffff

/* guest general-purpose registers: vmx_vmrun.S */
struct imee_vmx_gprs {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/**
 * struct imee_vcpu - the VMX ImEE vCPU
 * @vmcs:	its VMCS region
 * @vmcs_pa:	its physical address
 * @eptp:	its EPT pointer (the target's view)
 * @agent_eptp:	the agent's view (IMEE_HW_F_VIEWS), else @eptp
 * @cur_eptp:	the one in use when it last exited
 * @eptp_list:	the EPTP list for VMFUNC (IMEE_HW_F_VIEWS)
 * @features:	IMEE_HW_F_*
 * @gprs:	guest registers between entries
 * @st:		where the agent (re)starts
 * @rflags:	its flags, kept across a VMCLEAR
 * @restart:	load @st at the next entry
 * @flush:	INVEPT at the next entry
 * @loaded:	the VMCS is current on this CPU (between enter and leave)
 * @launched:	VMLAUNCH done since it was last cleared
 * @prev_vmcs:	the VMCS that was current before (KVM's), or -1
 * @fs_sel:	the task's FS selector, loaded by VM exits
 * @gs_sel:	its GS selector, likewise
 * @pin:	pin-based controls, adjusted to what the CPU allows
 * @proc:	primary processor-based controls, adjusted
 * @proc2:	secondary processor-based controls, adjusted
 * @exit_ctl:	VM-exit controls, adjusted
 * @entry_ctl:	VM-entry controls, adjusted
 */
struct imee_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	u64 eptp;
	u64 agent_eptp;
	u64 cur_eptp;
	u64 *eptp_list;
	u32 features;
	struct imee_vmx_gprs gprs;
	struct imee_vcpu_state st;
	u64 rflags;
	bool restart;
	bool flush;
	bool loaded;
	bool launched;
	u64 prev_vmcs;
	u16 fs_sel, gs_sel;
	u32 pin, proc, proc2, exit_ctl, entry_ctl;
};

#define EPT_LEVELS	4

static inline bool vmx_insn_ok(bool failed)
{
	return !failed;
}

static bool vmx_vmclear(u64 pa)
{
	bool fail;

	asm volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return vmx_insn_ok(fail);
}

static bool vmx_vmptrld(u64 pa)
{
	bool fail;

	asm volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return vmx_insn_ok(fail);
}

static u64 vmx_vmptrst(void)
{
	u64 pa;

	asm volatile("vmptrst %0" : "=m"(pa) : : "memory");
	return pa;
}

static void vmx_write(unsigned long field, u64 val)
{
	asm volatile("vmwrite %1, %0" : : "r"(field), "rm"(val) : "cc", "memory");
}

static u64 vmx_read(unsigned long field)
{
	u64 val;

	asm volatile("vmread %1, %0" : "=rm"(val) : "r"(field) : "cc");
	return val;
}

static void vmx_invept(u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = { eptp, 0 };
	unsigned long type = 1;	/* single context */

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/* The control value: @want, with the bits the CPU requires, or 0 if unsupported. */
static bool vmx_adjust(u32 msr, u32 want, u32 *ctl)
{
	u64 caps;

	rdmsrl(msr, caps);
	/* low half: bits that must be 1; high half: bits that may be 1 */
	if (want & ~(u32)(caps >> 32))
		return false;
	*ctl = want | (u32)caps;
	return true;
}

static bool vmx_controls(struct imee_vcpu *v)
{
	u32 proc2 = SECONDARY_EXEC_ENABLE_EPT;
	u64 basic;
	bool true_ctls;

	if (v->features & IMEE_HW_F_VPID)
		proc2 |= SECONDARY_EXEC_ENABLE_VPID;
	if (v->features & IMEE_HW_F_VIEWS)
		proc2 |= SECONDARY_EXEC_ENABLE_VMFUNC;
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	return vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			  MSR_IA32_VMX_PINBASED_CTLS,
			  PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
			  &v->pin) &&
	       vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			  MSR_IA32_VMX_PROCBASED_CTLS,
			  CPU_BASED_HLT_EXITING | CPU_BASED_INVLPG_EXITING |
			  CPU_BASED_MWAIT_EXITING | CPU_BASED_RDPMC_EXITING |
			  CPU_BASED_UNCOND_IO_EXITING |
			  CPU_BASED_MONITOR_EXITING |
			  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, &v->proc) &&
	       vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, proc2, &v->proc2) &&
	       vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
			  MSR_IA32_VMX_EXIT_CTLS,
			  VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER |
			  VM_EXIT_LOAD_IA32_PAT, &v->exit_ctl) &&
	       vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
			  MSR_IA32_VMX_ENTRY_CTLS,
			  VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER |
			  VM_ENTRY_LOAD_IA32_PAT, &v->entry_ctl);
}

static unsigned int vmx_npt_levels(void)
{
	return EPT_LEVELS;
}

/* What this CPU and the module parameters give a new ImEE. */
static u32 vmx_features(void)
{
	u64 ctls2 = 0, ept_caps = 0, vmfunc_caps = 0;
	u32 allowed2, f = 0;

	rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &ctls2);
	allowed2 = ctls2 >> 32;
	rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_caps);
	if (ept_caps & VMX_EPT_EXECUTE_ONLY_BIT)
		f |= IMEE_HW_F_EXEC_ONLY;
	if (READ_ONCE(vpid) && (allowed2 & SECONDARY_EXEC_ENABLE_VPID))
		f |= IMEE_HW_F_VPID;
	if (READ_ONCE(vmfunc) && (allowed2 & SECONDARY_EXEC_ENABLE_VMFUNC) &&
	    !rdmsrl_safe(MSR_IA32_VMX_VMFUNC, &vmfunc_caps) &&
	    (vmfunc_caps & VMX_VMFUNC_EPTP_SWITCHING))
		f |= IMEE_HW_F_VIEWS;
	return f;
}

static void vmx_destroy(struct imee_vcpu *v)
{
	if (!v)
		return;
	free_page((unsigned long)v->eptp_list);
	free_page((unsigned long)v->vmcs);
	kfree(v);
}

static u64 vmx_eptp(struct imee_npt *npt, u64 ept_caps)
{
	u64 eptp = virt_to_phys(npt->root) | VMX_EPTP_MT_WB |
		   ((EPT_LEVELS - 1) << 3);

	if (ept_caps & VMX_EPT_AD_BIT)
		eptp |= VMX_EPTP_AD_ENABLE_BIT;
	return eptp;
}

static int vmx_create(struct imee_npt *npt, struct imee_npt *agent_npt,
		      u32 features, struct imee_vcpu **vcpup)
{
	struct imee_vcpu *v;
	u64 basic, caps = 0;

	if (WARN_ON_ONCE(!!agent_npt != !!(features & IMEE_HW_F_VIEWS)))
		return -EINVAL;
	v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	if (!v)
		return -ENOMEM;
	v->features = features;
	if (!vmx_controls(v)) {
		kfree(v);
		return -EOPNOTSUPP;
	}
	v->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (agent_npt)
		v->eptp_list = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!v->vmcs || (agent_npt && !v->eptp_list)) {
		vmx_destroy(v);
		return -ENOMEM;
	}
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	*(u32 *)v->vmcs = (u32)basic & 0x7fffffff;	/* revision id */
	v->vmcs_pa = virt_to_phys(v->vmcs);
	rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &caps);
	v->eptp = vmx_eptp(npt, caps);
	v->agent_eptp = v->eptp;
	if (agent_npt) {
		v->agent_eptp = vmx_eptp(agent_npt, caps);
		v->eptp_list[IMEE_AGENT_VIEW_AGENT] = v->agent_eptp;
		v->eptp_list[IMEE_AGENT_VIEW_TARGET] = v->eptp;
	}
	v->cur_eptp = v->agent_eptp;
	v->flush = true;
	*vcpup = v;
	return 0;
}

static void vmx_set_state(struct imee_vcpu *v, const struct imee_vcpu_state *st)
{
	v->st = *st;
	memset(&v->gprs, 0, sizeof(v->gprs));
	v->gprs.rdi = st->rdi;
	v->rflags = X86_EFLAGS_FIXED;
	v->cur_eptp = v->agent_eptp;
	v->restart = true;
	v->flush = true;
}

static void vmx_flush(struct imee_vcpu *v)
{
	v->flush = true;
}

/* Forget every translation tagged with the ImEE's EPT pointers. */
static void vmx_invept_all(struct imee_vcpu *v)
{
	vmx_invept(v->eptp);
	if (v->agent_eptp != v->eptp)
		vmx_invept(v->agent_eptp);
}

static u64 vmx_fixed(u64 val, u32 fixed0, u32 fixed1)
{
	u64 f0, f1;

	rdmsrl(fixed0, f0);
	rdmsrl(fixed1, f1);
	return (val | f0) & f1;
}

/* The TSS base from the GDT entry of the task register. */
static unsigned long vmx_tr_base(void)
{
	struct desc_ptr gdt;
	struct ldttss_desc *d;
	u16 tr;

	native_store_gdt(&gdt);
	asm volatile("str %0" : "=r"(tr));
	d = (struct ldttss_desc *)(gdt.address + (tr & ~7));
	return d->base0 | ((unsigned long)d->base1 << 16) |
	       ((unsigned long)d->base2 << 24) |
	       ((unsigned long)d->base3 << 32);
}

static void vmx_seg(unsigned long sel_field, unsigned long base_field,
		    unsigned long limit_field, unsigned long ar_field,
		    u16 sel, u32 ar)
{
	vmx_write(sel_field, sel);
	vmx_write(base_field, 0);
	vmx_write(limit_field, 0xffffffff);
	vmx_write(ar_field, ar);
}

/* Every field of the VMCS, the agent's start included. */
static void vmx_write_vmcs(struct imee_vcpu *v)
{
	const struct imee_vcpu_state *st = &v->st;
	struct desc_ptr dt;
	u64 val;

	vmx_write(PIN_BASED_VM_EXEC_CONTROL, v->pin);
	vmx_write(CPU_BASED_VM_EXEC_CONTROL, v->proc);
	vmx_write(SECONDARY_VM_EXEC_CONTROL, v->proc2);
	vmx_write(VM_EXIT_CONTROLS, v->exit_ctl);
	vmx_write(VM_ENTRY_CONTROLS, v->entry_ctl);
	vmx_write(EXCEPTION_BITMAP, ~0U);
	vmx_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmx_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmx_write(CR0_GUEST_HOST_MASK, ~0UL);
	vmx_write(CR4_GUEST_HOST_MASK, ~0UL);
	vmx_write(CR3_TARGET_COUNT, 0);
	vmx_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmx_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmx_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmx_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_write(EPT_POINTER, v->cur_eptp);
	if (v->features & IMEE_HW_F_VPID)
		vmx_write(VIRTUAL_PROCESSOR_ID, IMEE_VPID);
	if (v->features & IMEE_HW_F_VIEWS) {
		vmx_write(VM_FUNCTION_CONTROL, VMX_VMFUNC_EPTP_SWITCHING);
		vmx_write(EPTP_LIST_ADDRESS, virt_to_phys(v->eptp_list));
	}
	vmx_write(VMCS_LINK_POINTER, ~0ULL);

	/* host state: this CPU's */
	vmx_write(HOST_CR0, read_cr0());
	vmx_write(HOST_CR3, __read_cr3());
	vmx_write(HOST_CR4, cr4_read_shadow());
	vmx_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmx_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmx_write(HOST_DS_SELECTOR, 0);
	vmx_write(HOST_ES_SELECTOR, 0);
	vmx_write(HOST_FS_SELECTOR, v->fs_sel);
	vmx_write(HOST_GS_SELECTOR, v->gs_sel);
	vmx_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	rdmsrl(MSR_FS_BASE, val);
	vmx_write(HOST_FS_BASE, val);
	rdmsrl(MSR_GS_BASE, val);
	vmx_write(HOST_GS_BASE, val);
	vmx_write(HOST_TR_BASE, vmx_tr_base());
	native_store_gdt(&dt);
	vmx_write(HOST_GDTR_BASE, dt.address);
	store_idt(&dt);
	vmx_write(HOST_IDTR_BASE, dt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, val);
	vmx_write(HOST_IA32_SYSENTER_CS, val);
	rdmsrl(MSR_IA32_SYSENTER_ESP, val);
	vmx_write(HOST_IA32_SYSENTER_ESP, val);
	rdmsrl(MSR_IA32_SYSENTER_EIP, val);
	vmx_write(HOST_IA32_SYSENTER_EIP, val);
	rdmsrl(MSR_EFER, val);
	vmx_write(HOST_IA32_EFER, val);
	rdmsrl(MSR_IA32_CR_PAT, val);
	vmx_write(HOST_IA32_PAT, val);
	vmx_write(GUEST_IA32_PAT, val);

	/* guest state: the agent, 64-bit, CPL 0 */
	vmx_seg(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT,
		GUEST_CS_AR_BYTES, 0x08, 0xa09b);
	vmx_seg(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT,
		GUEST_SS_AR_BYTES, 0x10, 0xc093);
	vmx_seg(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT,
		GUEST_DS_AR_BYTES, 0x10, 0xc093);
	vmx_seg(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT,
		GUEST_ES_AR_BYTES, 0x10, 0xc093);
	vmx_seg(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT,
		GUEST_FS_AR_BYTES, 0, VMX_AR_UNUSABLE_MASK);
	vmx_seg(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT,
		GUEST_GS_AR_BYTES, 0, VMX_AR_UNUSABLE_MASK);
	vmx_seg(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
		GUEST_LDTR_AR_BYTES, 0, VMX_AR_UNUSABLE_MASK);
	vmx_write(GUEST_TR_SELECTOR, 0x18);
	vmx_write(GUEST_TR_BASE, 0);
	vmx_write(GUEST_TR_LIMIT, 0x67);
	vmx_write(GUEST_TR_AR_BYTES, 0x008b);
	vmx_write(GUEST_GDTR_BASE, 0);
	vmx_write(GUEST_GDTR_LIMIT, 0);
	vmx_write(GUEST_IDTR_BASE, 0);
	vmx_write(GUEST_IDTR_LIMIT, 0);
	vmx_write(GUEST_CR0, vmx_fixed(X86_CR0_PE | X86_CR0_MP | X86_CR0_ET |
				       X86_CR0_NE | X86_CR0_WP | X86_CR0_PG,
				       MSR_IA32_VMX_CR0_FIXED0,
				       MSR_IA32_VMX_CR0_FIXED1));
	vmx_write(CR0_READ_SHADOW, vmx_read(GUEST_CR0));
	vmx_write(GUEST_CR4, vmx_fixed(X86_CR4_PAE |
				       (st->la57 ? X86_CR4_LA57 : 0),
				       MSR_IA32_VMX_CR4_FIXED0,
				       MSR_IA32_VMX_CR4_FIXED1));
	vmx_write(CR4_READ_SHADOW, vmx_read(GUEST_CR4));
	vmx_write(GUEST_CR3, st->cr3);
	vmx_write(GUEST_IA32_EFER, EFER_LME | EFER_LMA | EFER_NX);
	vmx_write(GUEST_DR7, 0x400);
	vmx_write(GUEST_RSP, st->rsp);
	vmx_write(GUEST_RIP, st->rip);
	vmx_write(GUEST_RFLAGS, v->rflags);
	vmx_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmx_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmx_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmx_write(GUEST_SYSENTER_CS, 0);
	vmx_write(GUEST_SYSENTER_ESP, 0);
	vmx_write(GUEST_SYSENTER_EIP, 0);
}

static void vmx_decode(struct imee_exit *exit)
{
	u32 reason = vmx_read(VM_EXIT_REASON);
	u32 intr;

	memset(exit, 0, sizeof(*exit));
	exit->raw = reason;
	exit->rip = vmx_read(GUEST_RIP);
	exit->cr3 = vmx_read(GUEST_CR3);
	exit->cr4 = vmx_read(GUEST_CR4);
	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		exit->kind = IMEE_EXIT_FAILED;
		return;
	}
	switch (reason & 0xffff) {
	case EXIT_REASON_HLT:
		exit->kind = IMEE_EXIT_HLT;
		return;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		exit->kind = IMEE_EXIT_IRQ;
		return;
	case EXIT_REASON_EXCEPTION_NMI:
		intr = vmx_read(VM_EXIT_INTR_INFO);
		exit->vector = intr & INTR_INFO_VECTOR_MASK;
		if ((intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
			/* the exit consumed it: the host must see it */
			asm volatile("int $2");
			exit->kind = IMEE_EXIT_IRQ;
			return;
		}
		if (exit->vector == X86_TRAP_MC) {
			exit->kind = IMEE_EXIT_MCE;
			return;
		}
		exit->kind = IMEE_EXIT_EXCEPTION;
		if (intr & INTR_INFO_DELIVER_CODE_MASK)
			exit->error = vmx_read(VM_EXIT_INTR_ERROR_CODE);
		exit->addr = vmx_read(EXIT_QUALIFICATION);
		return;
	case EXIT_REASON_EPT_VIOLATION: {
		u64 q = vmx_read(EXIT_QUALIFICATION);

		exit->kind = IMEE_EXIT_NPF;
		exit->error = q;
		exit->addr = vmx_read(GUEST_PHYSICAL_ADDRESS);
		exit->npf_write = q & EPT_VIOLATION_ACC_WRITE;
		/* linear address valid, not for the final translation */
		exit->npf_walk = (q & EPT_VIOLATION_GVA_IS_VALID) &&
				 !(q & EPT_VIOLATION_GVA_TRANSLATED);
		return;
	}
	}
	exit->kind = IMEE_EXIT_FAILED;
}

static int vmx_enter(struct imee_vcpu *v, struct imee_exit *exit)
{
	int failed;

	if (!(cr4_read_shadow() & X86_CR4_VMXE))
		return -EBUSY;	/* KVM has not turned VMX on here */
	if (!v->loaded) {
		u16 ldt;

		/* what a VM exit cannot give back (see the top) */
		asm volatile("sldt %0" : "=r"(ldt));
		savesegment(fs, v->fs_sel);
		savesegment(gs, v->gs_sel);
		if (ldt || (v->fs_sel & 7) || (v->gs_sel & 7))
			return -EBUSY;
		v->prev_vmcs = vmx_vmptrst();
		if (!vmx_vmptrld(v->vmcs_pa))
			return -EBUSY;
		v->loaded = true;
		v->launched = false;
		v->restart = true;
	}
	if (v->restart) {
		vmx_write_vmcs(v);
		v->restart = false;
	}
	if (v->flush) {
		vmx_invept_all(v);
		v->flush = false;
	}
	failed = imee_vmx_vmrun(&v->gprs, v->launched);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (failed) {
		pr_warn_ratelimited("VM entry failed, error %llu\n",
				    vmx_read(VM_INSTRUCTION_ERROR));
		return -EIO;
	}
	v->launched = true;
	vmx_decode(exit);
	/* VMFUNC changes the VMCS's EPT pointer */
	if (v->features & IMEE_HW_F_VIEWS) {
		v->cur_eptp = vmx_read(EPT_POINTER);
		exit->agent_view = v->cur_eptp == v->agent_eptp;
	}
	/* the agent goes on where it stopped unless restarted */
	v->st.rip = vmx_read(GUEST_RIP);
	v->st.rsp = vmx_read(GUEST_RSP);
	v->rflags = vmx_read(GUEST_RFLAGS);
	return 0;
}

static void vmx_leave(struct imee_vcpu *v)
{
	if (!v->loaded)
		return;
	vmx_invept_all(v);
	vmx_vmclear(v->vmcs_pa);
	if (v->prev_vmcs != ~0ULL && !vmx_vmptrld(v->prev_vmcs))
		pr_warn_once("cannot make VMCS %#llx current again\n",
			     v->prev_vmcs);
	v->loaded = false;
	/* VM exits set the TSS limit to 0x67 and the GDT limit to 0xffff */
	invalidate_tss_limit();
	load_fixmap_gdt(raw_smp_processor_id());
	/* the VMCS was cleared: everything is written again next time */
	v->restart = true;
}

static const struct imee_vendor vmx_vendor = {
	.name		= "vmx",
	.hw		= IMEE_HW_VMX_EPT,
	.npt_fmt	= &imee_npt_fmt_intel,
	.npt_levels	= vmx_npt_levels,
	.features	= vmx_features,
	.create		= vmx_create,
	.destroy	= vmx_destroy,
	.set_state	= vmx_set_state,
	.flush		= vmx_flush,
	.enter		= vmx_enter,
	.leave		= vmx_leave,
};

/* The Intel vendor layer, if this CPU has VMX with EPT. */
const struct imee_vendor *imee_vmx_probe(void)
{
	u64 ept_caps;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return NULL;
	rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_caps);
	/* 4-level walks, write-back tables, INVEPT single context */
	if (!(ept_caps & VMX_EPT_PAGE_WALK_4_BIT) ||
	    !(ept_caps & VMX_EPTP_WB_BIT) ||
	    !(ept_caps & VMX_EPT_EXTENT_CONTEXT_BIT))
		return NULL;
	return &vmx_vendor;
}
