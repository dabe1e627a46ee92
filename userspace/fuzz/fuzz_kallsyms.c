// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: kallsyms found and decoded from guest memory
 * (imee_linux_kallsyms_load()), with the input as the guest's .rodata.
 *
 * The guest has fixed, valid page tables (4-level) that map one 2 MiB
 * page at RODATA_VA in the kernel image range to guest-physical
 * RODATA_PA; the input is the start of that page (the rest is zeros, and
 * an input longer than the page is cut). The search scans the whole
 * kernel image range, as it would in a guest, and finds the tables only
 * in the input.
 *
 * Loading must fail with -ENOENT or -EPROTO or succeed; a success must
 * keep the promises of imee.h: addresses sorted, every symbol found again
 * by its name and by its address, names NUL-terminated and short of
 * IMEE_LINUX_KSYM_NAME_MAX. Seeds: corpus/kallsyms/gen-* are ksyms_build
 * images (every layout recognised) from fuzz_seeds.c.
 */
#include <errno.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "fuzz.h"

#define RODATA_VA 0xffffffff80200000ULL
#define RODATA_PA 0x200000ULL /* just above the page tables' RAM */

static struct fake_mem fm;
static struct imee_walk_opts wopts;
static size_t dirty; /* bytes of the page the previous input wrote */

static void setup(void)
{
	uint64_t root;

	fake_init(&fm, RODATA_PA + SZ_2M); /* page tables below RODATA_PA */
	root = fake_table(&fm, 1);
	fake_map(&fm, root, 4, RODATA_VA, RODATA_PA, SZ_2M, PTE_XD);
	memset(&wopts, 0, sizeof(wopts));
	wopts.sz = sizeof(wopts);
	wopts.paging = IMEE_PAGING_4LEVEL;
	wopts.cr3 = root;
}

static void check_symbols(const struct imee_linux_kallsyms *ks)
{
	struct imee_linux_kallsyms_info info;
	size_t n = imee_linux_kallsyms_count(ks), i, matches;
	struct imee_linux_ksym s, t;
	uint64_t prev = 0;

	imee_linux_kallsyms_info(ks, &info);
	FUZZ_CHECK(info.num_syms == n && n >= 1);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(imee_linux_kallsyms_get(ks, i, &s) == 0);
		FUZZ_CHECK(s.index == i && s.name);
		FUZZ_CHECK(strlen(s.name) < IMEE_LINUX_KSYM_NAME_MAX);
		FUZZ_CHECK(s.address >= prev);
		prev = s.address;
		FUZZ_CHECK(imee_linux_kallsyms_lookup_name(ks, s.name, &t, &matches) == 0);
		FUZZ_CHECK(!strcmp(t.name, s.name) && matches >= 1 && matches <= n);
		FUZZ_CHECK(imee_linux_kallsyms_lookup_address(ks, s.address, &t) == 0);
		FUZZ_CHECK(t.address == s.address);
	}
	FUZZ_CHECK(imee_linux_kallsyms_get(ks, n, &s) == -ERANGE);
	/* The names the Linux jobs ask for; found or not, never a crash. */
	imee_linux_kallsyms_lookup_name(ks, "_text", &s, &matches);
	imee_linux_kallsyms_lookup_name(ks, "init_task", &s, NULL);
	imee_linux_kallsyms_lookup_name(ks, "", &s, NULL);
	imee_linux_kallsyms_lookup_address(ks, 0, &s);
	imee_linux_kallsyms_lookup_address(ks, UINT64_MAX, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_mem mem;
	int ret;

	if (!fm.nr_slots)
		setup();
	if (size > SZ_2M)
		size = SZ_2M;
	fake_write(&fm, RODATA_PA, data, size);
	if (dirty > size)
		memset(fake_ptr(&fm, RODATA_PA + size, dirty - size), 0, dirty - size);
	dirty = size;
	mem = fake_mem(&fm);
	ret = imee_linux_kallsyms_load(&mem, &wopts, &ks);
	FUZZ_SAY("kallsyms: %d (%s), %zu symbols\n", ret, ret ? imee_errmsg() : "",
		 imee_linux_kallsyms_count(ks));
	if (ret) {
		FUZZ_CHECK(ret == -ENOENT || ret == -EPROTO || ret == -ENOMEM);
		FUZZ_CHECK(!ks);
		return 0;
	}
	FUZZ_CHECK(ks);
	check_symbols(ks);
	imee_linux_kallsyms_free(ks);
	return 0;
}
