/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The input of fuzz_linux.c, shared with fuzz_seeds.c which writes its
 * seeds: the guest memory of the synthetic Linux guest (fake_linux.h)
 * that the Linux walks read, as regions one after another.
 */
#ifndef IMEE_FUZZ_LINUX_H
#define IMEE_FUZZ_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "fake_linux.h"
#include "kbtf_build.h"

enum fuzz_linux_region {
	FLR_INIT_TASK, /* init_task: the head of the task list */
	FLR_INIT_PID_NS, /* init_pid_ns: the pid IDR's root */
	FLR_MODULES, /* the "modules" list head */
	FLR_OBJECTS, /* the direct map where fl_alloc() puts tasks, creds, pids, nodes */
	FLR_MODULE_AREA, /* where fl_module() puts struct modules */
	FLR_NR,
};

/* Bytes of each region: the input is their concatenation (short: zeros). */
static const size_t fuzz_linux_region_len[FLR_NR] = {
	[FLR_INIT_TASK] = KT_SIZE,
	[FLR_INIT_PID_NS] = KN_SIZE,
	[FLR_MODULES] = 16,
	[FLR_OBJECTS] = 24 << 10,
	[FLR_MODULE_AREA] = 2 * (KM_SIZE + 0x1000),
};

/*
 * Where the regions start in a guest just made by fl_init() (before
 * anything else is allocated in it).
 */
static inline void fuzz_linux_regions(struct fake_linux *g, uint64_t va[FLR_NR])
{
	va[FLR_INIT_TASK] = FL_INIT_TASK_VA;
	va[FLR_INIT_PID_NS] = FL_INIT_PID_NS_VA;
	va[FLR_MODULES] = FL_MODULES_HEAD_VA;
	/* fl_init() allocates init_task's signal_struct first. */
	va[FLR_OBJECTS] = fl_r64(g, FL_INIT_TASK_VA + KT_SIGNAL);
	va[FLR_MODULE_AREA] = g->next_module;
}

#endif /* IMEE_FUZZ_LINUX_H */
