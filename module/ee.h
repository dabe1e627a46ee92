/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: the ImEE (immersive execution environment) of a session.
 *
 * ee.c owns the ImEE object, its fd and the activation loop; npt.c builds
 * the nested page table; svm.c (AMD) and vmx.c (Intel) are the vendor
 * layers: each runs a module-owned vCPU until its next VM exit and decodes
 * the exit into struct imee_exit. Everything above the vendor layer is
 * shared.
 */
#ifndef IMEE_EE_H
#define IMEE_EE_H

#include <linux/types.h>

#include <linux/bits.h>

#define IMEE_NPT_W	BIT(0)	/* writable */
#define IMEE_NPT_X	BIT(1)	/* executable */
#define IMEE_NPT_XO	BIT(2)	/* with X: not readable, where the format can */

/**
 * struct imee_npt_fmt - the entry format of a nested page table
 * @table:	a non-leaf entry pointing at the table at @pa
 * @leaf:	a 4 KiB leaf mapping @pa with IMEE_NPT_* @prot
 * @present:	the bits of which any makes an entry present
 */
struct imee_npt_fmt {
	u64 (*table)(phys_addr_t pa);
	u64 (*leaf)(phys_addr_t pa, unsigned int prot);
	u64 present;
};

extern const struct imee_npt_fmt imee_npt_fmt_amd;
extern const struct imee_npt_fmt imee_npt_fmt_intel;

/**
 * struct imee_npt - a nested page table
 * @fmt:	its entry format
 * @levels:	4 or 5
 * @root:	the top-level table
 * @nr_tables:	tables allocated
 */
struct imee_npt {
	const struct imee_npt_fmt *fmt;
	unsigned int levels;
	u64 *root;
	unsigned long nr_tables;
};

int imee_npt_init(struct imee_npt *npt, const struct imee_npt_fmt *fmt,
		  unsigned int levels);
void imee_npt_destroy(struct imee_npt *npt);
int imee_npt_map(struct imee_npt *npt, u64 gpa, phys_addr_t hpa,
		 unsigned int prot);
bool imee_npt_mapped(struct imee_npt *npt, u64 gpa);
bool imee_npt_unmap_range(struct imee_npt *npt, u64 start, u64 end);

/* Why the ImEE vCPU stopped. */
enum imee_exit_kind {
	IMEE_EXIT_HLT,		/* the agent is done */
	IMEE_EXIT_IRQ,		/* a host interrupt or NMI: just go on */
	IMEE_EXIT_EXCEPTION,	/* @vector, @error, @addr (#PF: CR2) */
	IMEE_EXIT_NPF,		/* nested page fault at @addr */
	IMEE_EXIT_MCE,		/* machine check: re-raised on the host */
	IMEE_EXIT_FAILED,	/* invalid state, shutdown, or anything else */
};

/**
 * struct imee_exit - a decoded VM exit
 * @kind:	what happened
 * @vector:	exception vector (IMEE_EXIT_EXCEPTION)
 * @error:	error code (#PF) or the raw exit qualification (NPF)
 * @addr:	CR2 (#PF), guest-physical address (NPF)
 * @npf_write:	NPF: the access was a write
 * @npf_walk:	NPF: while the CPU walked the guest's page tables
 * @agent_view:	the vCPU was in the agent's view (IMEE_HW_F_VIEWS), which
 *		maps no target frame
 * @raw:	the vendor's exit code, for the log
 * @rip, @cr3, @cr4: the agent's, at the exit, for the log
 */
struct imee_exit {
	enum imee_exit_kind kind;
	u32 vector;
	u64 error;
	u64 addr;
	bool npf_write;
	bool npf_walk;
	bool agent_view;
	u64 raw;
	u64 rip;
	u64 cr3;
	u64 cr4;
};

struct imee_vcpu;

/**
 * struct imee_vcpu_state - where the agent starts
 * @rip, @rsp, @rdi:	entry point, stack, first argument
 * @cr3:	the agent's top-level page table (guest-physical)
 * @la57:	5-level paging
 */
struct imee_vcpu_state {
	u64 rip;
	u64 rsp;
	u64 rdi;
	u64 cr3;
	bool la57;
};

/**
 * struct imee_vendor - a vendor layer
 * @name:	"svm" or "vmx"
 * @hw:		IMEE_HW_*
 * @npt_fmt:	its nested page-table format
 * @npt_levels:	the depth its nested page table must have on this host
 * @features:	the IMEE_HW_F_* an ImEE created now would have
 * @create:	a vCPU on @npt (not yet runnable) with @features; with
 *		IMEE_HW_F_VIEWS, @npt is the target's view and @agent_npt the
 *		agent's, where the vCPU starts (else NULL)
 * @destroy:	free it
 * @set_state:	(re)start the agent at @st; flushes the TLB at next entry
 * @flush:	flush the ImEE's TLB at the next entry
 * @enter:	run until the next exit; interrupts and preemption disabled by
 *		the caller; returns 0 or -EBUSY when this CPU cannot run it
 * @leave:	before preemption is enabled again after one or more enter():
 *		leaves nothing of the ImEE in this CPU's TLB that another
 *		user of the same tag (KVM's guests) could hit
 */
struct imee_vendor {
	const char *name;
	u32 hw;
	const struct imee_npt_fmt *npt_fmt;
	unsigned int (*npt_levels)(void);
	u32 (*features)(void);
	int (*create)(struct imee_npt *npt, struct imee_npt *agent_npt,
		      u32 features, struct imee_vcpu **vcpup);
	void (*destroy)(struct imee_vcpu *vcpu);
	void (*set_state)(struct imee_vcpu *vcpu,
			  const struct imee_vcpu_state *st);
	void (*flush)(struct imee_vcpu *vcpu);
	int (*enter)(struct imee_vcpu *vcpu, struct imee_exit *exit);
	void (*leave)(struct imee_vcpu *vcpu);
};

/* svm.c, vmx.c: NULL when this host's CPU cannot run that vendor's ImEE */
const struct imee_vendor *imee_svm_probe(void);
const struct imee_vendor *imee_vmx_probe(void);

/* agent_blob.S: the agent binary */
extern const u8 imee_agent_blob[];
extern const u8 imee_agent_blob_end[];

/* svm_vmrun.S, vmx_vmrun.S: one guest entry (see svm.c, vmx.c) */
struct imee_gprs;
struct imee_vmx_gprs;
int imee_svm_vmrun(u64 vmcb_pa, struct imee_gprs *gprs);
int imee_vmx_vmrun(struct imee_vmx_gprs *gprs, int launched);

struct file;
struct imee_session;
long imee_ee_create(struct imee_session *s, struct file *sfile,
		    void __user *uarg);

#endif /* IMEE_EE_H */
