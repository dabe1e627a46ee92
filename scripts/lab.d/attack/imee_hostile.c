// SPDX-License-Identifier: GPL-2.0
/*
 * imee_hostile: hostile shapes in a lab target's kernel memory, made on
 * demand, for imee's tests to read from the host (issue 6). It is packed
 * into every L2 target's initramfs as /attack/imee_hostile.ko next to
 * imee_attack.ko and loaded only by a test; it is not meant for, and must
 * never be loaded into, any other kernel.
 *
 * Loading it changes nothing. Writing a scenario's name to the parameter
 * "scenario" (/sys/module/imee_hostile/parameters/scenario) makes that
 * shape, after undoing the one before; "off" undoes it, and so does
 * unloading the module. While a scenario of the task list is on, nothing
 * in the guest may walk the task list (for_each_process: the hung task
 * detector, the OOM killer, sysrq): it would follow the fake pointers too.
 * /proc and ps go by the pid IDR and are safe. While "modlist" is on,
 * nothing may walk the module list (/proc/modules, /proc/kallsyms,
 * insmod, rmmod of another module).
 *
 * Parameters, from the guest's /proc/kallsyms where they are addresses:
 *   anchor_pid=N	a process that never exits (the lab's imee-wl-alpha):
 *			the task list scenarios splice after it
 *   tasklist_lock=ADDR	taken for the few instructions of a splice or of
 *			its undoing
 *   syscall_table=ADDR	sys_call_table, for "syscalls"
 *
 * The task list scenarios link fake task_structs (allocated here, with a
 * comm, a pid, the anchor's parent and credentials and a signal_struct of
 * their own) after the anchor: only the anchor's tasks.next is written,
 * never its successor's prev, so a reader that checks prev sees the splice.
 * Undoing it puts the old next back with cmpxchg(); if the successor exited
 * meanwhile, its list_del() already removed the splice, and nothing is done.
 *
 *   cycle	anchor -> A -> B -> A ...: a loop that misses init_task
 *   noncanonical	anchor -> A -> 0x4141414141414141
 *   unmapped	anchor -> A -> a kernel address no page is mapped at (the
 *		guard page after a vmalloc() area of this module)
 *   user	anchor -> A -> a user-space address
 *   flip	anchor -> A, whose next a kthread of this module rewrites in a
 *		loop (B, which leads back to A; the non-canonical, unmapped and
 *		user addresses above) while it is on
 *   truncate	anchor -> A -> init_task: a list that ends early, at its head
 *		(whose prev still names the real last task)
 *   comm16	anchor -> A -> the anchor's old successor, A's comm 16 bytes
 *		with no NUL
 *   beyond-ram	anchor -> a task_struct in an ioremap() of guest-physical
 *		64 GiB, far above the guest's RAM
 *   mmio	anchor -> a task_struct in an ioremap() of the IOAPIC's
 *		registers (0xfec00000)
 *   cred	anchor -> A -> the anchor's old successor, A's cred a
 *		non-canonical address and its real_cred an unmapped one
 *   threads	anchor -> A -> the anchor's old successor, A's thread list
 *		a loop that misses its head (A -> B -> A, prev pointers
 *		consistent)
 *   modlist	this module's list.next points at the anchor's tasks node
 *   syscalls	sys_call_table entries 181, 182 and 183 (getpmsg, putpmsg,
 *		afs_syscall: not implemented) set to NULL, 0x4141414141414141
 *		and a user address, written through a vmap() alias of the
 *		read-only table, as imee_attack does (Debian's 6.1 kernels
 *		dispatch by x64_sys_call()'s switch, not by the table)
 *
 * Read-only parameters for the tests:
 *   checksum	a CRC32 of the fake objects (and of what "modlist" and
 *		"syscalls" wrote), to check that the reader changed nothing;
 *		under "flip", A's tasks.next (rewritten all the time) counts
 *		as zero
 *   fakes	the addresses of the fake task_structs A and B (0 when none)
 *
 * What was done, or why not, goes to the kernel log ("imee_hostile: ...").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kallsyms.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "syscall_alias.h"

#define FAKE_PID 4194001 /* above any pid_max the lab uses, below PID_MAX_LIMIT */
#define NR_FAKES 2
#define NONCANONICAL 0x4141414141414141UL
#define USER_ADDR 0x0000000000401000UL
#define BEYOND_RAM_PHYS (64ULL << 30)
#define MMIO_PHYS 0xfec00000ULL /* the IOAPIC */
#define FIRST_NR 181
#define NR_ENTRIES 3

enum scenario {
	SCN_OFF,
	SCN_CYCLE,
	SCN_NONCANONICAL,
	SCN_UNMAPPED,
	SCN_USER,
	SCN_FLIP,
	SCN_TRUNCATE,
	SCN_COMM16,
	SCN_BEYOND_RAM,
	SCN_MMIO,
	SCN_CRED,
	SCN_THREADS,
	SCN_MODLIST,
	SCN_SYSCALLS,
	NR_SCENARIOS
};

static const char *const names[NR_SCENARIOS] = {
	[SCN_OFF] = "off",
	[SCN_CYCLE] = "cycle",
	[SCN_NONCANONICAL] = "noncanonical",
	[SCN_UNMAPPED] = "unmapped",
	[SCN_USER] = "user",
	[SCN_FLIP] = "flip",
	[SCN_TRUNCATE] = "truncate",
	[SCN_COMM16] = "comm16",
	[SCN_BEYOND_RAM] = "beyond-ram",
	[SCN_MMIO] = "mmio",
	[SCN_CRED] = "cred",
	[SCN_THREADS] = "threads",
	[SCN_MODLIST] = "modlist",
	[SCN_SYSCALLS] = "syscalls",
};

static int anchor_pid;
module_param(anchor_pid, int, 0644);
MODULE_PARM_DESC(anchor_pid, "a process that never exits: task list scenarios splice after it");

static unsigned long tasklist_lock_addr;
module_param_named(tasklist_lock, tasklist_lock_addr, ulong, 0444);
MODULE_PARM_DESC(tasklist_lock, "address of tasklist_lock, from /proc/kallsyms");

static unsigned long syscall_table;
module_param(syscall_table, ulong, 0444);
MODULE_PARM_DESC(syscall_table, "address of sys_call_table, from /proc/kallsyms");

static DEFINE_MUTEX(lock); /* everything below */
static enum scenario current_scn = SCN_OFF;

/* the task list scenarios */
static struct task_struct *anchor;
static struct list_head *saved_next;	/* anchor's tasks.next before */
static struct list_head *spliced;	/* what was written there */
static struct task_struct *fakes[NR_FAKES];
static struct signal_struct *fake_signals[NR_FAKES];
static void *guarded;			/* vmalloc()ed: its guard page is unmapped */
static void __iomem *iomem;
static struct task_struct *flipper;

/* modlist */
static struct list_head *saved_mod_next;
static struct list_head *mod_spliced;

/* syscalls */
static sys_call_ptr_t saved_calls[NR_ENTRIES];
static bool calls_written;

static const unsigned long garbage_calls[NR_ENTRIES] = { 0, NONCANONICAL, USER_ADDR };

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

/* The list node of a task_struct that would start at addr. */
static struct list_head *tasks_at(unsigned long addr)
{
	return (struct list_head *)(addr + offsetof(struct task_struct, tasks));
}

/* -- fake tasks ------------------------------------------------------- */

static void free_fakes(void)
{
	int i;

	for (i = 0; i < NR_FAKES; i++) {
		kfree(fakes[i]);
		kfree(fake_signals[i]);
		fakes[i] = NULL;
		fake_signals[i] = NULL;
	}
	vfree(guarded);
	guarded = NULL;
}

/* A and B: enough of a task for a reader to decode, nothing for the kernel. */
static int make_fakes(struct task_struct *model)
{
	static const char *const comms[NR_FAKES] = { "imee-fake-A", "imee-fake-B" };
	int i;

	for (i = 0; i < NR_FAKES; i++) {
		struct task_struct *t = kzalloc(sizeof(*t), GFP_KERNEL);
		struct signal_struct *sig = kzalloc(sizeof(*sig), GFP_KERNEL);

		fakes[i] = t;
		fake_signals[i] = sig;
		if (!t || !sig)
			goto nomem;
		t->pid = FAKE_PID + i;
		t->tgid = t->pid;
		strscpy(t->comm, comms[i], sizeof(t->comm));
		t->real_parent = model->real_parent;
		t->parent = model->real_parent;
		t->group_leader = t;
		/* pointers only, for reading: the anchor holds the references */
		rcu_assign_pointer(t->real_cred, rcu_dereference_protected(model->real_cred, 1));
		rcu_assign_pointer(t->cred, rcu_dereference_protected(model->cred, 1));
		t->signal = sig;
		INIT_LIST_HEAD(&sig->thread_head);
		list_add_tail(&t->thread_node, &sig->thread_head);
		INIT_LIST_HEAD(&t->children);
		INIT_LIST_HEAD(&t->sibling);
		t->start_time = model->start_time;
		t->start_boottime = model->start_boottime;
		WRITE_ONCE(t->__state, TASK_INTERRUPTIBLE);
	}
	guarded = vmalloc(PAGE_SIZE);
	if (!guarded)
		goto nomem;
	return 0;
nomem:
	free_fakes();
	return -ENOMEM;
}

/* The first byte past guarded's page: its guard page, never mapped. */
static unsigned long unmapped_addr(void)
{
	return (unsigned long)guarded + PAGE_SIZE;
}

static int flip_fn(void *arg)
{
	struct list_head *targets[4];
	struct task_struct *a = fakes[0];
	unsigned long n = 0;

	targets[0] = &fakes[1]->tasks;
	targets[1] = (struct list_head *)NONCANONICAL;
	targets[2] = tasks_at(unmapped_addr());
	targets[3] = (struct list_head *)USER_ADDR;
	while (!kthread_should_stop()) {
		WRITE_ONCE(a->tasks.next, targets[n % ARRAY_SIZE(targets)]);
		if (!(++n % 4096))
			usleep_range(100, 200); /* leave a small guest's vCPU to others */
		else
			cond_resched();
	}
	return 0;
}

/* -- splicing after the anchor ----------------------------------------- */

static int find_anchor(void)
{
	struct task_struct *t = NULL;
	struct pid *pid;

	if (!symbol_is(tasklist_lock_addr, "tasklist_lock")) {
		pr_err("tasklist_lock=0x%lx is not tasklist_lock\n", tasklist_lock_addr);
		return -EINVAL;
	}
	if (anchor_pid > 1) {
		pid = find_get_pid(anchor_pid);
		if (pid) {
			t = get_pid_task(pid, PIDTYPE_TGID);
			put_pid(pid);
		}
	}
	if (!t) {
		pr_err("anchor_pid=%d: no such process\n", anchor_pid);
		return -ESRCH;
	}
	if ((t->flags & PF_KTHREAD) || t->group_leader != t) {
		pr_err("anchor_pid=%d: not a user process's leader\n", anchor_pid);
		put_task_struct(t);
		return -EINVAL;
	}
	anchor = t;
	return 0;
}

/* anchor->tasks.next = to, under tasklist_lock for a few instructions. */
static int splice(struct list_head *to, bool a_to_old)
{
	rwlock_t *tasklist = (rwlock_t *)tasklist_lock_addr;
	int err = 0;

	write_lock_irq(tasklist);
	if (!pid_alive(anchor) || anchor->exit_state || (anchor->flags & PF_EXITING)) {
		err = -ESRCH;
	} else {
		saved_next = anchor->tasks.next;
		if (a_to_old)
			fakes[0]->tasks.next = saved_next;
		/* A's way back, so that a reader that checks prev goes on */
		if (fakes[0])
			fakes[0]->tasks.prev = &anchor->tasks;
		smp_wmb(); /* the fakes are whole before they are reachable */
		WRITE_ONCE(anchor->tasks.next, to);
		spliced = to;
	}
	write_unlock_irq(tasklist);
	return err;
}

static void unsplice(void)
{
	rwlock_t *tasklist = (rwlock_t *)tasklist_lock_addr;
	bool undone;

	if (!spliced)
		return;
	write_lock_irq(tasklist);
	undone = cmpxchg(&anchor->tasks.next, spliced, saved_next) == spliced;
	write_unlock_irq(tasklist);
	if (!undone)
		pr_info("the anchor's successor left the list: the splice went with it\n");
	spliced = NULL;
	saved_next = NULL;
}

static int start_tasks(enum scenario scn)
{
	struct task_struct *a, *b;
	struct list_head *first;
	int err;

	err = find_anchor();
	if (err)
		return err;
	err = make_fakes(anchor);
	if (err)
		goto put;
	a = fakes[0];
	b = fakes[1];
	first = &a->tasks;
	b->tasks.prev = &a->tasks;
	b->tasks.next = &a->tasks;
	switch (scn) {
	case SCN_CYCLE:
		a->tasks.next = &b->tasks;
		break;
	case SCN_NONCANONICAL:
		a->tasks.next = (struct list_head *)NONCANONICAL;
		break;
	case SCN_UNMAPPED:
		a->tasks.next = tasks_at(unmapped_addr());
		break;
	case SCN_USER:
		a->tasks.next = (struct list_head *)USER_ADDR;
		break;
	case SCN_FLIP:
		a->tasks.next = &b->tasks;
		break;
	case SCN_TRUNCATE:
		a->tasks.next = &init_task.tasks;
		break;
	case SCN_COMM16:
		memcpy(a->comm, "IMEEFAKE16CHARSX", sizeof(a->comm));
		break;
	case SCN_CRED:
		/* never dereferenced here: the fakes are not in the pid IDR */
		RCU_INIT_POINTER(a->cred, (const struct cred *)NONCANONICAL);
		RCU_INIT_POINTER(a->real_cred, (const struct cred *)unmapped_addr());
		break;
	case SCN_THREADS:
		a->thread_node.next = &b->thread_node;
		a->thread_node.prev = &b->thread_node;
		b->thread_node.next = &a->thread_node;
		b->thread_node.prev = &a->thread_node;
		break;
	case SCN_BEYOND_RAM:
	case SCN_MMIO:
		iomem = ioremap(scn == SCN_MMIO ? MMIO_PHYS : BEYOND_RAM_PHYS,
				PAGE_ALIGN(sizeof(struct task_struct)));
		if (!iomem) {
			err = -ENOMEM;
			goto free;
		}
		first = tasks_at((unsigned long)iomem);
		break;
	default:
		err = -EINVAL;
		goto free;
	}
	err = splice(first, scn == SCN_COMM16 || scn == SCN_CRED || scn == SCN_THREADS);
	if (err)
		goto free;
	if (scn == SCN_FLIP) {
		flipper = kthread_run(flip_fn, NULL, "imee-hostile-flip");
		if (IS_ERR(flipper)) {
			err = PTR_ERR(flipper);
			flipper = NULL;
			unsplice();
			synchronize_rcu();
			goto free;
		}
	}
	pr_info("%s: spliced after pid %d (%s), fake tasks at 0x%lx and 0x%lx\n", names[scn],
		anchor->pid, anchor->comm, (unsigned long)a, (unsigned long)b);
	return 0;
free:
	if (iomem)
		iounmap(iomem);
	iomem = NULL;
	free_fakes();
put:
	put_task_struct(anchor);
	anchor = NULL;
	return err;
}

static void stop_tasks(void)
{
	if (flipper)
		kthread_stop(flipper);
	flipper = NULL;
	unsplice();
	/* readers under RCU (none is expected) may still stand on a fake */
	synchronize_rcu();
	if (iomem)
		iounmap(iomem);
	iomem = NULL;
	free_fakes();
	if (anchor)
		put_task_struct(anchor);
	anchor = NULL;
}

/* -- modlist ---------------------------------------------------------- */

static int start_modlist(void)
{
	int err = find_anchor();

	if (err)
		return err;
	saved_mod_next = READ_ONCE(THIS_MODULE->list.next);
	mod_spliced = &anchor->tasks;
	WRITE_ONCE(THIS_MODULE->list.next, mod_spliced);
	pr_info("modlist: this module's list.next points at pid %d's tasks node\n", anchor->pid);
	return 0;
}

static void stop_modlist(void)
{
	if (mod_spliced &&
	    cmpxchg(&THIS_MODULE->list.next, mod_spliced, saved_mod_next) != mod_spliced)
		pr_info("the next module left the list: the splice went with it\n");
	mod_spliced = NULL;
	saved_mod_next = NULL;
	if (anchor)
		put_task_struct(anchor);
	anchor = NULL;
}

/* -- syscalls --------------------------------------------------------- */

static void stop_syscalls(void)
{
	sys_call_ptr_t *table = (sys_call_ptr_t *)syscall_table;
	int i;

	if (!calls_written)
		return;
	for (i = 0; i < NR_ENTRIES; i++)
		if (imee_lab_write_syscall_entry(table + FIRST_NR + i, saved_calls[i]))
			pr_err("sys_call_table[%d] could not be restored\n", FIRST_NR + i);
	calls_written = false;
}

static int start_syscalls(void)
{
	sys_call_ptr_t *table = (sys_call_ptr_t *)syscall_table;
	int i, err = 0;

	if (!symbol_is(syscall_table, "sys_call_table")) {
		pr_err("syscall_table=0x%lx is not sys_call_table\n", syscall_table);
		return -EINVAL;
	}
	BUILD_BUG_ON(FIRST_NR + NR_ENTRIES > NR_syscalls);
	for (i = 0; i < NR_ENTRIES; i++)
		saved_calls[i] = READ_ONCE(table[FIRST_NR + i]);
	calls_written = true;
	for (i = 0; i < NR_ENTRIES && !err; i++)
		err = imee_lab_write_syscall_entry(table + FIRST_NR + i,
						   (sys_call_ptr_t)garbage_calls[i]);
	if (err) {
		stop_syscalls();
		return err;
	}
	pr_info("syscalls: sys_call_table[%d..%d] set to garbage\n", FIRST_NR,
		FIRST_NR + NR_ENTRIES - 1);
	return 0;
}

/* -- switching -------------------------------------------------------- */

static void stop_current(void)
{
	switch (current_scn) {
	case SCN_OFF:
		return;
	case SCN_MODLIST:
		stop_modlist();
		break;
	case SCN_SYSCALLS:
		stop_syscalls();
		break;
	default:
		stop_tasks();
		break;
	}
	pr_info("%s: undone\n", names[current_scn]);
	current_scn = SCN_OFF;
}

static int start(enum scenario scn)
{
	switch (scn) {
	case SCN_OFF:
		return 0;
	case SCN_MODLIST:
		return start_modlist();
	case SCN_SYSCALLS:
		return start_syscalls();
	default:
		return start_tasks(scn);
	}
}

static int scenario_set(const char *val, const struct kernel_param *kp)
{
	char buf[32];
	int i, err;

	strscpy(buf, val, sizeof(buf));
	strim(buf);
	for (i = 0; i < NR_SCENARIOS; i++)
		if (!strcmp(buf, names[i]))
			break;
	if (i == NR_SCENARIOS)
		return -EINVAL;
	mutex_lock(&lock);
	stop_current();
	err = start(i);
	if (!err)
		current_scn = i;
	else
		pr_err("%s: not started: %d\n", names[i], err);
	mutex_unlock(&lock);
	return err;
}

static int scenario_get(char *buf, const struct kernel_param *kp)
{
	int n;

	mutex_lock(&lock);
	n = scnprintf(buf, PAGE_SIZE, "%s\n", names[current_scn]);
	mutex_unlock(&lock);
	return n;
}

static const struct kernel_param_ops scenario_ops = {
	.set = scenario_set,
	.get = scenario_get,
};
module_param_cb(scenario, &scenario_ops, NULL, 0644);
MODULE_PARM_DESC(scenario, "the hostile shape to make, or off");

/* -- what the tests read ---------------------------------------------- */

static u32 fake_crc(u32 crc, const struct task_struct *t, bool mask_next)
{
	const u8 *p = (const u8 *)t;
	size_t at = offsetof(struct task_struct, tasks.next);
	unsigned long zero = 0;

	if (!mask_next)
		return crc32_le(crc, p, sizeof(*t));
	crc = crc32_le(crc, p, at);
	crc = crc32_le(crc, (const u8 *)&zero, sizeof(zero));
	return crc32_le(crc, p + at + sizeof(zero), sizeof(*t) - at - sizeof(zero));
}

static int checksum_get(char *buf, const struct kernel_param *kp)
{
	sys_call_ptr_t *table = (sys_call_ptr_t *)syscall_table;
	u32 crc = ~0U;
	int i, n;

	mutex_lock(&lock);
	for (i = 0; i < NR_FAKES; i++) {
		if (fakes[i])
			crc = fake_crc(crc, fakes[i], i == 0 && current_scn == SCN_FLIP);
		if (fake_signals[i])
			crc = crc32_le(crc, (const u8 *)fake_signals[i], sizeof(*fake_signals[i]));
	}
	if (mod_spliced)
		crc = crc32_le(crc, (const u8 *)&THIS_MODULE->list, sizeof(THIS_MODULE->list));
	if (calls_written)
		crc = crc32_le(crc, (const u8 *)(table + FIRST_NR), NR_ENTRIES * sizeof(*table));
	n = scnprintf(buf, PAGE_SIZE, "0x%08x\n", crc);
	mutex_unlock(&lock);
	return n;
}

static const struct kernel_param_ops checksum_ops = {
	.get = checksum_get,
};
module_param_cb(checksum, &checksum_ops, NULL, 0444);
MODULE_PARM_DESC(checksum, "CRC32 of the fake objects");

static int fakes_get(char *buf, const struct kernel_param *kp)
{
	int n;

	mutex_lock(&lock);
	n = scnprintf(buf, PAGE_SIZE, "0x%lx 0x%lx\n", (unsigned long)fakes[0],
		      (unsigned long)fakes[1]);
	mutex_unlock(&lock);
	return n;
}

static const struct kernel_param_ops fakes_ops = {
	.get = fakes_get,
};
module_param_cb(fakes, &fakes_ops, NULL, 0444);
MODULE_PARM_DESC(fakes, "addresses of the fake task_structs A and B");

/* -- load and unload -------------------------------------------------- */

static int __init imee_hostile_init(void)
{
	pr_info("loaded; no scenario on\n");
	return 0;
}

static void __exit imee_hostile_exit(void)
{
	mutex_lock(&lock);
	stop_current();
	mutex_unlock(&lock);
	pr_info("unloaded\n");
}

module_init(imee_hostile_init);
module_exit(imee_hostile_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("imee lab: hostile shapes in a guest kernel's memory, for introspection tests");
