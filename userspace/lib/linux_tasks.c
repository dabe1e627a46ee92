// SPDX-License-Identifier: GPL-2.0
/*
 * The task list: from init_task along task_struct.tasks (thread group
 * leaders), and for each, optionally, its threads along
 * signal->thread_head / task_struct.thread_node; with each task's parent
 * and credentials.
 *
 * Every walk is bounded (a maximum count), checks for cycles that miss the
 * head (Brent's algorithm), checks that each node's prev points back to the
 * node it was reached from, and checks every pointer before following it.
 * Each task is read once, in one read covering the fields used, and
 * decoded from that copy. A live guest may change a list while it is
 * walked; an inconsistency is retried a few times from the start, then
 * reported with what was read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

#define ATTEMPTS 3
/* task_struct is cache-line aligned in its slab; 8 is all we rely on. */
#define TASK_ALIGN 8

/* Bits of __state and exit_state (include/linux/sched.h since 4.14: /proc's ABI). */
#define TASK_REPORT 0x7fU
#define TASK_REPORT_IDLE (TASK_REPORT + 1)
#define TASK_IDLE 0x402U /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define TASK_RTLOCK_WAIT 0x1000U
#define TASK_UNINTERRUPTIBLE 0x2U
#define PF_KTHREAD 0x00200000U

struct walker {
	const struct imee_linux *lx;
	const struct linux_layout *l;
	const struct imee_vmem *vmem;
	struct imee_linux_task_list *out;
	size_t cap, max;
	bool threads;
	uint64_t lo, hi; /* the span of task_struct read */
	uint64_t clo, chi; /* the span of cred read */
	unsigned char *buf, *cbuf;
};

/* What else a task's read gives: its links. */
struct links {
	uint64_t tasks_next, tasks_prev;
	uint64_t thread_next, thread_prev;
	uint64_t signal;
};

/* The letter /proc/PID/status shows (fs/proc/array.c, task_state_index()). */
static char state_letter(uint32_t state, uint32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	uint32_t s = (state | exit_state) & TASK_REPORT;
	unsigned int fls = 0;

	if ((state & TASK_IDLE) == TASK_IDLE)
		s = TASK_REPORT_IDLE;
	if (state & TASK_RTLOCK_WAIT)
		s = TASK_UNINTERRUPTIBLE;
	while (s) {
		fls++;
		s >>= 1;
	}
	return fls < sizeof(letters) - 1 ? letters[fls] : '?';
}

static struct layout_field sub(struct layout_field outer, struct layout_field inner)
{
	return (struct layout_field){ outer.off + inner.off, inner.size };
}

static void read_cred(struct walker *w, uint64_t real_cred, uint64_t cred,
		      struct imee_linux_task *t)
{
	const struct linux_layout *l = w->l;
	const unsigned char *b = w->cbuf;
	int err;

	t->cred.address = real_cred;
	t->cred.overridden = cred != real_cred;
	if (!linux_kernel_ptr_ok(w->lx, real_cred, 8)) {
		t->cred_err = linux_bad_ptr("real_cred", real_cred, t->address);
		return;
	}
	err = imee_vmem_read(w->vmem, real_cred + w->clo, w->cbuf, (size_t)(w->chi - w->clo));
	if (err) {
		t->cred_err = imee_fail_context(err, "cred at 0x%" PRIx64, real_cred);
		return;
	}
	t->cred.uid = (uint32_t)linux_field(b, w->clo, l->cred_uid);
	t->cred.gid = (uint32_t)linux_field(b, w->clo, l->cred_gid);
	t->cred.suid = (uint32_t)linux_field(b, w->clo, l->cred_suid);
	t->cred.sgid = (uint32_t)linux_field(b, w->clo, l->cred_sgid);
	t->cred.euid = (uint32_t)linux_field(b, w->clo, l->cred_euid);
	t->cred.egid = (uint32_t)linux_field(b, w->clo, l->cred_egid);
	t->cred.fsuid = (uint32_t)linux_field(b, w->clo, l->cred_fsuid);
	t->cred.fsgid = (uint32_t)linux_field(b, w->clo, l->cred_fsgid);
	t->cred.cap_inheritable = linux_field(b, w->clo, l->cred_cap_inheritable);
	t->cred.cap_permitted = linux_field(b, w->clo, l->cred_cap_permitted);
	t->cred.cap_effective = linux_field(b, w->clo, l->cred_cap_effective);
	t->cred.cap_bset = linux_field(b, w->clo, l->cred_cap_bset);
	t->cred.cap_ambient = linux_field(b, w->clo, l->cred_cap_ambient);
}

/* Read the task at addr into *t and its links. */
static int read_task(struct walker *w, uint64_t addr, struct imee_linux_task *t, struct links *k)
{
	const struct linux_layout *l = w->l;
	const unsigned char *b = w->buf;
	uint64_t parent, real_cred, cred;
	unsigned char tgid[4];
	size_t n;
	int err;

	err = imee_vmem_read(w->vmem, addr + w->lo, w->buf, (size_t)(w->hi - w->lo));
	if (err)
		return imee_fail_context(err, "task_struct at 0x%" PRIx64, addr);
	memset(t, 0, sizeof(*t));
	t->address = addr;
	t->pid = (int32_t)linux_field(b, w->lo, l->task_pid);
	t->tgid = (int32_t)linux_field(b, w->lo, l->task_tgid);
	n = l->task_comm.size < IMEE_LINUX_COMM_LEN ? (size_t)l->task_comm.size
						    : IMEE_LINUX_COMM_LEN;
	memcpy(t->comm, b + (l->task_comm.off - w->lo), n);
	t->comm[n] = '\0';
	t->state_raw = (uint32_t)linux_field(b, w->lo, l->task_state);
	t->exit_state = (uint32_t)linux_field(b, w->lo, l->task_exit_state);
	t->state = state_letter(t->state_raw, t->exit_state);
	t->flags = (uint32_t)linux_field(b, w->lo, l->task_flags);
	t->kthread = t->flags & PF_KTHREAD;
	t->start_time_ns = linux_field(b, w->lo, l->task_start_time);
	t->start_boottime_ns = linux_field(b, w->lo, l->task_start_boottime);
	k->tasks_next = linux_field(b, w->lo, sub(l->task_tasks, l->list_next));
	k->tasks_prev = linux_field(b, w->lo, sub(l->task_tasks, l->list_prev));
	k->thread_next = linux_field(b, w->lo, sub(l->task_thread_node, l->list_next));
	k->thread_prev = linux_field(b, w->lo, sub(l->task_thread_node, l->list_prev));
	k->signal = linux_field(b, w->lo, l->task_signal);
	parent = linux_field(b, w->lo, l->task_real_parent);
	real_cred = linux_field(b, w->lo, l->task_real_cred);
	cred = linux_field(b, w->lo, l->task_cred);

	/* The parent's tgid: every live task has a parent (init_task's is itself). */
	if (!linux_kernel_ptr_ok(w->lx, parent, TASK_ALIGN))
		return linux_bad_ptr("real_parent", parent, addr + l->task_real_parent.off);
	err = imee_vmem_read(w->vmem, parent + l->task_tgid.off, tgid, sizeof(tgid));
	if (err)
		return imee_fail_context(err, "the parent of task 0x%" PRIx64, addr);
	t->ppid = (int32_t)linux_field(tgid, 0, (struct layout_field){ 0, 4 });
	read_cred(w, real_cred, cred, t);
	return 0;
}

static int emit(struct walker *w, const struct imee_linux_task *t)
{
	struct imee_linux_task_list *out = w->out;
	void *grown;
	int err;

	grown = linux_list_room(out->tasks, sizeof(*t), out->nr, &w->cap, w->max, "tasks", &err);
	if (!grown)
		return err;
	out->tasks = grown;
	out->tasks[out->nr++] = *t;
	return 0;
}

/*
 * list_del_rcu() leaves a removed node's prev at LIST_POISON2: 0x122 plus
 * CONFIG_ILLEGAL_POINTER_VALUE (0xdead000000000000 on Debian's x86-64
 * kernels, 0 where it is not set).
 */
#define LIST_POISON2_DEBIAN 0xdead000000000122ULL
#define LIST_POISON2_PLAIN 0x122ULL

/*
 * A walk came back to the list's head from last. If the head's prev names
 * last too, the list ended there. If not, either the list changed at its
 * tail while it was walked (a node added after last: last's next is no
 * longer the head; or last itself removed: its prev is poisoned), which a
 * walk of a live list must accept (the snapshot ends at last), or it was
 * cut short: last's next is the head, last is linked, and the head's prev
 * names some other node (the nodes after the cut are not reached).
 */
static int check_tail(struct walker *w, uint64_t head, uint64_t last, const char *what,
		      uint64_t owner)
{
	const struct linux_layout *l = w->l;
	uint64_t tail, next, prev;
	int err;

	/*
	 * Read live, not from what was read ahead: the list may have grown
	 * since, and last's next no longer be the head.
	 */
	imee_vmem_forget(w->vmem);
	err = linux_read_u64(w->vmem, head + l->list_prev.off, &tail);
	if (!err && tail != last)
		err = linux_read_u64(w->vmem, last + l->list_next.off, &next);
	if (!err && tail != last)
		err = linux_read_u64(w->vmem, last + l->list_prev.off, &prev);
	if (err)
		return imee_fail_context(err, "the end of the %s 0x%" PRIx64, what, owner);
	if (tail == last || next != head || prev == LIST_POISON2_DEBIAN ||
	    prev == LIST_POISON2_PLAIN)
		return 0;
	return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, last,
			       "the %s 0x%" PRIx64 " came back to its head from 0x%" PRIx64
			       ", but the head's prev is 0x%" PRIx64 ": cut short",
			       what, owner, last, tail);
}

/*
 * Ask the engine to read a list of tasks ahead, from the node after from:
 * each task's span and what read_task() follows from it (the parent's
 * tgid, the credentials). node_off is the list_head's offset in
 * task_struct; head ends the list.
 */
static void read_ahead(struct walker *w, uint64_t from, uint64_t head, uint64_t node_off)
{
	const struct linux_layout *l = w->l;
	struct imee_vmem_list_spec spec = {
		.first_at = from + l->list_next.off,
		.head = head,
		.next_off = l->list_next.off,
		.block_off = w->lo - node_off,
		.block_len = (uint32_t)(w->hi - w->lo),
		.max = (uint32_t)(w->max < IMEE_LINUX_WALK_MAX ? w->max + 1 : IMEE_LINUX_WALK_MAX),
		.nr_derefs = 2,
	};

	spec.derefs[0].ptr_off = l->task_real_parent.off - node_off;
	spec.derefs[0].off = l->task_tgid.off;
	spec.derefs[0].len = 4;
	spec.derefs[1].ptr_off = l->task_real_cred.off - node_off;
	spec.derefs[1].off = w->clo;
	spec.derefs[1].len = (uint32_t)(w->chi - w->clo);
	/* nothing read ahead is no error: the reads go on one by one */
	if (imee_vmem_prefetch_list(w->vmem, &spec) == -ENOMEM)
		imee_vmem_forget(w->vmem);
}

/* The threads of the group whose leader is at leader (already emitted). */
static int walk_threads(struct walker *w, uint64_t leader, uint64_t signal)
{
	const struct linux_layout *l = w->l;
	struct imee_linux_task t;
	struct linux_cycle cyc;
	struct links k;
	uint64_t head, node, prev, steps;
	int err;

	if (!linux_kernel_ptr_ok(w->lx, signal, 8))
		return linux_bad_ptr("signal", signal, leader + l->task_signal.off);
	head = signal + l->signal_thread_head.off;
	read_ahead(w, head, head, l->task_thread_node.off);
	err = linux_read_u64(w->vmem, head + l->list_next.off, &node);
	if (err)
		return imee_fail_context(err, "the threads of task 0x%" PRIx64, leader);
	prev = head;
	linux_cycle_init(&cyc, head);
	/* Each round emits a thread or ends; emit() stops at max. */
	for (steps = 0; node != head; steps++) {
		uint64_t task = node - l->task_thread_node.off;

		if (!linux_kernel_ptr_ok(w->lx, node, 8))
			return linux_bad_ptr("thread_node.next", node, prev);
		if (linux_cycle_step(&cyc, node))
			return imee_fail_fault(-ELOOP, IMEE_FAULT_NONE, 0, node,
					       "the thread list of task 0x%" PRIx64
					       " loops without coming back to its head",
					       leader);
		if (steps > w->max)
			return imee_fail(-E2BIG, "more than %zu threads in one group", w->max);
		err = read_task(w, task, &t, &k);
		if (err)
			return err;
		if (k.thread_prev != prev)
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, node,
					       "thread list: 0x%" PRIx64 "->prev is 0x%" PRIx64
					       ", not 0x%" PRIx64,
					       node, k.thread_prev, prev);
		if (task != leader) {
			err = emit(w, &t);
			if (err)
				return err;
		}
		prev = node;
		node = k.thread_next;
	}
	return check_tail(w, head, prev, "thread list of task", leader);
}

static int walk_once(struct walker *w)
{
	const struct linux_layout *l = w->l;
	const uint64_t init_task = w->lx->text + w->lx->build.sym.init_task;
	const uint64_t head = init_task + l->task_tasks.off;
	struct imee_linux_task t;
	struct linux_cycle cyc;
	struct links k;
	uint64_t node, prev;
	int err;

	read_ahead(w, head, head, l->task_tasks.off);
	err = linux_read_u64(w->vmem, head + l->list_next.off, &node);
	if (err)
		return imee_fail_context(err, "init_task.tasks at 0x%" PRIx64, head);
	prev = head;
	linux_cycle_init(&cyc, head);
	/* Each round emits a task or ends; emit() stops at max. */
	while (node != head) {
		uint64_t task = node - l->task_tasks.off;

		if (!linux_kernel_ptr_ok(w->lx, node, 8))
			return linux_bad_ptr("tasks.next", node, prev);
		if (linux_cycle_step(&cyc, node))
			return imee_fail_fault(-ELOOP, IMEE_FAULT_NONE, 0, node,
					       "the task list loops without coming back to "
					       "init_task (at 0x%" PRIx64 ")",
					       node);
		err = read_task(w, task, &t, &k);
		if (err)
			return err;
		if (k.tasks_prev != prev)
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, node,
					       "task list: 0x%" PRIx64 "->prev is 0x%" PRIx64
					       ", not 0x%" PRIx64,
					       node, k.tasks_prev, prev);
		err = emit(w, &t);
		if (!err && w->threads) {
			err = walk_threads(w, task, k.signal);
			/* its end read live: read the rest of the list ahead again */
			if (!err && k.tasks_next != head)
				read_ahead(w, node, head, l->task_tasks.off);
		}
		if (err)
			return err;
		prev = node;
		node = k.tasks_next;
	}
	return check_tail(w, head, prev, "task list from", init_task);
}

/* Errors a second look may not see: the guest changed the list meanwhile. */
static bool transient(int err)
{
	return err == -EBADMSG || err == -ELOOP || err == -EFAULT;
}

int imee_linux_tasks(const struct imee_linux *lx, const struct imee_vmem *vmem,
		     const struct imee_linux_tasks_opts *opts,
		     struct imee_linux_task_list *list_ret)
{
	const struct layout_field *task_fields[16], *cred_fields[13];
	struct imee_linux_task_list list;
	struct walker w;
	const struct linux_layout *l;
	unsigned int attempt;
	size_t nt = 0, nc = 0;
	int err;

	if (!lx || !vmem || !opts || !list_ret)
		return imee_fail(-EINVAL, "tasks: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_tasks_opts, max),
			  sizeof(*opts)) ||
	    opts->max > IMEE_LINUX_WALK_MAX)
		return imee_fail(-EINVAL, "tasks: bad options");
	l = &lx->build.layout;
	memset(&w, 0, sizeof(w));
	w.lx = lx;
	w.l = l;
	w.vmem = vmem;
	w.threads = opts->threads;
	w.max = opts->max ? opts->max : IMEE_LINUX_WALK_DEFAULT;
	task_fields[nt++] = &l->task_tasks;
	task_fields[nt++] = &l->task_pid;
	task_fields[nt++] = &l->task_tgid;
	task_fields[nt++] = &l->task_real_parent;
	task_fields[nt++] = &l->task_comm;
	task_fields[nt++] = &l->task_state;
	task_fields[nt++] = &l->task_exit_state;
	task_fields[nt++] = &l->task_flags;
	task_fields[nt++] = &l->task_real_cred;
	task_fields[nt++] = &l->task_cred;
	task_fields[nt++] = &l->task_start_time;
	task_fields[nt++] = &l->task_start_boottime;
	task_fields[nt++] = &l->task_signal;
	task_fields[nt++] = &l->task_thread_node;
	cred_fields[nc++] = &l->cred_uid;
	cred_fields[nc++] = &l->cred_gid;
	cred_fields[nc++] = &l->cred_suid;
	cred_fields[nc++] = &l->cred_sgid;
	cred_fields[nc++] = &l->cred_euid;
	cred_fields[nc++] = &l->cred_egid;
	cred_fields[nc++] = &l->cred_fsuid;
	cred_fields[nc++] = &l->cred_fsgid;
	cred_fields[nc++] = &l->cred_cap_inheritable;
	cred_fields[nc++] = &l->cred_cap_permitted;
	cred_fields[nc++] = &l->cred_cap_effective;
	cred_fields[nc++] = &l->cred_cap_bset;
	cred_fields[nc++] = &l->cred_cap_ambient;
	/* The layout was checked: every field lies inside its struct (< 1 MiB). */
	linux_span(task_fields, nt, &w.lo, &w.hi);
	linux_span(cred_fields, nc, &w.clo, &w.chi);
	w.buf = malloc((size_t)(w.hi - w.lo));
	w.cbuf = malloc((size_t)(w.chi - w.clo));
	if (!w.buf || !w.cbuf) {
		free(w.buf);
		free(w.cbuf);
		return imee_fail(-ENOMEM, "out of memory");
	}

	memset(&list, 0, sizeof(list));
	for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
		list.nr = 0;
		w.out = &list;
		err = walk_once(&w);
		/* a second look reads the guest anew */
		imee_vmem_forget(vmem);
		if (!err || !transient(err))
			break;
	}
	free(w.buf);
	free(w.cbuf);
	if (linux_walk_failed(err, list.nr)) {
		free(list.tasks);
		return err;
	}
	list.err = err;
	if (err)
		list.error = *imee_last_error();
	*list_ret = list;
	return 0;
}

void imee_linux_task_list_free(struct imee_linux_task_list *list)
{
	if (!list)
		return;
	free(list->tasks);
	list->tasks = NULL;
	list->nr = 0;
}
