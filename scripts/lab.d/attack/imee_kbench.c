// SPDX-License-Identifier: GPL-2.0
/*
 * imee_kbench.ko: the "kernel" column of `imeectl bench --paper`, measured
 * by the guest itself. Lab only (scripts/lab builds it for the targets'
 * kernels, next to the attack modules); never for a host.
 *
 * At load it times, in the guest's own kernel, the walks that imee's jobs
 * make from outside, each `rounds` times:
 *
 *	syscalldmp	read every entry of sys_call_table and name it
 *	pidlist		every pid of the pid IDR (init_pid_ns)
 *	pslist		the task list: pid, tgid, parent's tgid, name
 *	credlist	the task list with each task's credentials
 *
 * and prints one line to the kernel log, "imee_kbench: " and a JSON object
 * with the medians in nanoseconds and what each walk read:
 *
 *	{"rounds":15,"jobs_ns":{"syscalldmp":..,...},"jobs_entries":{...}}
 *
 * sys_call_table is not exported: its address comes as a parameter, from the
 * guest's own /proc/kallsyms, and is checked against kallsyms before use.
 * The module stays loaded, doing nothing, until it is removed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/idr.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

static unsigned long syscall_table;
module_param(syscall_table, ulong, 0444);
MODULE_PARM_DESC(syscall_table, "address of sys_call_table, from /proc/kallsyms");

static unsigned int rounds = 15;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "times each walk is timed, 1..1000");

enum kb_job { KB_SYSCALLDMP, KB_PIDLIST, KB_PSLIST, KB_CREDLIST, KB_NR };
static const char *const kb_names[KB_NR] = { "syscalldmp", "pidlist", "pslist", "credlist" };

/* What the walks read goes here, so that the compiler keeps every load. */
static unsigned long kb_sink;

static bool symbol_is(unsigned long addr, const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t n = strlen(name);

	if (!addr)
		return false;
	sprint_symbol(buf, addr);
	return !strncmp(buf, name, n) && !strncmp(buf + n, "+0x0/", 5);
}

static unsigned long kb_syscalldmp(void)
{
	const sys_call_ptr_t *table = (const sys_call_ptr_t *)syscall_table;
	char buf[KSYM_SYMBOL_LEN];
	unsigned long i;

	for (i = 0; i < NR_syscalls; i++) {
		sprint_symbol_no_offset(buf, (unsigned long)READ_ONCE(table[i]));
		kb_sink += buf[0];
	}
	return NR_syscalls;
}

static unsigned long kb_pidlist(void)
{
	unsigned long n = 0;
	struct pid *pid;
	int nr;

	rcu_read_lock();
	idr_for_each_entry(&init_pid_ns.idr, pid, nr) {
		kb_sink += pid_nr(pid);
		n++;
	}
	rcu_read_unlock();
	return n;
}

static unsigned long kb_tasks(bool creds)
{
	struct task_struct *p;
	unsigned long n = 0;

	rcu_read_lock();
	for_each_process(p) {
		kb_sink += p->pid + p->tgid + rcu_dereference(p->real_parent)->tgid +
			   p->comm[0];
		if (creds) {
			const struct cred *c = rcu_dereference(p->cred);

			kb_sink += __kuid_val(c->uid) + __kgid_val(c->gid) +
				   __kuid_val(c->euid) + __kgid_val(c->egid) +
				   __kuid_val(c->suid) + __kgid_val(c->sgid) +
				   __kuid_val(c->fsuid) + __kgid_val(c->fsgid);
		}
		n++;
	}
	rcu_read_unlock();
	return n;
}

static unsigned long kb_run(enum kb_job job)
{
	switch (job) {
	case KB_SYSCALLDMP:
		return kb_syscalldmp();
	case KB_PIDLIST:
		return kb_pidlist();
	case KB_PSLIST:
		return kb_tasks(false);
	default:
		return kb_tasks(true);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int __init kb_init(void)
{
	unsigned long entries[KB_NR];
	u64 median[KB_NR], *t;
	unsigned int j, r;
	char line[256];
	int len;

	if (!symbol_is(syscall_table, "sys_call_table")) {
		pr_err("syscall_table=0x%lx is not sys_call_table\n", syscall_table);
		return -EINVAL;
	}
	if (!rounds || rounds > 1000)
		return -EINVAL;
	t = kcalloc(rounds, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	for (j = 0; j < KB_NR; j++) {
		for (r = 0; r < rounds; r++) {
			u64 t0 = ktime_get_ns();

			entries[j] = kb_run(j);
			t[r] = ktime_get_ns() - t0;
			cond_resched();
		}
		sort(t, rounds, sizeof(*t), cmp_u64, NULL);
		median[j] = rounds % 2 ? t[rounds / 2] : (t[rounds / 2 - 1] + t[rounds / 2]) / 2;
	}
	kfree(t);
	len = scnprintf(line, sizeof(line), "{\"rounds\":%u,\"jobs_ns\":{", rounds);
	for (j = 0; j < KB_NR; j++)
		len += scnprintf(line + len, sizeof(line) - len, "%s\"%s\":%llu",
				 j ? "," : "", kb_names[j], median[j]);
	len += scnprintf(line + len, sizeof(line) - len, "},\"jobs_entries\":{");
	for (j = 0; j < KB_NR; j++)
		len += scnprintf(line + len, sizeof(line) - len, "%s\"%s\":%lu",
				 j ? "," : "", kb_names[j], entries[j]);
	scnprintf(line + len, sizeof(line) - len, "}}");
	pr_info("%s\n", line);
	return 0;
}

static void __exit kb_exit(void)
{
}

module_init(kb_init);
module_exit(kb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("imee lab: the guest kernel times its own walks (bench --paper's kernel column)");
