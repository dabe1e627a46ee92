// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a list ahead: see prefetch.h and imee_vmem_prefetch_list(). The
 * program follows the guest's pointers without judging them; the walks
 * that are served from its copy check every node as they would check a
 * read, so a hostile list costs at most a read-ahead that stops early.
 */
#include "prefetch.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Ranges a read may lie in are looked for among this many before it. */
#define LOOKBACK 16

int prefetch_spec_check(const struct imee_vmem_list_spec *spec)
{
	unsigned int i;

	if (!spec || !spec->block_len || spec->block_len > IMEE_VMEM_BLOCK_MAX || !spec->max ||
	    spec->max > IMEE_LINUX_WALK_MAX || spec->nr_derefs > IMEE_VMEM_DEREFS_MAX)
		return imee_fail(-EINVAL, "read-ahead: bad list");
	for (i = 0; i < spec->nr_derefs; i++) {
		uint64_t at = spec->derefs[i].ptr_off - spec->block_off;

		if (!spec->derefs[i].len || spec->derefs[i].len > IMEE_VMEM_BLOCK_MAX ||
		    at > spec->block_len || spec->block_len - at < 8)
			return imee_fail(-EINVAL, "read-ahead: bad pointer %u", i);
	}
	return 0;
}

size_t prefetch_record_size(const struct imee_vmem_list_spec *spec)
{
	size_t n = 8 + spec->block_len;
	unsigned int i;

	for (i = 0; i < spec->nr_derefs; i++)
		n += spec->derefs[i].len;
	return n;
}

/* Registers of the program. */
enum { R_NODE, R_HEAD, R_LEFT, R_ADDR, R_LEN, R_PTR };

struct builder {
	struct imee_insn *insns;
	size_t nr, cap;
};

static void put(struct builder *b, uint8_t op, unsigned int dst, unsigned int src, uint8_t size,
		int32_t off, uint64_t imm)
{
	if (b->nr < b->cap)
		b->insns[b->nr] = (struct imee_insn){ .op = op,
						      .regs = IMEE_INSN_REGS(dst, src),
						      .size = size,
						      .off = off,
						      .imm = imm };
	b->nr++;
}

/* Emit len bytes from R_BASE + off, IMEE_PROG_MAX_COPY at a time. */
static void copy_range(struct builder *b, unsigned int base, uint64_t off, uint32_t len)
{
	uint32_t done;

	for (done = 0; done < len; done += IMEE_PROG_MAX_COPY) {
		uint32_t n = len - done < IMEE_PROG_MAX_COPY ? len - done : IMEE_PROG_MAX_COPY;

		put(b, IMEE_OP_MOV, R_ADDR, base, 0, 0, 0);
		put(b, IMEE_OP_ADDK, R_ADDR, 0, 0, 0, off + done);
		put(b, IMEE_OP_MOVK, R_LEN, 0, 0, 0, n);
		put(b, IMEE_OP_COPY, R_LEN, R_ADDR, 0, 0, 0);
	}
}

static size_t chunks(uint32_t len)
{
	return (len + IMEE_PROG_MAX_COPY - 1) / IMEE_PROG_MAX_COPY;
}

int prefetch_program(const struct imee_vmem_list_spec *spec, struct imee_insn **insns_ret,
		     size_t *nr_ret)
{
	struct builder b = { 0 };
	size_t loop, end_jumps[2];
	unsigned int i;
	int err;

	err = prefetch_spec_check(spec);
	if (err)
		return err;
	b.cap = 16 + 4 * chunks(spec->block_len);
	for (i = 0; i < spec->nr_derefs; i++)
		b.cap += 3 + 4 * chunks(spec->derefs[i].len);
	if (b.cap > IMEE_PROG_MAX_INSNS)
		return imee_fail(-EINVAL, "read-ahead: the program would be too long");
	b.insns = calloc(b.cap, sizeof(*b.insns));
	if (!b.insns)
		return imee_fail(-ENOMEM, "out of memory");

	put(&b, IMEE_OP_MOVK, R_HEAD, 0, 0, 0, spec->head);
	put(&b, IMEE_OP_MOVK, R_ADDR, 0, 0, 0, spec->first_at);
	put(&b, IMEE_OP_LD, R_NODE, R_ADDR, 8, 0, 0);
	put(&b, IMEE_OP_MOVK, R_LEFT, 0, 0, 0, spec->max);
	loop = b.nr;
	end_jumps[0] = b.nr;
	put(&b, IMEE_OP_JEQ, R_NODE, R_HEAD, 0, 0, 0);
	end_jumps[1] = b.nr;
	put(&b, IMEE_OP_JEQK, R_LEFT, 0, 0, 0, 0);
	put(&b, IMEE_OP_EMIT, R_NODE, 0, 8, 0, 0);
	copy_range(&b, R_NODE, spec->block_off, spec->block_len);
	for (i = 0; i < spec->nr_derefs; i++) {
		put(&b, IMEE_OP_MOV, R_ADDR, R_NODE, 0, 0, 0);
		put(&b, IMEE_OP_ADDK, R_ADDR, 0, 0, 0, spec->derefs[i].ptr_off);
		put(&b, IMEE_OP_LD, R_PTR, R_ADDR, 8, 0, 0);
		copy_range(&b, R_PTR, spec->derefs[i].off, spec->derefs[i].len);
	}
	put(&b, IMEE_OP_MOV, R_ADDR, R_NODE, 0, 0, 0);
	put(&b, IMEE_OP_ADDK, R_ADDR, 0, 0, 0, spec->next_off);
	put(&b, IMEE_OP_LD, R_NODE, R_ADDR, 8, 0, 0);
	put(&b, IMEE_OP_SUBK, R_LEFT, 0, 0, 0, 1);
	put(&b, IMEE_OP_JA, 0, 0, 0, (int32_t)loop - (int32_t)b.nr - 1, 0);
	for (i = 0; i < 2; i++)
		b.insns[end_jumps[i]].off = (int32_t)b.nr - (int32_t)end_jumps[i] - 1;
	put(&b, IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	if (b.nr > b.cap) {
		free(b.insns);
		return imee_fail(-EFAULT, "read-ahead: program longer than planned");
	}
	*insns_ret = b.insns;
	*nr_ret = b.nr;
	return 0;
}

static int add_range(struct prefetch_cache *c, uint64_t va, uint32_t len, size_t at)
{
	if (c->nr == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct prefetch_range *r = realloc(c->ranges, cap * sizeof(*r));

		if (!r)
			return imee_fail(-ENOMEM, "out of memory");
		c->ranges = r;
		c->cap = cap;
	}
	c->ranges[c->nr++] = (struct prefetch_range){ va, len, at };
	c->sorted = false;
	return 0;
}

int prefetch_parse(const struct imee_vmem_list_spec *spec, const void *out, size_t len,
		   struct prefetch_cache *c)
{
	size_t rec = prefetch_record_size(spec), n = len / rec, i, base;
	const unsigned char *p = out;
	unsigned int k;
	uint64_t v;
	int err = 0;

	if (!n)
		return 0;
	if (c->data_len + n * rec > c->data_cap) {
		size_t cap = c->data_len + n * rec;
		unsigned char *d = realloc(c->data, cap);

		if (!d)
			return imee_fail(-ENOMEM, "out of memory");
		c->data = d;
		c->data_cap = cap;
	}
	base = c->data_len;
	memcpy(c->data + base, p, n * rec);
	c->data_len += n * rec;
	for (i = 0; i < n && !err; i++) {
		size_t at = base + i * rec, block = at + 8, d = block + spec->block_len;
		uint64_t node;

		memcpy(&v, c->data + at, 8);
		node = le64toh(v);
		err = add_range(c, node + spec->block_off, spec->block_len, block);
		for (k = 0; k < spec->nr_derefs && !err; k++) {
			memcpy(&v, c->data + block + (spec->derefs[k].ptr_off - spec->block_off),
			       8);
			err = add_range(c, le64toh(v) + spec->derefs[k].off, spec->derefs[k].len,
					d);
			d += spec->derefs[k].len;
		}
	}
	return err;
}

static int cmp_range(const void *a, const void *b)
{
	const struct prefetch_range *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

bool prefetch_lookup(struct prefetch_cache *c, uint64_t va, void *buf, size_t len)
{
	size_t lo = 0, hi, i, n;

	if (!c->nr)
		return false;
	if (!c->sorted) {
		qsort(c->ranges, c->nr, sizeof(*c->ranges), cmp_range);
		c->sorted = true;
	}
	/* the first range starting after va */
	hi = c->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->ranges[mid].va <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo, n = 0; i > 0 && n < LOOKBACK; i--, n++) {
		const struct prefetch_range *r = &c->ranges[i - 1];

		if (va - r->va <= r->len && r->len - (va - r->va) >= len) {
			memcpy(buf, c->data + r->at + (va - r->va), len);
			return true;
		}
	}
	return false;
}

void prefetch_forget(struct prefetch_cache *c)
{
	free(c->ranges);
	free(c->data);
	memset(c, 0, sizeof(*c));
}
