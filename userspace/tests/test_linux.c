// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux walkers over a synthetic guest (fake_linux.c): opening it from
 * kallsyms and BTF and then from the cache (and not from a corrupt or
 * stale cache), the task list with threads and credentials, the pid IDR;
 * and every kind of corruption a walk must survive: cycles that miss the
 * head, garbage and non-canonical pointers, prev links that do not point
 * back, unmapped nodes, too many entries. Each must end the walk with a
 * typed error and what was read before it, never hang.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imee/imee.h>

#include "fake_linux.h"
#include "kbtf_build.h"
#include "linux_guest.h"
#include "prefetch.h"
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

/* The guest's processes: init, kthreadd, alpha, beta (uid 1000), gamma with two threads. */
struct guest_tasks {
	uint64_t init, kthreadd, alpha, beta, gamma, g1, g2;
};

static void add_tasks(struct fake_linux *g, struct guest_tasks *t)
{
	uint64_t root = fl_cred(g, 0, 0, 0x1ffffffffffULL), user = fl_cred(g, 1000, 1001, 0);
	uint64_t order[5];

	t->init = fl_task(g, 1, 1, "init", FL_INIT_TASK_VA, root, 1);
	t->kthreadd = fl_task(g, 2, 2, "kthreadd", FL_INIT_TASK_VA, root, 0x402);
	fl_w32(g, t->kthreadd + KT_FLAGS, 0x00200040);
	t->alpha = fl_task(g, 100, 100, "imee-wl-alpha", t->init, root, 1);
	t->beta = fl_task(g, 101, 101, "imee-wl-beta", t->init, user, 1);
	t->gamma = fl_task(g, 102, 102, "imee-wl-gamma", t->init, root, 0);
	t->g1 = fl_task(g, 103, 102, "imee-wl-gamma-1", t->init, root, 1);
	t->g2 = fl_task(g, 104, 102, "imee-wl-gamma-2", t->init, root, 1);
	fl_add_thread(g, t->gamma, t->g1);
	fl_add_thread(g, t->gamma, t->g2);
	order[0] = t->init;
	order[1] = t->kthreadd;
	order[2] = t->alpha;
	order[3] = t->beta;
	order[4] = t->gamma;
	fl_link_tasks(g, order, 5);
}

static int walk(struct fake_linux *g, struct imee_linux *lx, bool threads, size_t max,
		struct imee_linux_task_list *list)
{
	IMEE_OPTS(imee_linux_tasks_opts, o, .threads = threads, .max = max);

	memset(list, 0, sizeof(*list));
	return imee_linux_tasks(lx, &g->vmem, &o, list);
}

static void open_and_cache(void)
{
	struct fake_linux g;
	struct imee_linux *lx;
	struct imee_linux_info info;
	char path[IMEE_LINUX_PATH_MAX];
	FILE *f;

	fl_init(&g, false);
	lx = open_guest(&g, true);
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_U64(info.text, FL_TEXT_VA);
	EXPECT_U64(info.kaslr_slide, FL_TEXT_VA - IMEE_LINUX_TEXT_DEFAULT);
	EXPECT_U64(info.btf_va, FL_BTF_VA);
	EXPECT_INT(info.btf_size, g.btf_len);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_WRITTEN);
	EXPECT_HAS(info.cache_path, cache_dir);
	snprintf(path, sizeof(path), "%s", info.cache_path);
	imee_linux_close(lx);

	/* Second time: from the cache, kallsyms not even loaded. */
	{
		struct imee_linux_banner banner = fl_banner();
		IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner, .paging = g.walk.paging,
			  .cache_dir = cache_dir);
		const struct imee_linux_btf *btf;
		uint64_t size = 0;

		REQUIRE(imee_linux_open(&g.vmem, &o, &lx) == 0);
		imee_linux_get_info(lx, &info);
		EXPECT_INT(info.cache, IMEE_LINUX_CACHE_HIT);
		EXPECT_U64(info.text, FL_TEXT_VA);
		/* The BTF itself is read when asked for. */
		REQUIRE(imee_linux_btf(lx, &g.vmem, &btf) == 0);
		REQUIRE(imee_linux_btf_type_size(btf, "cred", &size) == 0);
		EXPECT_U64(size, KC_SIZE);
		imee_linux_close(lx);
	}

	/* A corrupt file is a miss, and is replaced. */
	f = fopen(path, "r+");
	REQUIRE(f);
	fseek(f, 40, SEEK_SET);
	fputc('#', f);
	fclose(f);
	lx = open_guest(&g, true);
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_WRITTEN);
	EXPECT_HAS(info.cache_error, "cache:");
	imee_linux_close(lx);

	/* A guest whose .BTF differs (one string byte) does not take the entry. */
	{
		unsigned char *btf = fl_ptr(&g, FL_BTF_VA, g.btf_len);
		unsigned char *name = memmem(btf, g.btf_len, "ns_pad", 7);

		REQUIRE(name);
		name[0] = 'N'; /* a member no job reads */
	}
	lx = open_guest(&g, true);
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_WRITTEN);
	EXPECT_HAS(info.cache_error, ".BTF differs");
	imee_linux_close(lx);

	/* Disabled: by option, and by IMEE_CACHE=0. */
	lx = open_guest(&g, false);
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_OFF);
	imee_linux_close(lx);
	setenv("IMEE_CACHE", "0", 1);
	lx = open_guest(&g, true);
	unsetenv("IMEE_CACHE");
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_OFF);
	imee_linux_close(lx);

	/* A cache that cannot be written is no error. */
	{
		struct imee_linux_banner banner = fl_banner();
		IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner,
			  .load_kallsyms = fl_load_kallsyms, .load_arg = &g,
			  .cache_dir = "/proc/imee-no-such-dir");

		REQUIRE(imee_linux_open(&g.vmem, &o, &lx) == 0);
		imee_linux_get_info(lx, &info);
		EXPECT_INT(info.cache, IMEE_LINUX_CACHE_UNWRITABLE);
		imee_linux_close(lx);
	}
	fl_free(&g);
}

static void missing_pieces(void)
{
	struct fake_linux g;
	struct imee_linux_banner banner = fl_banner();
	IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner, .load_kallsyms = fl_load_kallsyms,
		  .load_arg = &g, .no_cache = true);
	struct imee_linux *lx = NULL;

	fl_init(&g, false);
	/* No BTF anywhere: named as what is missing. */
	fl_w32(&g, FL_BTF_VA, 0);
	EXPECT_INT(imee_linux_open(&g.vmem, &o, &lx), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "BTF");
	/* No banner given. */
	o.banner = NULL;
	EXPECT_INT(imee_linux_open(&g.vmem, &o, &lx), -EINVAL);
	fl_free(&g);
}

static void check_task(const struct imee_linux_task *t, int32_t pid, int32_t tgid, int32_t ppid,
		       const char *comm, char state, uint32_t uid)
{
	EXPECT_INT(t->pid, pid);
	EXPECT_INT(t->tgid, tgid);
	EXPECT_INT(t->ppid, ppid);
	EXPECT_STR(t->comm, comm);
	EXPECT_INT(t->state, state);
	EXPECT_INT(t->cred_err, 0);
	EXPECT_INT(t->cred.uid, uid);
	EXPECT_INT(t->cred.euid, uid);
	EXPECT_U64(t->start_time_ns, 1000000ULL * (uint64_t)pid);
	EXPECT_U64(t->start_boottime_ns, 1000000ULL * (uint64_t)pid + 5);
}

static void task_list(bool la57)
{
	struct fake_linux g;
	struct guest_tasks t;
	struct imee_linux_task_list list;
	struct imee_linux *lx;

	fl_init(&g, la57);
	add_tasks(&g, &t);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	REQUIRE(walk(&g, lx, false, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 5);
	check_task(&list.tasks[0], 1, 1, 0, "init", 'S', 0);
	check_task(&list.tasks[1], 2, 2, 0, "kthreadd", 'I', 0);
	EXPECT(list.tasks[1].kthread);
	EXPECT(!list.tasks[0].kthread);
	check_task(&list.tasks[2], 100, 100, 1, "imee-wl-alpha", 'S', 0);
	check_task(&list.tasks[3], 101, 101, 1, "imee-wl-beta", 'S', 1000);
	EXPECT_INT(list.tasks[3].cred.gid, 1001);
	EXPECT_INT(list.tasks[3].cred.fsgid, 1001);
	EXPECT_U64(list.tasks[3].cred.cap_effective, 0);
	EXPECT_U64(list.tasks[2].cred.cap_effective, 0x1ffffffffffULL);
	EXPECT(!list.tasks[2].cred.overridden);
	check_task(&list.tasks[4], 102, 102, 1, "imee-wl-gamma", 'R', 0);
	EXPECT_U64(list.tasks[4].address, t.gamma);
	imee_linux_task_list_free(&list);

	/* With threads: each group's other threads follow its leader. */
	REQUIRE(walk(&g, lx, true, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 7);
	check_task(&list.tasks[5], 103, 102, 1, "imee-wl-gamma-1", 'S', 0);
	check_task(&list.tasks[6], 104, 102, 1, "imee-wl-gamma-2", 'S', 0);
	imee_linux_task_list_free(&list);

	/* A zombie, and a task whose cred is overridden. */
	fl_w32(&g, t.alpha + KT_EXIT_STATE, 32);
	fl_w64(&g, t.beta + KT_CRED, fl_cred(&g, 0, 0, 0));
	REQUIRE(walk(&g, lx, false, 0, &list) == 0);
	EXPECT_INT(list.tasks[2].state, 'Z');
	EXPECT(list.tasks[3].cred.overridden);
	EXPECT_INT(list.tasks[3].cred.uid, 1000); /* real_cred, as /proc shows */
	imee_linux_task_list_free(&list);
	imee_linux_close(lx);
	fl_free(&g);
}

/*
 * A reader that reads lists ahead as the ImEE's does (prefetch.c), its
 * program run by the interpreter over the fake guest; reads it cannot
 * serve go to the plain reader and are counted.
 */
struct ahead_vmem {
	struct fake_linux *g;
	struct prefetch_cache cache;
	unsigned long misses, hits, programs;
	/* once read ahead, relink the live list so (the guest changed it) */
	const uint64_t *relink;
	size_t nr_relink;
};

static int ahead_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct ahead_vmem *a = ctx;

	if (prefetch_lookup(&a->cache, va, buf, len)) {
		a->hits++;
		return 0;
	}
	a->misses++;
	return imee_vmem_read(&a->g->vmem, va, buf, len);
}

static int ahead_prefetch(void *ctx, const struct imee_vmem_list_spec *spec)
{
	struct ahead_vmem *a = ctx;
	static unsigned char out[1 << 20];
	struct imee_prog_result res;
	struct imee_insn *insns;
	size_t nr;
	int err = prefetch_program(spec, &insns, &nr);

	if (err)
		return err;
	a->programs++;
	err = imee_prog_run_mem(&a->g->mem, &a->g->walk, insns, nr, NULL, 0, out, sizeof(out),
				&res);
	if (!err)
		err = prefetch_parse(spec, out, res.out_len, &a->cache);
	free(insns);
	if (a->nr_relink) {
		fl_link_tasks(a->g, a->relink, a->nr_relink);
		a->nr_relink = 0;
	}
	return err;
}

static void ahead_forget(void *ctx)
{
	struct ahead_vmem *a = ctx;

	prefetch_forget(&a->cache);
}

static const struct imee_vmem_ops ahead_ops = {
	.read = ahead_read,
	.prefetch_list = ahead_prefetch,
	.forget = ahead_forget,
};

static void same_tasks(const struct imee_linux_task_list *a, const struct imee_linux_task_list *b)
{
	size_t i;

	REQUIRE(a->nr == b->nr);
	EXPECT_INT(a->err, b->err);
	for (i = 0; i < a->nr; i++)
		EXPECT(!memcmp(&a->tasks[i], &b->tasks[i], sizeof(a->tasks[i])));
}

/*
 * pslist read ahead (one program per list, as the ImEE runs it in one
 * activation) gives what the plain walk gives, with few reads left over;
 * a list the program cannot finish (an unmapped node) ends as before.
 */
static void read_ahead_tasks(void)
{
	struct ahead_vmem a = { 0 };
	struct imee_vmem v = { &ahead_ops, &a };
	struct imee_linux_task_list plain, ahead;
	IMEE_OPTS(imee_linux_tasks_opts, o);
	struct fake_linux g;
	struct guest_tasks t;
	struct imee_linux *lx;

	fl_init(&g, false);
	add_tasks(&g, &t);
	a.g = &g;
	lx = open_guest(&g, false);
	REQUIRE(lx);
	REQUIRE(walk(&g, lx, false, 0, &plain) == 0);
	REQUIRE(imee_linux_tasks(lx, &v, &o, &ahead) == 0);
	same_tasks(&plain, &ahead);
	printf("# pslist read ahead: %lu program(s), %lu reads served, %lu not\n", a.programs,
	       a.hits, a.misses);
	EXPECT_INT(a.programs, 1);
	EXPECT(a.hits >= 3 * plain.nr);
	EXPECT(a.misses <= 4);
	EXPECT_INT(a.cache.nr, 0); /* forgotten after the walk */
	imee_linux_task_list_free(&plain);
	imee_linux_task_list_free(&ahead);

	/*
	 * threads: a program per group's threads, and one for the rest of the
	 * list after each group (a list's end is read live, which forgets)
	 */
	o.threads = true;
	a.hits = a.misses = a.programs = 0;
	REQUIRE(walk(&g, lx, true, 0, &plain) == 0);
	REQUIRE(imee_linux_tasks(lx, &v, &o, &ahead) == 0);
	same_tasks(&plain, &ahead);
	EXPECT_INT(a.programs, 2 * (plain.nr - 2));
	imee_linux_task_list_free(&plain);
	imee_linux_task_list_free(&ahead);

	/*
	 * The list grows at its end once it was read ahead: the walk ends
	 * where the copy ends, and that is no list cut short (its end is
	 * read live).
	 */
	{
		uint64_t order[6] = { t.init, t.kthreadd, t.alpha, t.beta, t.gamma, 0 };

		o.threads = false;
		order[5] = fl_task(&g, 105, 105, "late", t.init, fl_cred(&g, 0, 0, 0), 1);
		a.relink = order;
		a.nr_relink = 6;
		REQUIRE(imee_linux_tasks(lx, &v, &o, &ahead) == 0);
		EXPECT_INT(ahead.err, 0);
		EXPECT_INT(ahead.nr, 5);
		imee_linux_task_list_free(&ahead);
		REQUIRE(walk(&g, lx, false, 0, &plain) == 0);
		EXPECT_INT(plain.nr, 6);
		imee_linux_task_list_free(&plain);
	}

	/* beta's cred unmapped: the program stops there, the walk does as before */
	o.threads = false;
	fl_w64(&g, t.beta + KT_REAL_CRED, 0xffffc90000000000ULL);
	REQUIRE(walk(&g, lx, false, 0, &plain) == 0);
	REQUIRE(imee_linux_tasks(lx, &v, &o, &ahead) == 0);
	same_tasks(&plain, &ahead);
	EXPECT(plain.tasks[3].cred_err != 0);
	imee_linux_task_list_free(&plain);
	imee_linux_task_list_free(&ahead);

	/* a bad spec is refused; a reader without read-ahead accepts any */
	{
		struct imee_vmem_list_spec bad = { .block_len = 0, .max = 1 };

		EXPECT_INT(imee_vmem_prefetch_list(&v, &bad), -EINVAL);
		bad.block_len = 8;
		bad.nr_derefs = 1;
		bad.derefs[0].ptr_off = 4;
		bad.derefs[0].len = 8;
		EXPECT_INT(imee_vmem_prefetch_list(&v, &bad), -EINVAL);
		bad.derefs[0].ptr_off = 0;
		EXPECT_INT(imee_vmem_prefetch_list(&g.vmem, &bad), 0);
	}
	imee_linux_close(lx);
	fl_free(&g);
}

static void task_list_4level(void)
{
	task_list(false);
}

static void task_list_5level(void)
{
	task_list(true);
}

/* Corrupt something, walk, expect err with at least nr_min tasks read. */
static void expect_stop(struct fake_linux *g, struct imee_linux *lx, bool threads, int err,
			size_t nr_min, const char *msg)
{
	struct imee_linux_task_list list;

	REQUIRE(walk(g, lx, threads, 0, &list) == 0);
	if (!EXPECT_INT(list.err, err))
		printf("# %s\n", list.error.message);
	EXPECT(list.nr >= nr_min);
	EXPECT(list.nr <= 64);
	EXPECT_HAS(list.error.message, msg);
	imee_linux_task_list_free(&list);
}

static void hostile_task_lists(void)
{
	struct fake_linux g;
	struct guest_tasks t;
	struct imee_linux_task_list list;
	struct imee_linux *lx;
	uint64_t saved;

	fl_init(&g, false);
	add_tasks(&g, &t);
	lx = open_guest(&g, false);
	REQUIRE(lx);

	/* A cycle that skips the head: gamma -> kthreadd (with prev fixed to match). */
	saved = fl_r64(&g, t.gamma + KT_TASKS);
	fl_w64(&g, t.gamma + KT_TASKS, t.kthreadd + KT_TASKS);
	fl_w64(&g, t.kthreadd + KT_TASKS + 8, t.gamma + KT_TASKS);
	/* ... which breaks kthreadd's prev on the first pass: a prev mismatch. */
	expect_stop(&g, lx, false, -EBADMSG, 1, "->prev");
	/* A cycle of one node pointing at itself, prev consistent. */
	fl_w64(&g, t.kthreadd + KT_TASKS + 8, t.init + KT_TASKS);
	fl_w64(&g, t.gamma + KT_TASKS, saved);
	fl_w64(&g, t.beta + KT_TASKS, t.beta + KT_TASKS);
	fl_w64(&g, t.beta + KT_TASKS + 8, t.beta + KT_TASKS);
	expect_stop(&g, lx, false, -EBADMSG, 3, "->prev");
	/*
	 * A cycle Brent's check must catch: every prev consistent with the
	 * walk's order, no way back to init_task.
	 */
	fl_link_tasks(&g, (uint64_t[]){ t.init, t.kthreadd, t.alpha, t.beta, t.gamma }, 5);
	{
		uint64_t ring[3] = { t.alpha, t.beta, t.gamma };
		int i;

		for (i = 0; i < 3; i++) {
			fl_w64(&g, ring[i] + KT_TASKS, ring[(i + 1) % 3] + KT_TASKS);
			fl_w64(&g, ring[(i + 1) % 3] + KT_TASKS + 8, ring[i] + KT_TASKS);
		}
		/* kthreadd -> alpha, and alpha's prev is gamma: only the first step differs. */
	}
	{
		struct imee_linux_task_list l2;

		REQUIRE(walk(&g, lx, false, 0, &l2) == 0);
		EXPECT(l2.err == -EBADMSG || l2.err == -ELOOP);
		imee_linux_task_list_free(&l2);
	}
	fl_link_tasks(&g, (uint64_t[]){ t.init, t.kthreadd, t.alpha, t.beta, t.gamma }, 5);

	/* Garbage: NULL, a user address, a non-canonical one, a misaligned one. */
	saved = fl_r64(&g, t.alpha + KT_TASKS);
	fl_w64(&g, t.alpha + KT_TASKS, 0);
	expect_stop(&g, lx, false, -EBADMSG, 3, "not a kernel pointer");
	fl_w64(&g, t.alpha + KT_TASKS, 0x400000);
	expect_stop(&g, lx, false, -EBADMSG, 3, "not a kernel pointer");
	fl_w64(&g, t.alpha + KT_TASKS, 0x8000000000001000ULL);
	expect_stop(&g, lx, false, -EBADMSG, 3, "not a kernel pointer");
	fl_w64(&g, t.alpha + KT_TASKS, saved + 3);
	expect_stop(&g, lx, false, -EBADMSG, 3, "not a kernel pointer");
	/* Canonical, kernel half, but unmapped. */
	fl_w64(&g, t.alpha + KT_TASKS, 0xffffc90000000000ULL);
	expect_stop(&g, lx, false, -EFAULT, 3, "not mapped");
	/* Cut short: alpha -> the head, while beta and gamma follow (the head's prev is gamma). */
	fl_w64(&g, t.alpha + KT_TASKS, FL_INIT_TASK_VA + KT_TASKS);
	expect_stop(&g, lx, false, -EBADMSG, 3, "the head's prev");
	fl_w64(&g, t.alpha + KT_TASKS, saved);

	/* A garbage parent stops the walk; a garbage cred only marks the task. */
	fl_w64(&g, t.beta + KT_REAL_PARENT, 0x1234);
	expect_stop(&g, lx, false, -EBADMSG, 3, "real_parent");
	fl_w64(&g, t.beta + KT_REAL_PARENT, t.init);
	fl_w64(&g, t.beta + KT_REAL_CRED, 0xdead);
	REQUIRE(walk(&g, lx, false, 0, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 5);
	EXPECT_INT(list.tasks[3].cred_err, -EBADMSG);
	EXPECT_INT(list.tasks[2].cred_err, 0);
	imee_linux_task_list_free(&list);

	/* A thread list that loops back to the first thread: caught. */
	fl_w64(&g, t.g2 + KT_THREAD_NODE, t.g1 + KT_THREAD_NODE);
	fl_w64(&g, t.g1 + KT_THREAD_NODE + 8, t.g2 + KT_THREAD_NODE);
	expect_stop(&g, lx, true, -EBADMSG, 5, "->prev");

	/* The bound. */
	REQUIRE(walk(&g, lx, false, 2, &list) == 0);
	EXPECT_INT(list.err, -E2BIG);
	EXPECT_INT(list.nr, 2);
	imee_linux_task_list_free(&list);

	/* Nothing readable at all: an error, no list. */
	fl_w64(&g, FL_INIT_TASK_VA + KT_TASKS, 0x17);
	EXPECT_INT(walk(&g, lx, false, 0, &list), -EBADMSG);
	imee_linux_close(lx);
	fl_free(&g);
}

/*
 * A long list whose end loops into its middle. In memory that holds still,
 * the prev check catches every cycle: the node where the walk comes round
 * again was first reached from another node, which its prev names. Brent's
 * check (tested on its own below) is for memory that changes under the walk.
 */
static void brent_catches_long_cycles(void)
{
	struct fake_linux g;
	struct imee_linux_task_list list;
	struct imee_linux *lx;
	uint64_t tasks[300], root;
	int i;

	fl_init(&g, false);
	root = fl_cred(&g, 0, 0, 0);
	for (i = 0; i < 300; i++)
		tasks[i] = fl_task(&g, 10 + i, 10 + i, "t", FL_INIT_TASK_VA, root, 1);
	fl_link_tasks(&g, tasks, 300);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	/* 299 -> 150: the walk passes 150 again; its prev (149) no longer matches 299. */
	fl_w64(&g, tasks[299] + KT_TASKS, tasks[150] + KT_TASKS);
	REQUIRE(walk(&g, lx, false, 0, &list) == 0);
	EXPECT_INT(list.err, -EBADMSG);
	EXPECT_INT(list.nr, 300);
	imee_linux_task_list_free(&list);
	imee_linux_close(lx);
	fl_free(&g);
}

/* Brent's check on rho-shaped sequences: caught within 4 * (tail + cycle) steps. */
static void cycle_detection(void)
{
	unsigned int tail, len;

	for (tail = 0; tail < 40; tail += 3) {
		for (len = 1; len < 70; len += 4) {
			struct linux_cycle c;
			uint64_t step = 0;
			bool caught = false;

			linux_cycle_init(&c, 0xffff0000);
			/* x_i = i for i < tail + len, then back to tail. */
			for (step = 0; step < 8 * (tail + len) + 8 && !caught; step++) {
				uint64_t i = step < tail ? step : tail + (step - tail) % len;

				caught = linux_cycle_step(&c, i);
			}
			if (!EXPECT(caught && step <= 4 * (tail + len) + 2))
				printf("# tail %u, cycle %u: %s after %llu steps\n", tail, len,
				       caught ? "caught" : "not caught", (unsigned long long)step);
		}
	}
}

static void pid_idr(void)
{
	struct fake_linux g;
	struct guest_tasks t;
	IMEE_OPTS(imee_linux_pids_opts, o);
	struct imee_linux_pid_list list;
	struct imee_linux *lx;
	int32_t nrs[8] = { 1, 2, 100, 101, 102, 103, 104, 4200 };
	uint64_t pids[8];
	size_t i;

	fl_init(&g, false);
	add_tasks(&g, &t);
	pids[0] = fl_pid(&g, 1, t.init);
	pids[1] = fl_pid(&g, 2, t.kthreadd);
	pids[2] = fl_pid(&g, 100, t.alpha);
	pids[3] = fl_pid(&g, 101, t.beta);
	pids[4] = fl_pid(&g, 102, t.gamma);
	pids[5] = fl_pid(&g, 103, t.g1);
	pids[6] = fl_pid(&g, 104, t.g2);
	pids[7] = fl_pid(&g, 4200, 0); /* a pid without a task (a process group's) */
	fl_build_idr(&g, nrs, pids, 8);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
	EXPECT_INT(list.err, 0);
	REQUIRE(list.nr == 8);
	for (i = 0; i < 8; i++) {
		EXPECT_INT(list.pids[i].nr, nrs[i]);
		EXPECT_U64(list.pids[i].address, pids[i]);
	}
	EXPECT_U64(list.pids[5].task, t.g1);
	EXPECT_INT(list.pids[5].tgid, 102);
	EXPECT_STR(list.pids[5].comm, "imee-wl-gamma-1");
	EXPECT_U64(list.pids[7].task, 0);
	imee_linux_pid_list_free(&list);

	/* The bound. */
	o.max = 3;
	REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
	EXPECT_INT(list.err, -E2BIG);
	EXPECT_INT(list.nr, 3);
	imee_linux_pid_list_free(&list);
	o.max = 0;

	/* A pid that says another number than its index. */
	fl_w32(&g, pids[3] + KP_NUMBERS + KU_NR, 999);
	REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
	EXPECT_INT(list.err, -EBADMSG);
	EXPECT_INT(list.nr, 3);
	imee_linux_pid_list_free(&list);
	fl_w32(&g, pids[3] + KP_NUMBERS + KU_NR, 101);

	/* A node whose slot points back at itself: caught by shift and parent checks. */
	{
		uint64_t head = fl_r64(&g, FL_INIT_PID_NS_VA + KN_XA_HEAD), root = head - 2;

		fl_w64(&g, root + KX_SLOTS + 8 * 63, head);
		REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
		EXPECT_INT(list.err, -EBADMSG);
		EXPECT_HAS(list.error.message, "inconsistent");
		imee_linux_pid_list_free(&list);
		fl_w64(&g, root + KX_SLOTS + 8 * 63, 0);
		/* A garbage child pointer. */
		fl_w64(&g, root + KX_SLOTS + 8 * 62, 0x1002);
		REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
		EXPECT_INT(list.err, -EBADMSG);
		imee_linux_pid_list_free(&list);
		fl_w64(&g, root + KX_SLOTS + 8 * 62, 0);
	}
	/* An empty IDR. */
	fl_build_idr(&g, NULL, NULL, 0);
	REQUIRE(imee_linux_pids(lx, &g.vmem, &o, &list) == 0);
	EXPECT_INT(list.nr, 0);
	EXPECT_INT(list.err, 0);
	imee_linux_pid_list_free(&list);
	imee_linux_close(lx);
	fl_free(&g);
}

/* The guest of add_tasks() with every task's pid in the IDR, and a process group's. */
static void add_pids(struct fake_linux *g, const struct guest_tasks *t, int32_t skip)
{
	const uint64_t tasks[7] = {
		t->init, t->kthreadd, t->alpha, t->beta, t->gamma, t->g1, t->g2
	};
	const int32_t all[8] = { 1, 2, 100, 101, 102, 103, 104, 4200 };
	int32_t nrs[8];
	uint64_t pids[8];
	size_t i, n = 0;

	for (i = 0; i < 8; i++) {
		if (all[i] == skip)
			continue;
		nrs[n] = all[i];
		pids[n++] = fl_pid(g, all[i], i < 7 ? tasks[i] : 0);
	}
	fl_build_idr(g, nrs, pids, n);
}

static void hidden(void)
{
	struct fake_linux g;
	struct guest_tasks t;
	IMEE_OPTS(imee_linux_hidden_opts, o);
	struct imee_linux_hidden_list list;
	struct imee_linux *lx;

	fl_init(&g, false);
	add_tasks(&g, &t);
	add_pids(&g, &t, 0);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	/* The views agree (the process group's pid 4200 has no task: no view of one). */
	REQUIRE(imee_linux_hidden(lx, &g.vmem, &o, &list) == 0);
	EXPECT_INT(list.nr, 0);
	EXPECT_INT(list.rounds, 1);
	EXPECT_INT(list.nr_tasks, 7);
	EXPECT_INT(list.nr_pids, 8);
	imee_linux_hidden_list_free(&list);

	/* beta unlinked from the task list, as a rootkit hides a process: in the IDR only. */
	fl_link_tasks(&g, (uint64_t[]){ t.init, t.kthreadd, t.alpha, t.gamma }, 4);
	REQUIRE(imee_linux_hidden(lx, &g.vmem, &o, &list) == 0);
	REQUIRE(list.nr == 1);
	EXPECT_INT(list.entries[0].pid, 101);
	EXPECT_INT(list.entries[0].tgid, 101);
	EXPECT_STR(list.entries[0].comm, "imee-wl-beta");
	EXPECT_U64(list.entries[0].task, t.beta);
	EXPECT_INT(list.entries[0].seen_in, IMEE_LINUX_VIEW_PIDLIST);
	EXPECT_INT(list.entries[0].missing_from, IMEE_LINUX_VIEW_PSLIST);
	EXPECT_INT(list.rounds, IMEE_LINUX_HIDDEN_ROUNDS);
	EXPECT_INT(list.nr_tasks, 6);
	imee_linux_hidden_list_free(&list);
	fl_link_tasks(&g, (uint64_t[]){ t.init, t.kthreadd, t.alpha, t.beta, t.gamma }, 5);

	/* A thread (gamma-2) whose pid is gone from the IDR: in the task list only. */
	add_pids(&g, &t, 104);
	REQUIRE(imee_linux_hidden(lx, &g.vmem, &o, &list) == 0);
	REQUIRE(list.nr == 1);
	EXPECT_INT(list.entries[0].pid, 104);
	EXPECT_INT(list.entries[0].tgid, 102);
	EXPECT_STR(list.entries[0].comm, "imee-wl-gamma-2");
	EXPECT_U64(list.entries[0].task, t.g2);
	EXPECT_INT(list.entries[0].seen_in, IMEE_LINUX_VIEW_PSLIST);
	EXPECT_INT(list.entries[0].missing_from, IMEE_LINUX_VIEW_PIDLIST);
	imee_linux_hidden_list_free(&list);
	add_pids(&g, &t, 0);

	/* A view that cannot be taken whole fails the check with its error. */
	{
		uint64_t saved = fl_r64(&g, t.alpha + KT_TASKS);

		fl_w64(&g, t.alpha + KT_TASKS, 0x400000);
		EXPECT_INT(imee_linux_hidden(lx, &g.vmem, &o, &list), -EBADMSG);
		EXPECT_HAS(imee_errmsg(), "pslist");
		EXPECT_HAS(imee_errmsg(), "not a kernel pointer");
		fl_w64(&g, t.alpha + KT_TASKS, saved);
	}
	o.max = 4;
	EXPECT_INT(imee_linux_hidden(lx, &g.vmem, &o, &list), -E2BIG);
	EXPECT_HAS(imee_errmsg(), "pidlist");
	o.max = 0;
	fl_w64(&g, FL_INIT_PID_NS_VA + KN_XA_HEAD, 0x1002);
	EXPECT_INT(imee_linux_hidden(lx, &g.vmem, &o, &list), -EBADMSG);
	EXPECT_HAS(imee_errmsg(), "pidlist");
	imee_linux_close(lx);
	fl_free(&g);
}

static int walk_list(struct fake_linux *g, struct imee_linux *lx, const char *type,
		     const char *list_member, uint64_t head, bool is_entry,
		     const char *const *fields, size_t nr, size_t max, struct imee_linux_walk **w)
{
	IMEE_OPTS(imee_linux_walk_opts, o, .type = type, .list = list_member, .head = head,
		  .head_is_entry = is_entry, .fields = fields, .nr_fields = nr, .max = max);

	*w = NULL;
	return imee_linux_walk(lx, &g->vmem, &o, w);
}

/* Field k of entry i as an integer, or ~0 when it has no value. */
static uint64_t wint(struct imee_linux_walk *w, size_t i, size_t k)
{
	const struct imee_linux_walk_field *fs;
	const unsigned char *b;
	size_t nr;

	fs = imee_linux_walk_fields(w, &nr);
	if (imee_linux_walk_value(w, i, k, &b, NULL))
		return ~0ULL;
	return imee_linux_walk_int(&fs[k], b, 0);
}

static void generic_walk(void)
{
	static const char *const fields[] = {
		"pid",
		"comm",
		"real_cred->uid.val",
		"real_parent->pid",
		"exit_state",
		"signal",
		"real_cred->cap_effective.cap",
		"in_iowait",
		"pid_links[1].next",
	};
	struct imee_linux_task_list ps;
	const struct imee_linux_walk_field *fs;
	const unsigned char *b;
	struct imee_linux_walk *w;
	struct fake_linux g;
	struct guest_tasks t;
	struct imee_linux *lx;
	uint64_t at;
	size_t i, nr;

	fl_init(&g, true);
	add_tasks(&g, &t);
	fl_w32(&g, t.alpha + KT_EXIT_STATE, (uint32_t)-5);
	fl_w32(&g, t.beta + KT_BITFIELD, 2); /* in_iowait */
	lx = open_guest(&g, false);
	REQUIRE(lx);
	/* The task list from init_task: what pslist gives. */
	REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, fields, 9, 0,
			  &w) == 0);
	REQUIRE(walk(&g, lx, false, 0, &ps) == 0);
	EXPECT_INT(imee_linux_walk_error(w, NULL), 0);
	REQUIRE(imee_linux_walk_count(w) == ps.nr);
	fs = imee_linux_walk_fields(w, &nr);
	REQUIRE(nr == 9);
	EXPECT_INT(fs[0].kind, IMEE_LINUX_WALK_INT);
	EXPECT(fs[0].is_signed);
	EXPECT_INT(fs[1].kind, IMEE_LINUX_WALK_STRING);
	EXPECT_INT(fs[2].derefs, 1);
	EXPECT_INT(fs[5].kind, IMEE_LINUX_WALK_PTR);
	EXPECT_INT(fs[6].kind, IMEE_LINUX_WALK_ARRAY);
	EXPECT_INT(fs[6].nelems, 2);
	EXPECT_INT(fs[7].bit_size, 1);
	EXPECT_STR(fs[2].path, "real_cred->uid.val");
	for (i = 0; i < ps.nr; i++) {
		EXPECT_U64(imee_linux_walk_address(w, i), ps.tasks[i].address);
		EXPECT_U64(wint(w, i, 0), (uint64_t)ps.tasks[i].pid);
		REQUIRE(imee_linux_walk_value(w, i, 1, &b, NULL) == 0);
		EXPECT(!memcmp(b, ps.tasks[i].comm, strlen(ps.tasks[i].comm) + 1));
		EXPECT_U64(wint(w, i, 2), ps.tasks[i].cred.uid);
		EXPECT_U64(wint(w, i, 3), i < 2 ? 0 : 1);
	}
	EXPECT_U64(wint(w, 2, 4), (uint64_t)-5); /* signed: sign-extended */
	EXPECT_U64(wint(w, 3, 4), 0);
	EXPECT_U64(wint(w, 4, 5), fl_r64(&g, t.gamma + KT_SIGNAL));
	REQUIRE(imee_linux_walk_value(w, 2, 6, &b, NULL) == 0);
	EXPECT_U64(imee_linux_walk_int(&fs[6], b, 0), 0xffffffffULL);
	EXPECT_U64(imee_linux_walk_int(&fs[6], b, 1), 0x1ff);
	EXPECT_U64(wint(w, 3, 7), 1);
	EXPECT_U64(wint(w, 2, 7), 0);
	imee_linux_walk_free(w);

	/* A bare list_head as the head: gamma's threads, along thread_node. */
	REQUIRE(walk_list(&g, lx, "task_struct", "thread_node",
			  fl_r64(&g, t.gamma + KT_SIGNAL) + KS_THREAD_HEAD, false, fields, 2, 0,
			  &w) == 0);
	REQUIRE(imee_linux_walk_count(w) == 3);
	EXPECT_U64(wint(w, 0, 0), 102);
	EXPECT_U64(wint(w, 1, 0), 103);
	EXPECT_U64(wint(w, 2, 0), 104);
	imee_linux_walk_free(w);

	/* A NULL on the way is no value; a bad pointer is that field's error; the walk goes on. */
	fl_w64(&g, t.alpha + KT_REAL_CRED, 0);
	fl_w64(&g, t.beta + KT_REAL_CRED, 0xdead0);
	REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, fields, 3, 0,
			  &w) == 0);
	EXPECT_INT(imee_linux_walk_error(w, NULL), 0);
	REQUIRE(imee_linux_walk_count(w) == 5);
	EXPECT_INT(imee_linux_walk_value(w, 2, 2, &b, &at), -ENODATA);
	EXPECT_U64(at, t.alpha + KT_REAL_CRED);
	EXPECT_INT(imee_linux_walk_value(w, 3, 2, &b, &at), -EBADMSG);
	EXPECT_U64(wint(w, 3, 0), 101);
	EXPECT_U64(wint(w, 4, 2), 0);
	imee_linux_walk_free(w);
	fl_w64(&g, t.alpha + KT_REAL_CRED, ps.tasks[2].cred.address);
	fl_w64(&g, t.beta + KT_REAL_CRED, ps.tasks[3].cred.address);
	imee_linux_task_list_free(&ps);

	/* The bound, and a corrupt list: what was read, and the error. */
	REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, fields, 1, 2,
			  &w) == 0);
	EXPECT_INT(imee_linux_walk_error(w, NULL), -E2BIG);
	EXPECT_INT(imee_linux_walk_count(w), 2);
	imee_linux_walk_free(w);
	{
		uint64_t saved = fl_r64(&g, t.beta + KT_TASKS);
		struct imee_error e;

		fl_w64(&g, t.beta + KT_TASKS, t.kthreadd + KT_TASKS);
		REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, fields, 1,
				  0, &w) == 0);
		EXPECT_INT(imee_linux_walk_error(w, &e), -EBADMSG);
		EXPECT_HAS(e.message, "->prev");
		EXPECT_INT(imee_linux_walk_count(w), 4);
		imee_linux_walk_free(w);
		fl_w64(&g, t.beta + KT_TASKS, 0x8000000000001000ULL);
		REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, fields, 1,
				  0, &w) == 0);
		EXPECT_INT(imee_linux_walk_error(w, &e), -EBADMSG);
		EXPECT_HAS(e.message, "not a kernel pointer");
		imee_linux_walk_free(w);
		fl_w64(&g, t.beta + KT_TASKS, saved);
	}
	imee_linux_close(lx);
	fl_free(&g);
}

/* Names the kernel does not have, and fields that are no values, are refused before walking. */
static void generic_walk_refused(void)
{
	struct fake_linux g;
	struct imee_linux *lx;
	struct imee_linux_walk *w;
	const char *f[2] = { "pid", NULL };
	static const struct {
		const char *type, *list, *field;
		int err;
		const char *msg;
	} bad[] = {
		{ "no_such_struct", "tasks", "pid", -ENOENT, "no_such_struct" },
		{ "task_struct", "no_such_list", "pid", -ENOENT, "no_such_list" },
		{ "task_struct", "pid", "pid", -EINVAL, "not a struct list_head" },
		{ "task_struct", "real_parent", "pid", -EINVAL, "not a struct list_head" },
		{ "task_struct", "tasks", "no_such_field", -ENOENT, "no_such_field" },
		{ "task_struct", "tasks", "real_cred->nope", -ENOENT, "nope" },
		{ "task_struct", "tasks", "real_cred->uid", -EINVAL, "name one of its members" },
		{ "task_struct", "tasks", "pid->x", -EINVAL, "not a pointer to a struct" },
		{ "task_struct", "tasks", "pid_links", -EINVAL, "array of structs" },
		{ "task_struct", "tasks", "comm[16]", -EINVAL, "index" },
		{ "task_struct", "tasks", "real_cred->", -EINVAL, "empty" },
		{ "task_struct", "tasks", "a->b->c->d->e->f", -ENOENT, "\"a\"" },
		{ "task_struct", "tasks",
		  "real_parent->real_parent->real_parent->real_parent->"
		  "real_parent->pid",
		  -EINVAL, "more than 4 pointers" },
	};
	size_t i;

	fl_init(&g, false);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f[0] = bad[i].field;
		if (!EXPECT_INT(walk_list(&g, lx, bad[i].type, bad[i].list, FL_INIT_TASK_VA, true,
					  f, 1, 0, &w),
				bad[i].err) ||
		    !EXPECT_HAS(imee_errmsg(), bad[i].msg))
			printf("# %s %s %s: %s\n", bad[i].type, bad[i].list, bad[i].field,
			       imee_errmsg());
		imee_linux_walk_free(w);
	}
	/* No fields, too many, a user-space head. */
	f[0] = "pid";
	EXPECT_INT(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, f, 0, 0, &w),
		   -EINVAL);
	EXPECT_INT(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, f,
			     IMEE_LINUX_WALK_FIELDS_MAX + 1, 0, &w),
		   -EINVAL);
	EXPECT_INT(walk_list(&g, lx, "task_struct", "tasks", 0x400000, false, f, 1, 0, &w),
		   -EINVAL);
	/* An empty list (init_task alone): no entries, complete. */
	REQUIRE(walk_list(&g, lx, "task_struct", "tasks", FL_INIT_TASK_VA, true, f, 1, 0, &w) == 0);
	EXPECT_INT(imee_linux_walk_count(w), 0);
	EXPECT_INT(imee_linux_walk_error(w, NULL), 0);
	imee_linux_walk_free(w);
	imee_linux_close(lx);
	fl_free(&g);
}

/* Kernel memory reads right through a user CR3 of a PTI pair. */
static void vmem_uses_the_kernel_half(void)
{
	struct fake_linux g;
	struct imee_walk_opts user;
	struct imee_vmem vm;
	uint64_t v = 0;

	fl_init(&g, false);
	user = g.walk;
	user.cr3 = g.walk.cr3 | 0x1000 | 5; /* the user half, with a PCID */
	REQUIRE(imee_vmem_from_walk(&g.mem, &user, &vm) == 0);
	REQUIRE(imee_vmem_read(&vm, FL_INIT_TASK_VA + KT_TASKS, &v, 8) == 0);
	EXPECT_U64(v, FL_INIT_TASK_VA + KT_TASKS);
	EXPECT_INT(imee_vmem_read(&vm, ~0ULL - 3, &v, 8), -EINVAL);
	EXPECT_INT(imee_vmem_read(NULL, 0, &v, 8), -EINVAL);
	imee_vmem_release(&vm);
	imee_vmem_release(&vm); /* cleared: harmless */
	fl_free(&g);
}

/* Overrides ------------------------------------------------------------ */

/* A temporary file holding data[0..len): its path, in path[0..size). */
static void temp_file(char *path, size_t size, const void *data, size_t len)
{
	int fd;

	snprintf(path, size, "/tmp/imee-test-override-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd))
		abort();
}

/* A System.map of the fake kernel linked at the usual place (0xffffffff81000000). */
static void system_map_file(const struct fake_linux *g, char *path, size_t size)
{
	char *text = fl_system_map(g, IMEE_LINUX_TEXT_DEFAULT);

	temp_file(path, size, text, strlen(text));
	free(text);
}

static int open_overrides(struct fake_linux *g, const char *system_map, const char *btf,
			  struct imee_linux **lx_ret)
{
	struct imee_linux_banner banner = fl_banner();
	/* No way to load kallsyms from memory: the System.map must be enough. */
	IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner, .paging = g->walk.paging,
		  .cache_dir = cache_dir, .system_map = system_map, .btf = btf);

	if (!system_map) {
		o.load_kallsyms = fl_load_kallsyms;
		o.load_arg = g;
	}
	*lx_ret = NULL;
	return imee_linux_open(&g->vmem, &o, lx_ret);
}

/* Two task walks give the same tasks (the guest's, read two ways). */
static void expect_same_tasks(struct fake_linux *g, struct imee_linux *a, struct imee_linux *b)
{
	struct imee_linux_task_list x, y;
	size_t i;

	REQUIRE(walk(g, a, true, 0, &x) == 0);
	if (!EXPECT(walk(g, b, true, 0, &y) == 0)) {
		imee_linux_task_list_free(&x);
		return;
	}
	EXPECT_INT(x.err, 0);
	EXPECT_INT(y.err, 0);
	EXPECT_INT(y.nr, 7);
	if (EXPECT_INT(y.nr, x.nr))
		for (i = 0; i < x.nr; i++) {
			EXPECT_U64(y.tasks[i].address, x.tasks[i].address);
			EXPECT_INT(y.tasks[i].pid, x.tasks[i].pid);
			EXPECT_INT(y.tasks[i].ppid, x.tasks[i].ppid);
			EXPECT_STR(y.tasks[i].comm, x.tasks[i].comm);
			EXPECT_INT(y.tasks[i].cred.uid, x.tasks[i].cred.uid);
		}
	imee_linux_task_list_free(&x);
	imee_linux_task_list_free(&y);
}

/*
 * A System.map (link-time addresses, 32 MiB below the guest's) gives the
 * symbols kallsyms gives from memory, entry for entry, and the same tasks
 * and system call tables; the cache is left alone.
 */
static void system_map_override(void)
{
	IMEE_OPTS(imee_linux_syscalls_opts, so, .abi = IMEE_LINUX_SYSCALLS_X64);
	struct imee_linux_syscall_table t1, t2;
	struct imee_linux_banner banner = fl_banner();
	struct imee_linux_kallsyms *mem_ks = NULL, *map_ks = NULL;
	struct imee_linux_kallsyms_info ki;
	struct imee_linux *mem_lx, *lx;
	struct imee_linux_info info;
	struct fake_linux g;
	struct guest_tasks t;
	char path[64];
	size_t i;

	fl_init(&g, false);
	add_tasks(&g, &t);
	system_map_file(&g, path, sizeof(path));

	REQUIRE(fl_load_kallsyms(&g, &mem_ks) == 0);
	REQUIRE(imee_linux_system_map_load(path, &banner, &map_ks) == 0);
	imee_linux_kallsyms_info(map_ks, &ki);
	EXPECT(ki.from_system_map);
	EXPECT_U64(ki.kaslr_slide, FL_TEXT_VA - IMEE_LINUX_TEXT_DEFAULT);
	REQUIRE(imee_linux_kallsyms_count(map_ks) == imee_linux_kallsyms_count(mem_ks));
	for (i = 0; i < imee_linux_kallsyms_count(mem_ks); i++) {
		struct imee_linux_ksym a, b;

		REQUIRE(imee_linux_kallsyms_get(mem_ks, i, &a) == 0);
		REQUIRE(imee_linux_kallsyms_get(map_ks, i, &b) == 0);
		EXPECT_U64(b.address, a.address);
		EXPECT_INT(b.type, a.type);
		EXPECT_STR(b.name, a.name);
	}
	/* syscalldmp reads the same tables and names the same handlers. */
	REQUIRE(imee_linux_syscalls(mem_ks, &g.vmem, &so, &t1) == 0);
	REQUIRE(imee_linux_syscalls(map_ks, &g.vmem, &so, &t2) == 0);
	EXPECT_U64(t2.address, FL_SCT_VA);
	if (EXPECT_INT(t2.nr, t1.nr))
		for (i = 0; i < t1.nr; i++) {
			EXPECT_U64(t2.entries[i].handler, t1.entries[i].handler);
			EXPECT_STR(t2.entries[i].symbol, t1.entries[i].symbol);
			EXPECT_INT(t2.entries[i].flag, t1.entries[i].flag);
		}
	imee_linux_syscall_table_free(&t1);
	imee_linux_syscall_table_free(&t2);
	imee_linux_kallsyms_free(mem_ks);
	imee_linux_kallsyms_free(map_ks);

	/* From memory, with the cache: written. */
	mem_lx = open_guest(&g, true);
	REQUIRE(mem_lx);
	imee_linux_get_info(mem_lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_WRITTEN);

	/* With the System.map: the same kernel, the cache neither read nor written. */
	if (!EXPECT_INT(open_overrides(&g, path, NULL, &lx), 0))
		printf("# open: %s\n", imee_errmsg());
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT_U64(info.text, FL_TEXT_VA);
	EXPECT_U64(info.btf_va, FL_BTF_VA);
	EXPECT(info.symbols_from_file);
	EXPECT(!info.btf_from_file);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_OFF);
	EXPECT_STR(info.cache_path, "");
	expect_same_tasks(&g, mem_lx, lx);
	imee_linux_close(lx);
	imee_linux_close(mem_lx);

	/* The entry made from memory is still there, and still a hit. */
	mem_lx = open_guest(&g, true);
	REQUIRE(mem_lx);
	imee_linux_get_info(mem_lx, &info);
	EXPECT_INT(info.cache, IMEE_LINUX_CACHE_HIT);
	imee_linux_close(mem_lx);
	unlink(path);
	fl_free(&g);
}

/* A System.map that is not this kernel's, or no System.map at all, is refused, named. */
static void system_map_refused(void)
{
	struct imee_linux_banner banner = fl_banner();
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_linux *lx;
	struct fake_linux g;
	char path[64], *text, *p;

	fl_init(&g, false);

	/* Another build: its linux_banner 4 KiB off (no whole KASLR slide). */
	text = fl_system_map(&g, IMEE_LINUX_TEXT_DEFAULT + 0x1000);
	temp_file(path, sizeof(path), text, strlen(text));
	free(text);
	EXPECT_INT(open_overrides(&g, path, NULL, &lx), -ESTALE);
	EXPECT_HAS(imee_errmsg(), "the System.map does not match the guest's kernel");
	EXPECT_HAS(imee_errmsg(), "linux_banner");
	EXPECT(!lx);
	unlink(path);

	/* The banner in place, but init_task elsewhere (init_pid_ns's address). */
	text = fl_system_map(&g, IMEE_LINUX_TEXT_DEFAULT);
	p = strstr(text, " D init_task\n");
	REQUIRE(p);
	memcpy(p - 16, "ffffffff81401000", 16);
	temp_file(path, sizeof(path), text, strlen(text));
	free(text);
	EXPECT_INT(open_overrides(&g, path, NULL, &lx), -ESTALE);
	EXPECT_HAS(imee_errmsg(), "the System.map does not match the guest's kernel");
	EXPECT_HAS(imee_errmsg(), "init_task's comm");
	unlink(path);

	/* No such file: its path and errno. */
	EXPECT_INT(open_overrides(&g, "/nonexistent/System.map", NULL, &lx), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "/nonexistent/System.map");
	EXPECT_HAS(imee_errmsg(), strerror(ENOENT));
	EXPECT_INT(imee_linux_system_map_load("/", &banner, &ks), -EINVAL);
	EXPECT_HAS(imee_errmsg(), "not a regular file");

	/* Not a System.map, no linux_banner, nothing. */
	text = "ffffffff81000000 T _text\nffffffff81000000 T\n";
	EXPECT_INT(imee_linux_system_map_parse(text, strlen(text), &banner, &ks), -EBADMSG);
	EXPECT_HAS(imee_errmsg(), "line 2");
	text = "ffffffff81000000 T _text\n\n";
	EXPECT_INT(imee_linux_system_map_parse(text, strlen(text), &banner, &ks), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "no linux_banner");
	text = "1ffffffff81000000 T _text\n";
	EXPECT_INT(imee_linux_system_map_parse(text, strlen(text), &banner, &ks), -EBADMSG);
	EXPECT_INT(imee_linux_system_map_parse("", 0, &banner, &ks), -EBADMSG);
	EXPECT_INT(imee_linux_system_map_parse("x", 1, NULL, &ks), -EINVAL);
	/* /proc/kallsyms read without privilege: every address 0. */
	text = "0000000000000000 T _text\n0000000000000000 D linux_banner\n";
	EXPECT_INT(imee_linux_system_map_parse(text, strlen(text), &banner, &ks), -EINVAL);
	EXPECT_HAS(imee_errmsg(), "privilege");
	EXPECT(!ks);
	fl_free(&g);
}

/*
 * /proc/kallsyms as a System.map: addresses already slid (the slide is 0),
 * module symbols left out, CRLF and tabs taken.
 */
static void system_map_from_proc_kallsyms(void)
{
	static const char text[] = "0000000000000000 A fixed_percpu_data\n"
				   "ffffffff83000000 T _text\r\n"
				   "ffffffff83200100 D linux_banner\n"
				   "ffffffffc0002000 t nf_hook\t[nf_tables]\n"
				   "ffffffff83400000\tD\tinit_task   \n";
	struct imee_linux_banner banner = fl_banner();
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_linux_kallsyms_info ki;
	struct imee_linux_ksym sym;

	REQUIRE(imee_linux_system_map_parse(text, sizeof(text) - 1, &banner, &ks) == 0);
	imee_linux_kallsyms_info(ks, &ki);
	EXPECT_U64(ki.kaslr_slide, 0);
	EXPECT_INT(imee_linux_kallsyms_count(ks), 4);
	EXPECT_INT(imee_linux_kallsyms_lookup_name(ks, "nf_hook", &sym, NULL), -ENOENT);
	REQUIRE(imee_linux_kallsyms_lookup_name(ks, "init_task", &sym, NULL) == 0);
	EXPECT_U64(sym.address, FL_INIT_TASK_VA);
	EXPECT_INT(sym.type, 'D');
	REQUIRE(imee_linux_kallsyms_lookup_name(ks, "fixed_percpu_data", &sym, NULL) == 0);
	EXPECT_U64(sym.address, 0); /* not slid: not in the kernel image */
	EXPECT_INT(sym.index, 0);
	REQUIRE(imee_linux_kallsyms_lookup_address(ks, FL_BANNER_VA + 5, &sym) == 0);
	EXPECT_STR(sym.name, "linux_banner");
	imee_linux_kallsyms_free(ks);
}

/*
 * The raw BTF with task_struct.comm moved to byte 224 (nothing there): a
 * BTF of another build, as init_task reads by it.
 */
static void *btf_with_comm_moved(size_t *len)
{
	unsigned char *btf = kbtf_build(len, 0), *p;
	uint32_t hdr_len, type_off, type_len, str_off, name_off, bits = KT_COMM * 8;
	size_t i;

	memcpy(&hdr_len, btf + 4, 4);
	memcpy(&type_off, btf + 8, 4);
	memcpy(&type_len, btf + 12, 4);
	memcpy(&str_off, btf + 16, 4);
	p = memmem(btf + hdr_len + str_off, *len - hdr_len - str_off, "\0comm\0", 6);
	if (!p)
		abort();
	name_off = (uint32_t)(p + 1 - (btf + hdr_len + str_off));
	/* struct btf_member: name_off, type, offset (in bits). */
	for (i = hdr_len + type_off; i + 12 <= hdr_len + type_off + type_len; i += 4) {
		uint32_t m[3];

		memcpy(m, btf + i, 12);
		if (m[0] == name_off && m[2] == bits) {
			m[2] = 224 * 8;
			memcpy(btf + i + 8, &m[2], 4);
			return btf;
		}
	}
	abort();
}

/*
 * An ELF file (as a vmlinux is) whose .BTF section holds btf[0..len), and
 * a .shstrtab: all libbpf's btf__parse_elf() looks at. Its path, in path.
 */
static void elf_with_btf(char *path, size_t size, const void *btf, size_t len)
{
	static const char names[] = "\0.BTF\0.shstrtab";
	const size_t names_at = sizeof(Elf64_Ehdr) + len;
	const size_t sh_at = (names_at + sizeof(names) + 7) & ~(size_t)7;
	unsigned char *f = calloc(1, sh_at + 3 * sizeof(Elf64_Shdr));
	Elf64_Ehdr eh = { .e_type = ET_REL,
			  .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT,
			  .e_shoff = sh_at,
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_shentsize = sizeof(Elf64_Shdr),
			  .e_shnum = 3,
			  .e_shstrndx = 2 };
	Elf64_Shdr sh[3] = {
		{ 0 },
		{ .sh_name = 1,
		  .sh_type = SHT_PROGBITS,
		  .sh_offset = sizeof(Elf64_Ehdr),
		  .sh_size = len,
		  .sh_addralign = 4 },
		{ .sh_name = 6,
		  .sh_type = SHT_STRTAB,
		  .sh_offset = names_at,
		  .sh_size = sizeof(names),
		  .sh_addralign = 1 },
	};

	if (!f)
		abort();
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + sizeof(eh), btf, len);
	memcpy(f + names_at, names, sizeof(names));
	memcpy(f + sh_at, sh, sizeof(sh));
	temp_file(path, size, f, sh_at + sizeof(sh));
	free(f);
}

/*
 * A kernel without BTF in memory: named, with the way out; a BTF file
 * gives the same results as the .BTF in memory did, and one of another
 * build is refused.
 */
static void btf_override(void)
{
	struct imee_linux *mem_lx, *lx;
	struct imee_linux_info info;
	struct fake_linux g;
	struct guest_tasks t;
	char btf_path[64], map_path[64], bad_path[64];
	size_t len;
	void *btf;

	fl_init(&g, false);
	add_tasks(&g, &t);
	mem_lx = open_guest(&g, false);
	REQUIRE(mem_lx);
	btf = kbtf_build(&len, g.btf_flags);
	temp_file(btf_path, sizeof(btf_path), btf, len);
	free(btf);
	system_map_file(&g, map_path, sizeof(map_path));

	/* The .BTF gone from memory. */
	fl_w32(&g, FL_BTF_VA, 0);
	EXPECT_INT(open_overrides(&g, NULL, NULL, &lx), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "the guest kernel's BTF was not found in memory");
	EXPECT_HAS(imee_errmsg(), "give a BTF file as \"btf\"");

	if (!EXPECT_INT(open_overrides(&g, NULL, btf_path, &lx), 0))
		printf("# open: %s\n", imee_errmsg());
	REQUIRE(lx);
	imee_linux_get_info(lx, &info);
	EXPECT(info.btf_from_file);
	EXPECT(!info.symbols_from_file);
	EXPECT_U64(info.btf_va, 0);
	EXPECT_INT(info.btf_size, len);
	imee_linux_get_info(mem_lx, &info);
	{
		struct imee_linux_info file_info;

		imee_linux_get_info(lx, &file_info);
		EXPECT_U64(file_info.btf_checksum, info.btf_checksum);
		EXPECT_INT(file_info.cache, IMEE_LINUX_CACHE_OFF);
	}
	expect_same_tasks(&g, mem_lx, lx);
	imee_linux_close(lx);

	/* The same BTF as a vmlinux's .BTF section; an ELF file without one. */
	{
		char elf_path[64];
		struct imee_linux_info file_info;

		btf = kbtf_build(&len, g.btf_flags);
		elf_with_btf(elf_path, sizeof(elf_path), btf, len);
		free(btf);
		if (!EXPECT_INT(open_overrides(&g, NULL, elf_path, &lx), 0))
			printf("# open: %s\n", imee_errmsg());
		REQUIRE(lx);
		imee_linux_get_info(lx, &file_info);
		EXPECT_U64(file_info.btf_checksum, info.btf_checksum);
		expect_same_tasks(&g, mem_lx, lx);
		imee_linux_close(lx);
		unlink(elf_path);
		elf_with_btf(elf_path, sizeof(elf_path), "", 0);
		/* Named .BTF but empty: libbpf finds nothing to parse. */
		EXPECT(open_overrides(&g, NULL, elf_path, &lx) < 0);
		EXPECT_HAS(imee_errmsg(), elf_path);
		unlink(elf_path);
	}

	/* Both overrides: nothing but the banner and the structures from memory. */
	if (!EXPECT_INT(open_overrides(&g, map_path, btf_path, &lx), 0))
		printf("# open: %s\n", imee_errmsg());
	REQUIRE(lx);
	expect_same_tasks(&g, mem_lx, lx);
	imee_linux_close(lx);

	/* Another build's BTF. */
	btf = btf_with_comm_moved(&len);
	temp_file(bad_path, sizeof(bad_path), btf, len);
	free(btf);
	EXPECT_INT(open_overrides(&g, NULL, bad_path, &lx), -ESTALE);
	EXPECT_HAS(imee_errmsg(), "the BTF file does not match the guest's kernel");
	EXPECT_INT(open_overrides(&g, map_path, bad_path, &lx), -ESTALE);
	EXPECT_HAS(imee_errmsg(), "the System.map or the BTF file does not match");
	unlink(bad_path);

	/* Not a BTF file, and no file. */
	EXPECT_INT(open_overrides(&g, NULL, map_path, &lx), -EBADMSG);
	EXPECT_HAS(imee_errmsg(), "neither raw BTF");
	EXPECT_INT(open_overrides(&g, NULL, "/nonexistent/vmlinux.btf", &lx), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "/nonexistent/vmlinux.btf");
	EXPECT_HAS(imee_errmsg(), strerror(ENOENT));
	unlink(btf_path);
	unlink(map_path);
	imee_linux_close(mem_lx);
	fl_free(&g);
}

/* The kernel's own page table, from init_top_pgt, replaces a vCPU's CR3. */
static void kernel_cr3(void)
{
	struct imee_linux_banner banner = fl_banner();
	struct fake_linux g;
	struct imee_linux *lx;
	uint64_t cr3 = 0, zero[512] = { 0 };

	fl_init(&g, false);
	lx = open_guest(&g, false);
	REQUIRE(lx);
	EXPECT_INT(imee_linux_kernel_cr3(lx, &g.mem, &g.walk, &banner, &cr3), 0);
	/* the image is mapped linearly: init_top_pgt's physical address */
	EXPECT_U64(cr3, banner.pa + (FL_TOP_PGT_VA - FL_BANNER_VA));
	EXPECT(cr3 != g.walk.cr3);
	/* a table that does not map the kernel is refused */
	fl_write(&g, FL_TOP_PGT_VA, zero, sizeof(zero));
	EXPECT_INT(imee_linux_kernel_cr3(lx, &g.mem, &g.walk, &banner, &cr3), -EBADMSG);
	EXPECT_INT(imee_linux_kernel_cr3(NULL, &g.mem, &g.walk, &banner, &cr3), -EINVAL);
	imee_linux_close(lx);
	fl_free(&g);
}

int main(void)
{
	int ret;

	snprintf(cache_dir, sizeof(cache_dir), "/tmp/imee-test-cache-%d", (int)getpid());
	tap_run(open_and_cache,
		"open from kallsyms and BTF, then from the cache; stale ones missed");
	tap_run(missing_pieces, "a kernel without BTF is named as such");
	tap_run(task_list_4level, "pslist: leaders, threads, parents, credentials (4-level)");
	tap_run(task_list_5level, "pslist: the same under 5-level paging");
	tap_run(read_ahead_tasks,
		"pslist read ahead in one program: the same tasks, few reads left");
	tap_run(hostile_task_lists, "task lists: cycles, garbage, unmapped: typed errors");
	tap_run(brent_catches_long_cycles, "long cycles into the middle of the list end the walk");
	tap_run(cycle_detection, "cycle detection is bounded");
	tap_run(pid_idr, "pidlist: the IDR's xarray, bounded, corrupt nodes refused");
	tap_run(vmem_uses_the_kernel_half, "vmem: kernel addresses through a user CR3");
	tap_run(hidden, "hidden: pidlist against pslist, both ways; a failed view fails it");
	tap_run(generic_walk, "walk: init_task's tasks as pslist, threads, pointers, bitfields");
	tap_run(generic_walk_refused, "walk: unknown names and non-values refused, named");
	tap_run(system_map_override, "System.map: the same symbols, tasks and tables; no cache");
	tap_run(system_map_refused, "System.map: another kernel's, a bad or missing file: named");
	tap_run(system_map_from_proc_kallsyms,
		"System.map: /proc/kallsyms' format, modules left out");
	tap_run(btf_override, "BTF file: for a kernel without .BTF; another build's refused");
	tap_run(kernel_cr3, "the kernel's own page table (init_top_pgt), checked");
	ret = tap_done();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", cache_dir);
		if (system(cmd))
			ret = 1;
	}
	return ret;
}
