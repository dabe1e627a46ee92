/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest-physical memory for the unit tests: a few RAM ranges held
 * in malloc'ed buffers, exposed as struct imee_mem, and a builder of x86-64
 * page tables inside them.
 */
#ifndef IMEE_TESTS_FAKEMEM_H
#define IMEE_TESTS_FAKEMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <imee/imee.h>

#define FAKE_MAX_SLOTS 4

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7)
#define PTE_XD (1ULL << 63)
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US) /* what intermediate entries get */

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

struct fake_mem {
	struct {
		uint64_t gpa;
		uint64_t size;
		unsigned char *data;
		bool owned;
	} slots[FAKE_MAX_SLOTS];
	unsigned int nr_slots;
	uint64_t next_table; /* page tables are allocated upward from here */
	uint64_t tables_end;
	unsigned long nr_reads; /* read() calls */
	unsigned long nr_u64_reads; /* read_u64() calls */
	int fail_err; /* when set, every read fails with it */
};

/* RAM [0, ram_size); page tables come from [64 KiB, 2 MiB). */
void fake_init(struct fake_mem *m, uint64_t ram_size);
/* No RAM yet; page tables will come from [64 KiB, 2 MiB), which must be RAM. */
void fake_init_empty(struct fake_mem *m);
void fake_add_ram(struct fake_mem *m, uint64_t gpa, uint64_t size);
/* RAM held by the caller (not freed by fake_free()). */
void fake_add_ram_at(struct fake_mem *m, uint64_t gpa, uint64_t size, void *data);
void fake_free(struct fake_mem *m);
struct imee_mem fake_mem(struct fake_mem *m);

/* A zeroed, 4 KiB-aligned page table (or nr adjacent ones, aligned to nr pages). */
uint64_t fake_table(struct fake_mem *m, unsigned int nr);

void *fake_ptr(struct fake_mem *m, uint64_t gpa, uint64_t len);
uint64_t fake_get(struct fake_mem *m, uint64_t gpa);
void fake_set(struct fake_mem *m, uint64_t gpa, uint64_t value);
void fake_write(struct fake_mem *m, uint64_t gpa, const void *buf, size_t len);

/*
 * Map va to pa with one page of page_size (4K, 2M or 1G) under the top-level
 * table root of a levels-deep hierarchy. Missing tables are created, with
 * PTE_TABLE entries; the leaf gets leaf_flags | P (| PS for large pages).
 */
void fake_map(struct fake_mem *m, uint64_t root, unsigned int levels, uint64_t va, uint64_t pa,
	      uint64_t page_size, uint64_t leaf_flags);

/* The gpa of va's entry at level (the tables down to it must exist). */
uint64_t fake_entry(struct fake_mem *m, uint64_t root, unsigned int levels, uint64_t va,
		    unsigned int level);

#endif /* IMEE_TESTS_FAKEMEM_H */
