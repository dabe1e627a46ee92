// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the generated seeds of the fuzz corpora (the gen-* files under
 * fuzz/corpus/): synthetic kallsyms images in every layout recognised,
 * the synthetic kernel BTF in each variant, page tables of both depths
 * with every page size, and the synthetic Linux guest's objects with
 * processes, threads, pids and modules, and agent programs over
 * fuzz_prog.c's guest. Built and run by
 * `make fuzz-seeds`; the output is deterministic, so the files change only
 * when the builders (tests/ksyms_build.c, kbtf_build.c, fake_linux.c) do.
 *
 * usage: fuzz_seeds CORPUS_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_linux.h"
#include "fuzz_prog.h"
#include "kbtf_build.h"
#include "ksyms_build.h"

static const char *corpus;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void put_file(const char *harness, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", corpus, harness);
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/gen-%s", corpus, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die(path);
}

/* ------------------------------------------------------------------ */
/* kallsyms: the image at the start of fuzz_kallsyms.c's .rodata page  */

#define KS_TEXT 0xffffffff81000000ULL

static void kallsyms_seeds(void)
{
	static const struct {
		const char *name;
		struct ksb_opts o;
	} variants[] = {
		{ "6.1", { .seqs = true, .relative_base = KS_TEXT } },
		{ "6.1-no-seqs", { .seqs = false, .relative_base = KS_TEXT } },
		{ "6.4", { .offsets_last = true, .seqs = true, .relative_base = KS_TEXT } },
		{ "6.1-abs-percpu",
		  { .seqs = true, .abs_percpu = true, .relative_base = KS_TEXT } },
	};
	/* Every digit is used: the search keys on the tokens "0".."9". */
	static const char *const names[] = {
		"_text",       "startup_64", "func_012",     "func_345",    "func_6789",
		"__in_task",   "init_task",  "linux_banner", "__start_BTF", "__stop_BTF",
		"init_pid_ns", "modules",    "_end",
	};
	struct ksb_sym syms[16];
	unsigned char *img = malloc(64 << 10);
	size_t i, v, n;

	if (!img)
		die("malloc");
	for (v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct ksb_layout lay;

		n = 0;
		if (variants[v].o.abs_percpu) {
			syms[n++] = (struct ksb_sym){ "fixed_percpu_data", 'A', 0, true };
			syms[n++] = (struct ksb_sym){ "cpu_number", 'A', 0x1f000, true };
		}
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			syms[n++] = (struct ksb_sym){ names[i], i < 4 ? 'T' : 'D',
						      KS_TEXT + 0x1000 * i, false };
		lay = ksb_build(&variants[v].o, syms, n, img, 64 << 10);
		put_file("kallsyms", variants[v].name, img, lay.size);
	}
	free(img);
}

/* ------------------------------------------------------------------ */
/* BTF: the blob itself (fuzz_btf.c puts it at __start_BTF)            */

static void btf_seeds(void)
{
	static const struct {
		const char *name;
		unsigned int flags;
	} variants[] = {
		{ "6.1", 0 },
		{ "6.4-module-mem", KBTF_MODULE_MEM },
		{ "bare", KBTF_BARE },
		{ "bad-pid-size", KBTF_BAD_PID_SIZE },
	};
	size_t v, len;

	for (v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		void *btf = kbtf_build(&len, variants[v].flags);

		put_file("btf", variants[v].name, btf, len);
		free(btf);
	}
}

/* ------------------------------------------------------------------ */
/* Page tables: fuzz_pagewalk.c's header, then RAM from 0              */

#define PW_HDR 32
#define PW_PAGES 8
#define PW_P 1ULL
#define PW_RW 2ULL
#define PW_PS 0x80ULL
#define PW_XD (1ULL << 63)

struct pw {
	unsigned char buf[PW_HDR + PW_PAGES * 4096];
	unsigned int next_page; /* tables and data pages, upward from 0 */
};

static uint64_t pw_get(struct pw *p, uint64_t pa)
{
	uint64_t v;

	memcpy(&v, p->buf + PW_HDR + pa, 8);
	return v;
}

static void pw_set(struct pw *p, uint64_t pa, uint64_t v)
{
	memcpy(p->buf + PW_HDR + pa, &v, 8);
}

static uint64_t pw_page(struct pw *p)
{
	if (p->next_page == PW_PAGES)
		abort();
	return 4096ULL * p->next_page++;
}

/* Map va to the page at pa with a leaf at level leaf (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static void pw_map(struct pw *p, unsigned int levels, uint64_t va, uint64_t pa, unsigned int leaf,
		   uint64_t flags)
{
	uint64_t table = 0; /* the root is page 0 */
	unsigned int level;

	for (level = levels; level > leaf; level--) {
		uint64_t e = table + 8 * ((va >> (12 + 9 * (level - 1))) & 511);

		if (!(pw_get(p, e) & PW_P))
			pw_set(p, e, pw_page(p) | PW_P | PW_RW);
		table = pw_get(p, e) & 0x000ffffffffff000ULL;
	}
	pw_set(p, table + 8 * ((va >> (12 + 9 * (leaf - 1))) & 511),
	       pa | flags | PW_P | (leaf > 1 ? PW_PS : 0));
}

static void pw_seed(const char *name, unsigned int levels, unsigned int leaf, uint64_t va,
		    uint16_t read_len, bool banner, uint64_t race)
{
	static const char text[] = "Linux version 6.1.0-fuzz (imee) #1 SMP PREEMPT_DYNAMIC\n";
	struct pw *p = calloc(1, sizeof(*p));
	uint64_t data;

	if (!p)
		die("calloc");
	pw_page(p); /* the root */
	data = pw_page(p);
	/* Large pages map frame 0: va is chosen for its offset to be the data page. */
	pw_map(p, levels, va, leaf > 1 ? 0 : data, leaf, banner ? PW_XD : PW_RW);
	if (leaf > 1)
		data = va & ((4096ULL << (9 * (leaf - 1))) - 1) & ~4095ULL;
	if (banner)
		memcpy(p->buf + PW_HDR + data + 0x100, text, sizeof(text));
	else
		memset(p->buf + PW_HDR + data, 0x5a, 64);
	memcpy(p->buf + 8, &va, 8);
	p->buf[16] = (levels == 5 ? 1 : 0) | (race ? 4 : 0);
	memcpy(p->buf + 18, &read_len, 2);
	memcpy(p->buf + 24, &race, 8);
	put_file("pagewalk", name, p->buf, PW_HDR + 4096ULL * p->next_page);
	free(p);
}

static void pagewalk_seeds(void)
{
	pw_seed("4level-4k", 4, 1, 0x00007f0000001000ULL, 64, false, 0);
	pw_seed("5level-4k", 5, 1, 0xff11000000002000ULL, 64, false, 0);
	pw_seed("4level-2m", 4, 2, 0xffff888000001000ULL, 4096, false, 0);
	pw_seed("4level-1g", 4, 3, 0xffff888000001000ULL, 128, false, 0);
	pw_seed("banner", 4, 1, 0xffffffff81200000ULL, 128, true, 0);
	pw_seed("banner-racing", 4, 1, 0xffffffff81200000ULL, 128, true, 1ULL << 1);
}

/* ------------------------------------------------------------------ */
/* Linux: fuzz_linux.h's regions of a synthetic guest                  */

static void linux_seed(struct fake_linux *g, const uint64_t va[FLR_NR], const char *name)
{
	size_t total = 0, at = 0, r;
	unsigned char *buf;

	for (r = 0; r < FLR_NR; r++)
		total += fuzz_linux_region_len[r];
	buf = malloc(total);
	if (!buf)
		die("malloc");
	for (r = 0; r < FLR_NR; r++) {
		memcpy(buf + at, fl_ptr(g, va[r], fuzz_linux_region_len[r]),
		       fuzz_linux_region_len[r]);
		at += fuzz_linux_region_len[r];
	}
	/* The zeros at the end are what a short input gets anyway. */
	while (total && !buf[total - 1])
		total--;
	put_file("linux", name, buf, total);
	free(buf);
}

static void linux_seeds(void)
{
	struct fake_linux g;
	uint64_t va[FLR_NR], root, user, t[7], pid[7], mods[2];
	static const int32_t nrs[7] = { 1, 2, 100, 101, 102, 103, 104 };
	size_t i;

	fl_init(&g, false);
	fuzz_linux_regions(&g, va);
	linux_seed(&g, va, "empty");

	/* As test_linux.c's guest: init, kthreadd, two processes, one with two threads. */
	root = fl_cred(&g, 0, 0, 0x1ffffffffffULL);
	user = fl_cred(&g, 1000, 1001, 0);
	t[0] = fl_task(&g, 1, 1, "init", FL_INIT_TASK_VA, root, 1);
	t[1] = fl_task(&g, 2, 2, "kthreadd", FL_INIT_TASK_VA, root, 0x402);
	t[2] = fl_task(&g, 100, 100, "alpha", t[0], root, 1);
	t[3] = fl_task(&g, 101, 101, "beta\xff\xfe", t[0], user, 1);
	t[4] = fl_task(&g, 102, 102, "gamma", t[0], root, 0);
	t[5] = fl_task(&g, 103, 102, "gamma-1", t[0], root, 1);
	t[6] = fl_task(&g, 104, 102, "gamma-2", t[0], root, 1);
	fl_add_thread(&g, t[4], t[5]);
	fl_add_thread(&g, t[4], t[6]);
	fl_link_tasks(&g, t, 5);
	for (i = 0; i < 7; i++)
		pid[i] = fl_pid(&g, nrs[i], t[i]);
	fl_build_idr(&g, nrs, pid, 7);
	mods[0] = fl_module(&g, "imee_test", KMS_LIVE, FL_MODULE_AREA_VA + 0x100000, 0x4000, 0x1000,
			    1);
	mods[1] = fl_module(&g, "other", KMS_COMING, FL_MODULE_AREA_VA + 0x140000, 0x2000, 0, 0);
	fl_link_modules(&g, mods, 2);
	linux_seed(&g, va, "processes");

	/* A cycle that misses the head: beta's next is alpha. */
	fl_w64(&g, t[3] + KT_TASKS, t[2] + KT_TASKS);
	linux_seed(&g, va, "cycle");
	fl_free(&g);
}

/* ------------------------------------------------------------------ */
/* Agent programs: fuzz_prog.h's header, then the instructions         */

#define I(op, dst, src, size, off, imm) fp_insn(IMEE_OP_##op, dst, src, size, off, imm)
#define NI(a) (sizeof(a) / sizeof((a)[0]))

struct prog_hdr {
	uint8_t flags;
	uint8_t abort_at;
	uint8_t slot;
	uint32_t max_steps; /* 1..FP_SHORT_STEPS, or FP_MAX_STEPS with FP_F_LONG */
	uint32_t out_cap;
	uint64_t physmap_size;
	uint64_t regs[8];
};

static void prog_seed(const char *name, const struct prog_hdr *h, const struct imee_insn *insns,
		      size_t nr)
{
	unsigned char buf[FP_HDR + 64 * sizeof(struct imee_insn)];
	unsigned int i;

	if (nr > 64)
		abort();
	memset(buf, 0, FP_HDR);
	buf[FP_OFF_FLAGS] = h->flags;
	buf[FP_OFF_ABORT] = h->abort_at;
	buf[FP_OFF_SLOT] = h->slot;
	fp_put_le(buf + FP_OFF_STEPS, h->max_steps - 1, 4);
	fp_put_le(buf + FP_OFF_OUT_CAP, h->out_cap, 4);
	fp_put_le(buf + FP_OFF_PHYSMAP, h->physmap_size, 8);
	for (i = 0; i < 8; i++)
		fp_put_le(buf + FP_OFF_REGS + 8 * i, h->regs[i], 8);
	memcpy(buf + FP_HDR, insns, nr * sizeof(*insns));
	put_file("prog", name, buf, FP_HDR + nr * sizeof(*insns));
}

/* Every kind of fault, each caught by an F variant whose handler emits it. */
static void prog_fault_seed(const char *name, uint8_t flags)
{
	const struct imee_insn insns[] = {
		/* virtual: not mapped, not RAM, a bad entry */
		I(MOVK, 1, 0, 0, 0, FP_DATA_VA + 3 * 4096),
		I(LDF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(LDF, 2, 1, 4, 4096, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(LDF, 2, 1, 2, 8192, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		/* across into the hole: the fault is at the page boundary */
		I(MOVK, 3, 0, 0, 0, 64),
		I(COPYF, 3, 1, 0, -16, 0),
		I(EMIT, 3, 0, 1, 0, 0),
		/* past the lower half: non-canonical in 4-level */
		I(MOVK, 1, 0, 0, 0, FP_LOW_TOP_VA + 0xffc),
		I(LDF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(MOVK, 1, 0, 0, 0, FP_LA57_VA),
		I(LDF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 8, 0, 0),
		/* wrapping past the top, where page 0 is mapped */
		I(MOVK, 1, 0, 0, 0, FP_TOP_VA + 0xff0),
		I(MOVK, 3, 0, 0, 0, 32),
		I(COPYF, 3, 1, 0, 0, 0),
		I(EMIT, 3, 0, 1, 0, 0),
		/* physical: the hole, the end of RAM, the top */
		I(MOVK, 1, 0, 0, 0, 0x500000),
		I(LDPF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(MOVK, 1, 0, 0, 0, FP_RAM_END - 4),
		I(LDPF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(MOVK, 1, 0, 0, 0, ~3ULL),
		I(MOVK, 3, 0, 0, 0, 8),
		I(COPYPF, 3, 1, 0, 0, 0),
		I(EMIT, 3, 0, 1, 0, 0),
		I(EXIT, 0, 0, 0, 0, 0),
	};
	struct prog_hdr h = { .flags = flags, .max_steps = 1000, .out_cap = 4096 };

	prog_seed(name, &h, insns, NI(insns));
}

static void prog_seeds(void)
{
	const uint64_t head = fp_list_node_va(0);
	/* r0: the node, r2: at most 1000 of them */
	const struct imee_insn list[] = {
		I(MOVK, 2, 0, 0, 0, 1000),  I(LD, 1, 0, 8, 8, 0),   I(EMIT, 1, 0, 4, 0, 0),
		I(LD, 0, 0, 8, 0, 0),	    I(SUBK, 2, 0, 0, 0, 1), I(JEQK, 2, 0, 0, 1, 0),
		I(JNEK, 0, 0, 0, -6, head), I(EXIT, 0, 0, 0, 0, 0),
	};
	const struct imee_insn copy[] = {
		/* across two pages that are apart in RAM */
		I(MOVK, 0, 0, 0, 0, FP_DATA_VA + 0x800),
		I(MOVK, 1, 0, 0, 0, 4096),
		I(COPY, 1, 0, 0, 0, 0),
		/* the last page of RAM, from its physical address */
		I(MOVK, 2, 0, 0, 0, FP_RAM_END - 0x1800),
		I(COPYP, 1, 2, 0, 0, 0),
		/* a 2 MiB and a 1 GiB page */
		I(MOVK, 3, 0, 0, 0, FP_2M_VA + 0x1ff000),
		I(COPY, 1, 3, 0, 0, 0),
		I(MOVK, 3, 0, 0, 0, FP_1G_VA + 0x3ff800),
		I(COPYF, 1, 3, 0, 0, 1),
		I(EXIT, 0, 0, 0, 0, 0),
		I(EMIT, 1, 0, 8, 0, 0),
		I(JA, 0, 0, 0, -3, 0),
	};
	const struct imee_insn spin[] = {
		I(ADDK, 0, 0, 0, 0, 1),
		I(JA, 0, 0, 0, -2, 0),
	};
	const struct imee_insn alu[] = {
		I(MOVK, 1, 0, 0, 0, 0xfedcba9876543210ULL),
		I(MOV, 2, 1, 0, 0, 0),
		I(ADD, 2, 1, 0, 0, 0),
		I(SUBK, 2, 0, 0, 0, 3),
		I(SUB, 2, 1, 0, 0, 0),
		I(MULK, 2, 0, 0, 0, 0x9e3779b97f4a7c15ULL),
		I(MUL, 2, 2, 0, 0, 0),
		I(ANDK, 2, 0, 0, 0, 0xffff0000ffffULL),
		I(AND, 2, 1, 0, 0, 0),
		I(ORK, 2, 0, 0, 0, 0x8000000000000001ULL),
		I(OR, 2, 1, 0, 0, 0),
		I(XORK, 2, 0, 0, 0, ~0ULL),
		I(XOR, 2, 1, 0, 0, 0),
		I(SHLK, 2, 0, 0, 0, 67),
		I(SHL, 2, 1, 0, 0, 0),
		I(SHRK, 2, 0, 0, 0, 63),
		I(SHR, 2, 1, 0, 0, 0),
		I(EMIT, 2, 0, 8, 0, 0),
		/* every comparison, taken or not */
		I(JEQ, 1, 2, 0, 0, 0),
		I(JEQK, 1, 0, 0, 0, 0xfedcba9876543210ULL),
		I(JNE, 1, 2, 0, 0, 0),
		I(JNEK, 1, 0, 0, 0, 1),
		I(JLT, 2, 1, 0, 0, 0),
		I(JLTK, 1, 0, 0, 0, ~0ULL),
		I(JLE, 1, 1, 0, 0, 0),
		I(JLEK, 1, 0, 0, 0, 0),
		I(JGT, 1, 2, 0, 0, 0),
		I(JGTK, 1, 0, 0, 0, 0),
		I(JGE, 2, 1, 0, 0, 0),
		I(JGEK, 1, 0, 0, 0, ~0ULL),
		I(EMIT, 1, 0, 2, 0, 0),
		I(EXIT, 0, 0, 0, 0, 0),
	};
	const struct imee_insn fault[] = {
		I(MOVK, 1, 0, 0, 0, FP_DATA_VA + 3 * 4096 - 4),
		I(LD, 2, 1, 8, 0, 0),
		I(EXIT, 0, 0, 0, 0, 0),
	};
	const struct imee_insn full[] = {
		I(EMIT, 0, 0, 8, 0, 0),
		I(MOVK, 1, 0, 0, 0, 17),
		I(COPY, 1, 0, 0, 0, 0),
		I(JA, 0, 0, 0, -4, 0),
	};
	/* the slot (the data page 1), then physmap_size (0x380000) */
	const struct imee_insn agent[] = {
		I(MOVK, 1, 0, 0, 0, FP_DATA_VA + 4096 - 4),
		I(LDF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(MOVK, 1, 0, 0, 0, 0x37fffc),
		I(LDPF, 2, 1, 8, 0, 0),
		I(EMIT, 2, 0, 1, 0, 0),
		I(LDP, 2, 1, 4, 0, 0),
		I(MOVK, 1, 0, 0, 0, FP_DATA_VA + 4096),
		I(LD, 2, 1, 4, 0, 0),
		I(EXIT, 0, 0, 0, 0, 0),
	};
	const struct imee_insn bad_copy[] = {
		I(MOVK, 1, 0, 0, 0, IMEE_PROG_MAX_COPY + 1),
		I(COPY, 1, 0, 0, 0, 0),
		I(EXIT, 0, 0, 0, 0, 0),
	};
	const struct imee_insn bad_jump[] = {
		I(JA, 0, 0, 0, 1, 0),
		I(JA, 0, 0, 0, -3, 0),
	};
	const struct imee_insn bad_end[] = {
		I(MOVK, 0, 0, 0, 0, 1),
		I(EMIT, 0, 0, 8, 0, 0),
	};
	struct prog_hdr h;

	memset(&h, 0, sizeof(h));
	h.max_steps = 2000;
	h.out_cap = 4096;
	h.regs[0] = head;
	prog_seed("list-walk", &h, list, NI(list));
	h.flags = FP_F_5LEVEL | FP_F_ABORT;
	h.abort_at = 100;
	prog_seed("list-walk-abort", &h, list, NI(list));

	memset(&h, 0, sizeof(h));
	h.max_steps = 100;
	h.out_cap = 4 * 4096 + 8;
	prog_seed("copy", &h, copy, NI(copy));
	h.flags = FP_F_LONG;
	h.max_steps = FP_MAX_STEPS;
	prog_seed("step-limit", &h, spin, NI(spin));
	h.flags = 0;
	h.max_steps = 100;
	prog_seed("alu", &h, alu, NI(alu));
	prog_seed("fault", &h, fault, NI(fault));
	h.out_cap = 100;
	prog_seed("output-full", &h, full, NI(full));
	h.out_cap = 0;
	h.flags = FP_F_NULL_OUT;
	prog_seed("output-none", &h, full, NI(full));
	h.flags = FP_F_AGENT;
	h.slot = FP_SLOT_DATA;
	h.physmap_size = 0x380000;
	h.out_cap = 64;
	prog_seed("agent", &h, agent, NI(agent));
	h.flags = 0;
	prog_seed("bad-copy", &h, bad_copy, NI(bad_copy));
	prog_seed("reject-jump", &h, bad_jump, NI(bad_jump));
	prog_seed("reject-end", &h, bad_end, NI(bad_end));
	prog_fault_seed("faults-4level", 0);
	prog_fault_seed("faults-5level", FP_F_5LEVEL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus = argv[1];
	if (mkdir(corpus, 0755) && errno != EEXIST)
		die(corpus);
	kallsyms_seeds();
	btf_seeds();
	pagewalk_seeds();
	linux_seeds();
	prog_seeds();
	return 0;
}
