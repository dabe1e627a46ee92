/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the Linux jobs know about one kernel build: the offsets of the
 * fields they read (from BTF only) and where a few symbols lie relative to
 * _text (from kallsyms). One table drives its resolution from BTF, its
 * checks, and its form in the cache, so the three cannot disagree.
 */
#ifndef IMEE_LIB_LINUX_LAYOUT_H
#define IMEE_LIB_LINUX_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A member: its byte offset in its struct and its size. */
struct layout_field {
	uint64_t off;
	uint64_t size;
};

struct linux_layout {
	/* struct sizes */
	uint64_t task_size, signal_size, cred_size, pid_size, upid_size, pidns_size, xa_node_size;
	uint64_t list_size, hlist_size;
	int64_t pidtype_pid; /* enum pid_type's PIDTYPE_PID */
	/* task_struct */
	struct layout_field task_tasks, task_pid, task_tgid, task_real_parent, task_comm;
	struct layout_field task_state, task_exit_state, task_flags, task_real_cred, task_cred;
	struct layout_field task_start_time, task_start_boottime, task_signal, task_thread_node;
	struct layout_field task_pid_link; /* pid_links[PIDTYPE_PID] */
	struct layout_field signal_thread_head;
	struct layout_field list_next, list_prev, hlist_first;
	/* cred */
	struct layout_field cred_uid, cred_gid, cred_suid, cred_sgid;
	struct layout_field cred_euid, cred_egid, cred_fsuid, cred_fsgid;
	struct layout_field cred_cap_inheritable, cred_cap_permitted, cred_cap_effective;
	struct layout_field cred_cap_bset, cred_cap_ambient;
	/* pids */
	struct layout_field pid_level, pid_task_head, pid_numbers, upid_nr, upid_ns;
	struct layout_field pidns_xa_head, pidns_idr_base;
	struct layout_field xa_shift, xa_offset, xa_parent, xa_slots;
	/*
	 * Optional (LAYOUT_ABSENT / size 0 when the kernel has no such type or
	 * member): only the jobs that need them fail without them.
	 * Modules: 6.1 has core_layout and init_layout (struct module_layout);
	 * 6.4+ has mem[MOD_MEM_NUM_TYPES] (struct module_memory) instead.
	 */
	uint64_t module_size, module_memory_size;
	struct layout_field module_list, module_name, module_state, module_refcnt;
	struct layout_field module_core_base, module_core_size, module_init_size;
	struct layout_field module_mem, module_memory_base, module_memory_size_f;
	int64_t mod_text; /* enum mod_mem_type's MOD_TEXT */
	int64_t module_state_live, module_state_coming, module_state_going;
	int64_t module_state_unformed;
	/* trace_array.enter_syscall_files[NR_syscalls]: the one place BTF tells NR_syscalls */
	struct layout_field trace_syscall_files;
};

/* An optional enumerator the kernel does not have. */
#define LAYOUT_ABSENT INT64_MIN

/* Where things lie, relative to _text (KASLR moves them all alike). */
struct linux_symbols {
	uint64_t init_task;
	uint64_t init_pid_ns;
	uint64_t banner; /* linux_banner */
	uint64_t btf; /* __start_BTF */
	uint64_t btf_size; /* __stop_BTF - __start_BTF */
	uint64_t modules; /* the list of modules (0: the kernel has none) */
	uint64_t top_pgt; /* init_top_pgt, the kernel's own page table (0: unknown) */
};

/* A range of guest bytes, relative to _text, and their checksum. */
struct linux_range_sum {
	uint64_t off;
	uint64_t len;
	uint64_t sum;
};

/*
 * One kernel build, as the cache holds it: the keys that must match the
 * guest byte for byte, and what was derived from them.
 */
struct linux_build {
	char banner[IMEE_LINUX_BANNER_MAX];
	uint64_t btf_checksum;
	/* kallsyms tables: names..token_index, and offsets (not relative_base: KASLR) */
	struct linux_range_sum ksyms_names, ksyms_offsets;
	struct linux_symbols sym;
	struct linux_layout layout;
};

/* Resolve every field from BTF, then check the result (linux_layout_check). */
int linux_layout_from_btf(const struct imee_linux_btf *btf, struct linux_layout *layout);

/* Are offsets and sizes plausible: each member inside its struct, sizes as expected? */
int linux_layout_check(const struct linux_layout *layout);

/*
 * The cache file's text for a build (malloc'ed, NUL-terminated), and back.
 * linux_build_parse() accepts only what linux_build_format() writes, with
 * its checksum line right; -EBADMSG otherwise.
 */
int linux_build_format(const struct linux_build *b, char **text_ret);
int linux_build_parse(const char *text, size_t len, struct linux_build *b);

#endif /* IMEE_LIB_LINUX_LAYOUT_H */
