/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a list ahead (imee_vmem_prefetch_list()): the agent program that
 * walks it, the parse of what it emitted, and the copy later reads are
 * served from. Not installed.
 */
#ifndef IMEE_LIB_PREFETCH_H
#define IMEE_LIB_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <imee/imee.h>

/* What was read ahead: ranges of guest virtual memory and their bytes. */
struct prefetch_cache {
	struct prefetch_range {
		uint64_t va;
		uint32_t len;
		size_t at; /* in data */
	} * ranges;
	size_t nr, cap;
	unsigned char *data;
	size_t data_len, data_cap;
	bool sorted;
};

/* -EINVAL (with the reason) for a spec the program cannot be made from. */
int prefetch_spec_check(const struct imee_vmem_list_spec *spec);

/* Bytes one node's record takes in the program's output. */
size_t prefetch_record_size(const struct imee_vmem_list_spec *spec);

/*
 * The program that walks the list and emits, per node, its address (8
 * bytes), its block and each deref's bytes; it stops at the head, after
 * max nodes, or at its first fault. malloc()ed into *insns_ret.
 */
int prefetch_program(const struct imee_vmem_list_spec *spec, struct imee_insn **insns_ret,
		     size_t *nr_ret);

/* Add the whole records of out (len bytes) to cache. */
int prefetch_parse(const struct imee_vmem_list_spec *spec, const void *out, size_t len,
		   struct prefetch_cache *cache);

/* Copy [va, va + len) from the cache if one range holds all of it. */
bool prefetch_lookup(struct prefetch_cache *cache, uint64_t va, void *buf, size_t len);

void prefetch_forget(struct prefetch_cache *cache);

#endif /* IMEE_LIB_PREFETCH_H */
