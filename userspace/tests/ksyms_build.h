/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A synthetic kallsyms image for the unit tests, laid out as Linux's
 * scripts/kallsyms.c does (6.1.y order, optionally without
 * kallsyms_seqs_of_names, or the 6.4+ order), with a tiny token table.
 */
#ifndef IMEE_TESTS_KSYMS_BUILD_H
#define IMEE_TESTS_KSYMS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksb_sym {
	const char *name;
	char type;
	uint64_t addr; /* symbols must be given sorted by address */
	bool percpu; /* an absolute percpu symbol (with abs_percpu) */
};

struct ksb_opts {
	bool seqs; /* emit kallsyms_seqs_of_names */
	bool offsets_last; /* 6.4+ order: offsets, relative_base, seqs after token_index */
	bool abs_percpu; /* CONFIG_KALLSYMS_ABSOLUTE_PERCPU */
	uint64_t relative_base;
};

/* Byte offsets of each table in the image (which starts 8-aligned). */
struct ksb_layout {
	size_t offsets, relative_base, num_syms, names, markers, seqs, token_table, token_index;
	size_t size;
};

/*
 * Write the tables for syms[0..n) to out[0..cap). Returns the layout; aborts
 * the test program if cap is too small or a name cannot be encoded.
 */
struct ksb_layout ksb_build(const struct ksb_opts *opts, const struct ksb_sym *syms, size_t n,
			    unsigned char *out, size_t cap);

#endif /* IMEE_TESTS_KSYMS_BUILD_H */
