// SPDX-License-Identifier: GPL-2.0
/*
 * Page walks over synthetic page tables: both paging modes, every page size,
 * permissions combined across levels, every fault and the skip it reports,
 * reserved bits, and the Linux PTI rule.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "tap.h"

#define RAM_SIZE (16ULL << 20)
#define KVA 0xffffffff81234567ULL /* a kernel text address */
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

static struct fake_mem fm;
static struct imee_mem mem;
static uint64_t root;

/* Fresh RAM with an empty top-level table. */
static void setup(void)
{
	fake_free(&fm);
	fake_init(&fm, RAM_SIZE);
	mem = fake_mem(&fm);
	root = fake_table(&fm, 1);
}

static struct imee_walk_opts opts_for(unsigned int levels)
{
	IMEE_OPTS(imee_walk_opts, o,
		  .paging = levels == 5 ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL, .cr3 = root);
	return o;
}

static int walk(unsigned int levels, uint64_t va, struct imee_walk *w)
{
	struct imee_walk_opts o = opts_for(levels);

	memset(w, 0xa5, sizeof(*w)); /* catch fields left unset */
	return imee_walk(&mem, &o, va, w);
}

static void four_level_4k(void)
{
	struct imee_walk w;
	unsigned int i;

	setup();
	fake_map(&fm, root, 4, KVA & ~0xfffULL, 0x345000, SZ_4K, PTE_RW);
	REQUIRE(walk(4, KVA, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x345567);
	EXPECT_U64(w.page_size, SZ_4K);
	EXPECT_INT(w.level, 1);
	EXPECT_U64(w.skip, 0x1000 - 0x567);
	EXPECT(w.writable);
	EXPECT(!w.user); /* the leaf lacks US */
	EXPECT(!w.nx);
	REQUIRE(w.nr_steps == 4);
	EXPECT_U64(w.steps[0].table, root);
	for (i = 0; i < 4; i++) {
		unsigned int level = 4 - i;

		EXPECT_INT(w.steps[i].level, level);
		EXPECT_INT(w.steps[i].index, (KVA >> (12 + 9 * (level - 1))) & 511);
		EXPECT_U64(w.steps[i].entry, fake_get(&fm, fake_entry(&fm, root, 4, KVA, level)));
	}
	EXPECT_STR(imee_walk_level_name(4), "PML4E");
	EXPECT_STR(imee_walk_level_name(1), "PTE");
}

static void five_level_4k(void)
{
	/* Bits 56..48 select the PML5 entry: this one is canonical only for LA57. */
	const uint64_t va = 0xff5a123456789abcULL;
	struct imee_walk w;

	setup();
	fake_map(&fm, root, 5, va & ~0xfffULL, 0x777000, SZ_4K, PTE_RW | PTE_US);
	REQUIRE(walk(5, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x777abc);
	EXPECT_INT(w.nr_steps, 5);
	EXPECT_INT(w.steps[0].level, 5);
	EXPECT_INT(w.steps[0].index, (va >> 48) & 511);
	EXPECT(w.user && w.writable);

	/* The same address under 4-level paging is not canonical. */
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NON_CANONICAL);
}

static void large_pages(void)
{
	struct imee_walk w;
	const uint64_t va2m = 0xffffffff81400000ULL + 0x12345;
	const uint64_t va1g = 0xffff888040000000ULL + 0x1234; /* a direct-map-like address */

	setup();
	/* 2 MiB page with the PAT bit (12) set: not part of the address. */
	fake_map(&fm, root, 4, va2m & ~(SZ_2M - 1), 0x600000 | (1ULL << 12), SZ_2M, PTE_RW);
	fake_add_ram(&fm, 0x100000000ULL, SZ_2M);
	fake_map(&fm, root, 4, va1g & ~(SZ_1G - 1), 0x100000000ULL, SZ_1G, PTE_RW | PTE_XD);

	REQUIRE(walk(4, va2m, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x600000 + 0x12345);
	EXPECT_U64(w.page_size, SZ_2M);
	EXPECT_INT(w.level, 2);
	EXPECT_INT(w.nr_steps, 3);
	EXPECT_U64(w.skip, SZ_2M - 0x12345);

	REQUIRE(walk(4, va1g, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x100000000ULL + 0x1234);
	EXPECT_U64(w.page_size, SZ_1G);
	EXPECT_INT(w.level, 3);
	EXPECT_INT(w.nr_steps, 2);
	EXPECT(w.nx);

	/* Further into the 1 GiB page, beyond the RAM behind it. */
	REQUIRE(walk(4, va1g + SZ_2M, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_OUT_OF_RAM);
	EXPECT_INT(w.level, 3);
	EXPECT_U64(w.pa, 0x100000000ULL + SZ_2M + 0x1234);
}

static void permissions_accumulate(void)
{
	const uint64_t va = 0x00007f0000001000ULL;
	struct imee_walk w;

	setup();
	fake_map(&fm, root, 4, va, 0x300000, SZ_4K, PTE_RW | PTE_US);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT(w.writable && w.user && !w.nx);

	/* Read-only at the PDPTE, supervisor at the PDE, XD at the PML4E. */
	fake_set(&fm, fake_entry(&fm, root, 4, va, 3),
		 fake_get(&fm, fake_entry(&fm, root, 4, va, 3)) & ~PTE_RW);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT(!w.writable && w.user && !w.nx);
	fake_set(&fm, fake_entry(&fm, root, 4, va, 2),
		 fake_get(&fm, fake_entry(&fm, root, 4, va, 2)) & ~PTE_US);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT(!w.writable && !w.user && !w.nx);
	fake_set(&fm, fake_entry(&fm, root, 4, va, 4),
		 fake_get(&fm, fake_entry(&fm, root, 4, va, 4)) | PTE_XD);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT(!w.writable && !w.user && w.nx);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
}

static void nx_without_nxe(void)
{
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .flags = IMEE_WALK_F_NO_NXE);
	const uint64_t va = 0x400000;
	struct imee_walk w;

	setup();
	o.cr3 = root;
	fake_map(&fm, root, 4, va, 0x300000, SZ_4K, PTE_RW);
	REQUIRE(imee_walk(&mem, &o, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT(!w.nx);
	/* Without EFER.NXE, bit 63 is reserved. */
	fake_set(&fm, fake_entry(&fm, root, 4, va, 1), 0x300000 | PTE_P | PTE_XD);
	REQUIRE(imee_walk(&mem, &o, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_INT(w.level, 1);
	EXPECT_U64(w.bad_bits, PTE_XD);
}

/* Not present at each level: the fault names the level and skips its whole range. */
static void not_present_each_level(void)
{
	const uint64_t va = 0xffffffff81234567ULL;
	unsigned int levels, level;

	for (levels = 4; levels <= 5; levels++) {
		for (level = levels; level >= 1; level--) {
			uint64_t region = 1ULL << (12 + 9 * (level - 1));
			struct imee_walk w;
			char msg[64];

			setup();
			fake_map(&fm, root, levels, va & ~0xfffULL, 0x345000, SZ_4K, 0);
			fake_set(&fm, fake_entry(&fm, root, levels, va, level),
				 0x5000); /* P clear */
			REQUIRE(walk(levels, va, &w) == 0);
			snprintf(msg, sizeof(msg), "%u-level, level %u", levels, level);
			if (!EXPECT_INT(w.fault, IMEE_FAULT_NOT_MAPPED))
				printf("# in %s\n", msg);
			EXPECT_INT(w.level, level);
			EXPECT_U64(w.skip, region - (va & (region - 1)));
			EXPECT_INT(w.nr_steps, levels - level + 1);
			EXPECT_U64(w.steps[w.nr_steps - 1].entry, 0x5000);

			/* As an error: errno, kind, level and a message naming the entry. */
			EXPECT_INT(imee_walk_error(&w), -EFAULT);
			EXPECT_INT(imee_last_error()->fault, IMEE_FAULT_NOT_MAPPED);
			EXPECT_INT(imee_last_error()->level, level);
			EXPECT_U64(imee_last_error()->address, va);
			EXPECT_HAS(imee_errmsg(), imee_walk_level_name(level));
			EXPECT_HAS(imee_errmsg(), "not present");
		}
	}
}

static void empty_tables_skip_far(void)
{
	struct imee_walk w;

	setup();
	/* Nothing mapped: from the image start to the end of the last PML4 slot. */
	REQUIRE(walk(4, 0xffffffff80000000ULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NOT_MAPPED);
	EXPECT_INT(w.level, 4);
	EXPECT_U64(w.skip, 0x80000000ULL);
	REQUIRE(walk(5, 0xffffffff80000000ULL, &w) == 0);
	EXPECT_INT(w.level, 5);
	EXPECT_U64(w.skip, 0x80000000ULL);
	REQUIRE(walk(4, 0, &w) == 0);
	EXPECT_U64(w.skip, 1ULL << 39);
}

static void reserved_bits(void)
{
	IMEE_OPTS(imee_walk_opts, o46, .paging = IMEE_PAGING_4LEVEL, .maxphyaddr = 46);
	const uint64_t va = 0xffffffff81000000ULL;
	struct imee_walk w;
	uint64_t pde;

	setup();
	o46.cr3 = root;
	fake_map(&fm, root, 4, va, 0x345000, SZ_4K, PTE_RW);
	pde = fake_entry(&fm, root, 4, va, 2);

	/* Bit 47 is an address bit with MAXPHYADDR 52 (then outside RAM), reserved with 46. */
	fake_set(&fm, pde, fake_get(&fm, pde) | (1ULL << 47));
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_OUT_OF_RAM);
	EXPECT_INT(w.level, 1);
	REQUIRE(imee_walk(&mem, &o46, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_INT(w.level, 2);
	EXPECT_U64(w.bad_bits, 1ULL << 47);
	EXPECT_INT(imee_walk_error(&w), -EBADMSG);
	EXPECT_HAS(imee_errmsg(), "reserved");

	/* Bits 20:13 of a 2 MiB page, 29:13 of a 1 GiB page. */
	setup();
	fake_map(&fm, root, 4, va, 0x400000 | (1ULL << 13), SZ_2M, 0);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_U64(w.bad_bits, 1ULL << 13);
	setup();
	fake_map(&fm, root, 4, 0xffff888000000000ULL, 1ULL << 29, SZ_1G, 0);
	REQUIRE(walk(4, 0xffff888000000000ULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_INT(w.level, 3);
	EXPECT_U64(w.bad_bits, 1ULL << 29);

	/* Bits 62:52 are ignored, not reserved. */
	setup();
	fake_map(&fm, root, 4, va, 0x345000, SZ_4K, 0x7ffULL << 52);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x345000);
}

static void ps_where_not_allowed(void)
{
	const uint64_t va = 0xffffffff81000000ULL;
	struct imee_walk w;
	uint64_t e;

	setup();
	fake_map(&fm, root, 4, va, 0x345000, SZ_4K, 0);
	e = fake_entry(&fm, root, 4, va, 4);
	fake_set(&fm, e, fake_get(&fm, e) | PTE_PS);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_INT(w.level, 4);
	EXPECT(w.bad_bits & PTE_PS);
	imee_walk_error(&w);
	EXPECT_HAS(imee_errmsg(), "PS");

	setup();
	fake_map(&fm, root, 5, va, 0x345000, SZ_4K, 0);
	e = fake_entry(&fm, root, 5, va, 5);
	fake_set(&fm, e, fake_get(&fm, e) | PTE_PS);
	REQUIRE(walk(5, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_BAD_ENTRY);
	EXPECT_INT(w.level, 5);
}

static void out_of_ram(void)
{
	const uint64_t va = 0xffffffff81000000ULL;
	struct imee_walk w;
	uint64_t pde;

	setup();
	/* A leaf pointing past the end of RAM. */
	fake_map(&fm, root, 4, va, 0xfee00000ULL, SZ_4K, 0);
	REQUIRE(walk(4, va + 8, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_OUT_OF_RAM);
	EXPECT_INT(w.level, 1);
	EXPECT_U64(w.pa, 0xfee00008ULL);
	EXPECT_INT(imee_walk_error(&w), -ENXIO);
	EXPECT_HAS(imee_errmsg(), "not guest RAM");

	/* A PDE pointing to a page table outside RAM. */
	setup();
	fake_map(&fm, root, 4, va, 0x345000, SZ_4K, 0);
	pde = fake_entry(&fm, root, 4, va, 2);
	fake_set(&fm, pde, 0x80000000ULL | PTE_TABLE);
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_OUT_OF_RAM);
	EXPECT_INT(w.level, 1);
	EXPECT_U64(w.pa, 0x80000000ULL);
	EXPECT_U64(w.skip, SZ_2M); /* all the PDE covers */
	EXPECT_INT(w.nr_steps, 3);

	/* CR3 outside RAM. */
	setup();
	root = 0x40000000ULL;
	REQUIRE(walk(4, va, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_OUT_OF_RAM);
	EXPECT_INT(w.level, 4);
	EXPECT_INT(w.nr_steps, 0);
	imee_walk_error(&w);
	EXPECT_HAS(imee_errmsg(), "CR3");
}

static void non_canonical(void)
{
	struct imee_walk w;

	setup();
	REQUIRE(walk(4, 0x0000800000000000ULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NON_CANONICAL);
	EXPECT_INT(w.level, 0);
	EXPECT_U64(w.skip, 0xffff800000000000ULL - 0x0000800000000000ULL);
	EXPECT_INT(w.nr_steps, 0);
	EXPECT_INT(imee_walk_error(&w), -EINVAL);
	EXPECT_STR(imee_fault_name(imee_last_error()->fault), "non-canonical");

	REQUIRE(walk(4, 0xffff7fffffffffffULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NON_CANONICAL);
	EXPECT_U64(w.skip, 1);
	REQUIRE(walk(5, 0x0100000000000000ULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NON_CANONICAL);
	EXPECT_U64(w.skip, 0xff00000000000000ULL - 0x0100000000000000ULL);
	/* The top of each half is canonical. */
	REQUIRE(walk(4, 0x00007fffffffffffULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NOT_MAPPED);
	REQUIRE(walk(5, 0x00ffffffffffffffULL, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NOT_MAPPED);
}

static void cr3_low_and_high_bits_ignored(void)
{
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL);
	struct imee_walk w;

	setup();
	fake_map(&fm, root, 4, KVA & ~0xfffULL, 0x345000, SZ_4K, 0);
	o.cr3 = root | 0x801 | (1ULL << 63); /* a PCID and the no-flush bit */
	REQUIRE(imee_walk(&mem, &o, KVA, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.steps[0].table, root);
	EXPECT_U64(w.pa, 0x345567);
}

static void pti_rule(void)
{
	const uint64_t uva = 0x0000555555554000ULL;
	uint64_t kernel_pgd, user_pgd, user_cr3;
	struct imee_walk_opts o = opts_for(4);
	struct imee_walk w;

	setup();
	/* Linux's PTI pair: kernel table first, user table at +4 KiB. */
	kernel_pgd = fake_table(&fm, 2);
	user_pgd = kernel_pgd + SZ_4K;
	fake_map(&fm, kernel_pgd, 4, KVA & ~0xfffULL, 0x345000, SZ_4K, 0);
	fake_map(&fm, user_pgd, 4, uva, 0x456000, SZ_4K, PTE_US);
	fake_map(&fm, kernel_pgd, 4, uva, 0x456000, SZ_4K, PTE_US);
	user_cr3 = user_pgd | 0x800 | 0x5 | (1ULL << 63); /* user PCID bit, PCID 5, no-flush */

	EXPECT_U64(imee_linux_cr3_for(user_cr3, KVA), kernel_pgd);
	EXPECT_U64(imee_linux_cr3_for(user_cr3, uva), user_cr3);
	EXPECT_U64(imee_linux_cr3_for(kernel_pgd | 0x5, KVA), kernel_pgd);

	/* The user table maps no kernel text: walking it directly fails... */
	o.cr3 = user_cr3;
	REQUIRE(imee_walk(&mem, &o, KVA, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NOT_MAPPED);
	/* ...and with the rule, the kernel half is found. */
	o.cr3 = imee_linux_cr3_for(user_cr3, KVA);
	REQUIRE(imee_walk(&mem, &o, KVA, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x345567);
	/* User addresses keep the user table. */
	o.cr3 = imee_linux_cr3_for(user_cr3, uva);
	REQUIRE(imee_walk(&mem, &o, uva, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.steps[0].table, user_pgd);
}

static void paging_modes(void)
{
	const uint64_t cr0 = CR0_PG | 1, cr4 = CR4_PAE, efer = EFER_LME | EFER_LMA | EFER_NXE;
	struct imee_vcpu_regs v = {
		.cr0 = cr0, .cr3 = 0x1234000, .cr4 = cr4 | CR4_LA57, .efer = efer
	};
	struct imee_walk_opts o;
	struct imee_walk w;

	EXPECT_INT(imee_paging_mode(1, cr4, efer), IMEE_PAGING_OFF);
	EXPECT_INT(imee_paging_mode(cr0, 0, 0), IMEE_PAGING_32BIT);
	EXPECT_INT(imee_paging_mode(cr0, cr4, EFER_LME), IMEE_PAGING_PAE);
	EXPECT_INT(imee_paging_mode(cr0, cr4, efer), IMEE_PAGING_4LEVEL);
	EXPECT_INT(imee_paging_mode(cr0, cr4 | CR4_LA57, efer), IMEE_PAGING_5LEVEL);
	EXPECT_STR(imee_paging_name(IMEE_PAGING_5LEVEL), "5-level");

	imee_walk_opts_from_vcpu(&v, &o);
	EXPECT_INT(o.paging, IMEE_PAGING_5LEVEL);
	EXPECT_U64(o.cr3, 0x1234000);
	EXPECT_INT(o.flags, 0);
	v.efer = EFER_LMA;
	imee_walk_opts_from_vcpu(&v, &o);
	EXPECT_INT(o.flags, IMEE_WALK_F_NO_NXE);

	setup();
	o.paging = IMEE_PAGING_PAE;
	EXPECT_INT(imee_walk(&mem, &o, 0, &w), -EOPNOTSUPP);
	EXPECT_HAS(imee_errmsg(), "pae");
	o.paging = IMEE_PAGING_4LEVEL;
	o.maxphyaddr = 60;
	EXPECT_INT(imee_walk(&mem, &o, 0, &w), -EINVAL);
	o.maxphyaddr = 0;
	o.sz = 4; /* older than any version */
	EXPECT_INT(imee_walk(&mem, &o, 0, &w), -EINVAL);
}

static void read_errors_pass_through(void)
{
	struct imee_walk w;

	setup();
	fake_map(&fm, root, 4, KVA & ~0xfffULL, 0x345000, SZ_4K, 0);
	fm.fail_err = -ESRCH;
	memset(&w, 0x5a, sizeof(w));
	EXPECT_INT(walk(4, KVA, &w), -ESRCH);
	EXPECT_HAS(imee_errmsg(), "PML4E");
	fm.fail_err = 0;
}

static void virtual_reads(void)
{
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL);
	const uint64_t va = 0xffffffff81000000ULL;
	unsigned char buf[64], want[64];
	size_t i;

	setup();
	o.cr3 = root;
	/* Two virtually adjacent pages, physically apart and in reverse order. */
	fake_map(&fm, root, 4, va, 0x900000, SZ_4K, 0);
	fake_map(&fm, root, 4, va + SZ_4K, 0x800000, SZ_4K, 0);
	for (i = 0; i < 64; i++)
		want[i] = (unsigned char)i;
	fake_write(&fm, 0x900000 + SZ_4K - 32, want, 32);
	fake_write(&fm, 0x800000, want + 32, 32);
	REQUIRE(imee_virt_read(&mem, &o, va + SZ_4K - 32, buf, 64) == 0);
	EXPECT(!memcmp(buf, want, 64));

	/* Running into an unmapped page: the fault, with its level. */
	EXPECT_INT(imee_virt_read(&mem, &o, va + 2 * SZ_4K - 8, buf, 16), -EFAULT);
	EXPECT_INT(imee_last_error()->fault, IMEE_FAULT_NOT_MAPPED);
	EXPECT_INT(imee_last_error()->level, 1);
	EXPECT_U64(imee_last_error()->address, va + 2 * SZ_4K);

	/* Wrapping around the top of the address space. */
	EXPECT_INT(imee_virt_read(&mem, &o, 0xfffffffffffffff8ULL, buf, 16), -EINVAL);
	EXPECT_INT(imee_virt_read(&mem, &o, va, buf, 0), 0);
}

int main(void)
{
	tap_run(four_level_4k, "4-level walk to a 4 KiB page records every step");
	tap_run(five_level_4k, "5-level walk to a 4 KiB page");
	tap_run(large_pages, "2 MiB and 1 GiB pages");
	tap_run(permissions_accumulate, "W/U/NX combine across levels");
	tap_run(nx_without_nxe, "XD is reserved without EFER.NXE");
	tap_run(not_present_each_level, "not present at each level, with its skip size");
	tap_run(empty_tables_skip_far, "empty tables skip whole top-level ranges");
	tap_run(reserved_bits, "reserved bits and MAXPHYADDR");
	tap_run(ps_where_not_allowed, "PS in a PML4E or PML5E is a bad entry");
	tap_run(out_of_ram, "tables and pages outside guest RAM");
	tap_run(non_canonical, "non-canonical addresses for both modes");
	tap_run(cr3_low_and_high_bits_ignored, "CR3 PCID and no-flush bits are ignored");
	tap_run(pti_rule, "Linux PTI: kernel addresses use the kernel half of the pair");
	tap_run(paging_modes, "paging mode from CR0/CR4/EFER; unsupported modes");
	tap_run(read_errors_pass_through, "memory read errors are returned, not faults");
	tap_run(virtual_reads, "virtual reads across pages and into holes");
	fake_free(&fm);
	return tap_done();
}
