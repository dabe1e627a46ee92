// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms from guest memory, over synthetic images (ksyms_build.c) mapped
 * through fake page tables: every layout recognised decodes to the symbols
 * it was built from, lookups by name and address, a decoy digit run, and
 * corrupted tables that must fail cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "ksyms_build.h"
#include "tap.h"

#define RAM_SIZE (32ULL << 20)
#define TEXT_VA 0xffffffff82000000ULL /* _text with a KASLR slide of 16 MiB */
#define TEXT_PA 0x400000ULL
#define RODATA_VA (TEXT_VA + SZ_2M)
#define RODATA_PA 0x600000ULL
#define TABLES_OFF 0x3000 /* where the tables start in .rodata */
#define IMG_CAP (256U << 10)
#define NR_FUNCS 300
#define NR_SYMS_MAX (NR_FUNCS + 16)

static struct fake_mem fm;
static struct imee_mem mem;
static uint64_t root;
static struct ksb_sym syms[NR_SYMS_MAX];
static char func_names[NR_FUNCS][16];
static char long_name[220];
static size_t nr_syms;
static unsigned char *img;
static struct ksb_layout lay;

static void add(const char *name, char type, uint64_t addr, bool percpu)
{
	syms[nr_syms].name = name;
	syms[nr_syms].type = type;
	syms[nr_syms].addr = addr;
	syms[nr_syms].percpu = percpu;
	nr_syms++;
}

/* Sorted by address, as scripts/kallsyms.c sorts them. */
static void make_symbols(bool percpu)
{
	size_t i;

	nr_syms = 0;
	if (percpu) {
		add("fixed_percpu_data", 'A', 0, true);
		add("cpu_number", 'A', 0x1f000, true);
	}
	add("_text", 'T', TEXT_VA, false);
	add("startup_64", 'T', TEXT_VA, false);
	for (i = 0; i < NR_FUNCS; i++) {
		snprintf(func_names[i], sizeof(func_names[i]), "func_%03zu", i);
		add(func_names[i], 't', TEXT_VA + 0x1000 + 0x40 * i, false);
	}
	add("linux_banner", 'D', TEXT_VA + 0x150000, false);
	add("dup", 't', TEXT_VA + 0x160000, false);
	memset(long_name, 'x', sizeof(long_name) - 1);
	memcpy(long_name, "long_", 5);
	long_name[sizeof(long_name) - 1] = '\0';
	add(long_name, 'T', TEXT_VA + 0x170000, false);
	add("dup", 'd', TEXT_VA + 0x180000, false);
	add("__per_cpu_end", 'D', TEXT_VA + 0x190000, false);
}

/* Build the image and map it; the caller may corrupt img[] and call put_image(). */
static void setup(const struct ksb_opts *o)
{
	static const char decoy[] = "xx\0000\0001\0002\0003\0004\0005\0006\0007\0008\0009\0zz";

	fake_free(&fm);
	fake_init(&fm, RAM_SIZE);
	mem = fake_mem(&fm);
	root = fake_table(&fm, 2);
	fake_map(&fm, root, 4, TEXT_VA, TEXT_PA, SZ_2M, 0);
	fake_map(&fm, root, 4, RODATA_VA, RODATA_PA, SZ_2M, PTE_XD);
	/* A digit run in the text that is no token table. */
	fake_write(&fm, TEXT_PA + 0x777, decoy, sizeof(decoy));
	make_symbols(o->abs_percpu);
	if (!img)
		img = malloc(IMG_CAP);
	REQUIRE(img);
	lay = ksb_build(o, syms, nr_syms, img, IMG_CAP);
}

static void put_image(void)
{
	fake_write(&fm, RODATA_PA + TABLES_OFF, img, lay.size);
}

static struct imee_walk_opts opts(void)
{
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = root);
	return o;
}

static void put32(size_t at, uint32_t v)
{
	memcpy(img + at, &v, 4);
}

static uint32_t get32(size_t at)
{
	uint32_t v;

	memcpy(&v, img + at, 4);
	return v;
}

static int load(struct imee_linux_kallsyms **ks)
{
	struct imee_walk_opts o = opts();

	*ks = NULL;
	return imee_linux_kallsyms_load(&mem, &o, ks);
}

static void check_all(const struct ksb_opts *o)
{
	struct imee_linux_kallsyms_info info;
	struct imee_linux_kallsyms *ks;
	struct imee_linux_ksym s;
	size_t i, matches = 0;
	bool same = true;

	setup(o);
	put_image();
	if (!EXPECT_INT(load(&ks), 0)) {
		printf("# %s\n", imee_errmsg());
		return;
	}
	EXPECT_INT(imee_linux_kallsyms_count(ks), nr_syms);
	imee_linux_kallsyms_info(ks, &info);
	EXPECT_U64(info.num_syms, nr_syms);
	EXPECT_U64(info.token_table_va, RODATA_VA + TABLES_OFF + lay.token_table);
	EXPECT_U64(info.token_index_va, RODATA_VA + TABLES_OFF + lay.token_index);
	EXPECT_U64(info.names_va, RODATA_VA + TABLES_OFF + lay.names);
	EXPECT_U64(info.markers_va, RODATA_VA + TABLES_OFF + lay.markers);
	EXPECT_U64(info.offsets_va, RODATA_VA + TABLES_OFF + lay.offsets);
	EXPECT_U64(info.relative_base, TEXT_VA);
	EXPECT_INT(info.seqs_of_names, o->seqs);
	EXPECT_INT(info.offsets_last, o->offsets_last);
	EXPECT_INT(info.absolute_percpu, o->abs_percpu);
	for (i = 0; i < nr_syms && same; i++) {
		REQUIRE(imee_linux_kallsyms_get(ks, i, &s) == 0);
		same &= EXPECT_STR(s.name, syms[i].name);
		same &= EXPECT_INT(s.type, syms[i].type);
		same &= EXPECT_U64(s.address, syms[i].addr);
		same &= EXPECT_INT(s.index, i);
	}
	EXPECT_INT(imee_linux_kallsyms_get(ks, nr_syms, &s), -ERANGE);

	REQUIRE(imee_linux_kallsyms_lookup_name(ks, "_text", &s, &matches) == 0);
	EXPECT_U64(s.address, TEXT_VA);
	EXPECT_INT(s.type, 'T');
	EXPECT_INT(matches, 1);
	REQUIRE(imee_linux_kallsyms_lookup_name(ks, "func_123", &s, NULL) == 0);
	EXPECT_U64(s.address, TEXT_VA + 0x1000 + 0x40 * 123);
	EXPECT_INT(s.type, 't');
	REQUIRE(imee_linux_kallsyms_lookup_name(ks, long_name, &s, NULL) == 0);
	EXPECT_U64(s.address, TEXT_VA + 0x170000);
	REQUIRE(imee_linux_kallsyms_lookup_name(ks, "dup", &s, &matches) == 0);
	EXPECT_U64(s.address, TEXT_VA + 0x160000);
	EXPECT_INT(matches, 2);
	EXPECT_INT(imee_linux_kallsyms_lookup_name(ks, "func_1234", &s, NULL), -ENOENT);
	EXPECT_INT(imee_linux_kallsyms_lookup_name(ks, "", &s, NULL), -ENOENT);
	EXPECT_INT(imee_linux_kallsyms_lookup_name(ks, "zzz", &s, NULL), -ENOENT);
	if (o->abs_percpu) {
		REQUIRE(imee_linux_kallsyms_lookup_name(ks, "cpu_number", &s, NULL) == 0);
		EXPECT_U64(s.address, 0x1f000);
		EXPECT_INT(s.type, 'A');
	}

	REQUIRE(imee_linux_kallsyms_lookup_address(ks, TEXT_VA + 0x1000 + 0x40 * 5 + 3, &s) == 0);
	EXPECT_STR(s.name, "func_005");
	REQUIRE(imee_linux_kallsyms_lookup_address(ks, TEXT_VA, &s) == 0);
	EXPECT_STR(s.name, "startup_64"); /* the last of equal addresses */
	REQUIRE(imee_linux_kallsyms_lookup_address(ks, ~0ULL, &s) == 0);
	EXPECT_STR(s.name, "__per_cpu_end");
	EXPECT_INT(imee_linux_kallsyms_lookup_address(ks, o->abs_percpu ? 0 : TEXT_VA - 1, &s),
		   o->abs_percpu ? 0 : -ENOENT);
	imee_linux_kallsyms_free(ks);
}

static void layout_6_1(void)
{
	struct ksb_opts o = { .seqs = true, .abs_percpu = true, .relative_base = TEXT_VA };

	check_all(&o);
}

static void layout_6_1_without_seqs(void)
{
	struct ksb_opts o = { .seqs = false, .abs_percpu = true, .relative_base = TEXT_VA };

	check_all(&o);
}

static void layout_6_4(void)
{
	struct ksb_opts o = { .seqs = true, .offsets_last = true, .relative_base = TEXT_VA };

	check_all(&o);
	o.abs_percpu = true;
	check_all(&o);
}

static void relative_offsets(void)
{
	struct ksb_opts o = { .seqs = true, .relative_base = TEXT_VA };

	check_all(&o);
}

static const struct ksb_opts std_opts = {
	.seqs = true,
	.abs_percpu = true,
	.relative_base = TEXT_VA,
};

/* The corrupted image must be refused with err (and nothing leaks). */
static bool refused(int err, const char *what)
{
	struct imee_linux_kallsyms *ks;
	int ret;

	put_image();
	ret = load(&ks);
	if (!EXPECT_INT(ret, err)) {
		printf("# %s: %s\n", what, ret ? imee_errmsg() : "accepted");
		imee_linux_kallsyms_free(ks);
		return false;
	}
	return true;
}

static void corrupt_num_syms(void)
{
	setup(&std_opts);
	put32(lay.num_syms, 0xffffffffU);
	refused(-EPROTO, "num_syms huge");
	setup(&std_opts);
	put32(lay.num_syms, (uint32_t)nr_syms + 1);
	refused(-EPROTO, "num_syms + 1");
	setup(&std_opts);
	put32(lay.num_syms, (uint32_t)nr_syms - 1);
	refused(-EPROTO, "num_syms - 1");
	setup(&std_opts);
	put32(lay.num_syms, 0);
	refused(-EPROTO, "num_syms 0");
}

static void corrupt_names(void)
{
	setup(&std_opts);
	img[lay.names] = 0x7f; /* the first symbol swallows the next ones */
	refused(-EPROTO, "a length too long");
	setup(&std_opts);
	img[lay.names] = 0xff; /* big form: 16383 bytes, past the markers */
	img[lay.names + 1] = 0xff;
	refused(-EPROTO, "a big length past the end");
	setup(&std_opts);
	img[lay.names] = 0; /* no symbol has length 0 */
	refused(-EPROTO, "a zero length");
	/* The names' first page unmapped: the tables are cut short. */
	setup(&std_opts);
	REQUIRE((TABLES_OFF + lay.names) / SZ_4K != (TABLES_OFF + lay.token_table) / SZ_4K);
	fake_free(&fm);
	fake_init(&fm, RAM_SIZE);
	mem = fake_mem(&fm);
	root = fake_table(&fm, 2);
	{
		uint64_t va;

		for (va = RODATA_VA; va < RODATA_VA + TABLES_OFF + lay.size + SZ_4K; va += SZ_4K)
			if ((va - RODATA_VA) / SZ_4K != (TABLES_OFF + lay.names) / SZ_4K)
				fake_map(&fm, root, 4, va, RODATA_PA + (va - RODATA_VA), SZ_4K,
					 PTE_XD);
	}
	refused(-EPROTO, "names cut by a hole");
}

static void corrupt_markers(void)
{
	setup(&std_opts);
	put32(lay.markers + 4, get32(lay.markers + 4) + 1);
	refused(-EPROTO, "marker 1 off by one");
	setup(&std_opts);
	put32(lay.markers, 1);
	refused(-EPROTO, "marker 0 not 0");
}

static void corrupt_tokens(void)
{
	uint16_t v = 0xffff;

	setup(&std_opts);
	memcpy(img + lay.token_index + 2 * 200, &v, 2);
	refused(-ENOENT, "token index out of range");
	setup(&std_opts);
	v = 1;
	memcpy(img + lay.token_index + 2 * 10, &v, 2);
	refused(-ENOENT, "token index inside a token");
	setup(&std_opts);
	img[lay.token_index - 1] = 'x'; /* padding after the last token */
	refused(-ENOENT, "no NUL padding before the token index");
}

static void corrupt_offsets(void)
{
	uint32_t a, b;

	setup(&std_opts);
	memset(img + lay.relative_base, 0, 8);
	refused(-EPROTO, "relative_base 0");
	setup(&std_opts);
	a = get32(lay.offsets + 4 * 10);
	b = get32(lay.offsets + 4 * 11);
	put32(lay.offsets + 4 * 10, b);
	put32(lay.offsets + 4 * 11, a);
	refused(-EPROTO, "offsets not sorted");
	setup(&std_opts);
	memset(img + lay.seqs, 0, 6); /* not a permutation */
	refused(-EPROTO, "seqs_of_names with a duplicate");
}

static void nothing_and_errors(void)
{
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_walk_opts o;

	setup(&std_opts);
	fm.nr_u64_reads = 0;
	EXPECT_INT(load(&ks), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "no kallsyms");
	put_image();
	fm.fail_err = -ESRCH;
	EXPECT_INT(load(&ks), -ESRCH);
	fm.fail_err = 0;
	o = opts();
	o.paging = IMEE_PAGING_32BIT;
	EXPECT_INT(imee_linux_kallsyms_load(&mem, &o, &ks), -EOPNOTSUPP);
	EXPECT_INT(imee_linux_kallsyms_load(NULL, &o, &ks), -EINVAL);
	EXPECT(ks == NULL);
	imee_linux_kallsyms_free(NULL);
	EXPECT_INT(imee_linux_kallsyms_count(NULL), 0);
}

int main(void)
{
	tap_run(layout_6_1, "6.1.y layout (seqs_of_names, absolute percpu) decodes exactly");
	tap_run(layout_6_1_without_seqs, "6.1.0 layout without seqs_of_names");
	tap_run(layout_6_4, "6.4+ order: offsets and relative_base after token_index");
	tap_run(relative_offsets, "unsigned offsets (no absolute percpu)");
	tap_run(corrupt_num_syms, "num_syms huge, off by one, zero: refused");
	tap_run(corrupt_names, "names: bad lengths, cut by a hole: refused");
	tap_run(corrupt_markers, "markers inconsistent with names: refused");
	tap_run(corrupt_tokens, "token index out of range or inconsistent: no table");
	tap_run(corrupt_offsets, "relative_base, unsorted offsets, bad seqs: refused");
	tap_run(nothing_and_errors, "no tables, read errors, bad arguments");
	fake_free(&fm);
	free(img);
	return tap_done();
}
