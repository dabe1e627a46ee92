// SPDX-License-Identifier: GPL-2.0
/*
 * The banner search over a synthetic kernel image: the right copy is chosen
 * (lowest virtual address, ending in "\n\0", not the printk copy), unmapped
 * ranges are skipped whole, a banner may cross pages, and PTI user tables
 * do not hide the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "tap.h"

#define RAM_SIZE (32ULL << 20)
#define IMAGE IMEE_LINUX_KERNEL_IMAGE_START
#define BANNER \
	"Linux version 6.1.0-test-amd64 (builder@example.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1 (2024-01-01)"

static struct fake_mem fm;
static struct imee_mem mem;
static uint64_t root;

static void setup(void)
{
	fake_free(&fm);
	fake_init(&fm, RAM_SIZE);
	mem = fake_mem(&fm);
	root = fake_table(&fm, 2); /* a PTI pair: kernel half, user half */
}

static struct imee_walk_opts opts(void)
{
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = root);
	return o;
}

static void put(uint64_t pa, const char *s, size_t len)
{
	fake_write(&fm, pa, s, len);
}

/*
 * Linux 6.1+: a provisional banner (no build number) lies lower in the image
 * than the final one; the printk copy is first in physical memory, highest in
 * virtual, and has no newline. The final banner is the one to find.
 */
static void picks_last_virtual_with_newline(void)
{
	static const char real[] = BANNER "\n";
	static const char provisional[] = "Linux version 6.1.0 (x@y) # SMP\n";
	static const char printk_copy[] = BANNER; /* as logged: no newline */
	static const char stale[] = BANNER "6)\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;

	setup();
	o = opts();
	/* Text: 2 MiB pages at 16 MiB physical. Data (log buffer): 4 KiB page at 3 MiB. */
	fake_map(&fm, root, 4, IMAGE + 0x1000000, 0x1000000, SZ_2M, 0);
	fake_map(&fm, root, 4, IMAGE + 0x1200000, 0x1200000, SZ_2M, 0);
	fake_map(&fm, root, 4, IMAGE + 0x2400000, 0x300000, SZ_4K, PTE_RW | PTE_XD);
	/* An earlier near-miss: the prefix, then unprintable bytes. */
	put(0x1000100, "Linux version \x01\x02\n", 17);
	/* The provisional one, lower in the image. */
	put(0x1000200, provisional, sizeof(provisional));
	/* The printk copy at the lowest physical address, highest virtual. */
	put(0x300000 + 0x40, printk_copy, sizeof(printk_copy)); /* ends in NUL, not "\n\0" */
	/* A stale, mangled full copy in a writable buffer, highest in VA. */
	put(0x300000 + 0x400, stale, sizeof(stale));
	/* The real one, in the second text page (read-only). */
	put(0x1234560, real, sizeof(real));

	if (!EXPECT_INT(imee_linux_find_banner(&mem, &o, &b), 0)) {
		printf("# %s\n", imee_errmsg());
		return;
	}
	EXPECT_STR(b.text, BANNER);
	EXPECT_INT(b.len, strlen(BANNER));
	EXPECT_U64(b.va, IMAGE + 0x1234560);
	EXPECT_U64(b.pa, 0x1234560);

	/* A kernel still booting, everything writable: writable copies count. */
	setup();
	o = opts();
	fake_map(&fm, root, 4, IMAGE + 0x2400000, 0x300000, SZ_4K, PTE_RW | PTE_XD);
	put(0x300000 + 0x400, real, sizeof(real));
	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x2400400);
}

static void printk_copy_without_newline_is_skipped(void)
{
	static const char real[] = BANNER "\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;
	char longer[600];

	setup();
	o = opts();
	fake_map(&fm, root, 4, IMAGE + 0x1000000, 0x1000000, SZ_2M, 0);
	/* Lower in VA: the printk copy ("...\0" with no newline), a record
	 * followed by more text, and an over-long line. */
	put(0x1000000 + 0x10, BANNER, sizeof(BANNER));
	put(0x1000000 + 0x200, BANNER "\nnext record", sizeof(BANNER "\nnext record"));
	memset(longer, 'x', sizeof(longer));
	memcpy(longer, "Linux version ", 14);
	longer[sizeof(longer) - 2] = '\n';
	longer[sizeof(longer) - 1] = '\0';
	put(0x1000000 + 0x400, longer, sizeof(longer));
	put(0x1000000 + 0x5000, real, sizeof(real));

	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x1005000);
	EXPECT_STR(b.text, BANNER);
}

static void crosses_a_page_boundary(void)
{
	static const char real[] = BANNER "\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;
	const uint64_t va = IMAGE + 0x1600000;

	setup();
	o = opts();
	/* Two virtually adjacent 4 KiB pages, physically far apart. */
	fake_map(&fm, root, 4, va, 0xa00000, SZ_4K, 0);
	fake_map(&fm, root, 4, va + SZ_4K, 0x500000, SZ_4K, 0);
	put(0xa00000 + SZ_4K - 20, real, 20);
	put(0x500000, real + 20, sizeof(real) - 20);

	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, va + SZ_4K - 20);
	EXPECT_U64(b.pa, 0xa00000 + SZ_4K - 20);
	EXPECT_STR(b.text, BANNER);

	/* The same split across a hole is no banner. */
	setup();
	o = opts();
	fake_map(&fm, root, 4, va, 0xa00000, SZ_4K, 0);
	fake_map(&fm, root, 4, va + 2 * SZ_4K, 0x500000, SZ_4K, 0);
	put(0xa00000 + SZ_4K - 20, real, 20);
	put(0x500000, real + 20, sizeof(real) - 20);
	EXPECT_INT(imee_linux_find_banner(&mem, &o, &b), -ENOENT);
}

static void holes_are_skipped_whole(void)
{
	static const char real[] = BANNER "\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;

	setup();
	o = opts();
	/*
	 * One 2 MiB page at the end of the range, everything else empty: 511
	 * missing PDEs of 3 entry reads each. Page by page it would be 262144
	 * walks.
	 */
	fake_map(&fm, root, 4, IMEE_LINUX_KERNEL_IMAGE_END - SZ_2M, 0x800000, SZ_2M, 0);
	put(0x800000 + 0x800, real, sizeof(real));
	fm.nr_reads = fm.nr_u64_reads = 0;
	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, IMEE_LINUX_KERNEL_IMAGE_END - SZ_2M + 0x800);
	if (!EXPECT(fm.nr_u64_reads <= 511 * 3 + 2 * 3))
		printf("# %lu entry reads\n", fm.nr_u64_reads);
	/* The mapped page is read whole (a later banner would win), once. */
	EXPECT(fm.nr_reads <= SZ_2M / 4096 + 1);

	/* Nothing at all: not found, quickly. */
	setup();
	o = opts();
	fm.nr_u64_reads = 0;
	EXPECT_INT(imee_linux_find_banner(&mem, &o, &b), -ENOENT);
	EXPECT(fm.nr_u64_reads < 10);
}

static void mapped_device_memory_is_skipped(void)
{
	static const char real[] = BANNER "\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;

	setup();
	o = opts();
	fake_map(&fm, root, 4, IMAGE + 0x1000000, 0xfee00000ULL, SZ_4K, 0); /* not RAM */
	fake_map(&fm, root, 4, IMAGE + 0x1001000, 0x600000, SZ_4K, 0);
	put(0x600000, real, sizeof(real));
	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x1001000);
}

static void pti_user_cr3(void)
{
	static const char real[] = BANNER "\n";
	struct imee_walk_opts o;
	struct imee_linux_banner b;

	setup();
	o = opts();
	fake_map(&fm, root, 4, IMAGE + 0x1000000, 0x1000000, SZ_2M, 0);
	put(0x1000000 + 0x1234, real, sizeof(real));
	/* The vCPU runs user code: CR3 is the user half, with a PCID. */
	o.cr3 = (root + SZ_4K) | 0x800 | 3;
	REQUIRE(imee_linux_find_banner(&mem, &o, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x1001234);
}

static void five_level_and_errors(void)
{
	static const char real[] = BANNER "\n";
	IMEE_OPTS(imee_walk_opts, o5, .paging = IMEE_PAGING_5LEVEL);
	struct imee_walk_opts o;
	struct imee_linux_banner b;

	setup();
	o = opts();
	o5.cr3 = root;
	fake_map(&fm, root, 5, IMAGE + 0x3000000, 0x800000, SZ_2M, 0);
	put(0x800000 + 0x100, real, sizeof(real));
	REQUIRE(imee_linux_find_banner(&mem, &o5, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x3000100);

	/* A read error that is not "outside RAM" ends the search with it. */
	fm.fail_err = -ESRCH;
	EXPECT_INT(imee_linux_find_banner(&mem, &o5, &b), -ESRCH);
	fm.fail_err = 0;
	o.paging = IMEE_PAGING_32BIT;
	EXPECT_INT(imee_linux_find_banner(&mem, &o, &b), -EOPNOTSUPP);
}

/*
 * The vCPU's CR3 is a process's that exits mid-search: its top-level page
 * is freed and zeroed. Through the copy taken before, the kernel is still
 * found; through the live page it is not. A page whose kernel half maps
 * nothing is no top-level table: -EAGAIN.
 */
static void top_copy_outlives_the_live_table(void)
{
	static const char real[] = BANNER "\n";
	struct imee_linux_top_copy *copy = calloc(1, sizeof(*copy));
	static unsigned char zeros[SZ_4K];
	struct imee_mem through;
	struct imee_walk_opts o;
	struct imee_linux_banner b;
	uint64_t word;
	unsigned char buf[16];

	REQUIRE(copy);
	setup();
	o = opts();
	fake_map(&fm, root, 4, IMAGE + 0x1000000, 0x1000000, SZ_2M, 0);
	put(0x1000000 + 0x40, real, sizeof(real));
	fake_set(&fm, root, 0x1234567); /* a user-half entry */
	o.cr3 = (root + SZ_4K) | 5; /* PTI user half, PCID 5: the kernel half is copied */
	REQUIRE(imee_linux_top_copy(copy, &mem, &o, &through) == 0);
	EXPECT_U64(copy->gpa, root);
	EXPECT_INT(copy->present, 1);
	fake_write(&fm, root, zeros, sizeof(zeros));
	EXPECT_INT(imee_linux_find_banner(&mem, &o, &b), -ENOENT);
	REQUIRE(imee_linux_find_banner(&through, &o, &b) == 0);
	EXPECT_U64(b.va, IMAGE + 0x1000040);
	/* reads across the copy's edges: the copy inside, live memory outside */
	fake_set(&fm, root - 8, 0x1111);
	fake_set(&fm, root + SZ_4K, 0x2222);
	REQUIRE(through.ops->read(through.ctx, root - 8, buf, sizeof(buf)) == 0);
	memcpy(&word, buf, 8);
	EXPECT_U64(word, 0x1111);
	memcpy(&word, buf + 8, 8);
	EXPECT_U64(word, 0x1234567);
	REQUIRE(through.ops->read_u64(through.ctx, root + SZ_4K, &word) == 0);
	EXPECT_U64(word, 0x2222);
	/* the (now zeroed) live page is no top-level table */
	EXPECT_INT(imee_linux_top_copy(copy, &mem, &o, &through), -EAGAIN);
	fm.fail_err = -ESRCH;
	EXPECT_INT(imee_linux_top_copy(copy, &mem, &o, &through), -ESRCH);
	fm.fail_err = 0;
	EXPECT_INT(imee_linux_top_copy(NULL, &mem, &o, &through), -EINVAL);
	free(copy);
}

int main(void)
{
	tap_run(picks_last_virtual_with_newline,
		"the last read-only banner wins over a provisional one, a stale writable copy, the printk copy");
	tap_run(printk_copy_without_newline_is_skipped,
		"copies without \"\\n\\0\", unprintable or too long are skipped");
	tap_run(crosses_a_page_boundary, "a banner across two pages, not across a hole");
	tap_run(holes_are_skipped_whole, "unmapped ranges are skipped by level, not page by page");
	tap_run(mapped_device_memory_is_skipped, "pages mapped outside RAM are skipped");
	tap_run(pti_user_cr3, "found through a PTI user CR3");
	tap_run(top_copy_outlives_the_live_table,
		"found through a copy of the top-level table once the live one is freed");
	tap_run(five_level_and_errors, "5-level paging; read errors; unsupported paging");
	fake_free(&fm);
	return tap_done();
}
