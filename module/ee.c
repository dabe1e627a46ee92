// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the ImEE of a session, its fd and its activations.
 *
 * Guest-physical layout of the ImEE:
 *
 *   [0, ram_end)           the target's RAM: each frame mapped, when first
 *                          touched, to the very host page that backs it in
 *                          the target, read-only and not executable
 *   [agent_gpa, +N pages)  the agent's pages: its page tables, code
 *                          (read-only, executable), control page, stack,
 *                          program and output (not executable)
 *
 * With two views (IMEE_HW_F_VIEWS: Intel's VMFUNC EPTP switching) these
 * are two nested page tables. The target's view maps the target's frames
 * and, of the agent, only what the CPU needs to go on running there: its
 * page tables and its code. The agent's view maps the agent's pages and no
 * target frame. The agent starts in its own view and switches to the
 * target's around each read of the target, with nothing but registers in
 * between (agent.c): its control page, stack, program and output are not
 * mapped while it reads the target. Without views one table maps both.
 * Where the CPU allows it (EPT), the agent's code is execute-only.
 *
 * Virtual layout: the agent's top-level page table is a copy of the
 * target's, taken at every activation from the target's current CR3, so
 * that every target address is translated by the CPU over the target's own
 * live page tables. One top-level slot the target does not use (Linux
 * leaves 256..271 to hypervisors in both paging modes) holds the agent:
 *
 *   slot + 0               the target's RAM by guest-physical address
 *                          (2 MiB pages, read-only), for LDP and COPYP
 *   slot + 384 GiB         code; + 1 MiB control page; + 1.5 MiB stack
 *   slot + 384 GiB + 2 MiB the program
 *   slot + 384 GiB + 4 MiB the output buffer
 *
 * Accessed and dirty bits: the CPU sets them in the paging entries it walks.
 * The target's frames are read-only in the nested page table, so such a
 * write to a target page table exits (an NPF while walking). The ImEE then
 * maps a private copy of that page, writable, in its place, and refreshes
 * the copy from the target's page at the start of every activation (a
 * change to the target's memory drops it): the target's memory is never
 * written, and the next activation sees its tables as they are then.
 *
 * Locking: ee->lock (mutex) serialises loads and activations; inside it the
 * nested page table, the pins and the agent's pages are the activation's
 * alone. It nests outside the VMM's mmap_lock (pinning) and s->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <asm/cpufeature.h>
#include <asm/io.h>
#include <asm/traps.h>

#include "imee.h"
#include "ee.h"
#include "kvm_glue.h"
#include "agent/agent_abi.h"
#include "common/imee_prog.h"

static unsigned int max_run_ms = 10000;
module_param(max_run_ms, uint, 0644);
MODULE_PARM_DESC(max_run_ms, "longest ImEE activation in ms (ETIME after)");

static unsigned int test_restarts;
module_param(test_restarts, uint, 0644);
MODULE_PARM_DESC(test_restarts,
		 "for tests: start every activation over this many times (at most 3) once it has ended");

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_A | PTE_D)
#define PTE_CODE	(PTE_P | PTE_A)
#define PTE_DATA	(PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX)
#define PTE_ADDR	GENMASK_ULL(51, 12)

#define AGENT_OFF	(384ULL << 30)
#define CTL_OFF		(AGENT_OFF + SZ_1M)
#define STACK_OFF	(AGENT_OFF + SZ_1M + SZ_512K)
#define STACK_PAGES	4
#define INSNS_OFF	(AGENT_OFF + SZ_2M)
#define OUT_OFF		(AGENT_OFF + SZ_4M)
#define PHYSMAP_MAX	(256ULL << 30)
#define CODE_MAX	SZ_1M
#define INSN_PAGES	(IMEE_PROG_MAX_INSNS * sizeof(struct imee_insn) / PAGE_SIZE)
#define OUT_DEFAULT	SZ_1M
#define OUT_MAX		SZ_16M
#define PREFERRED_SLOT	256
#define MAX_SHADOWS	256
#define MAX_EXITS	BIT(24)
/* exits handled with preemption off before the loop looks up (a power of 2) */
#define EXITS_PER_BURST	BIT(12)
#define MAX_RESTARTS	3

/* Intercepted exceptions that the agent turns into program faults. */
#define PF_ERR_RSVD	BIT_ULL(3)

struct imee_shadow {
	u64 gfn;
	struct page *copy;
};

/**
 * struct imee_ee - the ImEE of one session
 * @s:		the session
 * @sfile:	the session's file (a reference: keeps @s alive)
 * @vendor:	SVM or VMX
 * @vcpu:	the vendor's vCPU
 * @lock:	serialises IMEE_LOAD and IMEE_RUN (see the top)
 * @npt:	the nested page table (the target's view)
 * @agent_npt:	the agent's view, with IMEE_HW_F_VIEWS
 * @features:	IMEE_HW_F_* of this ImEE
 * @epoch:	the session's epoch the target mappings belong to
 * @pins:	gfn -> pinned target page mapped in @npt (one pin each)
 * @nr_pins:	their number
 * @agent_gpa:	guest-physical address of the agent's first page
 * @pages:	the agent's pages, @pages[i] at @agent_gpa + i * 4 KiB
 * @nr_pages:	their number
 * @top:	the agent's top-level table (index into @pages)
 * @p4d:	its P4D table (used with 5-level paging)
 * @pdpt:	its PDPT (the slot entry's table with 4-level paging)
 * @code_pages: index in @pages of the agent's code
 * @ctl:	of its control page
 * @insns:	of the program's first page
 * @out:	of the output buffer's first page
 * @nr_out:	output pages
 * @nr_insns:	instructions loaded (0: none)
 * @physmap_size: bytes of target RAM the agent maps by physical address
 * @hdr:	the agent's header
 * @shadows:	private, writable copies of target pages that the CPU's page
 *		walks set A/D bits in, mapped instead of them and refreshed
 *		from them at each activation
 * @nr_shadows:	their number
 */
struct imee_ee {
	struct imee_session *s;
	struct file *sfile;
	const struct imee_vendor *vendor;
	struct imee_vcpu *vcpu;
	struct mutex lock;	/* serialises IMEE_LOAD and IMEE_RUN */
	struct imee_npt npt;
	struct imee_npt agent_npt;
	u32 features;
	struct imee_epoch epoch;
	struct xarray pins;
	unsigned long nr_pins;
	u64 agent_gpa;
	struct page **pages;
	u32 nr_pages;
	u32 top;
	u32 p4d;
	u32 pdpt;
	u32 code_pages;
	u32 ctl;
	u32 insns;
	u32 out;
	u32 nr_out;
	u32 nr_insns;
	u64 physmap_size;
	struct imee_agent_header hdr;
	struct imee_shadow shadows[MAX_SHADOWS];
	u32 nr_shadows;
};

static const struct imee_vendor *imee_vendor(void)
{
	const struct imee_vendor *v = imee_svm_probe();

	return v ? v : imee_vmx_probe();
}

static u64 *ee_page_va(struct imee_ee *ee, u32 index)
{
	return page_address(ee->pages[index]);
}

static u64 ee_page_gpa(struct imee_ee *ee, u32 index)
{
	return ee->agent_gpa + ((u64)index << PAGE_SHIFT);
}

/* ------------------------------------------------------------------ */
/* Target frames: pins and nested mappings                             */
/* ------------------------------------------------------------------ */

static void ee_unpin_all(struct imee_ee *ee)
{
	unsigned long gfn;
	struct page *page;

	xa_for_each(&ee->pins, gfn, page) {
		xa_erase(&ee->pins, gfn);
		unpin_user_page(page);
		ee->nr_pins--;
		if (!(gfn & 1023))
			cond_resched();
	}
}

/*
 * The pinned host page backing target frame @gfn, pinning it (and mapping
 * it in the nested page table) if needed. May sleep.
 * Return: 0, -ENXIO not RAM (or not readable in the VMM), -ESRCH, -EINTR,
 * -ENOMEM.
 */
static int ee_target_page(struct imee_ee *ee, u64 gfn, struct page **pagep)
{
	unsigned long hva;
	struct page *page;
	int ret;

	if (gfn >= ee->agent_gpa >> PAGE_SHIFT)
		return -ENXIO;
	page = xa_load(&ee->pins, gfn);
	if (page) {
		/* pinned: make sure it is mapped too (a failed map may not be) */
		if (!imee_npt_mapped(&ee->npt, gfn << PAGE_SHIFT)) {
			ret = imee_npt_map(&ee->npt, gfn << PAGE_SHIFT,
					   page_to_phys(page), 0);
			if (ret)
				return ret;
		}
		*pagep = page;
		return 0;
	}
	ret = imee_view_gfn_to_hva(ee->s, gfn, &hva);
	if (ret == -EAGAIN) {
		ret = imee_view_sync(ee->s);
		if (!ret)
			ret = imee_view_gfn_to_hva(ee->s, gfn, &hva);
	}
	if (ret)
		return ret == -EAGAIN ? -ENXIO : ret;
	ret = imee_pin_guest_page(ee->s, hva, &page);
	if (ret == -EFAULT)
		return -ENXIO;
	if (ret)
		return ret;
	ret = xa_insert(&ee->pins, gfn, page, GFP_KERNEL_ACCOUNT);
	if (ret) {
		unpin_user_page(page);
		return ret == -EBUSY ? -EIO : ret;
	}
	ee->nr_pins++;
	ret = imee_npt_map(&ee->npt, gfn << PAGE_SHIFT, page_to_phys(page), 0);
	if (ret)
		return ret;
	*pagep = page;
	return 0;
}

/*
 * Drop every private copy: the target's memory changed under them, or the
 * ImEE goes. The caller unmaps their frames, or passes @remap to map the
 * target's own pages back (read-only) and flush.
 */
static void ee_free_shadows(struct imee_ee *ee, bool remap)
{
	struct page *page;
	u32 i;

	for (i = 0; i < ee->nr_shadows; i++) {
		struct imee_shadow *sh = &ee->shadows[i];

		page = remap ? xa_load(&ee->pins, sh->gfn) : NULL;
		if (remap && (!page ||
			      imee_npt_map(&ee->npt, sh->gfn << PAGE_SHIFT,
					   page_to_phys(page), 0)))
			imee_npt_unmap_range(&ee->npt, sh->gfn << PAGE_SHIFT,
					     (sh->gfn + 1) << PAGE_SHIFT);
		__free_page(sh->copy);
	}
	if (remap && ee->nr_shadows)
		ee->vendor->flush(ee->vcpu);
	ee->nr_shadows = 0;
}

/*
 * The CPU's page walk wants to set an accessed or dirty bit in target frame
 * @gfn: map a private, writable copy of it instead (see the top).
 */
static int ee_shadow(struct imee_ee *ee, u64 gfn)
{
	struct page *page, *copy;
	u32 i;
	int ret;

	for (i = 0; i < ee->nr_shadows; i++)
		if (ee->shadows[i].gfn == gfn)
			return -EIO;	/* writable already: not an A/D update */
	/* full (a walk over many tables): start over rather than fail */
	if (ee->nr_shadows == MAX_SHADOWS)
		ee_free_shadows(ee, true);
	ret = ee_target_page(ee, gfn, &page);
	if (ret)
		return ret;
	copy = alloc_page(GFP_KERNEL_ACCOUNT);
	if (!copy)
		return -ENOMEM;
	copy_highpage(copy, page);
	ret = imee_npt_map(&ee->npt, gfn << PAGE_SHIFT, page_to_phys(copy),
			   IMEE_NPT_W);
	if (ret) {
		__free_page(copy);
		return ret;
	}
	ee->shadows[ee->nr_shadows].gfn = gfn;
	ee->shadows[ee->nr_shadows].copy = copy;
	ee->nr_shadows++;
	ee->vendor->flush(ee->vcpu);
	return 0;
}

/* Forget every target mapping (the target's memory changed under them). */
static void ee_drop_target(struct imee_ee *ee)
{
	imee_npt_unmap_range(&ee->npt, 0, ee->agent_gpa);
	ee_free_shadows(ee, false);
	ee_unpin_all(ee);
	ee->vendor->flush(ee->vcpu);
}

/*
 * At the start of an activation: bring every private copy up to date with
 * the target's page, so that the activation sees the target's page tables
 * as they are now (the bits the CPU set in the copy before are gone with
 * it). Keeping the copies mapped spares the exits that would set those
 * bits again at every activation.
 */
static void ee_refresh_shadows(struct imee_ee *ee)
{
	struct page *page;
	u32 i;

	for (i = 0; i < ee->nr_shadows; i++) {
		page = xa_load(&ee->pins, ee->shadows[i].gfn);
		if (WARN_ON_ONCE(!page))
			continue;
		copy_highpage(ee->shadows[i].copy, page);
	}
}

/* ------------------------------------------------------------------ */
/* Building the ImEE                                                    */
/* ------------------------------------------------------------------ */

/* The first of the agent's pages that hold code (its header and read-only data before). */
static u32 ee_text_page(struct imee_ee *ee)
{
	return ee->code_pages + (ee->hdr.entry >> PAGE_SHIFT);
}

/*
 * Map the agent's pages in the nested page table(s). Its page tables are
 * writable (a CPU with EPT A/D bits treats its walks as writes) and, like
 * its code, mapped in both views; the rest only in the agent's.
 */
static int ee_map_agent(struct imee_ee *ee)
{
	bool views = ee->features & IMEE_HW_F_VIEWS;
	u32 text = ee_text_page(ee), i;
	u32 end = ee->code_pages + DIV_ROUND_UP(ee->hdr.size, PAGE_SIZE);
	int ret;

	for (i = 0; i < ee->nr_pages; i++) {
		phys_addr_t hpa = page_to_phys(ee->pages[i]);
		unsigned int prot = IMEE_NPT_W;
		bool both = false;

		if (i < ee->code_pages) {
			both = true;
		} else if (i >= text && i < end) {
			prot = IMEE_NPT_X;
			if (ee->features & IMEE_HW_F_EXEC_ONLY)
				prot |= IMEE_NPT_XO;
			both = true;
		} else if (i < end || (i >= ee->insns &&
				       i < ee->insns + INSN_PAGES)) {
			prot = 0;
		}
		if (!views || both) {
			ret = imee_npt_map(&ee->npt, ee_page_gpa(ee, i), hpa,
					   prot);
			if (ret)
				return ret;
		}
		if (views) {
			ret = imee_npt_map(&ee->agent_npt, ee_page_gpa(ee, i),
					   hpa, prot);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* A page table of the agent, in its pages: PT entry @index of @table. */
static void ee_set(struct imee_ee *ee, u32 table, unsigned int index, u64 e)
{
	ee_page_va(ee, table)[index] = e;
}

/*
 * Lay out the agent's pages and build its page tables below the slot entry.
 * Page order: top, P4D, PDPT, physmap PDs, agent PD, PT code/ctl/stack,
 * PT program, PTs output, code, control, stack, program, output.
 */
static int ee_build(struct imee_ee *ee, u32 out_size)
{
	u32 code = DIV_ROUND_UP(ee->hdr.size, PAGE_SIZE);
	u32 nr_pd = ee->physmap_size >> 30;
	u32 out_pts, i, idx, pd, pt0, pt1, pto, stack, pdpt;

	ee->nr_out = out_size >> PAGE_SHIFT;
	out_pts = DIV_ROUND_UP(ee->nr_out, 512);
	idx = 0;
	ee->top = idx++;
	ee->p4d = idx++;
	ee->pdpt = idx++;
	pdpt = ee->pdpt;
	idx += nr_pd;			/* physmap PDs follow pdpt */
	pd = idx++;
	pt0 = idx++;
	pt1 = idx++;
	pto = idx;
	idx += out_pts;
	ee->code_pages = idx;
	idx += code;
	ee->ctl = idx++;
	stack = idx;
	idx += STACK_PAGES;
	ee->insns = idx;
	idx += INSN_PAGES;
	ee->out = idx;
	idx += ee->nr_out;
	ee->nr_pages = idx;

	ee->pages = kvcalloc(ee->nr_pages, sizeof(*ee->pages),
			     GFP_KERNEL_ACCOUNT);
	if (!ee->pages)
		return -ENOMEM;
	for (i = 0; i < ee->nr_pages; i++) {
		ee->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!ee->pages[i])
			return -ENOMEM;
		if (!(i & 255))
			cond_resched();
	}

	/* the slot entry itself is written at each activation */
	ee_set(ee, ee->p4d, 0, ee_page_gpa(ee, pdpt) | PTE_TABLE);
	/* physmap: 2 MiB pages, read-only */
	for (i = 0; i < nr_pd; i++) {
		u32 j;

		ee_set(ee, pdpt, i, ee_page_gpa(ee, pdpt + 1 + i) | PTE_TABLE);
		for (j = 0; j < 512; j++)
			ee_set(ee, pdpt + 1 + i, j,
			       (((u64)i << 30) + ((u64)j << 21)) |
			       PTE_P | PTE_A | PTE_PS | PTE_NX);
	}
	ee_set(ee, pdpt, AGENT_OFF >> 30, ee_page_gpa(ee, pd) | PTE_TABLE);
	ee_set(ee, pd, 0, ee_page_gpa(ee, pt0) | PTE_TABLE);
	ee_set(ee, pd, 1, ee_page_gpa(ee, pt1) | PTE_TABLE);
	for (i = 0; i < out_pts; i++)
		ee_set(ee, pd, 2 + i, ee_page_gpa(ee, pto + i) | PTE_TABLE);
	for (i = 0; i < code; i++)
		ee_set(ee, pt0, i, ee_page_gpa(ee, ee->code_pages + i) |
		       (ee->code_pages + i < ee_text_page(ee) ?
			PTE_P | PTE_A | PTE_NX : PTE_CODE));
	ee_set(ee, pt0, (CTL_OFF - AGENT_OFF) >> PAGE_SHIFT,
	       ee_page_gpa(ee, ee->ctl) | PTE_DATA);
	for (i = 0; i < STACK_PAGES; i++)
		ee_set(ee, pt0, ((STACK_OFF - AGENT_OFF) >> PAGE_SHIFT) + i,
		       ee_page_gpa(ee, stack + i) | PTE_DATA);
	for (i = 0; i < INSN_PAGES; i++)
		ee_set(ee, pt1, i, ee_page_gpa(ee, ee->insns + i) |
		       PTE_P | PTE_A | PTE_NX);
	for (i = 0; i < ee->nr_out; i++)
		ee_set(ee, pto + i / 512, i % 512,
		       ee_page_gpa(ee, ee->out + i) | PTE_DATA);

	for (i = 0; i < code; i++) {
		size_t off = (size_t)i << PAGE_SHIFT;

		memcpy(ee_page_va(ee, ee->code_pages + i),
		       imee_agent_blob + off,
		       min_t(size_t, PAGE_SIZE, ee->hdr.size - off));
	}
	return ee_map_agent(ee);
}

static int ee_check_agent(struct imee_agent_header *hdr)
{
	size_t len = imee_agent_blob_end - imee_agent_blob;

	if (len < sizeof(*hdr))
		return -ENOEXEC;
	memcpy(hdr, imee_agent_blob, sizeof(*hdr));
	if (hdr->magic != IMEE_AGENT_MAGIC ||
	    hdr->version != IMEE_AGENT_VERSION || hdr->size > len ||
	    hdr->size > CODE_MAX || hdr->entry >= hdr->size ||
	    hdr->fault_entry >= hdr->size ||
	    hdr->fault_entry < (hdr->entry & PAGE_MASK))
		return -ENOEXEC;
	return 0;
}

static void ee_free(struct imee_ee *ee)
{
	u32 i;

	if (ee->vcpu)
		ee->vendor->destroy(ee->vcpu);
	imee_npt_destroy(&ee->npt);
	imee_npt_destroy(&ee->agent_npt);
	ee_free_shadows(ee, false);
	ee_unpin_all(ee);
	xa_destroy(&ee->pins);
	if (ee->pages) {
		for (i = 0; i < ee->nr_pages; i++)
			if (ee->pages[i])
				__free_page(ee->pages[i]);
		kvfree(ee->pages);
	}
	mutex_destroy(&ee->lock);
	kfree(ee);
}

/* ------------------------------------------------------------------ */
/* Activations                                                          */
/* ------------------------------------------------------------------ */

struct ee_activation {
	struct imee_run *run;
	struct imee_agent_ctl *ctl;
	u64 slot_va;
	u32 levels;
	u64 deadline_ns;
	u32 restarts;
	bool done;
};

static u64 ee_sign_extend(u64 va, unsigned int levels)
{
	unsigned int bits = levels == 5 ? 57 : 48;

	return (u64)((s64)(va << (64 - bits)) >> (64 - bits));
}

/* The CR3 and paging mode to run on. */
static int ee_target_cr3(struct imee_ee *ee, struct imee_run *run, u64 *cr3,
			 u32 *levels)
{
	struct imee_vcpu_regs regs;
	int ret;

	if (!(run->flags & IMEE_RUN_F_VCPU_CR3)) {
		if (run->levels != 4 && run->levels != 5)
			return -EINVAL;
		*cr3 = run->cr3;
		*levels = run->levels;
		return 0;
	}
	ret = imee_kvm_vcpu_regs_one(ee->s->kvm, run->vcpu, &regs);
	if (ret)
		return ret;
	*cr3 = regs.cr3;
	*levels = (regs.cr4 & X86_CR4_LA57) ? 5 : 4;
	if (run->flags & IMEE_RUN_F_PTI_KERNEL)
		*cr3 &= ~0x1fffULL;
	return 0;
}

/*
 * Copy the target's top-level table into the agent's and put the agent in
 * a slot. Returns the slot's virtual address in *slot_va.
 */
static int ee_copy_top(struct imee_ee *ee, u64 cr3, u32 levels,
		       u64 *slot_va)
{
	u64 *top = ee_page_va(ee, ee->top);
	unsigned int slot = PREFERRED_SLOT, i;
	struct page *page;
	u64 *src;
	int ret;

	ret = ee_target_page(ee, (cr3 & PTE_ADDR) >> PAGE_SHIFT, &page);
	if (ret)
		return ret;
	src = kmap_local_page(page);
	for (i = 0; i < 512; i++)
		top[i] = READ_ONCE(src[i]);
	kunmap_local(src);

	if (top[slot] & PTE_P) {
		for (i = 0; i < 512; i++) {
			unsigned int cand = (PREFERRED_SLOT + i) % 512;

			if (!(top[cand] & PTE_P)) {
				slot = cand;
				break;
			}
		}
	}
	top[slot] = ee_page_gpa(ee, levels == 5 ? ee->p4d : ee->pdpt) |
		    PTE_TABLE;
	*slot_va = ee_sign_extend((u64)slot << (levels == 5 ? 48 : 39),
				  levels);
	return 0;
}

static void ee_enter_agent(struct imee_ee *ee, struct ee_activation *act,
			   u32 offset)
{
	const struct imee_vcpu_state st = {
		.rip = act->slot_va + AGENT_OFF + offset,
		.rsp = act->slot_va + STACK_OFF + STACK_PAGES * PAGE_SIZE,
		.rdi = act->slot_va + CTL_OFF,
		.cr3 = ee_page_gpa(ee, ee->top),
		.la57 = act->levels == 5,
	};

	ee->vendor->set_state(ee->vcpu, &st);
}

/* Set up the control page and enter the agent at its start. */
static void ee_start(struct imee_ee *ee, struct ee_activation *act)
{
	struct imee_agent_ctl *ctl = act->ctl;
	struct imee_run *run = act->run;
	u32 i;

	memset(ctl, 0, sizeof(*ctl));
	ctl->magic = IMEE_AGENT_MAGIC;
	ctl->insns_va = act->slot_va + INSNS_OFF;
	ctl->nr_insns = ee->nr_insns;
	ctl->levels = act->levels;
	ctl->out_va = act->slot_va + OUT_OFF;
	ctl->out_cap = (u64)ee->nr_out << PAGE_SHIFT;
	if (run->out_cap && run->out_cap < ctl->out_cap)
		ctl->out_cap = run->out_cap;
	ctl->physmap_va = act->slot_va;
	ctl->physmap_size = ee->physmap_size;
	ctl->slot_start = act->slot_va;
	ctl->slot_end = act->slot_va + (1ULL << (act->levels == 5 ? 48 : 39));
	ctl->max_steps = run->max_steps;
	ctl->view_switch = !!(ee->features & IMEE_HW_F_VIEWS);
	for (i = 0; i < ARRAY_SIZE(run->args); i++)
		ctl->state.regs[i] = run->args[i];
	ctl->state.status = ~0U;
	ee_enter_agent(ee, act, ee->hdr.entry);
}

/* The agent faulted reading the target: let it go on at fault_entry. */
static void ee_trap(struct imee_ee *ee, struct ee_activation *act, u32 fault,
		    u32 vector, u64 error, u64 addr)
{
	struct imee_agent_ctl *ctl = act->ctl;

	WRITE_ONCE(ctl->trap_fault, fault);
	WRITE_ONCE(ctl->trap_vector, vector);
	WRITE_ONCE(ctl->trap_error, error);
	WRITE_ONCE(ctl->trap_addr, addr);
	WRITE_ONCE(ctl->traps, ctl->traps + 1);
	ee_enter_agent(ee, act, ee->hdr.fault_entry);
}

enum ee_action {
	EE_GO_ON,	/* enter again */
	EE_DONE,	/* the agent halted */
	EE_PIN,		/* map a target frame (may sleep) */
	EE_SHADOW,	/* map a private copy of a target frame (may sleep) */
	EE_LEAVE,	/* leave the atomic section (resched, signal) */
	EE_RESTART,	/* start the activation over (see ee_exit()) */
};

/* Handle an exit without sleeping. Return an action or a negative errno. */
static int ee_exit(struct imee_ee *ee, struct ee_activation *act,
		   const struct imee_exit *exit, u64 *gfn)
{
	bool in_access = READ_ONCE(act->ctl->in_access);
	u64 access_addr = READ_ONCE(act->ctl->access_addr);
	unsigned long hva;
	int ret;

	/*
	 * The exit must carry the agent's state. Under an emulated CPU (the
	 * nested lab's QEMU) an exit was seen that carried the host's state
	 * instead (RIP just after the host's VMRUN, the host's CR3): the
	 * agent's state is lost. The agent only reads the target and writes
	 * its own pages, so the activation can start over.
	 */
	if (exit->kind != IMEE_EXIT_FAILED &&
	    (exit->cr3 & PTE_ADDR) != ee_page_gpa(ee, ee->top))
		goto restart;

	switch (exit->kind) {
	case IMEE_EXIT_HLT:
		return EE_DONE;
	case IMEE_EXIT_IRQ:
		act->run->irq_exits++;
		return need_resched() || signal_pending(current) ||
		       ktime_get_ns() > act->deadline_ns ? EE_LEAVE : EE_GO_ON;
	case IMEE_EXIT_EXCEPTION:
		if (!in_access)
			goto restart;
		if (exit->vector == X86_TRAP_PF) {
			ee_trap(ee, act, (exit->error & PF_ERR_RSVD) ?
				IMEE_PROG_FAULT_BAD_ENTRY :
				IMEE_PROG_FAULT_NOT_MAPPED,
				exit->vector, exit->error, exit->addr);
			return EE_GO_ON;
		}
		if (exit->vector == X86_TRAP_GP || exit->vector == X86_TRAP_SS) {
			ee_trap(ee, act, IMEE_PROG_FAULT_NON_CANONICAL,
				exit->vector, 0, access_addr);
			return EE_GO_ON;
		}
		break;
	case IMEE_EXIT_NPF:
		/* the agent's view maps all it needs and no target frame */
		if (!in_access || exit->agent_view)
			goto restart;
		*gfn = exit->addr >> PAGE_SHIFT;
		ret = exit->addr < ee->agent_gpa ?
		      imee_view_gfn_to_hva(ee->s, *gfn, &hva) : -ENXIO;
		if (ret == -ENXIO) {
			ee_trap(ee, act, IMEE_PROG_FAULT_OUT_OF_RAM, 0xffff,
				exit->error, access_addr);
			return EE_GO_ON;
		}
		if (ret && ret != -EAGAIN)
			return ret;
		if (!imee_npt_mapped(&ee->npt, exit->addr))
			return EE_PIN;
		if (exit->npf_write && exit->npf_walk)
			return EE_SHADOW;
		break;
	case IMEE_EXIT_MCE:
		/* let the host's handler see it, as KVM does */
		asm volatile("int $0x12");
		return -EIO;
	case IMEE_EXIT_FAILED:
		break;
	}
	pr_warn_ratelimited("ImEE exit %#llx (vector %u, info %#llx, %#llx) at access %d: rip %#llx cr3 %#llx\n",
			    exit->raw, exit->vector, exit->error, exit->addr,
			    in_access, exit->rip, exit->cr3);
	return -EIO;

restart:
	/*
	 * An exception or nested fault outside any access is an agent bug
	 * on real hardware (it would recur, and fail after MAX_RESTARTS), or
	 * the emulator's: start over.
	 */
	pr_warn_ratelimited("ImEE exit %#llx (vector %u, info %#llx, %#llx) outside an access (rip %#llx, cr3 %#llx, the agent's %#llx): activation restarted\n",
			    exit->raw, exit->vector, exit->error, exit->addr,
			    exit->rip, exit->cr3, ee_page_gpa(ee, ee->top));
	return EE_RESTART;
}

/* Run the agent until it halts. Called with ee->lock held. */
static int ee_loop(struct imee_ee *ee, struct ee_activation *act)
{
	struct imee_run *run = act->run;
	struct imee_exit exit;
	u64 gfn = 0, t;
	struct page *page;
	int action, ret;

	for (;;) {
		if (signal_pending(current))
			return -EINTR;
		if (ktime_get_ns() > act->deadline_ns)
			return -ETIME;

		preempt_disable();
		do {
			if (run->exits >= MAX_EXITS) {
				action = -ETIME;
				break;
			}
			t = ktime_get_ns();
			local_irq_disable();
			ret = ee->vendor->enter(ee->vcpu, &exit);
			local_irq_enable();
			run->guest_ns += ktime_get_ns() - t;
			if (ret) {
				action = ret;
				break;
			}
			run->exits++;
			action = ee_exit(ee, act, &exit, &gfn);
			if (action == EE_GO_ON &&
			    !(run->exits & (EXITS_PER_BURST - 1)))
				action = EE_LEAVE;
		} while (action == EE_GO_ON);
		ee->vendor->leave(ee->vcpu);
		preempt_enable();

		/* fault injection: the path an ImEE whose state was lost takes */
		if (action == EE_DONE &&
		    act->restarts < min_t(u32, READ_ONCE(test_restarts), MAX_RESTARTS))
			action = EE_RESTART;
		switch (action) {
		case EE_DONE:
			return 0;
		case EE_LEAVE:
			cond_resched();
			break;
		case EE_PIN:
			ret = ee_target_page(ee, gfn, &page);
			if (ret == -ENXIO) {
				ee_trap(ee, act, IMEE_PROG_FAULT_OUT_OF_RAM,
					0xffff, 0, act->ctl->access_addr);
				break;
			}
			if (ret)
				return ret;
			run->npt_faults++;
			break;
		case EE_SHADOW:
			ret = ee_shadow(ee, gfn);
			if (ret)
				return ret;
			run->ad_copies++;
			break;
		case EE_RESTART:
			if (act->restarts++ == MAX_RESTARTS)
				return -EIO;
			run->restarts = act->restarts;
			ee_start(ee, act);
			break;
		default:
			return action;
		}
	}
}

static int ee_activate(struct imee_ee *ee, struct imee_run *run)
{
	struct imee_agent_ctl *ctl = (void *)ee_page_va(ee, ee->ctl);
	struct ee_activation act = { .run = run, .ctl = ctl };
	struct imee_epoch epoch;
	u64 start = ktime_get_ns(), cr3;
	u32 levels;
	int ret;

	ret = imee_view_epoch(ee->s, &epoch);
	if (ret == -ESRCH)
		ee_drop_target(ee);	/* the target is gone: let its pages go */
	if (ret)
		return ret;
	if (epoch.ram_end > ee->agent_gpa)
		return -EBUSY;	/* the target grew into the agent's pages */
	if (epoch.inval_seq != ee->epoch.inval_seq ||
	    epoch.snap_id != ee->epoch.snap_id)
		ee_drop_target(ee);
	ee->epoch = epoch;
	ee_refresh_shadows(ee);

	ret = ee_target_cr3(ee, run, &cr3, &levels);
	if (ret)
		return ret;
	/* a host kernel with 4-level paging may still run 5-level guests */
	if (levels == 5 && !(cpuid_ecx(7) & BIT(X86_FEATURE_LA57 & 31)))
		return -EOPNOTSUPP;
	act.levels = levels;
	run->cr3_used = cr3;
	ret = ee_copy_top(ee, cr3, levels, &act.slot_va);
	if (ret)
		return ret == -ENXIO ? -EFAULT : ret;

	ee_start(ee, &act);
	act.deadline_ns = start + (u64)max_run_ms * NSEC_PER_MSEC;
	ret = ee_loop(ee, &act);
	run->run_ns = ktime_get_ns() - start;
	if (ret)
		return ret;

	/* the control page is writable by the guest's walker: check it */
	if (ctl->state.status > IMEE_STATUS_BAD_PROGRAM ||
	    ctl->state.out_len > ctl->out_cap) {
		pr_warn_ratelimited("ImEE agent left a bad state\n");
		return -EIO;
	}
	run->status = ctl->state.status;
	run->fault = ctl->state.fault;
	run->fault_addr = ctl->state.fault_addr;
	run->pc = ctl->state.pc;
	run->out_len = ctl->state.out_len;
	run->steps = ctl->state.steps;
	run->traps = min_t(u64, ctl->traps, U32_MAX);
	memcpy(run->regs, ctl->state.regs, sizeof(run->regs));
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ImEE fd                                                          */
/* ------------------------------------------------------------------ */

static long ee_load(struct imee_ee *ee, void __user *uarg)
{
	struct imee_insn *insns;
	struct imee_load ld;
	u64 start = ktime_get_ns();
	u32 bad = 0, i;
	size_t len;
	long ret;

	ret = imee_copy_args(&ld, sizeof(ld), sizeof(ld), uarg);
	if (ret)
		return ret;
	if (ld.flags || !ld.nr_insns || ld.nr_insns > IMEE_PROG_MAX_INSNS)
		return -EINVAL;
	len = (size_t)ld.nr_insns * sizeof(*insns);
	insns = vmemdup_user(u64_to_user_ptr(ld.insns), len);
	if (IS_ERR(insns))
		return PTR_ERR(insns);
	ret = imee_prog_check(insns, ld.nr_insns, &bad);
	if (ret) {
		ld.bad_insn = bad;
		if (put_user(bad, &((struct imee_load __user *)uarg)->bad_insn))
			ret = -EFAULT;
		kvfree(insns);
		return ret;
	}

	mutex_lock(&ee->lock);
	for (i = 0; i < DIV_ROUND_UP(len, PAGE_SIZE); i++) {
		size_t off = (size_t)i << PAGE_SHIFT;

		memcpy(ee_page_va(ee, ee->insns + i), (u8 *)insns + off,
		       min_t(size_t, PAGE_SIZE, len - off));
	}
	ee->nr_insns = ld.nr_insns;
	mutex_unlock(&ee->lock);
	kvfree(insns);

	ld.bad_insn = 0;
	ld.load_ns = ktime_get_ns() - start;
	if (copy_to_user(uarg, &ld, sizeof(ld)))
		return -EFAULT;
	return 0;
}

static long ee_run(struct imee_ee *ee, void __user *uarg)
{
	struct imee_run run;
	long ret;

	ret = imee_copy_args(&run, sizeof(run), sizeof(run), uarg);
	if (ret)
		return ret;
	if (run.flags & ~(IMEE_RUN_F_VCPU_CR3 | IMEE_RUN_F_PTI_KERNEL))
		return -EINVAL;
	if ((run.flags & IMEE_RUN_F_PTI_KERNEL) &&
	    !(run.flags & IMEE_RUN_F_VCPU_CR3))
		return -EINVAL;
	if (!run.max_steps || run.max_steps > (1ULL << 32))
		run.max_steps = 1ULL << 32;
	/* outputs start from zero */
	run.status = 0;
	run.fault = 0;
	run.fault_addr = 0;
	run.pc = 0;
	run.out_len = 0;
	run.steps = 0;
	memset(run.regs, 0, sizeof(run.regs));
	run.cr3_used = 0;
	run.run_ns = 0;
	run.guest_ns = 0;
	run.exits = 0;
	run.npt_faults = 0;
	run.ad_copies = 0;
	run.irq_exits = 0;
	run.traps = 0;
	run.restarts = 0;
	run.mem_pages = 0;
	run.pinned = 0;

	if (mutex_lock_interruptible(&ee->lock))
		return -EINTR;
	if (!ee->nr_insns)
		ret = -ENOENT;
	else
		ret = ee_activate(ee, &run);
	/* what it holds now (the xarray's own nodes aside) */
	run.mem_pages = min_t(unsigned long, U32_MAX,
			      ee->nr_pages + ee->npt.nr_tables +
			      ee->agent_npt.nr_tables + ee->nr_shadows);
	run.pinned = min_t(unsigned long, U32_MAX, ee->nr_pins);
	mutex_unlock(&ee->lock);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &run, sizeof(run)))
		return -EFAULT;
	return 0;
}

static long ee_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct imee_ee *ee = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (IMEE_IOC_BASE(cmd)) {
	case IMEE_IOC_BASE(IMEE_LOAD):
		return ee_load(ee, uarg);
	case IMEE_IOC_BASE(IMEE_RUN):
		return ee_run(ee, uarg);
	default:
		return -ENOTTY;
	}
}

/* The output buffer, read-only. */
static int ee_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct imee_ee *ee = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;

	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_pgoff || len > ((unsigned long)ee->nr_out << PAGE_SHIFT))
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYWRITE;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return vm_map_pages_zero(vma, ee->pages + ee->out,
				 len >> PAGE_SHIFT);
}

static int ee_release(struct inode *inode, struct file *file)
{
	struct imee_ee *ee = file->private_data;
	struct imee_session *s = ee->s;
	struct file *sfile = ee->sfile;

	ee_free(ee);
	spin_lock(&s->lock);
	s->has_ee = false;
	spin_unlock(&s->lock);
	fput(sfile);
	return 0;
}

static const struct file_operations imee_ee_fops = {
	.owner		= THIS_MODULE,
	.release	= ee_release,
	.unlocked_ioctl	= ee_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= ee_mmap,
	.llseek		= no_llseek,
};

/**
 * imee_ee_create() - IMEE_CREATE: build the ImEE of a session
 * @s:		the session
 * @sfile:	its file
 * @uarg:	struct imee_create
 *
 * Return: the ImEE fd, or a negative errno (see the uapi header).
 */
long imee_ee_create(struct imee_session *s, struct file *sfile,
		    void __user *uarg)
{
	const struct imee_vendor *vendor = imee_vendor();
	u64 start = ktime_get_ns();
	struct imee_create cr;
	struct imee_ee *ee;
	struct file *file;
	bool busy;
	long ret;
	int fd;

	ret = imee_copy_args(&cr, sizeof(cr), sizeof(cr), uarg);
	if (ret)
		return ret;
	if (cr.flags || cr.hw_flags || cr.reserved32 || cr.reserved[0] ||
	    cr.reserved[1] || cr.reserved[2])
		return -EINVAL;
	if (!cr.out_size)
		cr.out_size = OUT_DEFAULT;
	if (cr.out_size % PAGE_SIZE || cr.out_size > OUT_MAX)
		return -EINVAL;
	if (!vendor)
		return -EOPNOTSUPP;

	spin_lock(&s->lock);
	busy = s->has_ee;
	s->has_ee = true;
	spin_unlock(&s->lock);
	if (busy)
		return -EBUSY;

	ret = -ENOMEM;
	ee = kzalloc(sizeof(*ee), GFP_KERNEL_ACCOUNT);
	if (!ee)
		goto err_busy;
	ee->s = s;
	ee->vendor = vendor;
	mutex_init(&ee->lock);
	xa_init(&ee->pins);

	ret = ee_check_agent(&ee->hdr);
	if (ret) {
		pr_err("the embedded agent is not valid\n");
		goto err_free;
	}
	ret = imee_view_epoch(s, &ee->epoch);
	if (ret)
		goto err_free;
	ee->physmap_size = min_t(u64, round_up(ee->epoch.ram_end, SZ_1G),
				 PHYSMAP_MAX);
	ee->agent_gpa = round_up(ee->epoch.ram_end, SZ_1G) + SZ_1G;
	if (ee->agent_gpa + SZ_1G > BIT_ULL(boot_cpu_data.x86_phys_bits)) {
		ret = -ENOSPC;
		goto err_free;
	}
	ee->features = vendor->features();
	ret = imee_npt_init(&ee->npt, vendor->npt_fmt, vendor->npt_levels());
	if (!ret && (ee->features & IMEE_HW_F_VIEWS))
		ret = imee_npt_init(&ee->agent_npt, vendor->npt_fmt,
				    vendor->npt_levels());
	if (ret)
		goto err_free;
	ret = ee_build(ee, cr.out_size);
	if (ret)
		goto err_free;
	ret = vendor->create(&ee->npt, (ee->features & IMEE_HW_F_VIEWS) ?
			     &ee->agent_npt : NULL, ee->features, &ee->vcpu);
	if (ret)
		goto err_free;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	ee->sfile = get_file(sfile);
	file = anon_inode_getfile("[imee-ee]", &imee_ee_fops, ee, O_RDWR);
	if (IS_ERR(file)) {
		fput(sfile);
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto err_free;
	}
	cr.hw = vendor->hw;
	cr.hw_flags = ee->features;
	cr.launch_ns = ktime_get_ns() - start;
	if (copy_to_user(uarg, &cr, sizeof(cr))) {
		/* the release undoes everything */
		fput(file);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return fd;

err_free:
	ee_free(ee);
err_busy:
	spin_lock(&s->lock);
	s->has_ee = false;
	spin_unlock(&s->lock);
	return ret;
}
