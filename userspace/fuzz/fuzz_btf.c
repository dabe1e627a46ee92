// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the guest kernel's BTF (btf.c) as the Linux jobs
 * use it, with the input as the guest memory where .BTF lies.
 *
 * As in fuzz_kallsyms.c, fixed page tables map one 2 MiB page at BTF_VA,
 * and the input is the start of that page. Every input is loaded three
 * ways: parsed as a buffer (imee_linux_btf_parse()), read from
 * __start_BTF..__stop_BTF as kallsyms would give them (BTF_VA and the
 * input's length, then the scan if that fails), and found by the scan
 * alone. Whatever loads is then used as linux_open.c uses it: every field
 * offset of the Linux jobs (linux_layout_from_btf()), member paths with
 * indices and anonymous members, members of pointed-to types, names of
 * every type id, enumerators.
 *
 * It runs slowly (tens of inputs a second): a header the scan finds may
 * claim up to IMEE_LINUX_BTF_MAX bytes, and btf.c allocates that much for
 * each of up to SCAN_CANDIDATES_MAX candidates before reading, which ASan
 * makes costly. That is the code as a hostile guest drives it.
 *
 * libbpf itself (Debian's, not instrumented) parses the types; what this
 * finds is in btf.c's header checks, its own walks over types that
 * libbpf accepted, and the layout checks. Seeds: corpus/btf/gen-* are
 * kbtf_build blobs (each variant) from fuzz_seeds.c; btf.dict names the
 * types and members the jobs look up.
 */
#include <errno.h>
#include <string.h>

#include <imee/imee.h>

#include "fakemem.h"
#include "fuzz.h"
#include "linux_layout.h"

#define BTF_VA 0xffffffff82200000ULL
#define BTF_PA 0x200000ULL
/* Type ids whose names are asked for, at most (each is cheap). */
#define NAMES_MAX 4096

static struct fake_mem fm;
static struct imee_walk_opts wopts;
static size_t dirty; /* bytes of the page the previous input wrote */

static void setup(void)
{
	uint64_t root;

	fake_init(&fm, BTF_PA + SZ_2M); /* page tables below BTF_PA */
	root = fake_table(&fm, 1);
	fake_map(&fm, root, 4, BTF_VA, BTF_PA, SZ_2M, PTE_XD);
	memset(&wopts, 0, sizeof(wopts));
	wopts.sz = sizeof(wopts);
	wopts.paging = IMEE_PAGING_4LEVEL;
	wopts.cr3 = root;
}

static const char *const paths[] = {
	"task_struct.tasks.next",
	"task_struct.pid_links[0].next",
	"task_struct.pid_links[3]",
	"task_struct.comm[15]",
	"task_struct.in_execve",
	"task_struct.in_execve.x",
	"pid.numbers[0].nr",
	"pid.numbers[4294967295]",
	"pid_namespace.idr.idr_rt.xa_head",
	"cred.uid.val",
	"module.mem[1].base",
	"module.core_layout.size",
	"xa_node.slots[63]",
	"a..b",
	"task_struct.[1]",
	"task_struct.tasks[0][0]",
};

static void use(const struct imee_linux_btf *btf)
{
	struct imee_linux_btf_info info;
	struct imee_linux_btf_member m, inner;
	struct linux_layout layout;
	uint64_t size, off;
	uint32_t id, nr;
	int64_t value;
	size_t i;

	imee_linux_btf_info(btf, &info);
	FUZZ_SAY("btf: %u types, scanned %d\n", info.nr_types, info.scanned);
	FUZZ_SAY("btf: layout %d (%s)\n", linux_layout_from_btf(btf, &layout), imee_errmsg());
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (imee_linux_btf_member(btf, paths[i], &m))
			continue;
		FUZZ_CHECK(m.bit_size || m.bit_offset == 0);
		/* A pointer's or an array's target, as the walk job follows it. */
		if (m.target_id) {
			imee_linux_btf_member_in(btf, m.target_id, "next", &inner);
			imee_linux_btf_member_in(btf, m.target_id, "a.b[1].c", &inner);
		}
		imee_linux_btf_member_in(btf, m.type_id, "val", &inner);
	}
	imee_linux_btf_offset(btf, "task_struct.pid", &off);
	imee_linux_btf_composite(btf, "task_struct", &id, &size);
	imee_linux_btf_type_size(btf, "list_head", &size);
	imee_linux_btf_enum_value(btf, "PIDTYPE_PID", &value);
	imee_linux_btf_enum_value(btf, "MODULE_STATE_LIVE", &value);
	nr = info.nr_types < NAMES_MAX ? info.nr_types : NAMES_MAX;
	for (id = 0; id <= nr + 1; id++)
		FUZZ_CHECK(imee_linux_btf_type_name(btf, id) != NULL);
}

/* A result of imee_linux_btf_*(): a parsed blob, or one of the documented errors. */
static void check(int ret, struct imee_linux_btf *btf)
{
	FUZZ_SAY("btf: %d (%s)\n", ret, ret ? imee_errmsg() : "");
	if (ret) {
		FUZZ_CHECK(ret == -ENOENT || ret == -EBADMSG || ret == -ENOMEM);
		FUZZ_CHECK(!btf);
		return;
	}
	FUZZ_CHECK(btf);
	use(btf);
	imee_linux_btf_free(btf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imee_linux_btf *btf;
	struct imee_vmem vmem;
	struct imee_mem mem;
	int ret;

	if (!fm.nr_slots)
		setup();
	if (size > SZ_2M)
		size = SZ_2M;
	btf = NULL;
	check(imee_linux_btf_parse(data, size, &btf), btf);

	fake_write(&fm, BTF_PA, data, size);
	if (dirty > size)
		memset(fake_ptr(&fm, BTF_PA + size, dirty - size), 0, dirty - size);
	dirty = size;
	mem = fake_mem(&fm);
	FUZZ_CHECK(imee_vmem_from_walk(&mem, &wopts, &vmem) == 0);
	{
		IMEE_OPTS(imee_linux_btf_find_opts, o, .start = BTF_VA, .end = BTF_VA + size);

		btf = NULL;
		ret = imee_linux_btf_load(&vmem, &o, &btf);
		check(ret, btf);
	}
	{
		IMEE_OPTS(imee_linux_btf_find_opts, o, .start = 0);

		btf = NULL;
		ret = imee_linux_btf_load(&vmem, &o, &btf);
		check(ret, btf);
	}
	imee_vmem_release(&vmem);
	return 0;
}
