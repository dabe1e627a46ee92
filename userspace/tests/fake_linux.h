/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A synthetic Linux guest for the unit tests of the Linux walkers: page
 * tables mapping a kernel image (banner, kallsyms tables, the .BTF of
 * kbtf_build.h, init_task, init_pid_ns) and a direct map where tasks,
 * creds, pids and xarray nodes are placed by the tests, laid out as the
 * synthetic BTF says.
 */
#ifndef IMEE_TESTS_FAKE_LINUX_H
#define IMEE_TESTS_FAKE_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <imee/imee.h>

#include "fakemem.h"

#define FL_TEXT_VA 0xffffffff83000000ULL /* a KASLR slide of 32 MiB */
#define FL_BANNER_VA (FL_TEXT_VA + 0x200100)
#define FL_BTF_VA (FL_TEXT_VA + 0x300000)
#define FL_INIT_TASK_VA (FL_TEXT_VA + 0x400000)
#define FL_INIT_PID_NS_VA (FL_TEXT_VA + 0x401000)
#define FL_BANNER "Linux version 6.1.0-fake (imee unit tests) #1 SMP PREEMPT_DYNAMIC"
/*
 * System call handlers in the text (_stext = _text .. FL_ETEXT_VA), at
 * FL_HANDLER_VA(i) for the names fl_handler_names[i]; sys_call_table
 * (FL_NR_X64 entries: handlers 0..5, then 16 bytes of padding before the
 * next symbol) and ia32_sys_call_table (FL_NR_IA32: handlers 6, 7, 5, 8)
 * in .rodata. Handler 5 has two names (__x64_ and __ia32_sys_ni_syscall).
 * The kernel has x64_sys_call (its table is not used for dispatch) and no
 * ia32_sys_call.
 */
#define FL_ETEXT_VA (FL_TEXT_VA + 0x100000)
#define FL_HANDLER_VA(i) (FL_TEXT_VA + 0x8000 + 0x40 * (uint64_t)(i))
#define FL_NR_HANDLERS 9
#define FL_SCT_VA (FL_TEXT_VA + 0x210000)
#define FL_NR_X64 6
#define FL_IA32_SCT_VA (FL_TEXT_VA + 0x211000)
#define FL_NR_IA32 4
extern const char *const fl_handler_names[FL_NR_HANDLERS];
/* A text function that is no handler (func_005). */
#define FL_FUNC5_VA (FL_TEXT_VA + 0x1000 + 0x50)
/*
 * The "modules" list head (a global; a static "modules" elsewhere too),
 * and the module area, where fl_module() puts struct modules.
 */
#define FL_MODULES_HEAD_VA (FL_TEXT_VA + 0x402000)
/* init_top_pgt: a copy of the top-level table of g->walk.cr3, in the image */
#define FL_TOP_PGT_VA (FL_TEXT_VA + 0x404000)
#define FL_MODULE_AREA_VA 0xffffffffc0000000ULL
#define FL_MODULE_AREA_SIZE (2ULL << 20)

struct fake_linux {
	struct fake_mem fm;
	struct imee_mem mem;
	struct imee_vmem vmem;
	struct imee_walk_opts walk;
	uint64_t dmap; /* the direct map's base (4- or 5-level) */
	uint64_t next_pa; /* objects are allocated upward from here */
	uint64_t next_module; /* struct modules, upward in the module area */
	size_t btf_len;
	unsigned int btf_flags;
};

/* A guest with 4- or 5-level paging and the synthetic BTF. */
void fl_init(struct fake_linux *g, bool la57);
/* The same with kbtf_build()'s flags (KBTF_MODULE_MEM, KBTF_BARE). */
void fl_init_flags(struct fake_linux *g, bool la57, unsigned int btf_flags);
void fl_free(struct fake_linux *g);

/* A zeroed object of size bytes in the direct map (64-byte aligned): its address. */
uint64_t fl_alloc(struct fake_linux *g, size_t size);

/* Write and read guest virtual memory (direct map or kernel image). */
void fl_w8(struct fake_linux *g, uint64_t va, uint8_t v);
void fl_w32(struct fake_linux *g, uint64_t va, uint32_t v);
void fl_w64(struct fake_linux *g, uint64_t va, uint64_t v);
void fl_write(struct fake_linux *g, uint64_t va, const void *buf, size_t len);
uint64_t fl_r64(struct fake_linux *g, uint64_t va);
/* The host copy of [va, va + len) (which must not cross a 2 MiB page). */
void *fl_ptr(struct fake_linux *g, uint64_t va, size_t len);

/* The banner as imee_linux_find_banner() would find it. */
struct imee_linux_banner fl_banner(void);

/*
 * The kernel's symbols as a System.map (malloc'ed text): "%016llx T name"
 * lines in address order, as if linked with _text at link_text (KASLR then
 * slid them to FL_TEXT_VA).
 */
char *fl_system_map(const struct fake_linux *g, uint64_t link_text);

/* For imee_linux_open_opts.load_kallsyms: arg is the struct fake_linux. */
int fl_load_kallsyms(void *arg, struct imee_linux_kallsyms **ks_ret);

/* A new cred with these ids (uid = euid = suid = fsuid, the same for gids). */
uint64_t fl_cred(struct fake_linux *g, uint32_t uid, uint32_t gid, uint64_t cap_effective);

/*
 * A new task (its own thread group, with a signal_struct) with parent's
 * tgid as ppid. state is __state. Not linked anywhere yet.
 */
uint64_t fl_task(struct fake_linux *g, int32_t pid, int32_t tgid, const char *comm, uint64_t parent,
		 uint64_t cred, uint32_t state);

/* Link tasks[0..n) into init_task.tasks, in that order (a proper circular list). */
void fl_link_tasks(struct fake_linux *g, const uint64_t *tasks, size_t n);

/* Add thread to leader's group: signal shared, linked after the others. */
void fl_add_thread(struct fake_linux *g, uint64_t leader, uint64_t thread);

/* A struct pid numbered nr in init_pid_ns, the pid of task (or of none: 0). */
uint64_t fl_pid(struct fake_linux *g, int32_t nr, uint64_t task);

/* Build init_pid_ns.idr holding pids[i] at index nrs[i] (sorted, distinct). */
void fl_build_idr(struct fake_linux *g, const int32_t *nrs, const uint64_t *pids, size_t n);

/*
 * A new struct module in the module area (as the BTF lays it out: 6.1's
 * core_layout and init_layout, or mem[]: MOD_TEXT gets base and size, one
 * other region init_size). state is module.state's raw value (KMS_*),
 * refcnt module.refcnt's. Not linked anywhere yet.
 */
uint64_t fl_module(struct fake_linux *g, const char *name, uint32_t state, uint64_t base,
		   uint32_t size, uint32_t init_size, int32_t refcnt);

/* Link mods[0..n) into the "modules" list, in that order (a proper circular list). */
void fl_link_modules(struct fake_linux *g, const uint64_t *mods, size_t n);

#endif /* IMEE_TESTS_FAKE_LINUX_H */
