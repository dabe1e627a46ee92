// SPDX-License-Identifier: GPL-2.0
/*
 * Synthetic guest-physical memory and page tables for the unit tests.
 */
#include "fakemem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLES_START 0x10000ULL
#define TABLES_END 0x200000ULL
#define ADDR_MASK 0x000ffffffffff000ULL

static void die(const char *what)
{
	fprintf(stderr, "fakemem: %s\n", what);
	abort();
}

void fake_init_empty(struct fake_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->next_table = TABLES_START;
	m->tables_end = TABLES_END;
}

void fake_init(struct fake_mem *m, uint64_t ram_size)
{
	fake_init_empty(m);
	fake_add_ram(m, 0, ram_size);
}

void fake_add_ram_at(struct fake_mem *m, uint64_t gpa, uint64_t size, void *data)
{
	if (m->nr_slots == FAKE_MAX_SLOTS)
		die("too many slots");
	m->slots[m->nr_slots].gpa = gpa;
	m->slots[m->nr_slots].size = size;
	m->slots[m->nr_slots].data = data;
	m->slots[m->nr_slots].owned = false;
	m->nr_slots++;
}

void fake_add_ram(struct fake_mem *m, uint64_t gpa, uint64_t size)
{
	void *data = calloc(1, size);

	if (!data)
		die("out of memory");
	fake_add_ram_at(m, gpa, size, data);
	m->slots[m->nr_slots - 1].owned = true;
}

void fake_free(struct fake_mem *m)
{
	unsigned int i;

	for (i = 0; i < m->nr_slots; i++)
		if (m->slots[i].owned)
			free(m->slots[i].data);
	m->nr_slots = 0;
}

void *fake_ptr(struct fake_mem *m, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < m->nr_slots; i++) {
		uint64_t start = m->slots[i].gpa, size = m->slots[i].size;

		if (gpa >= start && gpa - start <= size && len <= size - (gpa - start))
			return m->slots[i].data + (gpa - start);
	}
	return NULL;
}

static int op_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_mem *m = ctx;
	void *p;

	m->nr_reads++;
	if (m->fail_err)
		return m->fail_err;
	p = fake_ptr(m, gpa, len);
	if (!p)
		return -ENXIO;
	memcpy(buf, p, len);
	return 0;
}

static int op_read_u64(void *ctx, uint64_t gpa, uint64_t *val)
{
	struct fake_mem *m = ctx;
	void *p;

	m->nr_u64_reads++;
	if (m->fail_err)
		return m->fail_err;
	p = fake_ptr(m, gpa, 8);
	if (!p)
		return -ENXIO;
	memcpy(val, p, 8);
	return 0;
}

static bool op_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	return fake_ptr(ctx, gpa, len) != NULL;
}

static const struct imee_mem_ops fake_ops = {
	.read = op_read,
	.read_u64 = op_read_u64,
	.is_ram = op_is_ram,
};

struct imee_mem fake_mem(struct fake_mem *m)
{
	struct imee_mem mem = { .ops = &fake_ops, .ctx = m };

	return mem;
}

uint64_t fake_table(struct fake_mem *m, unsigned int nr)
{
	uint64_t align = nr * SZ_4K, t;

	t = (m->next_table + align - 1) / align * align;
	if (t + nr * SZ_4K > m->tables_end)
		die("out of table space");
	m->next_table = t + nr * SZ_4K;
	memset(fake_ptr(m, t, nr * SZ_4K), 0, nr * SZ_4K);
	return t;
}

uint64_t fake_get(struct fake_mem *m, uint64_t gpa)
{
	uint64_t v;
	void *p = fake_ptr(m, gpa, 8);

	if (!p)
		die("fake_get outside RAM");
	memcpy(&v, p, 8);
	return v;
}

void fake_set(struct fake_mem *m, uint64_t gpa, uint64_t value)
{
	void *p = fake_ptr(m, gpa, 8);

	if (!p)
		die("fake_set outside RAM");
	memcpy(p, &value, 8);
}

void fake_write(struct fake_mem *m, uint64_t gpa, const void *buf, size_t len)
{
	void *p = fake_ptr(m, gpa, len);

	if (!p)
		die("fake_write outside RAM");
	memcpy(p, buf, len);
}

static unsigned int index_of(uint64_t va, unsigned int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

void fake_map(struct fake_mem *m, uint64_t root, unsigned int levels, uint64_t va, uint64_t pa,
	      uint64_t page_size, uint64_t leaf_flags)
{
	unsigned int leaf = page_size == SZ_1G ? 3 : page_size == SZ_2M ? 2 : 1;
	uint64_t table = root;
	unsigned int level;

	for (level = levels; level > leaf; level--) {
		uint64_t e = table + 8 * index_of(va, level);
		uint64_t v = fake_get(m, e);

		if (!(v & PTE_P)) {
			v = fake_table(m, 1) | PTE_TABLE;
			fake_set(m, e, v);
		}
		table = v & ADDR_MASK;
	}
	fake_set(m, table + 8 * index_of(va, leaf),
		 pa | leaf_flags | PTE_P | (leaf > 1 ? PTE_PS : 0));
}

uint64_t fake_entry(struct fake_mem *m, uint64_t root, unsigned int levels, uint64_t va,
		    unsigned int level)
{
	uint64_t table = root;
	unsigned int l;

	for (l = levels; l > level; l--)
		table = fake_get(m, table + 8 * index_of(va, l)) & ADDR_MASK;
	return table + 8 * index_of(va, level);
}
