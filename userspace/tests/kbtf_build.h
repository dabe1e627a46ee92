/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small synthetic kernel BTF for the unit tests, written with libbpf's
 * BTF writer: the structs the Linux jobs read (task_struct, cred, pid,
 * xa_node, ...), laid out at offsets of our own choosing, unlike any real
 * kernel's, so that a test passes only if every offset comes from the BTF.
 * It has what real kernels have: typedefs, const, anonymous structs and
 * unions, a bitfield, arrays, an enum.
 */
#ifndef IMEE_TESTS_KBTF_BUILD_H
#define IMEE_TESTS_KBTF_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* struct task_struct (KT_SIZE bytes) */
#define KT_STATE 16 /* unsigned int __state */
#define KT_FLAGS 20
#define KT_BITFIELD 24 /* in an anonymous union: unsigned in_execve:1, in_iowait:1 */
#define KT_TASKS 32 /* struct list_head */
#define KT_EXIT_STATE 48
#define KT_PID 52
#define KT_TGID 56
#define KT_REAL_PARENT 64
#define KT_PID_LINKS 72 /* struct hlist_node pid_links[4], in an anonymous struct */
#define KT_START_TIME 136
#define KT_START_BOOTTIME 144
#define KT_REAL_CRED 152
#define KT_CRED 160
#define KT_COMM 168 /* char comm[16] */
#define KT_SIGNAL 184
#define KT_THREAD_NODE 192 /* struct list_head */
#define KT_SIZE 256

/* struct signal_struct */
#define KS_THREAD_HEAD 8
#define KS_SIZE 64

/* struct cred: capabilities first, then ids, unlike Linux */
#define KC_CAP_INHERITABLE 8 /* kernel_cap_t: struct { __u32 cap[2]; } */
#define KC_CAP_PERMITTED 16
#define KC_CAP_EFFECTIVE 24
#define KC_CAP_BSET 32
#define KC_CAP_AMBIENT 40
#define KC_UID 48 /* kuid_t: typedef struct { uid_t val; } */
#define KC_GID 52
#define KC_SUID 56
#define KC_SGID 60
#define KC_EUID 64
#define KC_EGID 68
#define KC_FSUID 72
#define KC_FSGID 76
#define KC_SIZE 96

/* struct pid, struct upid */
#define KP_LEVEL 4
#define KP_TASKS 8 /* struct hlist_head tasks[4] */
#define KP_NUMBERS 48 /* struct upid numbers[1] */
#define KP_SIZE 64
#define KU_NR 0
#define KU_NS 8
#define KU_SIZE 16

/* struct pid_namespace: idr at 8, the xarray's head at idr + 8 */
#define KN_XA_HEAD 16
#define KN_IDR_BASE 24
#define KN_SIZE 64

/* struct xa_node */
#define KX_SHIFT 0
#define KX_OFFSET 1
#define KX_PARENT 8
#define KX_SLOTS 24 /* void *slots[64] */
#define KX_NR_SLOTS 64
#define KX_SIZE (KX_SLOTS + 8 * KX_NR_SLOTS)

/* struct module: Linux 6.1's members (6.4+'s mem[] with KBTF_MODULE_MEM) */
#define KM_STATE 8 /* enum module_state */
#define KM_NAME 16 /* char name[56] */
#define KM_NAME_LEN 56
#define KM_LIST 80 /* struct list_head */
#define KM_REFCNT 100 /* atomic_t */
#define KM_CORE_LAYOUT 128 /* struct module_layout */
#define KM_INIT_LAYOUT 176
#define KML_BASE 0 /* void *base */
#define KML_SIZE 8 /* unsigned int size */
#define KML_STRUCT_SIZE 48
#define KM_MEM 128 /* struct module_memory mem[KMM_NR] (KBTF_MODULE_MEM) */
#define KMM_BASE 0
#define KMM_SIZE 8
#define KMM_STRUCT_SIZE 32
#define KMM_NR 7
#define KMM_TEXT 1 /* MOD_TEXT: not the kernel's 0, so that it must come from BTF */
#define KM_SIZE 512
/* enum module_state, its values permuted from the kernel's for the same reason */
#define KMS_LIVE 2
#define KMS_COMING 3
#define KMS_GOING 0
#define KMS_UNFORMED 1

/* struct trace_array: enter_syscall_files[KTA_NR_SYSCALLS] gives NR_syscalls */
#define KTA_ENTER_SYSCALL_FILES 16
#define KTA_NR_SYSCALLS 6
#define KTA_SIZE 128

#define KBTF_BAD_PID_SIZE 1U /* task_struct.pid is 8 bytes (a layout the jobs refuse) */
#define KBTF_MODULE_MEM 2U /* struct module has 6.4+'s mem[] instead of core_layout */
#define KBTF_BARE 4U /* no struct module, enum module_state nor trace_array */

/* The raw BTF, malloc'ed (free it); aborts the test program on failure. */
void *kbtf_build(size_t *len_ret, unsigned int flags);

#endif /* IMEE_TESTS_KBTF_BUILD_H */
