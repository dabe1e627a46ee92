// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 page walks in software: 4-level and 5-level (LA57) IA-32e paging,
 * 4 KiB, 2 MiB and 1 GiB pages, done the way the MMU does them, with every
 * entry checked as the MMU checks it. The walker knows nothing of any guest
 * OS and reads memory only through struct imee_mem, so it is a pure function
 * of the memory it is given.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define PTE_PRESENT (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7) /* at levels 2-3; bit 7 of a PTE is PAT */
#define PTE_XD (1ULL << 63)

#define ENTRIES_SHIFT 9 /* 512 entries of 8 bytes per table */
#define ENTRIES_MASK ((1U << ENTRIES_SHIFT) - 1)
#define ARCH_MAXPHYADDR 52
#define MIN_MAXPHYADDR 32

enum imee_paging imee_paging_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & CR0_PG))
		return IMEE_PAGING_OFF;
	if (!(cr4 & CR4_PAE))
		return IMEE_PAGING_32BIT;
	if (!(efer & EFER_LMA))
		return IMEE_PAGING_PAE;
	return (cr4 & CR4_LA57) ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL;
}

const char *imee_paging_name(enum imee_paging paging)
{
	switch (paging) {
	case IMEE_PAGING_OFF:
		return "off";
	case IMEE_PAGING_32BIT:
		return "32-bit";
	case IMEE_PAGING_PAE:
		return "pae";
	case IMEE_PAGING_4LEVEL:
		return "4-level";
	case IMEE_PAGING_5LEVEL:
		return "5-level";
	}
	return "unknown";
}

void imee_walk_opts_from_vcpu(const struct imee_vcpu_regs *vcpu, struct imee_walk_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->paging = imee_paging_mode(vcpu->cr0, vcpu->cr4, vcpu->efer);
	opts->cr3 = vcpu->cr3;
	opts->flags = (vcpu->efer & EFER_NXE) ? 0 : IMEE_WALK_F_NO_NXE;
}

const char *imee_walk_level_name(unsigned int level)
{
	static const char *const names[] = { "", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

	return level < IMEE_ARRAY_SIZE(names) ? names[level] : "?";
}

/* The table that entries of this level live in. */
static const char *table_name(unsigned int level)
{
	static const char *const names[] = {
		[1] = "page table", [2] = "page directory", [3] = "page-directory-pointer table",
		[4] = "PML4 table", [5] = "PML5 table",
	};

	return level && level < IMEE_ARRAY_SIZE(names) ? names[level] : "?";
}

/* Bytes from va to the end of the naturally aligned 2^bits block holding it. */
static uint64_t rest_of_block(uint64_t va, unsigned int bits)
{
	uint64_t size = 1ULL << bits;

	return size - (va & (size - 1));
}

/* Bit shift of the address range one entry of this level maps. */
static unsigned int level_shift(unsigned int level)
{
	return IMEE_PAGE_SHIFT + ENTRIES_SHIFT * (level - 1);
}

static int read_entry(const struct imee_mem *mem, uint64_t gpa, uint64_t *entry)
{
	uint64_t raw;
	int err;

	if (mem->ops->read_u64)
		return mem->ops->read_u64(mem->ctx, gpa, entry);
	err = mem->ops->read(mem->ctx, gpa, &raw, sizeof(raw));
	if (err)
		return err;
	*entry = le64toh(raw);
	return 0;
}

static bool mem_ok(const struct imee_mem *mem)
{
	return mem && mem->ops && (mem->ops->read || mem->ops->read_u64);
}

/* Validated walk parameters. */
struct walk_params {
	unsigned int levels;
	unsigned int va_bits;
	uint64_t phys_mask; /* bits below MAXPHYADDR */
	uint64_t reserved; /* reserved in every entry: bits 51..MAXPHYADDR, XD without NXE */
	bool nxe;
	uint64_t root;
};

static int walk_params(const struct imee_walk_opts *opts, struct walk_params *p)
{
	unsigned int maxphyaddr;

	if (!imee_opts_ok(opts, opts ? opts->sz : 0, imee_offsetofend(struct imee_walk_opts, flags),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "bad page-walk options");
	if (opts->flags & ~IMEE_WALK_F_NO_NXE)
		return imee_fail(-EINVAL, "unknown page-walk flags 0x%" PRIx32, opts->flags);
	switch (opts->paging) {
	case IMEE_PAGING_4LEVEL:
		p->levels = 4;
		break;
	case IMEE_PAGING_5LEVEL:
		p->levels = 5;
		break;
	default:
		return imee_fail(-EOPNOTSUPP,
				 "paging mode \"%s\" is not supported (only 4-level and 5-level)",
				 imee_paging_name(opts->paging));
	}
	maxphyaddr = opts->maxphyaddr ? opts->maxphyaddr : ARCH_MAXPHYADDR;
	if (maxphyaddr < MIN_MAXPHYADDR || maxphyaddr > ARCH_MAXPHYADDR)
		return imee_fail(-EINVAL, "MAXPHYADDR %u is not in %d..%d", maxphyaddr,
				 MIN_MAXPHYADDR, ARCH_MAXPHYADDR);
	p->va_bits = level_shift(p->levels) + ENTRIES_SHIFT;
	p->phys_mask = (1ULL << maxphyaddr) - 1;
	p->nxe = !(opts->flags & IMEE_WALK_F_NO_NXE);
	p->reserved = ((1ULL << ARCH_MAXPHYADDR) - 1) & ~p->phys_mask;
	if (!p->nxe)
		p->reserved |= PTE_XD;
	p->root = opts->cr3 & p->phys_mask & IMEE_PAGE_MASK;
	return 0;
}

/* Bits that must be zero in an entry of this level, given its PS bit. */
static uint64_t entry_reserved(const struct walk_params *p, unsigned int level, bool ps)
{
	uint64_t rsvd = p->reserved;

	/*
	 * A large page's frame is aligned to its size: the address bits
	 * between the PAT bit (12) and the page size are reserved.
	 */
	if (ps && level == 3)
		rsvd |= ((1ULL << 30) - 1) & ~((1ULL << 13) - 1); /* bits 29:13 */
	if (ps && level == 2)
		rsvd |= ((1ULL << 21) - 1) & ~((1ULL << 13) - 1); /* bits 20:13 */
	return rsvd;
}

static bool canonical(uint64_t va, unsigned int va_bits)
{
	unsigned int unused = 64 - va_bits;

	/* bits 63..va_bits-1 must all equal bit va_bits-1 */
	return (uint64_t)((int64_t)(va << unused) >> unused) == va;
}

int imee_walk(const struct imee_mem *mem, const struct imee_walk_opts *opts, uint64_t va,
	      struct imee_walk *walk_ret)
{
	struct walk_params p = { 0 };
	struct imee_walk w;
	uint64_t table;
	unsigned int level;
	int err;

	if (!mem_ok(mem) || !walk_ret)
		return imee_fail(-EINVAL, "page walk: no memory or no result");
	err = walk_params(opts, &p);
	if (err)
		return err;

	memset(&w, 0, sizeof(w));
	w.va = va;
	if (!canonical(va, p.va_bits)) {
		/* va lies in the hole between the halves; the upper half starts here: */
		uint64_t upper = ~((1ULL << (p.va_bits - 1)) - 1);

		w.fault = IMEE_FAULT_NON_CANONICAL;
		w.skip = upper - va;
		*walk_ret = w;
		return 0;
	}

	w.writable = true;
	w.user = true;
	table = p.root;
	/* One iteration per level: at most 5. */
	for (level = p.levels; level >= 1; level--) {
		unsigned int shift = level_shift(level);
		unsigned int index = (va >> shift) & ENTRIES_MASK;
		uint64_t entry_gpa = table + (uint64_t)index * sizeof(uint64_t);
		struct imee_walk_step *step;
		uint64_t entry, bad;
		bool ps;

		err = read_entry(mem, entry_gpa, &entry);
		if (err == -ENXIO) {
			/* The table is not in RAM: nothing the parent entry maps is reachable. */
			w.fault = IMEE_FAULT_OUT_OF_RAM;
			w.level = level;
			w.skip = rest_of_block(va, shift + ENTRIES_SHIFT);
			w.pa = table;
			*walk_ret = w;
			return 0;
		}
		if (err)
			return imee_fail_context(err, "reading the %s at 0x%" PRIx64,
						 imee_walk_level_name(level), entry_gpa);

		step = &w.steps[w.nr_steps++];
		step->level = level;
		step->index = index;
		step->table = table;
		step->entry = entry;

		if (!(entry & PTE_PRESENT)) {
			w.fault = IMEE_FAULT_NOT_MAPPED;
			w.level = level;
			w.skip = rest_of_block(va, shift);
			*walk_ret = w;
			return 0;
		}
		ps = level > 1 && (entry & PTE_PS);
		bad = entry & entry_reserved(&p, level, ps);
		if (ps && level > 3)
			bad |= PTE_PS; /* no pages larger than 1 GiB: PS is reserved here */
		if (bad) {
			w.fault = IMEE_FAULT_BAD_ENTRY;
			w.level = level;
			w.bad_bits = bad;
			w.skip = rest_of_block(va, shift);
			*walk_ret = w;
			return 0;
		}

		/* Access rights combine across levels: any level can take them away. */
		w.writable = w.writable && (entry & PTE_RW);
		w.user = w.user && (entry & PTE_US);
		w.nx = w.nx || (p.nxe && (entry & PTE_XD));

		if (level == 1 || ps) {
			uint64_t page_size = 1ULL << shift;
			uint64_t frame = entry & p.phys_mask & ~(page_size - 1);

			w.level = level;
			w.page_size = page_size;
			w.pa = frame | (va & (page_size - 1));
			w.skip = rest_of_block(va, shift);
			if (mem->ops->is_ram &&
			    !mem->ops->is_ram(mem->ctx, w.pa & IMEE_PAGE_MASK, IMEE_PAGE_SIZE)) {
				/* Only this 4 KiB frame is known to be outside RAM. */
				w.fault = IMEE_FAULT_OUT_OF_RAM;
				w.skip = rest_of_block(va, IMEE_PAGE_SHIFT);
			}
			*walk_ret = w;
			return 0;
		}
		table = entry & p.phys_mask & IMEE_PAGE_MASK;
	}
	/* Not reached: level 1 always ends the walk. */
	return imee_fail(-EINVAL, "page walk did not end");
}

int imee_walk_error(const struct imee_walk *w)
{
	int err = imee_fault_errno(w->fault);
	const struct imee_walk_step *last = w->nr_steps ? &w->steps[w->nr_steps - 1] : NULL;
	const char *what;

	switch (w->fault) {
	case IMEE_FAULT_NONE:
		return 0;
	case IMEE_FAULT_NON_CANONICAL:
		return imee_fail_fault(err, w->fault, 0, w->va,
				       "0x%" PRIx64 " is not a canonical address", w->va);
	case IMEE_FAULT_NOT_MAPPED:
		return imee_fail_fault(err, w->fault, w->level, w->va,
				       "0x%" PRIx64 " is not mapped: %s %u of the %s at 0x%" PRIx64
				       " is not present (0x%" PRIx64 ")",
				       w->va, imee_walk_level_name(w->level),
				       last ? last->index : 0, table_name(w->level),
				       last ? last->table : 0, last ? last->entry : 0);
	case IMEE_FAULT_BAD_ENTRY:
		what = (w->bad_bits & PTE_PS) && w->level > 3 ? "sets PS, which this level cannot"
							      : "has reserved bits set";
		return imee_fail_fault(err, w->fault, w->level, w->va,
				       "0x%" PRIx64 ": %s %u of the %s at 0x%" PRIx64 " (0x%" PRIx64
				       ") %s (0x%" PRIx64 ")",
				       w->va, imee_walk_level_name(w->level),
				       last ? last->index : 0, table_name(w->level),
				       last ? last->table : 0, last ? last->entry : 0, what,
				       w->bad_bits);
	case IMEE_FAULT_OUT_OF_RAM:
		if (last && last->level == w->level)
			return imee_fail_fault(err, w->fault, w->level, w->va,
					       "0x%" PRIx64 " maps to 0x%" PRIx64
					       ", which is not guest RAM",
					       w->va, w->pa);
		return imee_fail_fault(err, w->fault, w->level, w->va,
				       "0x%" PRIx64 ": the %s at 0x%" PRIx64
				       " is not in guest RAM (pointed to by %s)",
				       w->va, table_name(w->level), w->pa,
				       last ? imee_walk_level_name(last->level) : "CR3");
	}
	return imee_fail(-EINVAL, "unknown page-walk fault %d", (int)w->fault);
}

int imee_virt_read(const struct imee_mem *mem, const struct imee_walk_opts *opts, uint64_t va,
		   void *buf, size_t len)
{
	size_t done = 0;
	int err;

	if (!mem_ok(mem) || !mem->ops->read || (!buf && len))
		return imee_fail(-EINVAL, "virtual read: bad arguments");
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - va)
		return imee_fail(-EINVAL, "virtual range 0x%" PRIx64 " + %zu wraps around", va,
				 len);

	/* Each iteration consumes at least one byte (skip >= 1): at most len rounds. */
	while (done < len) {
		uint64_t at = va + done;
		struct imee_walk w;
		size_t chunk;

		err = imee_walk(mem, opts, at, &w);
		if (err)
			return err;
		if (w.fault)
			return imee_walk_error(&w);
		chunk = len - done;
		if (w.skip < chunk)
			chunk = (size_t)w.skip;
		err = mem->ops->read(mem->ctx, w.pa, (char *)buf + done, chunk);
		if (err == -ENXIO)
			return imee_fail_fault(err, IMEE_FAULT_OUT_OF_RAM, w.level, at,
					       "0x%" PRIx64 " maps to 0x%" PRIx64
					       ", which is not guest RAM",
					       at, w.pa);
		if (err)
			return imee_fail_context(err, "reading 0x%" PRIx64 " at 0x%" PRIx64, at,
						 w.pa);
		done += chunk;
	}
	return 0;
}
