// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the Linux walks (linux_tasks.c, linux_pids.c,
 * linux_modules.c, linux_hidden.c, linux_walk.c) over a guest kernel
 * whose objects the input is.
 *
 * The guest is the unit tests' synthetic Linux (fake_linux.h: page tables,
 * kallsyms, BTF), made and opened once. Each input is written over the
 * memory the walks read (fuzz_linux.h: init_task, init_pid_ns, the modules
 * list head, the objects' area of the direct map, the module area) and
 * every walk is run: the task list with and without threads and
 * credentials, the pid IDR, the module list, the cross-view check, and a
 * generic walk by BTF names through pointers. A compromised kernel
 * controls all of those bytes: each walk must end, within its bound, with
 * a list and a documented error, and what it reports must be well formed
 * (NUL-terminated names, no more entries than the bound). Seeds:
 * corpus/linux/gen-* from fuzz_seeds.c (a guest with processes, threads,
 * pids and modules, and a few with a corrupted list).
 */
#include <errno.h>
#include <string.h>

#include <imee/imee.h>

#include "fuzz.h"
#include "fuzz_linux.h"

/* The walks' bound: small, so that a long list is cheap to reach. */
#define MAX 64

static struct fake_linux g;
static struct imee_linux *lx;
static uint64_t region_va[FLR_NR];

static void setup(void)
{
	struct imee_linux_banner banner;

	fl_init(&g, false);
	fuzz_linux_regions(&g, region_va);
	banner = fl_banner();
	{
		IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner,
			  .load_kallsyms = fl_load_kallsyms, .load_arg = &g,
			  .paging = g.walk.paging, .no_cache = true);

		FUZZ_CHECK(imee_linux_open(&g.vmem, &o, &lx) == 0);
	}
}

/* The errors a walk may end with (documented in imee.h), 0 included. */
static bool walk_err_ok(int err)
{
	return err == 0 || err == -ELOOP || err == -E2BIG || err == -EBADMSG || err == -EFAULT ||
	       err == -ENXIO || err == -ENOMEM;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void tasks(bool threads)
{
	IMEE_OPTS(imee_linux_tasks_opts, o, .threads = threads, .max = MAX);
	struct imee_linux_task_list list;
	size_t i;
	int ret;

	memset(&list, 0, sizeof(list));
	ret = imee_linux_tasks(lx, &g.vmem, &o, &list);
	FUZZ_SAY("tasks (threads %d): %d, %zu, err %d\n", threads, ret, list.nr, list.err);
	if (ret) {
		FUZZ_CHECK(ret < 0 && !list.nr);
		return;
	}
	FUZZ_CHECK(list.nr <= MAX);
	FUZZ_CHECK(walk_err_ok(list.err));
	for (i = 0; i < list.nr; i++)
		FUZZ_CHECK(terminated(list.tasks[i].comm, sizeof(list.tasks[i].comm)));
	imee_linux_task_list_free(&list);
}

static void pids(void)
{
	IMEE_OPTS(imee_linux_pids_opts, o, .max = MAX);
	struct imee_linux_pid_list list;
	size_t i;
	int ret;

	memset(&list, 0, sizeof(list));
	ret = imee_linux_pids(lx, &g.vmem, &o, &list);
	FUZZ_SAY("pids: %d, %zu, err %d\n", ret, list.nr, list.err);
	if (ret) {
		FUZZ_CHECK(ret < 0 && !list.nr);
		return;
	}
	FUZZ_CHECK(list.nr <= MAX);
	FUZZ_CHECK(walk_err_ok(list.err));
	for (i = 0; i < list.nr; i++) {
		FUZZ_CHECK(terminated(list.pids[i].comm, sizeof(list.pids[i].comm)));
		/* In increasing order of nr. */
		FUZZ_CHECK(!i || list.pids[i].nr > list.pids[i - 1].nr);
	}
	imee_linux_pid_list_free(&list);
}

static void modules(void)
{
	IMEE_OPTS(imee_linux_modules_opts, o, .max = MAX);
	struct imee_linux_module_list list;
	size_t i;
	int ret;

	memset(&list, 0, sizeof(list));
	ret = imee_linux_modules(lx, &g.vmem, &o, &list);
	FUZZ_SAY("modules: %d, %zu, err %d\n", ret, list.nr, list.err);
	if (ret) {
		FUZZ_CHECK(ret < 0 && !list.nr);
		return;
	}
	FUZZ_CHECK(list.nr <= MAX);
	FUZZ_CHECK(walk_err_ok(list.err));
	for (i = 0; i < list.nr; i++)
		FUZZ_CHECK(terminated(list.modules[i].name, sizeof(list.modules[i].name)));
	imee_linux_module_list_free(&list);
}

static void hidden(void)
{
	IMEE_OPTS(imee_linux_hidden_opts, o, .max = MAX);
	struct imee_linux_hidden_list list;
	size_t i;

	int ret;

	memset(&list, 0, sizeof(list));
	ret = imee_linux_hidden(lx, &g.vmem, &o, &list);
	FUZZ_SAY("hidden: %d, %zu, rounds %u\n", ret, list.nr, list.rounds);
	if (ret)
		return;
	FUZZ_CHECK(list.rounds >= 1 && list.rounds <= IMEE_LINUX_HIDDEN_ROUNDS);
	FUZZ_CHECK(list.nr <= list.nr_tasks + list.nr_pids);
	for (i = 1; i < list.nr; i++)
		FUZZ_CHECK(list.entries[i].pid >= list.entries[i - 1].pid);
	imee_linux_hidden_list_free(&list);
}

static void generic_walk(void)
{
	static const char *const fields[] = {
		"pid",
		"comm",
		"real_cred->uid.val",
		"signal->thread_head.next",
		"pid_links[0].next",
	};
	IMEE_OPTS(imee_linux_walk_opts, o, .type = "task_struct", .list = "tasks",
		  .head = FL_INIT_TASK_VA, .head_is_entry = true, .fields = fields,
		  .nr_fields = sizeof(fields) / sizeof(fields[0]), .max = MAX);
	struct imee_linux_walk *walk = NULL;
	const unsigned char *bytes;
	size_t i, k, n;
	uint64_t at;

	int ret = imee_linux_walk(lx, &g.vmem, &o, &walk);

	FUZZ_SAY("walk: %d (%s)\n", ret, ret ? imee_errmsg() : "");
	if (ret)
		return;
	n = imee_linux_walk_count(walk);
	FUZZ_SAY("walk: %zu entries, err %d\n", n, imee_linux_walk_error(walk, NULL));
	FUZZ_CHECK(n <= MAX);
	FUZZ_CHECK(walk_err_ok(imee_linux_walk_error(walk, NULL)));
	for (i = 0; i < n; i++)
		for (k = 0; k < o.nr_fields; k++)
			imee_linux_walk_value(walk, i, k, &bytes, &at);
	imee_linux_walk_free(walk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t r, at = 0;

	if (!lx)
		setup();
	for (r = 0; r < FLR_NR; r++) {
		size_t len = fuzz_linux_region_len[r];
		size_t n = at < size ? (size - at < len ? size - at : len) : 0;
		unsigned char *p = fl_ptr(&g, region_va[r], len);

		if (n)
			memcpy(p, data + at, n);
		memset(p + n, 0, len - n);
		at += len;
	}
	tasks(false);
	tasks(true);
	pids();
	modules();
	hidden();
	generic_walk();
	return 0;
}
