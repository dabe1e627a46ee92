// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic Linux guest of fake_linux.h.
 */
#include "fake_linux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kbtf_build.h"
#include "ksyms_build.h"

#define RAM_SIZE (64ULL << 20)
#define TEXT_PA (48ULL << 20) /* 8 MiB of kernel image */
#define IMAGE_SIZE (8ULL << 20)
#define OBJ_PA (8ULL << 20) /* objects: 8 MiB .. 40 MiB */
#define OBJ_END (40ULL << 20)
#define DMAP_SIZE (48ULL << 20)
#define DMAP_4LEVEL 0xffff888000000000ULL
#define DMAP_5LEVEL 0xff11000000000000ULL
#define KSYMS_OFF 0x240000
#define NR_FUNCS 20
#define MODULE_AREA_PA (40ULL << 20) /* 2 MiB after the objects */

const char *const fl_handler_names[FL_NR_HANDLERS] = {
	"__x64_sys_read",  "__x64_sys_write",	     "__x64_sys_open",
	"__x64_sys_close", "__x64_sys_stat",	     "__x64_sys_ni_syscall",
	"__ia32_sys_read", "__ia32_compat_sys_open", "__ia32_sys_write",
};

static uint64_t pa_of(struct fake_linux *g, uint64_t va)
{
	if (va >= g->dmap && va < g->dmap + DMAP_SIZE)
		return va - g->dmap;
	if (va >= FL_TEXT_VA && va < FL_TEXT_VA + IMAGE_SIZE)
		return va - FL_TEXT_VA + TEXT_PA;
	if (va >= FL_MODULE_AREA_VA && va < FL_MODULE_AREA_VA + FL_MODULE_AREA_SIZE)
		return va - FL_MODULE_AREA_VA + MODULE_AREA_PA;
	fprintf(stderr, "fake_linux: 0x%llx is not mapped\n", (unsigned long long)va);
	abort();
}

void fl_write(struct fake_linux *g, uint64_t va, const void *buf, size_t len)
{
	fake_write(&g->fm, pa_of(g, va), buf, len);
}

void fl_w8(struct fake_linux *g, uint64_t va, uint8_t v)
{
	fl_write(g, va, &v, 1);
}

void fl_w32(struct fake_linux *g, uint64_t va, uint32_t v)
{
	fl_write(g, va, &v, 4);
}

void fl_w64(struct fake_linux *g, uint64_t va, uint64_t v)
{
	fake_set(&g->fm, pa_of(g, va), v);
}

uint64_t fl_r64(struct fake_linux *g, uint64_t va)
{
	return fake_get(&g->fm, pa_of(g, va));
}

void *fl_ptr(struct fake_linux *g, uint64_t va, size_t len)
{
	return fake_ptr(&g->fm, pa_of(g, va), len);
}

uint64_t fl_alloc(struct fake_linux *g, size_t size)
{
	uint64_t pa = g->next_pa;

	g->next_pa = (pa + size + 63) & ~63ULL;
	if (g->next_pa > OBJ_END)
		abort();
	return g->dmap + pa;
}

struct imee_linux_banner fl_banner(void)
{
	struct imee_linux_banner b;

	memset(&b, 0, sizeof(b));
	b.va = FL_BANNER_VA;
	b.pa = FL_BANNER_VA - FL_TEXT_VA + TEXT_PA;
	b.len = strlen(FL_BANNER);
	memcpy(b.text, FL_BANNER, b.len);
	return b;
}

int fl_load_kallsyms(void *arg, struct imee_linux_kallsyms **ks_ret)
{
	struct fake_linux *g = arg;

	return imee_linux_kallsyms_load(&g->mem, &g->walk, ks_ret);
}

/* Sort by address, keeping the given order among equal ones (insertion sort). */
static void sort_syms(struct ksb_sym *syms, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		struct ksb_sym s = syms[i];

		for (j = i; j && syms[j - 1].addr > s.addr; j--)
			syms[j] = syms[j - 1];
		syms[j] = s;
	}
}

static void put_syscall_tables(struct fake_linux *g)
{
	static const unsigned int ia32[FL_NR_IA32] = { 6, 7, 5, 8 };
	unsigned int i;

	for (i = 0; i < FL_NR_X64; i++)
		fl_w64(g, FL_SCT_VA + 8 * i, FL_HANDLER_VA(i));
	for (i = 0; i < FL_NR_IA32; i++)
		fl_w64(g, FL_IA32_SCT_VA + 8 * i, FL_HANDLER_VA(ia32[i]));
}

#define NR_SYMS (NR_FUNCS + FL_NR_HANDLERS + 24)

/* The kernel's symbols, sorted by address (as kallsyms has them). */
static size_t kernel_symbols(const struct fake_linux *g, struct ksb_sym *syms)
{
	static char names[NR_FUNCS][16];
	size_t n = 0, i;

	syms[n++] = (struct ksb_sym){ "_text", 'T', FL_TEXT_VA, false };
	syms[n++] = (struct ksb_sym){ "_stext", 'T', FL_TEXT_VA, false };
	for (i = 0; i < NR_FUNCS; i++) {
		snprintf(names[i], sizeof(names[i]), "func_%03zu", i);
		syms[n++] =
			(struct ksb_sym){ names[i], 't', FL_TEXT_VA + 0x1000 + 0x10 * i, false };
	}
	for (i = 0; i < FL_NR_HANDLERS; i++) {
		syms[n++] = (struct ksb_sym){ fl_handler_names[i], 'T', FL_HANDLER_VA(i), false };
		if (i == 5) /* the x64 name first: lookups by address find the other */
			syms[n++] = (struct ksb_sym){ "__ia32_sys_ni_syscall", 'T',
						      FL_HANDLER_VA(i), false };
	}
	syms[n++] = (struct ksb_sym){ "x64_sys_call", 'T', FL_TEXT_VA + 0x9000, false };
	syms[n++] = (struct ksb_sym){ "_etext", 'T', FL_ETEXT_VA, false };
	syms[n++] = (struct ksb_sym){ "linux_banner", 'D', FL_BANNER_VA, false };
	syms[n++] = (struct ksb_sym){ "sys_call_table", 'D', FL_SCT_VA, false };
	syms[n++] = (struct ksb_sym){ "vdso_mapping", 'd', FL_SCT_VA + 8 * FL_NR_X64 + 16, false };
	syms[n++] = (struct ksb_sym){ "ia32_sys_call_table", 'D', FL_IA32_SCT_VA, false };
	syms[n++] = (struct ksb_sym){ "ia32_next", 'd', FL_IA32_SCT_VA + 8 * FL_NR_IA32, false };
	syms[n++] = (struct ksb_sym){ "__start_BTF", 'R', FL_BTF_VA, false };
	syms[n++] = (struct ksb_sym){ "__stop_BTF", 'R', FL_BTF_VA + g->btf_len, false };
	syms[n++] = (struct ksb_sym){ "init_task", 'D', FL_INIT_TASK_VA, false };
	syms[n++] = (struct ksb_sym){ "init_pid_ns", 'D', FL_INIT_PID_NS_VA, false };
	syms[n++] = (struct ksb_sym){ "init_top_pgt", 'D', FL_TOP_PGT_VA, false };
	syms[n++] = (struct ksb_sym){ "modules", 'D', FL_MODULES_HEAD_VA, false };
	syms[n++] = (struct ksb_sym){ "modules", 'd', FL_MODULES_HEAD_VA + 0x1000, false };
	syms[n++] = (struct ksb_sym){ "_end", 'B', FL_TEXT_VA + 0x600000, false };
	sort_syms(syms, n);
	return n;
}

char *fl_system_map(const struct fake_linux *g, uint64_t link_text)
{
	struct ksb_sym syms[NR_SYMS];
	size_t n = kernel_symbols(g, syms), i, used = 0;
	char *text = malloc(n * 80 + 1);

	if (!text)
		abort();
	text[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)sprintf(text + used, "%016llx %c %s\n",
					(unsigned long long)(syms[i].addr - FL_TEXT_VA + link_text),
					syms[i].type, syms[i].name);
	return text;
}

static void put_kallsyms(struct fake_linux *g)
{
	const struct ksb_opts o = { .seqs = true,
				    .abs_percpu = false,
				    .relative_base = FL_TEXT_VA };
	struct ksb_sym syms[NR_SYMS];
	struct ksb_layout lay;
	unsigned char *img = malloc(1U << 20);
	size_t n;

	if (!img)
		abort();
	n = kernel_symbols(g, syms);
	lay = ksb_build(&o, syms, n, img, 1U << 20);
	fl_write(g, FL_TEXT_VA + KSYMS_OFF, img, lay.size);
	free(img);
}

static void put_init_task(struct fake_linux *g)
{
	const uint64_t t = FL_INIT_TASK_VA;
	uint64_t sig = fl_alloc(g, KS_SIZE);

	fl_w32(g, t + KT_PID, 0);
	fl_w32(g, t + KT_TGID, 0);
	fl_write(g, t + KT_COMM, "swapper/0", 10);
	fl_w64(g, t + KT_REAL_PARENT, t);
	fl_w64(g, t + KT_TASKS, t + KT_TASKS);
	fl_w64(g, t + KT_TASKS + 8, t + KT_TASKS);
	fl_w64(g, t + KT_SIGNAL, sig);
	fl_w64(g, sig + KS_THREAD_HEAD, t + KT_THREAD_NODE);
	fl_w64(g, sig + KS_THREAD_HEAD + 8, t + KT_THREAD_NODE);
	fl_w64(g, t + KT_THREAD_NODE, sig + KS_THREAD_HEAD);
	fl_w64(g, t + KT_THREAD_NODE + 8, sig + KS_THREAD_HEAD);
	fl_w64(g, t + KT_REAL_CRED, fl_cred(g, 0, 0, ~0ULL));
	fl_w64(g, t + KT_CRED, fl_r64(g, t + KT_REAL_CRED));
}

void fl_init(struct fake_linux *g, bool la57)
{
	fl_init_flags(g, la57, 0);
}

void fl_init_flags(struct fake_linux *g, bool la57, unsigned int btf_flags)
{
	const unsigned int levels = la57 ? 5 : 4;
	static const char banner[] = FL_BANNER "\n";
	uint64_t root, off;
	void *btf;

	memset(g, 0, sizeof(*g));
	fake_init(&g->fm, RAM_SIZE);
	g->mem = fake_mem(&g->fm);
	g->dmap = la57 ? DMAP_5LEVEL : DMAP_4LEVEL;
	g->next_pa = OBJ_PA;
	g->next_module = FL_MODULE_AREA_VA + 0x3000;
	g->btf_flags = btf_flags;
	root = fake_table(&g->fm, 2);
	/* The image: text read-only, .rodata read-only and NX, data writable. */
	fake_map(&g->fm, root, levels, FL_TEXT_VA, TEXT_PA, SZ_2M, 0);
	fake_map(&g->fm, root, levels, FL_TEXT_VA + SZ_2M, TEXT_PA + SZ_2M, SZ_2M, PTE_XD);
	for (off = 2 * SZ_2M; off < IMAGE_SIZE; off += SZ_2M)
		fake_map(&g->fm, root, levels, FL_TEXT_VA + off, TEXT_PA + off, SZ_2M,
			 PTE_RW | PTE_XD);
	for (off = 0; off < DMAP_SIZE; off += SZ_2M)
		fake_map(&g->fm, root, levels, g->dmap + off, off, SZ_2M, PTE_RW | PTE_XD);
	fake_map(&g->fm, root, levels, FL_MODULE_AREA_VA, MODULE_AREA_PA, SZ_2M, PTE_RW | PTE_XD);
	g->walk = (struct imee_walk_opts){
		.sz = sizeof(g->walk),
		.paging = la57 ? IMEE_PAGING_5LEVEL : IMEE_PAGING_4LEVEL,
		.cr3 = root,
	};
	if (imee_vmem_from_walk(&g->mem, &g->walk, &g->vmem))
		abort();

	fl_write(g, FL_BANNER_VA, banner, sizeof(banner));
	btf = kbtf_build(&g->btf_len, btf_flags);
	fl_write(g, FL_BTF_VA, btf, g->btf_len);
	free(btf);
	/* the kernel's own page table: the same top level as the "vCPU's" */
	{
		unsigned char top[4096];

		if (g->mem.ops->read(g->mem.ctx, root, top, sizeof(top)))
			abort();
		fl_write(g, FL_TOP_PGT_VA, top, sizeof(top));
	}
	put_kallsyms(g);
	put_syscall_tables(g);
	put_init_task(g);
	fl_build_idr(g, NULL, NULL, 0);
	fl_link_modules(g, NULL, 0);
}

void fl_free(struct fake_linux *g)
{
	imee_vmem_release(&g->vmem);
	fake_free(&g->fm);
}

uint64_t fl_cred(struct fake_linux *g, uint32_t uid, uint32_t gid, uint64_t cap_effective)
{
	uint64_t c = fl_alloc(g, KC_SIZE);

	fl_w32(g, c + KC_UID, uid);
	fl_w32(g, c + KC_EUID, uid);
	fl_w32(g, c + KC_SUID, uid);
	fl_w32(g, c + KC_FSUID, uid);
	fl_w32(g, c + KC_GID, gid);
	fl_w32(g, c + KC_EGID, gid);
	fl_w32(g, c + KC_SGID, gid);
	fl_w32(g, c + KC_FSGID, gid);
	fl_w64(g, c + KC_CAP_EFFECTIVE, cap_effective);
	fl_w64(g, c + KC_CAP_PERMITTED, cap_effective);
	fl_w64(g, c + KC_CAP_BSET, 0x1ffffffffffULL);
	return c;
}

uint64_t fl_task(struct fake_linux *g, int32_t pid, int32_t tgid, const char *comm, uint64_t parent,
		 uint64_t cred, uint32_t state)
{
	uint64_t t = fl_alloc(g, KT_SIZE), sig;
	char c[16] = { 0 };

	strncpy(c, comm, sizeof(c) - 1);
	fl_w32(g, t + KT_PID, (uint32_t)pid);
	fl_w32(g, t + KT_TGID, (uint32_t)tgid);
	fl_write(g, t + KT_COMM, c, sizeof(c));
	fl_w64(g, t + KT_REAL_PARENT, parent);
	fl_w64(g, t + KT_REAL_CRED, cred);
	fl_w64(g, t + KT_CRED, cred);
	fl_w32(g, t + KT_STATE, state);
	fl_w64(g, t + KT_START_TIME, 1000000ULL * (uint64_t)pid);
	fl_w64(g, t + KT_START_BOOTTIME, 1000000ULL * (uint64_t)pid + 5);
	if (pid == tgid) {
		sig = fl_alloc(g, KS_SIZE);
		fl_w64(g, t + KT_SIGNAL, sig);
		fl_w64(g, sig + KS_THREAD_HEAD, t + KT_THREAD_NODE);
		fl_w64(g, sig + KS_THREAD_HEAD + 8, t + KT_THREAD_NODE);
		fl_w64(g, t + KT_THREAD_NODE, sig + KS_THREAD_HEAD);
		fl_w64(g, t + KT_THREAD_NODE + 8, sig + KS_THREAD_HEAD);
	}
	return t;
}

void fl_link_tasks(struct fake_linux *g, const uint64_t *tasks, size_t n)
{
	const uint64_t head = FL_INIT_TASK_VA + KT_TASKS;
	uint64_t prev = head;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t node = tasks[i] + KT_TASKS;

		fl_w64(g, prev, node);
		fl_w64(g, node + 8, prev);
		prev = node;
	}
	fl_w64(g, prev, head);
	fl_w64(g, head + 8, prev);
}

void fl_add_thread(struct fake_linux *g, uint64_t leader, uint64_t thread)
{
	uint64_t sig = fl_r64(g, leader + KT_SIGNAL), head = sig + KS_THREAD_HEAD;
	uint64_t last = fl_r64(g, head + 8), node = thread + KT_THREAD_NODE;

	fl_w64(g, thread + KT_SIGNAL, sig);
	fl_w64(g, last, node);
	fl_w64(g, node + 8, last);
	fl_w64(g, node, head);
	fl_w64(g, head + 8, node);
}

uint64_t fl_pid(struct fake_linux *g, int32_t nr, uint64_t task)
{
	uint64_t p = fl_alloc(g, KP_SIZE);

	fl_w32(g, p + KP_NUMBERS + KU_NR, (uint32_t)nr);
	fl_w64(g, p + KP_NUMBERS + KU_NS, FL_INIT_PID_NS_VA);
	if (task)
		fl_w64(g, p + KP_TASKS, task + KT_PID_LINKS);
	return p;
}

/* A node of the given shift for indices from base, holding what lies in its range. */
static uint64_t build_node(struct fake_linux *g, unsigned int shift, uint64_t base, uint64_t parent,
			   unsigned int offset, const int32_t *nrs, const uint64_t *pids, size_t n)
{
	uint64_t node = fl_alloc(g, KX_SIZE);
	unsigned int i;
	size_t k;

	fl_w8(g, node + KX_SHIFT, (uint8_t)shift);
	fl_w8(g, node + KX_OFFSET, (uint8_t)offset);
	fl_w64(g, node + KX_PARENT, parent);
	for (i = 0; i < KX_NR_SLOTS; i++) {
		uint64_t lo = base + ((uint64_t)i << shift), hi = lo + (1ULL << shift);
		bool any = false;

		for (k = 0; k < n; k++)
			any |= (uint64_t)nrs[k] >= lo && (uint64_t)nrs[k] < hi;
		if (!any)
			continue;
		if (!shift) {
			for (k = 0; k < n; k++)
				if ((uint64_t)nrs[k] == lo)
					fl_w64(g, node + KX_SLOTS + 8 * i, pids[k]);
		} else {
			uint64_t child = build_node(g, shift - 6, lo, node, i, nrs, pids, n);

			fl_w64(g, node + KX_SLOTS + 8 * i, child + 2);
		}
	}
	return node;
}

void fl_build_idr(struct fake_linux *g, const int32_t *nrs, const uint64_t *pids, size_t n)
{
	unsigned int shift = 0;
	size_t k;

	fl_w64(g, FL_INIT_PID_NS_VA + KN_XA_HEAD, 0);
	fl_w32(g, FL_INIT_PID_NS_VA + KN_IDR_BASE, 0);
	if (!n)
		return;
	for (k = 0; k < n; k++)
		while ((uint64_t)nrs[k] >= (64ULL << shift))
			shift += 6;
	fl_w64(g, FL_INIT_PID_NS_VA + KN_XA_HEAD, build_node(g, shift, 0, 0, 0, nrs, pids, n) + 2);
}

uint64_t fl_module(struct fake_linux *g, const char *name, uint32_t state, uint64_t base,
		   uint32_t size, uint32_t init_size, int32_t refcnt)
{
	uint64_t m = g->next_module;
	char n[KM_NAME_LEN] = { 0 };

	g->next_module += KM_SIZE + 0x1000;
	if (g->next_module > FL_MODULE_AREA_VA + FL_MODULE_AREA_SIZE)
		abort();
	strncpy(n, name, sizeof(n) - 1);
	fl_write(g, m + KM_NAME, n, sizeof(n));
	fl_w32(g, m + KM_STATE, state);
	fl_w32(g, m + KM_REFCNT, (uint32_t)refcnt);
	if (g->btf_flags & KBTF_MODULE_MEM) {
		fl_w64(g, m + KM_MEM + KMM_TEXT * KMM_STRUCT_SIZE + KMM_BASE, base);
		fl_w32(g, m + KM_MEM + KMM_TEXT * KMM_STRUCT_SIZE + KMM_SIZE, size);
		fl_w64(g, m + KM_MEM + 4 * KMM_STRUCT_SIZE + KMM_BASE, base + 0x100000);
		fl_w32(g, m + KM_MEM + 4 * KMM_STRUCT_SIZE + KMM_SIZE, init_size);
	} else {
		fl_w64(g, m + KM_CORE_LAYOUT + KML_BASE, base);
		fl_w32(g, m + KM_CORE_LAYOUT + KML_SIZE, size);
		fl_w32(g, m + KM_INIT_LAYOUT + KML_SIZE, init_size);
	}
	return m;
}

void fl_link_modules(struct fake_linux *g, const uint64_t *mods, size_t n)
{
	const uint64_t head = FL_MODULES_HEAD_VA;
	uint64_t prev = head;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t node = mods[i] + KM_LIST;

		fl_w64(g, prev, node);
		fl_w64(g, node + 8, prev);
		prev = node;
	}
	fl_w64(g, prev, head);
	fl_w64(g, head + 8, prev);
}
