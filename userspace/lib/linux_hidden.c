// SPDX-License-Identifier: GPL-2.0
/*
 * The cross-view check: every pid of the pid IDR that has a task against
 * every task of the task list (threads included). Linux links a task into
 * both under one lock (attach_pid() and the tasks list in copy_process(),
 * detach_pid() and list_del in __unhash_process()), so at any instant the
 * two agree; a task that is in one and not in the other was unlinked by
 * something other than the kernel's own paths.
 *
 * The two walks are not taken at one instant: a process that forks or
 * exits between them is in one view only. So a difference must persist:
 * both views are taken again, up to IMEE_LINUX_HIDDEN_ROUNDS rounds, and
 * only what every round finds (the same pid, the same way round, the same
 * task) is reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

struct view_task {
	int32_t pid;
	size_t index; /* in the task list */
};

static int cmp_view_task(const void *a, const void *b)
{
	const struct view_task *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Both views once; the differences into *out (malloc'ed, by pid). */
static int one_round(const struct imee_linux *lx, const struct imee_vmem *vmem, size_t max,
		     struct imee_linux_hidden_list *out)
{
	IMEE_OPTS(imee_linux_pids_opts, po, .max = max);
	IMEE_OPTS(imee_linux_tasks_opts, to, .threads = true, .max = max);
	struct imee_linux_pid_list pids = { 0 };
	struct imee_linux_task_list tasks = { 0 };
	struct view_task *vt = NULL;
	struct imee_linux_hidden *h = NULL;
	size_t i, j, nr = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = imee_linux_pids(lx, vmem, &po, &pids);
	if (err)
		return imee_fail_context(err, "hidden: pidlist");
	if (pids.err) {
		err = imee_fail_fault(pids.err, pids.error.fault, pids.error.level,
				      pids.error.address, "hidden: pidlist stopped early: %s",
				      pids.error.message);
		goto out;
	}
	err = imee_linux_tasks(lx, vmem, &to, &tasks);
	if (err) {
		imee_fail_context(err, "hidden: pslist");
		goto out;
	}
	if (tasks.err) {
		err = imee_fail_fault(tasks.err, tasks.error.fault, tasks.error.level,
				      tasks.error.address, "hidden: pslist stopped early: %s",
				      tasks.error.message);
		goto out;
	}
	/* At most one entry per pid and per task: nothing grows past this. */
	vt = malloc((tasks.nr ? tasks.nr : 1) * sizeof(*vt));
	h = malloc((pids.nr + tasks.nr ? pids.nr + tasks.nr : 1) * sizeof(*h));
	if (!vt || !h) {
		err = imee_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < tasks.nr; i++)
		vt[i] = (struct view_task){ tasks.tasks[i].pid, i };
	qsort(vt, tasks.nr, sizeof(*vt), cmp_view_task);
	/* Merge the two sorted sequences (pids are sorted by nr). */
	for (i = 0, j = 0; i < pids.nr || j < tasks.nr;) {
		const struct imee_linux_pid *p = i < pids.nr ? &pids.pids[i] : NULL;
		const struct imee_linux_task *t = j < tasks.nr ? &tasks.tasks[vt[j].index] : NULL;
		struct imee_linux_hidden e = { 0 };

		if (p && !p->task) { /* a pid no task has (a process group's): no view of a task */
			i++;
			continue;
		}
		if (p && t && p->nr == t->pid) {
			i++;
			j++;
			/* The same pid twice in the task list is matched once. */
			while (j < tasks.nr && tasks.tasks[vt[j].index].pid == p->nr)
				j++;
			continue;
		}
		if (p && (!t || p->nr < t->pid)) {
			e.pid = p->nr;
			e.tgid = p->tgid;
			memcpy(e.comm, p->comm, sizeof(e.comm));
			e.task = p->task;
			e.seen_in = IMEE_LINUX_VIEW_PIDLIST;
			e.missing_from = IMEE_LINUX_VIEW_PSLIST;
			i++;
		} else {
			e.pid = t->pid;
			e.tgid = t->tgid;
			memcpy(e.comm, t->comm, sizeof(e.comm));
			e.task = t->address;
			e.seen_in = IMEE_LINUX_VIEW_PSLIST;
			e.missing_from = IMEE_LINUX_VIEW_PIDLIST;
			for (j++; j < tasks.nr && tasks.tasks[vt[j].index].pid == e.pid; j++)
				;
		}
		h[nr++] = e;
	}
	out->entries = h;
	out->nr = nr;
	out->nr_tasks = tasks.nr;
	out->nr_pids = pids.nr;
	h = NULL;
out:
	free(h);
	free(vt);
	imee_linux_task_list_free(&tasks);
	imee_linux_pid_list_free(&pids);
	return err;
}

static bool same(const struct imee_linux_hidden *a, const struct imee_linux_hidden *b)
{
	return a->pid == b->pid && a->seen_in == b->seen_in && a->task == b->task;
}

/* Keep in *kept only what next has too (both sorted by pid). */
static void intersect(struct imee_linux_hidden_list *kept,
		      const struct imee_linux_hidden_list *next)
{
	size_t i, j = 0, nr = 0;

	for (i = 0; i < kept->nr; i++) {
		size_t k;

		while (j < next->nr && next->entries[j].pid < kept->entries[i].pid)
			j++;
		for (k = j; k < next->nr && next->entries[k].pid == kept->entries[i].pid; k++) {
			if (same(&kept->entries[i], &next->entries[k])) {
				kept->entries[nr++] = next->entries[k];
				break;
			}
		}
	}
	kept->nr = nr;
	kept->nr_tasks = next->nr_tasks;
	kept->nr_pids = next->nr_pids;
}

int imee_linux_hidden(const struct imee_linux *lx, const struct imee_vmem *vmem,
		      const struct imee_linux_hidden_opts *opts,
		      struct imee_linux_hidden_list *list_ret)
{
	struct imee_linux_hidden_list kept, next;
	unsigned int round;
	int err;

	if (!lx || !vmem || !opts || !list_ret)
		return imee_fail(-EINVAL, "hidden: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_hidden_opts, max),
			  sizeof(*opts)) ||
	    opts->max > IMEE_LINUX_WALK_MAX)
		return imee_fail(-EINVAL, "hidden: bad options");
	err = one_round(lx, vmem, opts->max, &kept);
	if (err)
		return err;
	for (round = 1; kept.nr && round < IMEE_LINUX_HIDDEN_ROUNDS; round++) {
		err = one_round(lx, vmem, opts->max, &next);
		if (err) {
			imee_linux_hidden_list_free(&kept);
			return err;
		}
		intersect(&kept, &next);
		imee_linux_hidden_list_free(&next);
	}
	kept.rounds = round;
	*list_ret = kept;
	return 0;
}

void imee_linux_hidden_list_free(struct imee_linux_hidden_list *list)
{
	if (!list)
		return;
	free(list->entries);
	list->entries = NULL;
	list->nr = 0;
}
