// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic kernel BTF of kbtf_build.h, written with libbpf.
 */
#include "kbtf_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

static struct btf *b;

/* Every libbpf writer call returns a type id (> 0) or a negative error. */
static int ok(int id, const char *what)
{
	if (id < 0) {
		fprintf(stderr, "kbtf_build: %s: %d\n", what, id);
		abort();
	}
	return id;
}

#define T(call) ok((call), #call)
#define FIELD(name, type, off) T(btf__add_field(b, name, type, (off)*8, 0))

/* A pointer to the type that will be added right after it (self-references). */
static int ptr_to_next(void)
{
	return T(btf__add_ptr(b, (int)btf__type_cnt(b) + 1));
}

/* struct module as 6.1 (core_layout, init_layout) or 6.4+ (mem[]) lays it out. */
static void add_module(unsigned int flags, int u32, int i32, int chr, int list)
{
	int ptr = T(btf__add_ptr(b, 0)), layout, arr, state, atomic, anon, name, files;

	state = T(btf__add_enum(b, "module_state", 4));
	T(btf__add_enum_value(b, "MODULE_STATE_GOING", KMS_GOING));
	T(btf__add_enum_value(b, "MODULE_STATE_UNFORMED", KMS_UNFORMED));
	T(btf__add_enum_value(b, "MODULE_STATE_LIVE", KMS_LIVE));
	T(btf__add_enum_value(b, "MODULE_STATE_COMING", KMS_COMING));
	anon = T(btf__add_struct(b, NULL, 4));
	FIELD("counter", i32, 0);
	atomic = T(btf__add_typedef(b, "atomic_t", anon));
	if (flags & KBTF_MODULE_MEM) {
		T(btf__add_enum(b, "mod_mem_type", 4));
		T(btf__add_enum_value(b, "MOD_DATA", 0));
		T(btf__add_enum_value(b, "MOD_TEXT", KMM_TEXT));
		T(btf__add_enum_value(b, "MOD_MEM_NUM_TYPES", KMM_NR));
		layout = T(btf__add_struct(b, "module_memory", KMM_STRUCT_SIZE));
		FIELD("base", ptr, KMM_BASE);
		FIELD("size", u32, KMM_SIZE);
		arr = T(btf__add_array(b, u32, layout, KMM_NR));
	} else {
		layout = T(btf__add_struct(b, "module_layout", KML_STRUCT_SIZE));
		FIELD("base", ptr, KML_BASE);
		FIELD("size", u32, KML_SIZE);
		FIELD("text_size", u32, KML_SIZE + 4);
		arr = 0;
	}
	/* Fields follow their struct at once: every type they use comes first. */
	name = T(btf__add_array(b, u32, chr, KM_NAME_LEN));
	T(btf__add_struct(b, "module", KM_SIZE));
	FIELD("state", state, KM_STATE);
	FIELD("name", name, KM_NAME);
	FIELD("list", list, KM_LIST);
	FIELD("refcnt", atomic, KM_REFCNT);
	if (flags & KBTF_MODULE_MEM) {
		FIELD("mem", arr, KM_MEM);
	} else {
		FIELD("core_layout", layout, KM_CORE_LAYOUT);
		FIELD("init_layout", layout, KM_INIT_LAYOUT);
	}
	files = T(btf__add_array(b, u32, ptr, KTA_NR_SYSCALLS));
	T(btf__add_struct(b, "trace_array", KTA_SIZE));
	FIELD("ta_pad", u32, 0);
	FIELD("enter_syscall_files", files, KTA_ENTER_SYSCALL_FILES);
}

void *kbtf_build(size_t *len_ret, unsigned int flags)
{
	const int bad_pid_size = flags & KBTF_BAD_PID_SIZE;
	int u8, u32, i32, u64, i64, chr, uid_t_id, pid_t_id, list, list_p, hnode, hnode_p, hnode_pp;
	int hhead, kuid, kgid, cap, cred, cred_p, task_p, sig, sig_p, upid, pidns, pidns_p, xarray;
	int xarray_p, idr, xa_p, voidp, anon, anon2, arr, comm;
	const void *raw;
	uint32_t size;
	void *copy;

	b = btf__new_empty();
	if (!b)
		abort();
	u8 = T(btf__add_int(b, "unsigned char", 1, 0));
	u32 = T(btf__add_int(b, "unsigned int", 4, 0));
	i32 = T(btf__add_int(b, "int", 4, BTF_INT_SIGNED));
	u64 = T(btf__add_int(b, "long long unsigned int", 8, 0));
	i64 = T(btf__add_int(b, "long int", 8, BTF_INT_SIGNED));
	chr = T(btf__add_int(b, "char", 1, BTF_INT_CHAR));
	uid_t_id = T(btf__add_typedef(b, "uid_t", u32));
	pid_t_id = T(btf__add_typedef(b, "pid_t", bad_pid_size ? i64 : i32));
	voidp = T(btf__add_ptr(b, 0));

	list_p = ptr_to_next();
	list = T(btf__add_struct(b, "list_head", 16));
	FIELD("next", list_p, 0);
	FIELD("prev", list_p, 8);
	/* hlist_node *next, **pprev: two pointers, then the struct they name. */
	hnode_p = T(btf__add_ptr(b, (int)btf__type_cnt(b) + 2));
	hnode_pp = T(btf__add_ptr(b, hnode_p));
	hnode = T(btf__add_struct(b, "hlist_node", 16));
	FIELD("next", hnode_p, 0);
	FIELD("pprev", hnode_pp, 8);
	hhead = T(btf__add_struct(b, "hlist_head", 8));
	FIELD("first", hnode_p, 0);

	/* kuid_t and kgid_t: typedefs of anonymous structs, as in Linux. */
	anon = T(btf__add_struct(b, NULL, 4));
	FIELD("val", uid_t_id, 0);
	kuid = T(btf__add_typedef(b, "kuid_t", anon));
	anon = T(btf__add_struct(b, NULL, 4));
	FIELD("val", u32, 0);
	kgid = T(btf__add_typedef(b, "kgid_t", anon));
	arr = T(btf__add_array(b, u32, u32, 2));
	anon = T(btf__add_struct(b, NULL, 8));
	FIELD("cap", arr, 0);
	cap = T(btf__add_typedef(b, "kernel_cap_t", anon));

	cred = T(btf__add_struct(b, "cred", KC_SIZE));
	FIELD("usage", i32, 0);
	FIELD("cap_inheritable", cap, KC_CAP_INHERITABLE);
	FIELD("cap_permitted", cap, KC_CAP_PERMITTED);
	FIELD("cap_effective", cap, KC_CAP_EFFECTIVE);
	FIELD("cap_bset", cap, KC_CAP_BSET);
	FIELD("cap_ambient", cap, KC_CAP_AMBIENT);
	FIELD("uid", kuid, KC_UID);
	FIELD("gid", kgid, KC_GID);
	FIELD("suid", kuid, KC_SUID);
	FIELD("sgid", kgid, KC_SGID);
	FIELD("euid", kuid, KC_EUID);
	FIELD("egid", kgid, KC_EGID);
	FIELD("fsuid", kuid, KC_FSUID);
	FIELD("fsgid", kgid, KC_FSGID);
	cred_p = T(btf__add_ptr(b, T(btf__add_const(b, cred))));

	sig = T(btf__add_struct(b, "signal_struct", KS_SIZE));
	FIELD("nr_threads", i32, 0);
	FIELD("thread_head", list, KS_THREAD_HEAD);
	sig_p = T(btf__add_ptr(b, sig));

	xarray = T(btf__add_struct(b, "xarray", 16));
	FIELD("xa_lock", i32, 0);
	FIELD("xa_flags", u32, 4);
	FIELD("xa_head", voidp, 8);
	xarray_p = T(btf__add_ptr(b, xarray));
	idr = T(btf__add_struct(b, "idr", 24));
	FIELD("idr_rt", xarray, 0);
	FIELD("idr_base", u32, 16);
	FIELD("idr_next", u32, 20);
	pidns = T(btf__add_struct(b, "pid_namespace", KN_SIZE));
	FIELD("ns_pad", u64, 0);
	FIELD("idr", idr, 8);
	pidns_p = T(btf__add_ptr(b, pidns));
	upid = T(btf__add_struct(b, "upid", KU_SIZE));
	FIELD("nr", i32, KU_NR);
	FIELD("ns", pidns_p, KU_NS);
	arr = T(btf__add_array(b, u32, hhead, 4));
	anon = T(btf__add_array(b, u32, upid, 1));
	T(btf__add_struct(b, "pid", KP_SIZE));
	FIELD("count", i32, 0);
	FIELD("level", u32, KP_LEVEL);
	FIELD("tasks", arr, KP_TASKS);
	FIELD("numbers", anon, KP_NUMBERS);
	arr = T(btf__add_array(b, u32, voidp, KX_NR_SLOTS));
	xa_p = ptr_to_next();
	T(btf__add_struct(b, "xa_node", KX_SIZE));
	FIELD("shift", u8, KX_SHIFT);
	FIELD("offset", u8, KX_OFFSET);
	FIELD("count", u8, 2);
	FIELD("nr_values", u8, 3);
	FIELD("parent", xa_p, KX_PARENT);
	FIELD("array", xarray_p, 16);
	FIELD("slots", arr, KX_SLOTS);
	T(btf__add_enum(b, "pid_type", 4));
	T(btf__add_enum_value(b, "PIDTYPE_PID", 0));
	T(btf__add_enum_value(b, "PIDTYPE_TGID", 1));
	T(btf__add_enum_value(b, "PIDTYPE_PGID", 2));
	T(btf__add_enum_value(b, "PIDTYPE_SID", 3));
	T(btf__add_enum_value(b, "PIDTYPE_MAX", 4));

	/* task_struct, with members inside anonymous aggregates, as in Linux. */
	anon = T(btf__add_struct(b, NULL, 4));
	T(btf__add_field(b, "in_execve", u32, 0, 1));
	T(btf__add_field(b, "in_iowait", u32, 1, 1));
	anon2 = T(btf__add_union(b, NULL, 8));
	FIELD(NULL, anon, 0);
	FIELD("bits_pad", u64, 0);
	arr = T(btf__add_array(b, u32, hnode, 4));
	anon = T(btf__add_struct(b, NULL, 64));
	FIELD("pid_links", arr, 0);
	comm = T(btf__add_array(b, u32, chr, 16));
	task_p = ptr_to_next();
	T(btf__add_struct(b, "task_struct", KT_SIZE));
	FIELD("__state", u32, KT_STATE);
	FIELD("flags", u32, KT_FLAGS);
	FIELD(NULL, anon2, KT_BITFIELD);
	FIELD("tasks", list, KT_TASKS);
	FIELD("exit_state", i32, KT_EXIT_STATE);
	FIELD("pid", pid_t_id, KT_PID);
	FIELD("tgid", pid_t_id, KT_TGID);
	FIELD("real_parent", task_p, KT_REAL_PARENT);
	FIELD(NULL, anon, KT_PID_LINKS);
	FIELD("start_time", u64, KT_START_TIME);
	FIELD("start_boottime", u64, KT_START_BOOTTIME);
	FIELD("real_cred", cred_p, KT_REAL_CRED);
	FIELD("cred", cred_p, KT_CRED);
	FIELD("comm", comm, KT_COMM);
	FIELD("signal", sig_p, KT_SIGNAL);
	FIELD("thread_node", list, KT_THREAD_NODE);

	if (!(flags & KBTF_BARE))
		add_module(flags, u32, i32, chr, list);

	raw = btf__raw_data(b, &size);
	if (!raw)
		abort();
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, raw, size);
	btf__free(b);
	b = NULL;
	*len_ret = size;
	return copy;
}
