// SPDX-License-Identifier: GPL-2.0
/*
 * The loaded modules: the kernel's "modules" list head, along
 * module.list, newest first (as /proc/modules lists them). Each module is
 * read once, in one read covering the fields used, and decoded from that
 * copy: its name, state (by the values of enum module_state's
 * enumerators in the guest's BTF), where its code starts and how much
 * memory it has (core_layout and init_layout up to 6.3, mem[] from 6.4),
 * and its reference count.
 *
 * The walk is bounded as the task walk is: a maximum count, Brent's cycle
 * detection, each node's prev pointing back, every pointer checked before
 * it is followed (canonical, kernel half, and inside the module area,
 * where module_alloc() puts every struct module), and the head's own prev
 * naming the last node. Inconsistencies are retried from the start a few
 * times (the guest may load or unload a module meanwhile), then reported
 * with what was read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

#define ATTEMPTS 3
/*
 * x86-64's module area: MODULES_VADDR is __START_KERNEL_map +
 * KERNEL_IMAGE_SIZE (512 MiB, or 1 GiB with KASLR), MODULES_END
 * 0xffffffffff000000, in both paging modes.
 */
#define MODULES_LOW 0xffffffffa0000000ULL
#define MODULES_END 0xffffffffff000000ULL
#define MODULE_REF_BASE 1

struct mod_walker {
	const struct imee_linux *lx;
	const struct linux_layout *l;
	const struct imee_vmem *vmem;
	struct imee_linux_module_list *out;
	size_t cap, max;
	uint64_t lo, hi; /* the span of struct module read */
	unsigned char *buf;
};

const char *imee_linux_module_state_name(enum imee_linux_module_state state)
{
	switch (state) {
	case IMEE_LINUX_MODULE_LIVE:
		return "live";
	case IMEE_LINUX_MODULE_COMING:
		return "coming";
	case IMEE_LINUX_MODULE_GOING:
		return "going";
	case IMEE_LINUX_MODULE_UNFORMED:
		return "unformed";
	case IMEE_LINUX_MODULE_UNKNOWN:
		break;
	}
	return "unknown";
}

/* Does the kernel have what the walk needs (from BTF and kallsyms)? */
static int have_modules(const struct imee_linux *lx)
{
	const struct linux_layout *l = &lx->build.layout;

	if (!lx->build.sym.modules)
		return imee_fail(-ENOENT, "kallsyms: the kernel has no \"modules\" list");
	if (!l->module_size || !l->module_list.size || !l->module_name.size ||
	    !l->module_state.size)
		return imee_fail(-ENOENT, "BTF: the kernel has no struct module with list, name "
					  "and state");
	if (l->module_core_base.size && l->module_core_size.size)
		return 0;
	if (l->module_mem.size && l->module_memory_base.size && l->module_memory_size_f.size &&
	    l->mod_text != LAYOUT_ABSENT)
		return 0;
	return imee_fail(-ENOENT, "BTF: struct module has neither core_layout nor mem[MOD_TEXT]");
}

static enum imee_linux_module_state state_of(const struct linux_layout *l, uint32_t v)
{
	if ((int64_t)v == l->module_state_live)
		return IMEE_LINUX_MODULE_LIVE;
	if ((int64_t)v == l->module_state_coming)
		return IMEE_LINUX_MODULE_COMING;
	if ((int64_t)v == l->module_state_going)
		return IMEE_LINUX_MODULE_GOING;
	if ((int64_t)v == l->module_state_unformed)
		return IMEE_LINUX_MODULE_UNFORMED;
	return IMEE_LINUX_MODULE_UNKNOWN;
}

static struct layout_field at(struct layout_field f, uint64_t delta)
{
	return (struct layout_field){ f.off + delta, f.size };
}

/* Could node be the list node of a struct module: a kernel pointer into the module area? */
static bool node_ok(const struct mod_walker *w, uint64_t node)
{
	uint64_t addr = node - w->l->module_list.off;

	return linux_kernel_ptr_ok(w->lx, node, 8) && addr >= MODULES_LOW &&
	       addr <= MODULES_END - w->l->module_size;
}

/* Read the module whose list node is at node into *m; *next and *prev are its links. */
static int read_module(struct mod_walker *w, uint64_t node, struct imee_linux_module *m,
		       uint64_t *next, uint64_t *prev)
{
	const struct linux_layout *l = w->l;
	const unsigned char *b = w->buf;
	const uint64_t addr = node - l->module_list.off;
	size_t n;
	int err;

	err = imee_vmem_read(w->vmem, addr + w->lo, w->buf, (size_t)(w->hi - w->lo));
	if (err)
		return imee_fail_context(err, "struct module at 0x%" PRIx64, addr);
	memset(m, 0, sizeof(*m));
	m->address = addr;
	*next = linux_field(b, w->lo, at(l->list_next, l->module_list.off));
	*prev = linux_field(b, w->lo, at(l->list_prev, l->module_list.off));
	n = l->module_name.size < sizeof(m->name) - 1 ? (size_t)l->module_name.size
						      : sizeof(m->name) - 1;
	memcpy(m->name, b + (l->module_name.off - w->lo), n);
	m->name[n] = '\0';
	m->state_raw = (uint32_t)linux_field(b, w->lo, l->module_state);
	m->state = state_of(l, m->state_raw);
	if (l->module_refcnt.size) {
		m->has_refcount = true;
		m->refcount =
			(int64_t)(int32_t)linux_field(b, w->lo, l->module_refcnt) - MODULE_REF_BASE;
	}
	if (l->module_core_base.size) {
		m->base = linux_field(b, w->lo, l->module_core_base);
		m->size = linux_field(b, w->lo, l->module_core_size);
		if (l->module_init_size.size)
			m->size += linux_field(b, w->lo, l->module_init_size);
	} else {
		uint64_t i, nr = l->module_mem.size / l->module_memory_size;

		/* The layout was checked: mem[] holds nr whole struct module_memory. */
		for (i = 0; i < nr; i++) {
			uint64_t elem = l->module_mem.off + i * l->module_memory_size;

			m->size += linux_field(b, w->lo, at(l->module_memory_size_f, elem));
			if (i == (uint64_t)l->mod_text)
				m->base = linux_field(b, w->lo, at(l->module_memory_base, elem));
		}
	}
	return 0;
}

static int emit(struct mod_walker *w, const struct imee_linux_module *m)
{
	struct imee_linux_module_list *out = w->out;
	void *grown;
	int err;

	grown = linux_list_room(out->modules, sizeof(*m), out->nr, &w->cap, w->max, "modules",
				&err);
	if (!grown)
		return err;
	out->modules = grown;
	out->modules[out->nr++] = *m;
	return 0;
}

static int walk_once(struct mod_walker *w)
{
	const struct linux_layout *l = w->l;
	const uint64_t head = w->lx->text + w->lx->build.sym.modules;
	struct imee_linux_module m;
	struct linux_cycle cyc;
	unsigned char hb[16];
	uint64_t node, prev, last, next = 0, back = 0;
	int err;

	/* where the engine gains by it, every module in one go (the ImEE) */
	{
		struct imee_vmem_list_spec spec = {
			.first_at = head + l->list_next.off,
			.head = head,
			.next_off = l->list_next.off,
			.block_off = w->lo - l->module_list.off,
			.block_len = (uint32_t)(w->hi - w->lo),
			.max = (uint32_t)(w->max < IMEE_LINUX_WALK_MAX ? w->max + 1
								       : IMEE_LINUX_WALK_MAX),
		};

		if (imee_vmem_prefetch_list(w->vmem, &spec) == -ENOMEM)
			imee_vmem_forget(w->vmem);
	}
	/* The head, once: its next starts the walk, its prev must be where it ends. */
	err = imee_vmem_read(w->vmem, head, hb, sizeof(hb));
	if (err)
		return imee_fail_context(err, "the modules list head at 0x%" PRIx64, head);
	node = linux_field(hb, 0, l->list_next);
	last = linux_field(hb, 0, l->list_prev);
	if (!linux_kernel_ptr_ok(w->lx, last, 8))
		return linux_bad_ptr("modules.prev", last, head + l->list_prev.off);
	prev = head;
	linux_cycle_init(&cyc, head);
	/* Each round emits a module or ends; emit() stops at max. */
	while (node != head) {
		if (linux_cycle_step(&cyc, node))
			return imee_fail_fault(-ELOOP, IMEE_FAULT_NONE, 0, node,
					       "the modules list loops without coming back to "
					       "its head (at 0x%" PRIx64 ")",
					       node);
		if (!node_ok(w, node))
			return linux_bad_ptr("module.list.next", node, prev);
		err = read_module(w, node, &m, &next, &back);
		if (err)
			return err;
		if (back != prev)
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, node,
					       "modules list: 0x%" PRIx64 "->prev is 0x%" PRIx64
					       ", not 0x%" PRIx64,
					       node, back, prev);
		err = emit(w, &m);
		if (err)
			return err;
		prev = node;
		node = next;
	}
	if (last != prev)
		return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, head,
				       "modules list: the head's prev is 0x%" PRIx64
				       ", the walk ended at 0x%" PRIx64,
				       last, prev);
	return 0;
}

/* Errors a second look may not see: the guest changed the list meanwhile. */
static bool transient(int err)
{
	return err == -EBADMSG || err == -ELOOP || err == -EFAULT;
}

int imee_linux_modules(const struct imee_linux *lx, const struct imee_vmem *vmem,
		       const struct imee_linux_modules_opts *opts,
		       struct imee_linux_module_list *list_ret)
{
	const struct layout_field *fields[12];
	struct imee_linux_module_list list;
	const struct linux_layout *l;
	struct layout_field node_next, node_prev;
	struct mod_walker w;
	unsigned int attempt;
	size_t nf = 0;
	int err;

	if (!lx || !vmem || !opts || !list_ret)
		return imee_fail(-EINVAL, "modules: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_modules_opts, max),
			  sizeof(*opts)) ||
	    opts->max > IMEE_LINUX_WALK_MAX)
		return imee_fail(-EINVAL, "modules: bad options");
	err = have_modules(lx);
	if (err)
		return err;
	l = &lx->build.layout;
	memset(&w, 0, sizeof(w));
	w.lx = lx;
	w.l = l;
	w.vmem = vmem;
	w.max = opts->max ? opts->max : IMEE_LINUX_WALK_DEFAULT;
	node_next = at(l->list_next, l->module_list.off);
	node_prev = at(l->list_prev, l->module_list.off);
	fields[nf++] = &node_next;
	fields[nf++] = &node_prev;
	fields[nf++] = &l->module_name;
	fields[nf++] = &l->module_state;
	if (l->module_refcnt.size)
		fields[nf++] = &l->module_refcnt;
	if (l->module_core_base.size) {
		fields[nf++] = &l->module_core_base;
		fields[nf++] = &l->module_core_size;
		if (l->module_init_size.size)
			fields[nf++] = &l->module_init_size;
	} else {
		fields[nf++] = &l->module_mem;
	}
	/* The layout was checked: every field lies inside struct module (< 1 MiB). */
	linux_span(fields, nf, &w.lo, &w.hi);
	w.buf = malloc((size_t)(w.hi - w.lo));
	if (!w.buf)
		return imee_fail(-ENOMEM, "out of memory");

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
	if (linux_walk_failed(err, list.nr)) {
		free(list.modules);
		return err;
	}
	list.err = err;
	if (err)
		list.error = *imee_last_error();
	*list_ret = list;
	return 0;
}

void imee_linux_module_list_free(struct imee_linux_module_list *list)
{
	if (!list)
		return;
	free(list->modules);
	list->modules = NULL;
	list->nr = 0;
}
