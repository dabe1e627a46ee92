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

struct fake_linux {
	struct fake_mem fm;
	struct imee_mem mem;
	struct imee_vmem vmem;
	struct imee_walk_opts walk;
	uint64_t dmap; /* the direct map's base (4- or 5-level) */
	uint64_t next_pa; /* objects are allocated upward from here */
	size_t btf_len;
};

/* A guest with 4- or 5-level paging and the synthetic BTF. */
void fl_init(struct fake_linux *g, bool la57);
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

#endif /* IMEE_TESTS_FAKE_LINUX_H */
