// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the ImEE's nested page table (AMD NPT or Intel EPT).
 *
 * One builder for both: they are radix trees of 512-entry tables that map
 * guest-physical to host-physical addresses; only the bits of an entry
 * differ (struct imee_npt_fmt). Only 4 KiB leaves are used, so that each
 * target frame can be mapped, remapped and unmapped on its own.
 *
 * Tables are host pages of the direct map. The ImEE's owner changes entries
 * only while its vCPU is not running (struct imee_ee's lock, one activation
 * at a time), and flushes the ImEE's TLB at the next entry after changing or
 * removing a present leaf; adding a leaf needs no flush.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <asm/io.h>

#include "ee.h"

/*
 * AMD NPT: the x86 page-table format; walks are user accesses. Every present
 * entry is readable (IMEE_NPT_XO is ignored).
 */
#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_NX		BIT_ULL(63)

static u64 npt_table(phys_addr_t pa)
{
	return pa | NPT_P | NPT_RW | NPT_US | NPT_A;
}

static u64 npt_leaf(phys_addr_t pa, unsigned int prot)
{
	u64 e = pa | NPT_P | NPT_US | NPT_A;

	if (prot & IMEE_NPT_W)
		e |= NPT_RW | NPT_D;
	if (!(prot & IMEE_NPT_X))
		e |= NPT_NX;
	return e;
}

const struct imee_npt_fmt imee_npt_fmt_amd = {
	.table	= npt_table,
	.leaf	= npt_leaf,
	.present = NPT_P,
};

/*
 * Intel EPT: read, write, execute; leaves write-back, PAT ignored. An
 * IMEE_NPT_XO leaf is execute-only (the caller checked that the CPU allows
 * it; else the entry is a misconfiguration).
 */
#define EPT_R		BIT_ULL(0)
#define EPT_W		BIT_ULL(1)
#define EPT_X		BIT_ULL(2)
#define EPT_MT_WB	(6ULL << 3)
#define EPT_IPAT	BIT_ULL(6)

static u64 ept_table(phys_addr_t pa)
{
	return pa | EPT_R | EPT_W | EPT_X;
}

static u64 ept_leaf(phys_addr_t pa, unsigned int prot)
{
	u64 e = pa | EPT_MT_WB | EPT_IPAT;

	/* execute-only needs the CPU's support: the caller knows */
	if (!(prot & IMEE_NPT_XO) || !(prot & IMEE_NPT_X))
		e |= EPT_R;
	if (prot & IMEE_NPT_W)
		e |= EPT_W;
	if (prot & IMEE_NPT_X)
		e |= EPT_X;
	return e;
}

const struct imee_npt_fmt imee_npt_fmt_intel = {
	.table	= ept_table,
	.leaf	= ept_leaf,
	.present = EPT_R | EPT_W | EPT_X,
};

#define NPT_ADDR_MASK	GENMASK_ULL(51, 12)

static u64 *npt_table_va(u64 entry)
{
	return phys_to_virt(entry & NPT_ADDR_MASK);
}

/**
 * imee_npt_init() - an empty nested page table
 * @npt:	to initialise
 * @fmt:	its entry format
 * @levels:	4 or 5
 *
 * Return: 0 or -ENOMEM.
 */
int imee_npt_init(struct imee_npt *npt, const struct imee_npt_fmt *fmt,
		  unsigned int levels)
{
	npt->fmt = fmt;
	npt->levels = levels;
	npt->nr_tables = 1;
	npt->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return npt->root ? 0 : -ENOMEM;
}

static void npt_free_table(u64 *table, unsigned int level,
			   const struct imee_npt_fmt *fmt)
{
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < 512; i++)
			if (table[i] & fmt->present)
				npt_free_table(npt_table_va(table[i]),
					       level - 1, fmt);
	}
	free_page((unsigned long)table);
}

/* Free every table. The vCPU must never run on it again. */
void imee_npt_destroy(struct imee_npt *npt)
{
	if (npt->root)
		npt_free_table(npt->root, npt->levels, npt->fmt);
	npt->root = NULL;
}

static unsigned int npt_index(u64 gpa, unsigned int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & 511;
}

/*
 * The leaf entry for @gpa; with @alloc, missing tables are allocated
 * (NULL on -ENOMEM), else NULL when one is missing.
 */
static u64 *npt_leaf_entry(struct imee_npt *npt, u64 gpa, bool alloc)
{
	const struct imee_npt_fmt *fmt = npt->fmt;
	u64 *table = npt->root;
	unsigned int level;
	u64 *e;

	for (level = npt->levels; level > 1; level--) {
		e = &table[npt_index(gpa, level)];
		if (!(*e & fmt->present)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!next)
				return NULL;
			npt->nr_tables++;
			*e = fmt->table(virt_to_phys(next));
		}
		table = npt_table_va(*e);
	}
	return &table[npt_index(gpa, 1)];
}

/**
 * imee_npt_map() - map one 4 KiB guest frame
 * @npt:	the table
 * @gpa:	guest-physical address (page aligned)
 * @hpa:	host-physical address (page aligned)
 * @prot:	IMEE_NPT_* permissions (read is implied)
 *
 * Replaces any mapping of @gpa (the caller flushes the ImEE's TLB then).
 * Return: 0 or -ENOMEM.
 */
int imee_npt_map(struct imee_npt *npt, u64 gpa, phys_addr_t hpa,
		 unsigned int prot)
{
	u64 *e = npt_leaf_entry(npt, gpa, true);

	if (!e)
		return -ENOMEM;
	WRITE_ONCE(*e, npt->fmt->leaf(hpa, prot));
	return 0;
}

/* Is @gpa mapped? */
bool imee_npt_mapped(struct imee_npt *npt, u64 gpa)
{
	u64 *e = npt_leaf_entry(npt, gpa, false);

	return e && (*e & npt->fmt->present);
}

static bool npt_clear_range(struct imee_npt *npt, u64 *table,
			    unsigned int level, u64 base, u64 start, u64 end)
{
	const struct imee_npt_fmt *fmt = npt->fmt;
	u64 span = 1ULL << (12 + 9 * (level - 1));
	bool cleared = false;
	unsigned int i;

	for (i = 0; i < 512; i++) {
		u64 lo = base + i * span, hi = lo + span;

		if (hi <= start || lo >= end || !(table[i] & fmt->present))
			continue;
		if (level == 1) {
			WRITE_ONCE(table[i], 0);
			cleared = true;
		} else {
			cleared |= npt_clear_range(npt, npt_table_va(table[i]),
						   level - 1, lo, start, end);
		}
		if (level >= 3)
			cond_resched();
	}
	return cleared;
}

/**
 * imee_npt_unmap_range() - remove the leaves of [@start, @end)
 * @npt:	the table
 * @start:	first guest-physical address
 * @end:	end (exclusive)
 *
 * Tables stay allocated. May sleep.
 * Return: whether a present leaf was removed (the TLB must be flushed).
 */
bool imee_npt_unmap_range(struct imee_npt *npt, u64 start, u64 end)
{
	return npt_clear_range(npt, npt->root, npt->levels, 0, start, end);
}
