/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP producer for the unit tests: one "ok N - name" line per test
 * case, with "# file:line: ..." diagnostics for each failed expectation.
 */
#ifndef IMEE_TESTS_TAP_H
#define IMEE_TESTS_TAP_H

#include <stdbool.h>
#include <stdint.h>

/* Run one test case: fn's failed expectations make it "not ok". */
void tap_run(void (*fn)(void), const char *name);

/* Print the plan; the process's exit status (0 when everything passed). */
int tap_done(void);

bool tap_expect(bool ok, const char *what, const char *file, int line);
bool tap_expect_u64(uint64_t got, uint64_t want, const char *what, const char *file, int line);
bool tap_expect_int(long long got, long long want, const char *what, const char *file, int line);
bool tap_expect_str(const char *got, const char *want, const char *what, const char *file,
		    int line);
/* got contains want */
bool tap_expect_has(const char *got, const char *want, const char *what, const char *file,
		    int line);

#define EXPECT(cond) tap_expect((cond), #cond, __FILE__, __LINE__)
#define EXPECT_U64(got, want) tap_expect_u64((got), (want), #got, __FILE__, __LINE__)
#define EXPECT_INT(got, want) tap_expect_int((got), (want), #got, __FILE__, __LINE__)
#define EXPECT_STR(got, want) tap_expect_str((got), (want), #got, __FILE__, __LINE__)
#define EXPECT_HAS(got, want) tap_expect_has((got), (want), #got, __FILE__, __LINE__)

/* Stop the current test case when an expectation it depends on failed. */
#define REQUIRE(cond)              \
	do {                       \
		if (!EXPECT(cond)) \
			return;    \
	} while (0)

#endif /* IMEE_TESTS_TAP_H */
