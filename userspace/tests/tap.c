// SPDX-License-Identifier: GPL-2.0
/*
 * The unit tests' TAP output.
 */
#include "tap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int cases, failed_cases, case_failures;

void tap_run(void (*fn)(void), const char *name)
{
	case_failures = 0;
	fn();
	cases++;
	if (case_failures)
		failed_cases++;
	printf("%s %d - %s\n", case_failures ? "not ok" : "ok", cases, name);
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%d\n", cases);
	if (failed_cases)
		printf("# %d of %d failed\n", failed_cases, cases);
	return failed_cases ? 1 : 0;
}

static bool fail(const char *file, int line)
{
	case_failures++;
	printf("# %s:%d: ", file, line);
	return false;
}

bool tap_expect(bool ok, const char *what, const char *file, int line)
{
	if (ok)
		return true;
	fail(file, line);
	printf("expected %s\n", what);
	return false;
}

bool tap_expect_u64(uint64_t got, uint64_t want, const char *what, const char *file, int line)
{
	if (got == want)
		return true;
	fail(file, line);
	printf("%s is 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", what, got, want);
	return false;
}

bool tap_expect_int(long long got, long long want, const char *what, const char *file, int line)
{
	if (got == want)
		return true;
	fail(file, line);
	printf("%s is %lld, expected %lld\n", what, got, want);
	return false;
}

bool tap_expect_str(const char *got, const char *want, const char *what, const char *file, int line)
{
	if (got && want && !strcmp(got, want))
		return true;
	fail(file, line);
	printf("%s is \"%s\", expected \"%s\"\n", what, got ? got : "(null)",
	       want ? want : "(null)");
	return false;
}

bool tap_expect_has(const char *got, const char *want, const char *what, const char *file, int line)
{
	if (got && want && strstr(got, want))
		return true;
	fail(file, line);
	printf("%s is \"%s\", expected it to contain \"%s\"\n", what, got ? got : "(null)",
	       want ? want : "(null)");
	return false;
}
