// SPDX-License-Identifier: GPL-2.0
/*
 * syscalldmp and modules over the synthetic guest of fake_linux.c: the
 * system call tables named and checked against the kernel's own naming
 * rule (a clean table, entries pointing outside the text, into another
 * function, into the middle of a handler, at zero or garbage), their size
 * from BTF and from kallsyms alone; and the module list in both struct
 * module layouts (6.1's core_layout, 6.4's mem[]), from kallsyms and BTF
 * and from the cache, and every kind of corruption a walk must survive
 * (cycles, garbage pointers, prev links that do not point back, unmapped
 * nodes, too many entries), each ending with a typed error, never a hang.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imee/imee.h>

#include "fake_linux.h"
#include "kbtf_build.h"
#include "linux_layout.h"
#include "tap.h"

static char cache_dir[64];

static struct imee_linux *open_guest(struct fake_linux *g, bool cache)
{
	struct imee_linux_banner banner = fl_banner();
	IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner, .load_kallsyms = fl_load_kallsyms,
		  .load_arg = g, .paging = g->walk.paging, .no_cache = !cache,
		  .cache_dir = cache_dir);
	struct imee_linux *lx = NULL;

	if (!EXPECT_INT(imee_linux_open(&g->vmem, &o, &lx), 0))
		printf("# open: %s\n", imee_errmsg());
	return lx;
}

static struct imee_linux_kallsyms *load_ksyms(struct fake_linux *g)
{
	struct imee_linux_kallsyms *ks = NULL;

	if (!EXPECT_INT(fl_load_kallsyms(g, &ks), 0))
		printf("# kallsyms: %s\n", imee_errmsg());
	return ks;
}

static int dump(struct fake_linux *g, struct imee_linux_kallsyms *ks, struct imee_linux *lx,
		enum imee_linux_syscall_abi abi, size_t max, struct imee_linux_syscall_table *t)
{
	IMEE_OPTS(imee_linux_syscalls_opts, o, .abi = abi, .lx = lx, .max = max);

	memset(t, 0, sizeof(*t));
	return imee_linux_syscalls(ks, &g->vmem, &o, t);
}

static void expect_entry(const struct imee_linux_syscall *e, uint64_t handler, const char *symbol,
			 uint64_t offset, enum imee_linux_syscall_flag flag)
{
	bool ok = true;

	ok &= EXPECT_U64(e->handler, handler);
	if (symbol)
		ok &= EXPECT(e->symbol && !strcmp(e->symbol, symbol));
	else
		ok &= EXPECT(!e->symbol);
	ok &= EXPECT_U64(e->offset, offset);
	ok &= EXPECT_INT(e->flag, flag);
	if (!ok)
		printf("# entry %u: symbol %s\n", e->nr, e->symbol ? e->symbol : "(none)");
}

static void clean_tables(void)
{
	static const unsigned int ia32[FL_NR_IA32] = { 6, 7, 5, 8 };
	struct imee_linux_syscall_table t;
	struct imee_linux_kallsyms *ks;
	struct fake_linux g;
	struct imee_linux *lx;
	unsigned int i;

	fl_init(&g, false);
	ks = load_ksyms(&g);
	lx = open_guest(&g, false);
	REQUIRE(ks && lx);

	/* With BTF: NR_syscalls is trace_array.enter_syscall_files' length. */
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	EXPECT_STR(t.name, "sys_call_table");
	EXPECT_U64(t.address, FL_SCT_VA);
	EXPECT_INT(t.size, FL_NR_X64);
	EXPECT_INT(t.count_source, IMEE_LINUX_SYSCALL_COUNT_BTF);
	EXPECT_INT(t.nr, FL_NR_X64);
	EXPECT_INT(t.nr_flagged, 0);
	EXPECT_INT(t.err, 0);
	EXPECT(!t.used_for_dispatch); /* the kernel has x64_sys_call */
	EXPECT_U64(t.stext, FL_TEXT_VA);
	EXPECT_U64(t.etext, FL_ETEXT_VA);
	for (i = 0; i < t.nr && i < FL_NR_X64; i++) {
		EXPECT_INT(t.entries[i].nr, i);
		/* Entry 5's other name (__ia32_sys_ni_syscall) is not this table's. */
		expect_entry(&t.entries[i], FL_HANDLER_VA(i), fl_handler_names[i], 0,
			     IMEE_LINUX_SYSCALL_OK);
	}
	imee_linux_syscall_table_free(&t);

	/* Without BTF: the room before vdso_mapping, less its zero padding. */
	REQUIRE(dump(&g, ks, NULL, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	EXPECT_INT(t.size, FL_NR_X64);
	EXPECT_INT(t.count_source, IMEE_LINUX_SYSCALL_COUNT_KALLSYMS);
	EXPECT_INT(t.nr_flagged, 0);
	imee_linux_syscall_table_free(&t);

	/* The 32-bit table: its own naming rule; no ia32_sys_call, so it dispatches. */
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_IA32, 0, &t) == 0);
	EXPECT_STR(t.name, "ia32_sys_call_table");
	EXPECT_INT(t.size, FL_NR_IA32);
	EXPECT_INT(t.count_source, IMEE_LINUX_SYSCALL_COUNT_KALLSYMS);
	EXPECT(t.used_for_dispatch);
	EXPECT_INT(t.nr_flagged, 0);
	for (i = 0; i < t.nr && i < FL_NR_IA32; i++)
		expect_entry(&t.entries[i], FL_HANDLER_VA(ia32[i]),
			     ia32[i] == 5 ? "__ia32_sys_ni_syscall" : fl_handler_names[ia32[i]], 0,
			     IMEE_LINUX_SYSCALL_OK);
	imee_linux_syscall_table_free(&t);

	/* The bound: what was read, and -E2BIG. */
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 4, &t) == 0);
	EXPECT_INT(t.nr, 4);
	EXPECT_INT(t.size, FL_NR_X64);
	EXPECT_INT(t.err, -E2BIG);
	imee_linux_syscall_table_free(&t);

	/* Bad options. */
	EXPECT_INT(dump(&g, ks, lx, (enum imee_linux_syscall_abi)7, 0, &t), -EINVAL);
	EXPECT_INT(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, IMEE_LINUX_SYSCALLS_MAX + 1, &t),
		   -EINVAL);
	EXPECT_INT(imee_linux_syscalls(NULL, &g.vmem, NULL, &t), -EINVAL);
	EXPECT_STR(imee_linux_syscall_flag_name(IMEE_LINUX_SYSCALL_NOT_A_HANDLER), "not-a-handler");
	imee_linux_close(lx);
	imee_linux_kallsyms_free(ks);
	fl_free(&g);
}

/* A rootkit's work: each replaced entry is flagged, with the reason. */
static void hooked_tables(void)
{
	struct imee_linux_syscall_table t;
	struct imee_linux_kallsyms *ks;
	struct fake_linux g;
	struct imee_linux *lx;

	fl_init(&g, true);
	ks = load_ksyms(&g);
	lx = open_guest(&g, false);
	REQUIRE(ks && lx);
	fl_w64(&g, FL_SCT_VA + 8 * 0, FL_MODULE_AREA_VA + 0x1230); /* a module's function */
	fl_w64(&g, FL_SCT_VA + 8 * 1, FL_FUNC5_VA); /* another kernel function */
	fl_w64(&g, FL_SCT_VA + 8 * 2, FL_HANDLER_VA(2) + 5); /* inside a handler */
	fl_w64(&g, FL_SCT_VA + 8 * 3, FL_HANDLER_VA(6)); /* the 32-bit table's handler */
	fl_w64(&g, FL_SCT_VA + 8 * 4, FL_BANNER_VA); /* data in the image */
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	REQUIRE(t.nr == FL_NR_X64);
	EXPECT_INT(t.nr_flagged, 5);
	expect_entry(&t.entries[0], FL_MODULE_AREA_VA + 0x1230, NULL, 0,
		     IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[1], FL_FUNC5_VA, "func_005", 0, IMEE_LINUX_SYSCALL_NOT_A_HANDLER);
	expect_entry(&t.entries[2], FL_HANDLER_VA(2) + 5, "__x64_sys_open", 5,
		     IMEE_LINUX_SYSCALL_NOT_A_HANDLER);
	expect_entry(&t.entries[3], FL_HANDLER_VA(6), "__ia32_sys_read", 0,
		     IMEE_LINUX_SYSCALL_NOT_A_HANDLER);
	expect_entry(&t.entries[4], FL_BANNER_VA, "linux_banner", 0,
		     IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[5], FL_HANDLER_VA(5), "__x64_sys_ni_syscall", 0,
		     IMEE_LINUX_SYSCALL_OK);
	imee_linux_syscall_table_free(&t);

	/* Garbage: zero, a user address, a non-canonical one, the top of memory. */
	fl_w64(&g, FL_SCT_VA + 8 * 0, 0x400000);
	fl_w64(&g, FL_SCT_VA + 8 * 1, 0x8000000000001000ULL);
	fl_w64(&g, FL_SCT_VA + 8 * 2, ~0ULL);
	fl_w64(&g, FL_SCT_VA + 8 * 3, FL_ETEXT_VA); /* one past the text */
	fl_w64(&g, FL_SCT_VA + 8 * 4, FL_TEXT_VA - 8);
	fl_w64(&g, FL_SCT_VA + 8 * 5, 0);
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	REQUIRE(t.nr == FL_NR_X64);
	EXPECT_INT(t.nr_flagged, 6);
	expect_entry(&t.entries[0], 0x400000, NULL, 0, IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[1], 0x8000000000001000ULL, NULL, 0,
		     IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[2], ~0ULL, NULL, 0, IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[3], FL_ETEXT_VA, "_etext", 0, IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[4], FL_TEXT_VA - 8, NULL, 0, IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	expect_entry(&t.entries[5], 0, NULL, 0, IMEE_LINUX_SYSCALL_OUTSIDE_TEXT);
	imee_linux_syscall_table_free(&t);

	/* Without BTF, a table of zeros has no entries to give: an error. */
	memset(fl_ptr(&g, FL_SCT_VA, 8 * FL_NR_X64), 0, 8 * FL_NR_X64);
	EXPECT_INT(dump(&g, ks, NULL, IMEE_LINUX_SYSCALLS_X64, 0, &t), -EBADMSG);
	/* With BTF it has six, each flagged. */
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	EXPECT_INT(t.nr_flagged, FL_NR_X64);
	imee_linux_syscall_table_free(&t);

	/* A table that cannot be read: the read's error, nothing else. */
	fake_set(&g.fm, fake_entry(&g.fm, g.walk.cr3, 5, FL_SCT_VA, 2), 0);
	EXPECT_INT(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t), -EFAULT);
	EXPECT_HAS(imee_errmsg(), "sys_call_table");
	imee_linux_close(lx);
	imee_linux_kallsyms_free(ks);
	fl_free(&g);
}

/* The guest's modules: newest first, as the kernel links them. */
struct guest_mods {
	uint64_t m[3];
};

static void add_modules(struct fake_linux *g, struct guest_mods *gm)
{
	gm->m[0] =
		fl_module(g, "virtio_console", KMS_LIVE, FL_MODULE_AREA_VA + 0x100000, 40960, 0, 1);
	gm->m[1] = fl_module(g, "virtio_pci", KMS_COMING, FL_MODULE_AREA_VA + 0x110000, 24576, 4096,
			     3);
	gm->m[2] = fl_module(g, "a_module_with_a_name_of_fifty-five_bytes_which_is_the_max",
			     KMS_GOING, FL_MODULE_AREA_VA + 0x120000, 16384, 0, 0);
	fl_link_modules(g, gm->m, 3);
}

static int walk_modules(struct fake_linux *g, struct imee_linux *lx, size_t max,
			struct imee_linux_module_list *list)
{
	IMEE_OPTS(imee_linux_modules_opts, o, .max = max);

	memset(list, 0, sizeof(*list));
	return imee_linux_modules(lx, &g->vmem, &o, list);
}

static void check_modules(struct fake_linux *g, struct imee_linux *lx, const struct guest_mods *gm)
{
	struct imee_linux_module_list list;
	const struct imee_linux_module *m;

	REQUIRE(walk_modules(g, lx, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 3);
	m = list.modules;
	EXPECT_STR(m[0].name, "virtio_console");
	EXPECT_INT(m[0].state, IMEE_LINUX_MODULE_LIVE);
	EXPECT_U64(m[0].base, FL_MODULE_AREA_VA + 0x100000);
	EXPECT_U64(m[0].size, 40960);
	EXPECT(m[0].has_refcount);
	EXPECT_INT(m[0].refcount, 0); /* refcnt - MODULE_REF_BASE */
	EXPECT_U64(m[0].address, gm->m[0]);
	EXPECT_STR(m[1].name, "virtio_pci");
	EXPECT_INT(m[1].state, IMEE_LINUX_MODULE_COMING);
	EXPECT_U64(m[1].size, 24576 + 4096); /* core and init, as /proc/modules */
	EXPECT_INT(m[1].refcount, 2);
	EXPECT_STR(m[2].name, "a_module_with_a_name_of_fifty-five_bytes_which_is_the_m");
	EXPECT_INT(m[2].state, IMEE_LINUX_MODULE_GOING);
	EXPECT_INT(m[2].refcount, -1);
	EXPECT_STR(imee_linux_module_state_name(m[2].state), "going");
	imee_linux_module_list_free(&list);
}

static void module_list(unsigned int btf_flags)
{
	struct imee_linux_module_list list;
	struct imee_linux_info info;
	struct guest_mods gm;
	struct fake_linux g;
	struct imee_linux *lx;

	fl_init_flags(&g, false, btf_flags);
	lx = open_guest(&g, true);
	REQUIRE(lx);
	/* None loaded: an empty list, complete. */
	REQUIRE(walk_modules(&g, lx, 0, &list) == 0);
	EXPECT_INT(list.nr, 0);
	EXPECT_INT(list.err, 0);
	imee_linux_module_list_free(&list);
	add_modules(&g, &gm);
	check_modules(&g, lx, &gm);
	imee_linux_close(lx);
	/* The same through the cache: the list head and the layout were kept. */
	lx = open_guest(&g, true);
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_HIT);
	check_modules(&g, lx, &gm);
	imee_linux_close(lx);
	fl_free(&g);
}

static void module_list_6_1(void)
{
	module_list(0);
}

static void module_list_6_4(void)
{
	module_list(KBTF_MODULE_MEM);
}

static void no_modules(void)
{
	struct imee_linux_module_list list;
	struct imee_linux_syscall_table t;
	struct imee_linux_kallsyms *ks;
	struct fake_linux g;
	struct imee_linux *lx;

	/* A BTF without struct module: the other jobs are unaffected. */
	fl_init_flags(&g, false, KBTF_BARE);
	lx = open_guest(&g, true);
	REQUIRE(lx);
	EXPECT_INT(walk_modules(&g, lx, 0, &list), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "struct module");
	imee_linux_close(lx);
	/* What is absent stays absent through the cache. */
	lx = open_guest(&g, true);
	REQUIRE(lx);
	{
		struct imee_linux_info info;

		imee_linux_get_info(lx, &info);
		EXPECT_INT(info.cache, IMEE_LINUX_CACHE_HIT);
	}
	EXPECT_INT(walk_modules(&g, lx, 0, &list), -ENOENT);
	/* ... and syscalldmp sizes its table from kallsyms. */
	ks = load_ksyms(&g);
	REQUIRE(ks);
	REQUIRE(dump(&g, ks, lx, IMEE_LINUX_SYSCALLS_X64, 0, &t) == 0);
	EXPECT_INT(t.count_source, IMEE_LINUX_SYSCALL_COUNT_KALLSYMS);
	EXPECT_INT(t.size, FL_NR_X64);
	imee_linux_syscall_table_free(&t);
	imee_linux_kallsyms_free(ks);
	imee_linux_close(lx);
	fl_free(&g);
}

/* Corrupt something, walk, expect err with at least nr_min modules read. */
static void expect_stop(struct fake_linux *g, struct imee_linux *lx, int err, size_t nr_min,
			const char *msg)
{
	struct imee_linux_module_list list;
	int ret = walk_modules(g, lx, 0, &list);

	if (!nr_min) {
		/* Nothing read: the call fails with the error itself. */
		if (!EXPECT_INT(ret, err))
			printf("# %s\n", imee_errmsg());
		EXPECT_HAS(imee_errmsg(), msg);
		return;
	}
	REQUIRE(ret == 0);
	if (!EXPECT_INT(list.err, err))
		printf("# %s\n", list.error.message);
	EXPECT(list.nr >= nr_min && list.nr <= 3);
	EXPECT_HAS(list.error.message, msg);
	imee_linux_module_list_free(&list);
}

static void hostile_module_lists(void)
{
	struct imee_linux_module_list list;
	struct guest_mods gm;
	struct fake_linux g;
	struct imee_linux *lx;
	uint64_t saved;
	int i;

	fl_init(&g, false);
	add_modules(&g, &gm);
	lx = open_guest(&g, false);
	REQUIRE(lx);

	/* Garbage next pointers: NULL, user, non-canonical, misaligned, outside the area. */
	saved = fl_r64(&g, gm.m[1] + KM_LIST);
	fl_w64(&g, gm.m[1] + KM_LIST, 0);
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	fl_w64(&g, gm.m[1] + KM_LIST, 0x400000);
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	fl_w64(&g, gm.m[1] + KM_LIST, 0x8000000000001000ULL);
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	fl_w64(&g, gm.m[1] + KM_LIST, saved + 4);
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	fl_w64(&g, gm.m[1] + KM_LIST, fl_alloc(&g, KM_SIZE) + KM_LIST); /* the direct map */
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	fl_w64(&g, gm.m[1] + KM_LIST, 0xfffffffffff00000ULL); /* above the module area */
	expect_stop(&g, lx, -EBADMSG, 2, "not a kernel pointer");
	/* In the area, but unmapped. */
	fl_w64(&g, gm.m[1] + KM_LIST, FL_MODULE_AREA_VA + FL_MODULE_AREA_SIZE + KM_LIST);
	expect_stop(&g, lx, -EFAULT, 2, "not mapped");
	fl_w64(&g, gm.m[1] + KM_LIST, saved);

	/* A prev that does not point back. */
	fl_w64(&g, gm.m[2] + KM_LIST + 8, gm.m[0] + KM_LIST);
	expect_stop(&g, lx, -EBADMSG, 2, "->prev");
	fl_w64(&g, gm.m[2] + KM_LIST + 8, gm.m[1] + KM_LIST);
	/* The head's prev naming another module than the last. */
	fl_w64(&g, FL_MODULES_HEAD_VA + 8, gm.m[1] + KM_LIST);
	expect_stop(&g, lx, -EBADMSG, 3, "head's prev");
	fl_w64(&g, FL_MODULES_HEAD_VA + 8, gm.m[2] + KM_LIST);

	/* A ring that never comes back to the head, every prev consistent but the first. */
	for (i = 0; i < 3; i++) {
		fl_w64(&g, gm.m[i] + KM_LIST, gm.m[(i + 1) % 3] + KM_LIST);
		fl_w64(&g, gm.m[(i + 1) % 3] + KM_LIST + 8, gm.m[i] + KM_LIST);
	}
	REQUIRE(walk_modules(&g, lx, 0, &list) != 0 || list.err);
	EXPECT(list.nr <= 3);
	imee_linux_module_list_free(&list);
	/* A module pointing at itself: the second visit's prev gives it away. */
	fl_link_modules(&g, gm.m, 3);
	fl_w64(&g, gm.m[1] + KM_LIST, gm.m[1] + KM_LIST);
	expect_stop(&g, lx, -EBADMSG, 2, "->prev");
	fl_link_modules(&g, gm.m, 3);

	/* An unknown state is reported as such; the walk goes on. */
	fl_w32(&g, gm.m[1] + KM_STATE, 77);
	REQUIRE(walk_modules(&g, lx, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 3);
	EXPECT_INT(list.modules[1].state, IMEE_LINUX_MODULE_UNKNOWN);
	EXPECT_INT(list.modules[1].state_raw, 77);
	imee_linux_module_list_free(&list);
	/* A name without its NUL is cut at the buffer. */
	memset(fl_ptr(&g, gm.m[1] + KM_NAME, KM_NAME_LEN), 'x', KM_NAME_LEN);
	REQUIRE(walk_modules(&g, lx, 0, &list) == 0);
	EXPECT_INT(strlen(list.modules[1].name), KM_NAME_LEN);
	imee_linux_module_list_free(&list);

	/* The bound. */
	REQUIRE(walk_modules(&g, lx, 2, &list) == 0);
	EXPECT_INT(list.err, -E2BIG);
	EXPECT_INT(list.nr, 2);
	imee_linux_module_list_free(&list);
	{
		IMEE_OPTS(imee_linux_modules_opts, o, .max = IMEE_LINUX_WALK_MAX + 1);

		EXPECT_INT(imee_linux_modules(lx, &g.vmem, &o, &list), -EINVAL);
	}

	/* Nothing readable at all: an error, no list. */
	fl_w64(&g, FL_MODULES_HEAD_VA, 0x17);
	expect_stop(&g, lx, -EBADMSG, 0, "not a kernel pointer");
	fl_w64(&g, FL_MODULES_HEAD_VA + 8, 0);
	expect_stop(&g, lx, -EBADMSG, 0, "modules.prev");
	imee_linux_close(lx);
	fl_free(&g);
}

/* A long list whose end loops into its middle: the walk ends, bounded. */
static void long_module_cycle(void)
{
	struct imee_linux_module_list list;
	struct fake_linux g;
	struct imee_linux *lx;
	uint64_t mods[200];
	int i;

	fl_init(&g, false);
	for (i = 0; i < 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		mods[i] = fl_module(&g, name, KMS_LIVE, FL_MODULE_AREA_VA, 4096, 0, 1);
	}
	fl_link_modules(&g, mods, 200);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	REQUIRE(walk_modules(&g, lx, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	EXPECT_INT(list.nr, 200);
	imee_linux_module_list_free(&list);
	fl_w64(&g, mods[199] + KM_LIST, mods[100] + KM_LIST);
	REQUIRE(walk_modules(&g, lx, 0, &list) == 0);
	EXPECT(list.err == -EBADMSG || list.err == -ELOOP);
	EXPECT(list.nr <= 200);
	imee_linux_module_list_free(&list);
	imee_linux_close(lx);
	fl_free(&g);
}

/* The optional entries' checks: what a corrupt cache file could claim is refused. */
static void optional_layout_checks(void)
{
	struct imee_linux_btf *btf;
	struct linux_layout l, bad;
	size_t len;
	void *blob = kbtf_build(&len, KBTF_MODULE_MEM);

	REQUIRE(imee_linux_btf_parse(blob, len, &btf) == 0);
	free(blob);
	REQUIRE(linux_layout_from_btf(btf, &l) == 0);
	imee_linux_btf_free(btf);
	EXPECT_U64(l.module_list.off, KM_LIST);
	EXPECT_U64(l.module_mem.off, KM_MEM);
	EXPECT_U64(l.module_mem.size, KMM_NR * KMM_STRUCT_SIZE);
	EXPECT_INT(l.mod_text, KMM_TEXT);
	EXPECT_INT(l.module_state_live, KMS_LIVE);
	EXPECT_U64(l.module_core_base.size, 0); /* absent in this layout */
	EXPECT_U64(l.trace_syscall_files.size, 8 * KTA_NR_SYSCALLS);
	EXPECT_INT(linux_layout_check(&l), 0);

	bad = l;
	bad.mod_text = KMM_NR; /* past mem[] */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.module_mem.size = KMM_NR * KMM_STRUCT_SIZE + 8; /* not whole elements */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.module_state_going = bad.module_state_live; /* two states alike */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.module_list.off = KM_SIZE - 8; /* past the struct */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.module_size = 0; /* members of an absent struct */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.trace_syscall_files.size = 8 * 1025; /* more than any table */
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
	bad = l;
	bad.module_state_coming = -5;
	EXPECT_INT(linux_layout_check(&bad), -EPROTO);
}

int main(void)
{
	int ret;

	snprintf(cache_dir, sizeof(cache_dir), "/tmp/imee-test-cache-k%d", (int)getpid());
	tap_run(clean_tables, "syscalldmp: both tables named, sized from BTF and from kallsyms");
	tap_run(hooked_tables, "syscalldmp: replaced and garbage entries flagged with the reason");
	tap_run(module_list_6_1, "modules: 6.1's core_layout, from BTF and from the cache");
	tap_run(module_list_6_4, "modules: 6.4's mem[MOD_TEXT], from BTF and from the cache");
	tap_run(no_modules, "modules: a kernel without struct module is named as such");
	tap_run(hostile_module_lists, "modules: cycles, garbage, unmapped: typed errors");
	tap_run(long_module_cycle, "modules: a long list looping into its middle ends the walk");
	tap_run(optional_layout_checks,
		"layout: optional entries resolved, implausible ones refused");
	ret = tap_done();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", cache_dir);
		if (system(cmd))
			ret = 1;
	}
	return ret;
}
