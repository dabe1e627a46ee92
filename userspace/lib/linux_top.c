// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's top-level page table, copied once and read in its place:
 * see struct imee_linux_top_copy. The copy is one 4 KiB read; a copy torn by
 * a concurrent reuse of the page shows as entries that do not lead to the
 * kernel, which the banner search and the checks after it reject.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define TOP_PAGE_SIZE 4096ULL
#define TOP_ENTRIES 512
#define PTE_PRESENT 1ULL
#define ARCH_MAXPHYADDR 52

/* Copy the part of [gpa, gpa + len) inside the copied page; the rest from under. */
static int top_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct imee_linux_top_copy *c = ctx;
	unsigned char *out = buf;
	uint64_t end, lo, hi;
	int err;

	if (!len)
		return 0;
	if (len > UINT64_MAX - gpa)
		return imee_fail(-EINVAL, "read of %zu bytes at 0x%" PRIx64 " wraps", len, gpa);
	end = gpa + len;
	lo = gpa > c->gpa ? gpa : c->gpa;
	hi = end < c->gpa + TOP_PAGE_SIZE ? end : c->gpa + TOP_PAGE_SIZE;
	if (lo >= hi)
		return c->under.ops->read(c->under.ctx, gpa, buf, len);
	if (gpa < lo) {
		err = c->under.ops->read(c->under.ctx, gpa, out, (size_t)(lo - gpa));
		if (err)
			return err;
	}
	memcpy(out + (lo - gpa), c->page + (lo - c->gpa), (size_t)(hi - lo));
	if (hi < end)
		return c->under.ops->read(c->under.ctx, hi, out + (hi - gpa), (size_t)(end - hi));
	return 0;
}

static int top_read_u64(void *ctx, uint64_t gpa, uint64_t *val_ret)
{
	const struct imee_linux_top_copy *c = ctx;
	uint64_t raw;
	int err;

	if (gpa - c->gpa < TOP_PAGE_SIZE && !(gpa & 7)) {
		memcpy(&raw, c->page + (gpa - c->gpa), sizeof(raw));
		*val_ret = le64toh(raw);
		return 0;
	}
	if (c->under.ops->read_u64)
		return c->under.ops->read_u64(c->under.ctx, gpa, val_ret);
	err = top_read(ctx, gpa, &raw, sizeof(raw));
	if (err)
		return err;
	*val_ret = le64toh(raw);
	return 0;
}

static bool top_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	const struct imee_linux_top_copy *c = ctx;

	return !c->under.ops->is_ram || c->under.ops->is_ram(c->under.ctx, gpa, len);
}

static const struct imee_mem_ops top_ops = {
	.read = top_read,
	.read_u64 = top_read_u64,
	.is_ram = top_is_ram,
};

int imee_linux_top_copy(struct imee_linux_top_copy *copy, const struct imee_mem *under,
			const struct imee_walk_opts *walk, struct imee_mem *mem_ret)
{
	unsigned int maxphyaddr, i;
	uint64_t gpa, entry;
	int err;

	if (!copy || !under || !under->ops || !under->ops->read || !walk || !mem_ret)
		return imee_fail(-EINVAL, "kernel page table copy: bad arguments");
	maxphyaddr = walk->maxphyaddr ? walk->maxphyaddr : ARCH_MAXPHYADDR;
	if (maxphyaddr < 32 || maxphyaddr > ARCH_MAXPHYADDR)
		return imee_fail(-EINVAL, "MAXPHYADDR %u is not in 32..%d", maxphyaddr,
				 ARCH_MAXPHYADDR);
	gpa = imee_linux_cr3_for(walk->cr3, 1ULL << 63) & ((1ULL << maxphyaddr) - 1) &
	      ~(TOP_PAGE_SIZE - 1);
	memset(copy, 0, sizeof(*copy));
	copy->under = *under;
	copy->gpa = gpa;
	err = under->ops->read(under->ctx, gpa, copy->page, sizeof(copy->page));
	if (err)
		return err;
	for (i = TOP_ENTRIES / 2; i < TOP_ENTRIES; i++) {
		memcpy(&entry, copy->page + (size_t)i * sizeof(entry), sizeof(entry));
		if (le64toh(entry) & PTE_PRESENT)
			copy->present++;
	}
	if (!copy->present)
		return imee_fail(-EAGAIN,
				 "the top-level page table at 0x%" PRIx64
				 " maps nothing in the kernel half (freed with its process?)",
				 gpa);
	mem_ret->ops = &top_ops;
	mem_ret->ctx = copy;
	return 0;
}
