/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The input of fuzz_prog.c, shared with fuzz_seeds.c which writes its
 * seeds: a header, then agent program instructions (struct imee_insn, 16
 * bytes each; a partial one at the end is ignored).
 *
 *   [0]       flags: FP_F_*
 *   [1]       FP_F_ABORT: the memory read (libimee) or callback (direct
 *             engine) that fails, counted from 1 (0 counts as 1)
 *   [2]       FP_F_AGENT: the agent slot, FP_SLOT_* (modulo FP_SLOT_NR)
 *   [3]       a fault code, which imee_prog_apply_fault() is given at the
 *             instruction where a run stopped (any value)
 *   [4, 8)    max_steps: 1 + value % FP_MAX_STEPS with FP_F_LONG, else
 *             1 + value % FP_SHORT_STEPS (little-endian)
 *   [8, 12)   out_cap: value % (FP_OUT_MAX + 1)
 *   [12, 16)  unused
 *   [16, 24)  FP_F_AGENT: physmap_size (any value)
 *   [24, 88)  r0..r7
 *   [88, ...) the program
 *
 * The guest memory the programs read is fixed (built once by the harness),
 * at the addresses below, in both 4- and 5-level page tables.
 */
#ifndef IMEE_FUZZ_PROG_H
#define IMEE_FUZZ_PROG_H

#include <stdint.h>
#include <string.h>

#include <linux/imee.h>

#define FP_HDR 88
#define FP_OFF_FLAGS 0
#define FP_OFF_ABORT 1
#define FP_OFF_SLOT 2
#define FP_OFF_FAULT 3
#define FP_OFF_STEPS 4
#define FP_OFF_OUT_CAP 8
#define FP_OFF_PHYSMAP 16
#define FP_OFF_REGS 24

#define FP_F_5LEVEL 0x01 /* 5-level paging (else 4-level) */
#define FP_F_AGENT 0x02 /* the direct engines get an agent slot and physmap_size */
#define FP_F_NULL_OUT 0x04 /* out_cap 0: libimee is given no output buffer */
#define FP_F_ABORT 0x08 /* also run with a read that fails (not the target's fault) */
#define FP_F_LONG 0x10 /* up to FP_MAX_STEPS (else FP_SHORT_STEPS: more inputs a second) */

#define FP_MAX_STEPS 100000
#define FP_SHORT_STEPS 4096
#define FP_OUT_MAX 65536

/* Slots of FP_F_AGENT: [start, end) */
enum fp_slot {
	FP_SLOT_EMPTY, /* none */
	FP_SLOT_DATA, /* the second page of FP_DATA_VA (mapped) */
	FP_SLOT_LINUX, /* top-level slot 256 (as the agent takes it) */
	FP_SLOT_ZERO, /* page 0 (mapped) */
	FP_SLOT_NR,
};

/* Guest RAM: two ranges with a hole between (physical loads there fault). */
#define FP_RAM0_SIZE 0x400000ULL /* [0, 4 MiB): page tables from 64 KiB, data */
#define FP_RAM1_PA 0x600000ULL /* [6 MiB, 7 MiB) */
#define FP_RAM1_SIZE 0x100000ULL
#define FP_RAM_END (FP_RAM1_PA + FP_RAM1_SIZE)

/*
 * Virtual memory (every data byte at guest-physical pa is fp_pattern(pa),
 * but for the list):
 *   FP_DATA_VA         -> 0x300000, page 2 -> 0x6ff000 (the last of RAM),
 *                         page 3 unmapped, page 4 -> 0x500000 (not RAM),
 *                         page 5: an entry with reserved bits, page 6 ->
 *                         0x301000
 *   FP_2M_VA           a 2 MiB page -> 0x200000
 *   FP_1G_VA           a 1 GiB page -> 0 (RAM, the hole, and far beyond)
 *   FP_LIST_VA         FP_LIST_NODES nodes of { next, value } in 4 pages
 *                      (-> 0x310000..), the last one's next is the head
 *   FP_LOW_TOP_VA      the last page of the lower half (4-level) -> 0x302000
 *   FP_LOW_TOP5_VA     the same in 5-level (unmapped in 4-level: not
 *                      canonical) -> 0x303000
 *   FP_LA57_VA         canonical only in 5-level -> 0x304000
 *   FP_TOP_VA          the last page of the address space -> 0x305000
 *   0                  page 0 -> 0x306000 (an access wrapping past the top
 *                      must not reach it)
 */
#define FP_DATA_VA 0xffff888000100000ULL
#define FP_DATA_PAGES 7
#define FP_2M_VA 0xffff888040000000ULL
#define FP_1G_VA 0xffff8880c0000000ULL
#define FP_LIST_VA 0xffffc90000000000ULL
#define FP_LIST_PA 0x310000ULL
#define FP_LIST_PAGES 4
#define FP_LIST_NODES 200
#define FP_LOW_TOP_VA 0x00007ffffffff000ULL
#define FP_LOW_TOP5_VA 0x00fffffffffff000ULL
#define FP_LA57_VA 0xff11000000001000ULL
#define FP_TOP_VA 0xfffffffffffff000ULL
#define FP_SLOT_LINUX4_VA 0xffff800000000000ULL /* top-level slot 256, 4-level */
#define FP_SLOT_LINUX5_VA 0xff00000000000000ULL /* and 5-level */
#define FP_MAXPHYADDR 46 /* bit 46 and up of an entry's address are reserved */

/* The byte at guest-physical pa (outside the list's pages). */
static inline uint8_t fp_pattern(uint64_t pa)
{
	return (uint8_t)(pa * 13 + (pa >> 12) * 101 + 0x3c);
}

/*
 * Node i of the list: nodes are 32 bytes apart, scattered over the pages
 * (node i in page i % FP_LIST_PAGES), { next, value = i * 3 + 1 }.
 */
static inline uint64_t fp_list_node_va(unsigned int i)
{
	return FP_LIST_VA + 4096ULL * (i % FP_LIST_PAGES) + 32ULL * (i / FP_LIST_PAGES);
}

static inline void fp_put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline struct imee_insn fp_insn(uint8_t op, unsigned int dst, unsigned int src, uint8_t size,
				       int32_t off, uint64_t imm)
{
	struct imee_insn in;

	memset(&in, 0, sizeof(in));
	in.op = op;
	in.regs = IMEE_INSN_REGS(dst, src);
	in.size = size;
	in.off = off;
	in.imm = imm;
	return in;
}

#endif /* IMEE_FUZZ_PROG_H */
