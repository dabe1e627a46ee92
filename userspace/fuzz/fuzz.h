/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libFuzzer harnesses in this directory share.
 *
 * Each fuzz_NAME.c is one harness: LLVMFuzzerTestOneInput() gets any bytes
 * and must return without a crash, a leak, undefined behaviour (ASan,
 * LeakSanitizer and UBSan, built in by `make fuzz`) or a broken promise of
 * the API it calls (FUZZ_CHECK: an abort that libFuzzer records as a
 * crash, with the input that caused it).
 *
 * Seeds are in corpus/NAME/ (small files kept in the repository); the
 * files named gen-* there are written by fuzz_seeds.c (`make fuzz-seeds`),
 * the others by hand. `make fuzz-short` and `make fuzz-long` run every
 * harness through scripts/fuzz-userspace, with a working corpus and crash
 * files under $(O)/fuzz/, never in the repository.
 */
#ifndef IMEE_FUZZ_H
#define IMEE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A property the code under test promises: its failure is a finding. */
#define FUZZ_CHECK(cond)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                       \
			abort();                                                              \
		}                                                                             \
	} while (0)

/*
 * With FUZZ_VERBOSE set in the environment, say what the calls returned:
 * to triage a reproducer (fuzz_NAME FILE runs one input) or to check that
 * a seed reaches what it was made for.
 */
static inline int fuzz_verbose(void)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	return verbose;
}

#define FUZZ_SAY(...)                                 \
	do {                                          \
		if (fuzz_verbose())                   \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* IMEE_FUZZ_H */
