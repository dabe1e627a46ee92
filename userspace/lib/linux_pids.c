// SPDX-License-Identifier: GPL-2.0
/*
 * Every pid of the initial pid namespace, from its IDR: init_pid_ns.idr is
 * a radix tree (an xarray) indexed by pid number - idr_base, whose leaves
 * are struct pid pointers. This view does not depend on the task list, so a
 * task unlinked from one still shows in the other.
 *
 * xarray encoding (include/linux/xarray.h): an entry with bits 1:0 = 10 is
 * internal: a node pointer (+2) when above 4096, else a sibling, retry or
 * zero entry; bit 0 set is a value entry. Nodes are checked as they are
 * read: the shift is a multiple of the chunk and decreases by one chunk per
 * level, each node's parent and offset point back to the slot that led to
 * it, and the number of nodes visited is bounded, so neither a cycle nor a
 * shared subtree can make the walk long.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

#define ATTEMPTS 3
#define XA_DEPTH_MAX 12 /* 64-bit indices, 6 bits a level, and the root */

struct pid_walker {
	const struct imee_linux *lx;
	const struct linux_layout *l;
	const struct imee_vmem *vmem;
	struct imee_linux_pid_list *out;
	size_t cap, max;
	uint64_t nodes, nodes_max;
	uint64_t init_pid_ns;
	uint32_t idr_base;
	unsigned int chunk_shift, nr_slots;
	uint64_t nlo, nhi, plo, phi, tlo, thi; /* spans read of xa_node, pid, task */
	unsigned char *nbuf[XA_DEPTH_MAX], *pbuf, *tbuf;
};

static bool xa_is_internal(uint64_t e)
{
	return (e & 3) == 2;
}

static bool xa_is_node(uint64_t e)
{
	return xa_is_internal(e) && e > 4096;
}

static int emit(struct pid_walker *w, const struct imee_linux_pid *p)
{
	struct imee_linux_pid_list *out = w->out;
	void *grown;
	int err;

	grown = linux_list_room(out->pids, sizeof(*p), out->nr, &w->cap, w->max, "pids", &err);
	if (!grown)
		return err;
	out->pids = grown;
	out->pids[out->nr++] = *p;
	return 0;
}

/* The struct pid at entry, stored at index. */
static int visit_pid(struct pid_walker *w, uint64_t index, uint64_t entry)
{
	const struct linux_layout *l = w->l;
	const unsigned char *b = w->pbuf;
	struct layout_field first = { l->pid_task_head.off + l->hlist_first.off, 8 };
	struct layout_field nr = { l->pid_numbers.off + l->upid_nr.off, l->upid_nr.size };
	struct layout_field ns = { l->pid_numbers.off + l->upid_ns.off, 8 };
	struct imee_linux_pid p;
	uint64_t want = index + w->idr_base, link, pns;
	int err;

	if (!linux_kernel_ptr_ok(w->lx, entry, 8))
		return linux_bad_ptr("pid", entry, index);
	err = imee_vmem_read(w->vmem, entry + w->plo, w->pbuf, (size_t)(w->phi - w->plo));
	if (err)
		return imee_fail_context(err, "struct pid at 0x%" PRIx64, entry);
	memset(&p, 0, sizeof(p));
	p.address = entry;
	p.nr = (int32_t)linux_field(b, w->plo, nr);
	pns = linux_field(b, w->plo, ns);
	link = linux_field(b, w->plo, first);
	if ((uint64_t)(uint32_t)p.nr != want || pns != w->init_pid_ns)
		return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, entry,
				       "the pid at index %" PRIu64 " says it is %" PRId32
				       " in namespace 0x%" PRIx64,
				       index, p.nr, pns);
	if (link) {
		const struct layout_field tpid = l->task_pid, ttgid = l->task_tgid;
		size_t n;

		if (!linux_kernel_ptr_ok(w->lx, link, 8))
			return linux_bad_ptr("pid->tasks[PIDTYPE_PID].first", link, entry);
		p.task = link - l->task_pid_link.off;
		err = imee_vmem_read(w->vmem, p.task + w->tlo, w->tbuf, (size_t)(w->thi - w->tlo));
		if (err)
			return imee_fail_context(err, "the task of pid %" PRId32, p.nr);
		p.tgid = (int32_t)linux_field(w->tbuf, w->tlo, ttgid);
		if ((int32_t)linux_field(w->tbuf, w->tlo, tpid) != p.nr)
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, p.task,
					       "the task of pid %" PRId32 " has pid %" PRId32, p.nr,
					       (int32_t)linux_field(w->tbuf, w->tlo, tpid));
		n = l->task_comm.size < IMEE_LINUX_COMM_LEN ? (size_t)l->task_comm.size
							    : IMEE_LINUX_COMM_LEN;
		memcpy(p.comm, w->tbuf + (l->task_comm.off - w->tlo), n);
		p.comm[n] = '\0';
	}
	return emit(w, &p);
}

/*
 * A pid that did not read consistently (err, -EBADMSG) may have been
 * changing under us: a process exiting or starting while the guest runs.
 * Read its slot again: a slot that changed gives its new content (nothing,
 * or a new pid read once); a slot that did not is read once more, as exec
 * moves a pid between tasks. What is still inconsistent then is an error.
 */
static int revisit_pid(struct pid_walker *w, uint64_t slot_addr, uint64_t index, uint64_t entry,
		       int err)
{
	struct imee_error first = *imee_last_error();
	uint64_t now;

	if (linux_read_u64(w->vmem, slot_addr, &now))
		goto keep;
	if (!now || xa_is_internal(now) || (now & 1))
		return 0; /* removed (or being replaced) since: not there */
	err = visit_pid(w, index, now);
	if (err != -EBADMSG || now != entry)
		return err;
keep:
	/* report what was seen first */
	return imee_fail_fault(first.err, first.fault, first.level, first.address, "%s",
			       first.message);
}

/*
 * The node at addr, reached from slot offset of parent (0, 0 for the
 * root), covering indices from base; shift is what it must have (-1 for
 * the root: any).
 */
static int visit_node(struct pid_walker *w, uint64_t addr, uint64_t parent, unsigned int offset,
		      int shift_want, uint64_t base, unsigned int depth)
{
	const struct linux_layout *l = w->l;
	unsigned char *b;
	unsigned int shift, i;
	int err;

	if (depth >= XA_DEPTH_MAX)
		return imee_fail(-EBADMSG, "pid IDR: nodes nest too deep");
	if (++w->nodes > w->nodes_max)
		return imee_fail(-E2BIG, "pid IDR: more than %" PRIu64 " nodes", w->nodes_max);
	if (!linux_kernel_ptr_ok(w->lx, addr, 8))
		return linux_bad_ptr("xa_node", addr, parent);
	b = w->nbuf[depth];
	err = imee_vmem_read(w->vmem, addr + w->nlo, b, (size_t)(w->nhi - w->nlo));
	if (err)
		return imee_fail_context(err, "xa_node at 0x%" PRIx64, addr);
	shift = (unsigned int)linux_field(b, w->nlo, l->xa_shift);
	if (shift % w->chunk_shift || shift + w->chunk_shift > 64 ||
	    (shift_want >= 0 && shift != (unsigned int)shift_want) ||
	    linux_field(b, w->nlo, l->xa_parent) != parent ||
	    linux_field(b, w->nlo, l->xa_offset) != offset)
		return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, addr,
				       "pid IDR: node 0x%" PRIx64
				       " is inconsistent (shift %u, parent, offset)",
				       addr, shift);
	for (i = 0; i < w->nr_slots; i++) {
		struct layout_field slot = { l->xa_slots.off + 8 * (uint64_t)i, 8 };
		uint64_t e = linux_field(b, w->nlo, slot);
		uint64_t index = base + ((uint64_t)i << shift);

		if (!e)
			continue;
		if (xa_is_node(e)) {
			if (!shift)
				return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, addr,
						       "pid IDR: a node below the last level");
			err = visit_node(w, e - 2, addr, i, (int)(shift - w->chunk_shift), index,
					 depth + 1);
		} else if (xa_is_internal(e) || (e & 1)) {
			continue; /* sibling, retry, zero or value entries: no pid */
		} else if (shift) {
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, addr,
					       "pid IDR: a leaf above the last level");
		} else {
			err = visit_pid(w, index, e);
			if (err == -EBADMSG)
				err = revisit_pid(w, addr + slot.off, index, e, err);
		}
		if (err)
			return err;
	}
	return 0;
}

static int walk_once(struct pid_walker *w)
{
	const struct linux_layout *l = w->l;
	unsigned char b[4];
	uint64_t head;
	int err;

	w->nodes = 0;
	err = linux_read_u64(w->vmem, w->init_pid_ns + l->pidns_xa_head.off, &head);
	if (!err)
		err = imee_vmem_read(w->vmem, w->init_pid_ns + l->pidns_idr_base.off, b, 4);
	if (err)
		return imee_fail_context(err, "init_pid_ns at 0x%" PRIx64, w->init_pid_ns);
	w->idr_base = (uint32_t)linux_field(b, 0, (struct layout_field){ 0, 4 });
	if (!head)
		return 0;
	if (xa_is_node(head))
		return visit_node(w, head - 2, 0, 0, -1, 0, 0);
	if (xa_is_internal(head) || (head & 1))
		return 0; /* a special entry: no pid */
	return visit_pid(w, 0, head);
}

static bool transient(int err)
{
	return err == -EBADMSG || err == -EFAULT;
}

int imee_linux_pids(const struct imee_linux *lx, const struct imee_vmem *vmem,
		    const struct imee_linux_pids_opts *opts, struct imee_linux_pid_list *list_ret)
{
	struct imee_linux_pid_list list;
	struct pid_walker w;
	const struct linux_layout *l;
	unsigned int attempt, i;
	int err = -ENOMEM;

	if (!lx || !vmem || !opts || !list_ret)
		return imee_fail(-EINVAL, "pids: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_pids_opts, max),
			  sizeof(*opts)) ||
	    opts->max > IMEE_LINUX_WALK_MAX)
		return imee_fail(-EINVAL, "pids: bad options");
	l = &lx->build.layout;
	memset(&w, 0, sizeof(w));
	w.lx = lx;
	w.l = l;
	w.vmem = vmem;
	w.max = opts->max ? opts->max : IMEE_LINUX_WALK_DEFAULT;
	w.nodes_max = 2 * (uint64_t)w.max + 4096;
	w.init_pid_ns = lx->text + lx->build.sym.init_pid_ns;
	/* The layout check made the slot count a power of two, at least 2. */
	w.nr_slots = (unsigned int)(l->xa_slots.size / 8);
	for (w.chunk_shift = 0; (1U << w.chunk_shift) < w.nr_slots; w.chunk_shift++)
		;
	{
		const struct layout_field *nf[] = { &l->xa_shift, &l->xa_offset, &l->xa_parent,
						    &l->xa_slots };
		const struct layout_field first = { l->pid_task_head.off + l->hlist_first.off, 8 };
		const struct layout_field nr = { l->pid_numbers.off + l->upid_nr.off, 4 };
		const struct layout_field ns = { l->pid_numbers.off + l->upid_ns.off, 8 };
		const struct layout_field *pf[] = { &first, &nr, &ns };
		const struct layout_field *tf[] = { &l->task_pid, &l->task_tgid, &l->task_comm };

		linux_span(nf, IMEE_ARRAY_SIZE(nf), &w.nlo, &w.nhi);
		linux_span(pf, IMEE_ARRAY_SIZE(pf), &w.plo, &w.phi);
		linux_span(tf, IMEE_ARRAY_SIZE(tf), &w.tlo, &w.thi);
	}
	w.pbuf = malloc((size_t)(w.phi - w.plo));
	w.tbuf = malloc((size_t)(w.thi - w.tlo));
	for (i = 0; i < XA_DEPTH_MAX; i++)
		w.nbuf[i] = malloc((size_t)(w.nhi - w.nlo));
	for (i = 0; i < XA_DEPTH_MAX && w.pbuf && w.tbuf; i++)
		if (!w.nbuf[i])
			break;
	if (i < XA_DEPTH_MAX) {
		err = imee_fail(-ENOMEM, "out of memory");
		goto out;
	}

	memset(&list, 0, sizeof(list));
	for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
		list.nr = 0;
		w.out = &list;
		err = walk_once(&w);
		if (!err || !transient(err))
			break;
	}
	if (linux_walk_failed(err, list.nr)) {
		free(list.pids);
		goto out;
	}
	list.err = err;
	if (err)
		list.error = *imee_last_error();
	*list_ret = list;
	err = 0;
out:
	free(w.pbuf);
	free(w.tbuf);
	for (i = 0; i < XA_DEPTH_MAX; i++)
		free(w.nbuf[i]);
	return err;
}

void imee_linux_pid_list_free(struct imee_linux_pid_list *list)
{
	if (!list)
		return;
	free(list->pids);
	list->pids = NULL;
	list->nr = 0;
}
