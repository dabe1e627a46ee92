// SPDX-License-Identifier: GPL-2.0
/*
 * FNV-1a, 64-bit: the checksum that tells one kernel build's .BTF and
 * kallsyms tables from another's (cache keys). Not a defence against a
 * forger: a cache entry only ever holds what its own bytes imply.
 */
#include "internal.h"

#define FNV64_PRIME 0x100000001b3ULL

uint64_t imee_fnv1a(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= FNV64_PRIME;
	}
	return hash;
}
