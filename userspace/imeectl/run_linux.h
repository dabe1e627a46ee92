/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imeectl run: the Linux jobs (pslist, pidlist, credlist, modules,
 * syscalldmp, hidden, walk). They share one view of the guest kernel (symbols and
 * layouts, from the cache or from kallsyms and BTF), made when the first
 * of them runs; syscalldmp also needs every symbol (kallsyms, decoded once
 * per run).
 */
#ifndef IMEECTL_RUN_LINUX_H
#define IMEECTL_RUN_LINUX_H

#include <stdbool.h>

#include <jansson.h>

#include <imee/imee.h>

#include "job.h"

struct run_linux {
	struct imee_session *session;
	const struct imee_vcpu_regs *vcpu; /* NULL when the target has none */
	/* the vCPU's CR3 and paging mode; CR3 the kernel's own once it is known */
	struct imee_walk_opts walk;
	bool walk_is_kernel; /* walk.cr3 is the kernel's own (init_top_pgt) */
	/*
	 * Until then the kernel is searched through a copy of the top-level
	 * table of walk.cr3 (a process's, freed when it exits), taken once
	 * per CR3: see imee_linux_top_copy().
	 */
	struct imee_linux_top_copy top;
	struct imee_mem top_mem; /* reads through top; ops NULL: none taken */
	uint64_t top_cr3; /* the walk.cr3 top was taken for */
	bool no_cache;
	/* Overrides from the job file (NULL: from memory): see imee_linux_open_opts. */
	const char *system_map;
	const char *btf_file;
	/* The guest's banner, found once (the System.map's slide comes from it). */
	bool banner_tried;
	struct imee_linux_banner banner;
	struct imee_error banner_error;
	/* Made on first use; a failure is kept and given to every Linux job. */
	bool tried;
	struct imee_linux *lx;
	struct imee_error error;
	/* The same for the kallsyms syscalldmp reads. */
	bool ks_tried;
	struct imee_linux_kallsyms *ks;
	struct imee_error ks_error;
};

/* Run a pslist, pidlist, credlist, modules, syscalldmp, hidden or walk job into result. */
void run_linux_job(struct run_linux *rl, const struct job *job, json_t *result);

/* Free what the Linux jobs made. */
void run_linux_done(struct run_linux *rl);

#endif /* IMEECTL_RUN_LINUX_H */
