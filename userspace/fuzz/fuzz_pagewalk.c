// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the software page walker (pagewalk.c) and what is
 * built on it (virtual reads, the banner search) over page tables the
 * guest controls entirely.
 *
 * The input is a header and guest-physical memory:
 *   [0, 8)    CR3
 *   [8, 16)   a virtual address to walk and read
 *   [16]      bit 0: 5-level paging, bit 1: EFER.NXE clear,
 *             bit 2: racing memory (below)
 *   [17]      MAXPHYADDR: 32 + byte % 21 (0: the default, 52)
 *   [18, 20)  bytes to read at the address (little-endian, at most 8 KiB)
 *   [20, 24)  unused
 *   [24, 32)  racing memory: the bits every other read flips
 *   [32, ...) guest RAM from guest-physical 0 (page tables and data)
 * Racing memory models a guest that rewrites its page tables while they
 * are walked (a double fetch would see both versions): every second read
 * returns the word XORed with the mask.
 *
 * What must hold, whatever the tables say: the walk ends (a bounded number
 * of reads), skip moves a scan on by at least a byte, a translation is
 * consistent (level, page size, offset within the page, RAM), the steps
 * recorded are at most five and go down the levels; virtual reads and
 * the banner search end with a result or an error. Seeds: corpus/pagewalk/
 * gen-* from fuzz_seeds.c (4- and 5-level tables with every page size).
 */
#include <errno.h>
#include <string.h>

#include <imee/imee.h>

#include "fuzz.h"

#define HDR 32
#define READ_MAX 8192
/* Reads one walk may do: 5 levels; any more would be a loop. */
#define WALK_READS_MAX 16

struct race_mem {
	const uint8_t *ram;
	size_t size;
	uint64_t flip;
	unsigned long nr_reads;
};

static int race_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct race_mem *m = ctx;
	size_t i;

	m->nr_reads++;
	if (gpa > m->size || len > m->size - gpa)
		return -ENXIO;
	memcpy(buf, m->ram + gpa, len);
	if (m->flip && (m->nr_reads & 1))
		for (i = 0; i < len; i++)
			((uint8_t *)buf)[i] ^= (uint8_t)(m->flip >> (8 * ((gpa + i) & 7)));
	return 0;
}

static int race_read_u64(void *ctx, uint64_t gpa, uint64_t *val)
{
	return race_read(ctx, gpa, val, sizeof(*val));
}

static bool race_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	struct race_mem *m = ctx;

	return gpa <= m->size && len <= m->size - gpa;
}

static const struct imee_mem_ops race_ops = {
	.read = race_read,
	.read_u64 = race_read_u64,
	.is_ram = race_is_ram,
};

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void check_walk(const struct race_mem *m, const struct imee_walk_opts *o, uint64_t va,
		       const struct imee_walk *w)
{
	unsigned int i;

	FUZZ_CHECK(w->va == va);
	FUZZ_CHECK(w->nr_steps <= IMEE_WALK_MAX_LEVELS);
	for (i = 0; i < w->nr_steps; i++) {
		FUZZ_CHECK(w->steps[i].level >= 1 && w->steps[i].level <= 5);
		FUZZ_CHECK(w->steps[i].index < 512);
		if (i)
			FUZZ_CHECK(w->steps[i].level == w->steps[i - 1].level - 1);
	}
	/* A scan continues at va + skip: it must move, or wrap to 0 at the top. */
	FUZZ_CHECK(w->skip >= 1);
	FUZZ_CHECK(va + w->skip > va || va + w->skip == 0);
	if (w->fault != IMEE_FAULT_NONE) {
		FUZZ_CHECK(imee_walk_error(w) < 0);
		FUZZ_CHECK(imee_last_error()->fault == w->fault);
		return;
	}
	FUZZ_CHECK(w->level >= 1 && w->level <= 3);
	FUZZ_CHECK(w->page_size == 4096ULL << (9 * (w->level - 1)));
	FUZZ_CHECK(w->skip <= w->page_size);
	FUZZ_CHECK((w->pa & (w->page_size - 1)) == (va & (w->page_size - 1)));
	FUZZ_CHECK(w->pa < m->size);
	FUZZ_CHECK(w->nr_steps >= 1 && w->steps[w->nr_steps - 1].level == w->level);
	if (o->paging == IMEE_PAGING_4LEVEL)
		FUZZ_CHECK(w->nr_steps == 5 - w->level);
	else
		FUZZ_CHECK(w->nr_steps == 6 - w->level);
	FUZZ_CHECK(!w->nx || !(o->flags & IMEE_WALK_F_NO_NXE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[READ_MAX];
	struct imee_walk_opts o;
	struct imee_linux_banner banner;
	struct race_mem m;
	struct imee_mem mem = { .ops = &race_ops, .ctx = &m };
	struct imee_walk w;
	uint64_t va;
	size_t len;
	int ret;

	if (size < HDR)
		return 0;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.cr3 = get_le(data, 8);
	va = get_le(data + 8, 8);
	o.paging = (data[16] & 1) ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL;
	o.flags = (data[16] & 2) ? IMEE_WALK_F_NO_NXE : 0;
	o.maxphyaddr = data[17] ? 32 + data[17] % 21 : 0;
	len = (size_t)get_le(data + 18, 2) % (READ_MAX + 1);
	m.ram = data + HDR;
	m.size = size - HDR;
	m.flip = (data[16] & 4) ? get_le(data + 24, 8) : 0;
	m.nr_reads = 0;

	ret = imee_walk(&mem, &o, va, &w);
	FUZZ_CHECK(ret == 0);
	FUZZ_SAY("walk 0x%llx: fault %s level %u pa 0x%llx skip 0x%llx\n", (unsigned long long)va,
		 imee_fault_name(w.fault), w.level, (unsigned long long)w.pa,
		 (unsigned long long)w.skip);
	FUZZ_CHECK(m.nr_reads <= WALK_READS_MAX);
	check_walk(&m, &o, va, &w);
	/* The same walk from the kernel's root, as the Linux jobs do it. */
	o.cr3 = imee_linux_cr3_for(o.cr3, va);
	if (!imee_walk(&mem, &o, va, &w))
		check_walk(&m, &o, va, &w);

	if (len) {
		ret = imee_virt_read(&mem, &o, va, buf, len);
		FUZZ_SAY("read %zu: %d\n", len, ret);
		FUZZ_CHECK(ret <= 0);
	}
	ret = imee_linux_find_banner(&mem, &o, &banner);
	FUZZ_SAY("banner: %d %s\n", ret, ret ? imee_errmsg() : banner.text);
	if (!ret) {
		FUZZ_CHECK(banner.len <= sizeof(banner.text));
		FUZZ_CHECK(banner.va >= IMEE_LINUX_KERNEL_IMAGE_START &&
			   banner.va < IMEE_LINUX_KERNEL_IMAGE_END);
	}
	return 0;
}
