// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl run: pslist, pidlist, credlist, modules, syscalldmp, hidden and
 * walk. The walks are libimee's (linux_tasks.c, linux_pids.c,
 * linux_modules.c, linux_syscalls.c, linux_hidden.c, linux_walk.c):
 * bounded, checked, and reading the guest only through a struct imee_vmem
 * of the job's engine. A walk that stops early gives
 * "ok": false with its error, and the entries it read before
 * ("complete": false).
 */
#include "run_linux.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

/*
 * The engine's physical reader, for the scans (banner, kallsyms) that walk
 * page tables themselves: the ImEE engine reads virtual memory only, so
 * its jobs scan through the zero-copy view.
 */
static enum imee_engine scan_engine(enum imee_engine engine)
{
	return engine == IMEE_ENGINE_LEGACY ? IMEE_ENGINE_LEGACY : IMEE_ENGINE_SOFTWARE;
}

static int job_vmem(struct run_linux *rl, const struct job *job, struct imee_vmem *vmem)
{
	struct imee_mem mem;
	int err;

	if (job->engine == IMEE_ENGINE_IMEE)
		return imee_ee_vmem(rl->session, &rl->walk, vmem);
	err = imee_session_mem(rl->session, job->engine, &mem);
	if (!err)
		err = imee_vmem_from_walk(&mem, &rl->walk, vmem);
	return err;
}

/*
 * The memory the kernel is searched through: the scan engine's, read with
 * the top-level table of walk.cr3 copied (once per CR3) until walk.cr3 is
 * the kernel's own. The vCPU's CR3 is often a short-lived process's, whose
 * table may be freed and reused in the middle of a search.
 */
static int search_mem(struct run_linux *rl, const struct job *job, struct imee_mem *mem_ret)
{
	struct imee_mem under;
	int err;

	err = imee_session_mem(rl->session, scan_engine(job->engine), &under);
	if (err || rl->walk_is_kernel) {
		*mem_ret = under;
		return err;
	}
	if (!rl->top_mem.ops || rl->top_cr3 != rl->walk.cr3 || rl->top.under.ops != under.ops) {
		rl->top_mem.ops = NULL;
		err = imee_linux_top_copy(&rl->top, &under, &rl->walk, &rl->top_mem);
		if (err)
			return err;
		rl->top_cr3 = rl->walk.cr3;
	}
	*mem_ret = rl->top_mem;
	return 0;
}

/* Find the guest's banner (once per run); a failure is kept in rl->banner_error. */
static int find_banner(struct run_linux *rl, const struct job *job)
{
	struct imee_mem mem;
	int err;

	if (rl->banner_tried)
		return rl->banner_error.err;
	rl->banner_tried = true;
	err = search_mem(rl, job, &mem);
	if (!err)
		err = imee_linux_find_banner(&mem, &rl->walk, &rl->banner);
	if (err)
		rl->banner_error = *imee_last_error();
	return err;
}

/*
 * Take the vCPU's CR3 anew; false if it did not change. A search through a
 * table that was not (or no longer) a top-level one fails, and is worth
 * another try through the CR3 the vCPU has now.
 */
static bool fresh_cr3(struct run_linux *rl)
{
	const struct imee_vcpu_regs *vcpus;
	struct imee_vcpu_regs now;
	size_t nr = imee_session_vcpus(rl->session, &vcpus);

	if (!rl->vcpu || rl->vcpu < vcpus || rl->vcpu >= vcpus + nr ||
	    imee_session_vcpu_now(rl->session, (size_t)(rl->vcpu - vcpus), &now) ||
	    now.cr3 == rl->walk.cr3)
		return false;
	rl->walk.cr3 = now.cr3;
	return true;
}

#define DISCOVERY_ATTEMPTS 6

/*
 * Learn the kernel (once per run). It is read through search_mem() with
 * the software walker (the ImEE copies the live top-level table on every
 * activation, so it cannot read through the copy); the jobs then read
 * with their own engine through the kernel's own table.
 */
static int open_linux(struct run_linux *rl, const struct job *job)
{
	struct imee_mem mem;
	struct imee_linux_kallsyms_from loader = { &mem, &rl->walk };
	IMEE_OPTS(imee_linux_open_opts, o, .banner = &rl->banner,
		  .load_kallsyms = imee_linux_kallsyms_load_from, .load_arg = &loader,
		  .paging = rl->walk.paging, .no_cache = rl->no_cache, .system_map = rl->system_map,
		  .btf = rl->btf_file);
	unsigned int attempt;
	uint64_t kernel_cr3;
	int err;

	if (rl->tried)
		return rl->lx ? 0 : rl->error.err;
	rl->tried = true;
	for (attempt = 1;; attempt++) {
		struct imee_vmem vmem;

		err = find_banner(rl, job);
		if (err) {
			rl->error = rl->banner_error;
		} else {
			err = search_mem(rl, job, &mem);
			if (!err)
				err = imee_vmem_from_walk(&mem, &rl->walk, &vmem);
			if (!err) {
				err = imee_linux_open(&vmem, &o, &rl->lx);
				imee_vmem_release(&vmem);
			}
			if (err)
				rl->error = *imee_last_error();
		}
		if (!err || attempt == DISCOVERY_ATTEMPTS || !fresh_cr3(rl))
			break;
		rl->banner_tried = false;
	}
	if (err)
		return err;
	/*
	 * From now on, walk the kernel's own page table: the vCPU's CR3 may be
	 * a process's, freed (and its page reused) when that process exits.
	 */
	if (!imee_linux_kernel_cr3(rl->lx, &mem, &rl->walk, &rl->banner, &kernel_cr3)) {
		rl->walk_is_kernel = true;
		rl->walk.cr3 = kernel_cr3;
	}
	return 0;
}

/*
 * The kernel's every symbol (once per run), for syscalldmp and walk heads:
 * from the System.map when one is given, else decoded from memory.
 */
static int need_kallsyms(struct run_linux *rl, const struct job *job)
{
	struct imee_mem mem;
	int err;

	if (rl->ks_tried)
		return rl->ks ? 0 : rl->ks_error.err;
	rl->ks_tried = true;
	if (rl->system_map) {
		err = find_banner(rl, job);
		if (err) {
			rl->ks_error = rl->banner_error;
			return err;
		}
		err = imee_linux_system_map_load(rl->system_map, &rl->banner, &rl->ks);
	} else {
		err = search_mem(rl, job, &mem);
		if (!err)
			err = imee_linux_kallsyms_load(&mem, &rl->walk, &rl->ks);
	}
	if (err)
		rl->ks_error = *imee_last_error();
	return err;
}

static json_t *kernel_json(const struct run_linux *rl, const struct imee_linux *lx)
{
	static const char *const cache_names[] = {
		[IMEE_LINUX_CACHE_OFF] = "off",
		[IMEE_LINUX_CACHE_HIT] = "hit",
		[IMEE_LINUX_CACHE_WRITTEN] = "written",
		[IMEE_LINUX_CACHE_UNWRITABLE] = "unwritable",
	};
	struct imee_linux_info info;
	json_t *k = out_object(), *btf = out_object();

	imee_linux_get_info(lx, &info);
	out_set(k, "text", out_hex(info.text));
	out_set(k, "kaslr_slide", out_hex(info.kaslr_slide));
	if (info.symbols_from_file)
		out_set(k, "system_map", json_string(rl->system_map));
	if (info.btf_from_file)
		out_set(btf, "file", json_string(rl->btf_file));
	else
		out_set(btf, "address", out_hex(info.btf_va));
	out_set(btf, "size", json_integer(info.btf_size));
	out_set(btf, "checksum", out_hex(info.btf_checksum));
	out_set(k, "btf", btf);
	out_set(k, "cache", json_string(cache_names[info.cache]));
	if (info.cache_error[0])
		out_set(k, "cache_error", json_string(info.cache_error));
	return k;
}

/* The outcome of a bounded walk: complete, or stopped with an error. */
static void walk_outcome(json_t *result, size_t nr, int err, const struct imee_error *error)
{
	out_set(result, "count", json_integer((json_int_t)nr));
	out_set(result, "complete", json_boolean(!err));
	if (err) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_error(out_error_code(error), error->message));
	} else {
		out_set(result, "ok", json_true());
	}
}

static json_t *cred_json(const struct imee_linux_task *t)
{
	const struct imee_linux_cred *c = &t->cred;
	json_t *v = out_object();

	out_set(v, "pid", json_integer(t->pid));
	out_set(v, "tgid", json_integer(t->tgid));
	out_set(v, "comm", out_c_string(t->comm, sizeof(t->comm)));
	if (t->cred_err) {
		struct imee_error e = { .err = t->cred_err };

		snprintf(e.message, sizeof(e.message), "cannot read this task's cred");
		out_set(v, "error", out_error(out_error_code(&e), e.message));
		return v;
	}
	out_set(v, "uid", json_integer(c->uid));
	out_set(v, "euid", json_integer(c->euid));
	out_set(v, "suid", json_integer(c->suid));
	out_set(v, "fsuid", json_integer(c->fsuid));
	out_set(v, "gid", json_integer(c->gid));
	out_set(v, "egid", json_integer(c->egid));
	out_set(v, "sgid", json_integer(c->sgid));
	out_set(v, "fsgid", json_integer(c->fsgid));
	out_set(v, "cap_inheritable", out_hex(c->cap_inheritable));
	out_set(v, "cap_permitted", out_hex(c->cap_permitted));
	out_set(v, "cap_effective", out_hex(c->cap_effective));
	out_set(v, "cap_bset", out_hex(c->cap_bset));
	out_set(v, "cap_ambient", out_hex(c->cap_ambient));
	out_set(v, "cred", out_hex(c->address));
	out_set(v, "overridden", json_boolean(c->overridden));
	return v;
}

static json_t *task_json(const struct imee_linux_task *t)
{
	char state[2] = { t->state, '\0' };
	json_t *v = out_object();

	out_set(v, "pid", json_integer(t->pid));
	out_set(v, "tgid", json_integer(t->tgid));
	out_set(v, "ppid", json_integer(t->ppid));
	out_set(v, "comm", out_c_string(t->comm, sizeof(t->comm)));
	out_set(v, "state", out_c_string(state, 1));
	if (t->cred_err) {
		out_set(v, "uid", json_null());
		out_set(v, "gid", json_null());
	} else {
		out_set(v, "uid", json_integer(t->cred.uid));
		out_set(v, "gid", json_integer(t->cred.gid));
	}
	out_set(v, "kthread", json_boolean(t->kthread));
	out_set(v, "start_time_ns", json_integer((json_int_t)t->start_time_ns));
	out_set(v, "start_boottime_ns", json_integer((json_int_t)t->start_boottime_ns));
	out_set(v, "address", out_hex(t->address));
	return v;
}

static void run_tasks(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
		      json_t *result)
{
	IMEE_OPTS(imee_linux_tasks_opts, o, .threads = job->threads, .max = job->max);
	struct imee_linux_task_list list;
	json_t *value;
	size_t i;

	if (imee_linux_tasks(rl->lx, vmem, &o, &list)) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_last_error());
		return;
	}
	value = out_array();
	for (i = 0; i < list.nr; i++)
		out_append(value, job->type == JOB_CREDLIST ? cred_json(&list.tasks[i])
							    : task_json(&list.tasks[i]));
	walk_outcome(result, list.nr, list.err, &list.error);
	out_set(result, "threads", json_boolean(job->threads));
	out_set(result, "value", value);
	imee_linux_task_list_free(&list);
}

static void run_pids(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
		     json_t *result)
{
	IMEE_OPTS(imee_linux_pids_opts, o, .max = job->max);
	struct imee_linux_pid_list list;
	json_t *value;
	size_t i;

	if (imee_linux_pids(rl->lx, vmem, &o, &list)) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_last_error());
		return;
	}
	value = out_array();
	for (i = 0; i < list.nr; i++) {
		const struct imee_linux_pid *p = &list.pids[i];
		json_t *v = out_object();

		out_set(v, "pid", json_integer(p->nr));
		out_set(v, "address", out_hex(p->address));
		if (p->task) {
			out_set(v, "task", out_hex(p->task));
			out_set(v, "tgid", json_integer(p->tgid));
			out_set(v, "comm", out_c_string(p->comm, sizeof(p->comm)));
		} else {
			out_set(v, "task", json_null());
		}
		out_append(value, v);
	}
	walk_outcome(result, list.nr, list.err, &list.error);
	out_set(result, "value", value);
	imee_linux_pid_list_free(&list);
}

/* The cross-view check: pids in one of pidlist and pslist (threads) only. */
static void run_hidden(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
		       json_t *result)
{
	IMEE_OPTS(imee_linux_hidden_opts, o, .max = job->max);
	struct imee_linux_hidden_list list;
	json_t *value, *views;
	size_t i;

	if (imee_linux_hidden(rl->lx, vmem, &o, &list)) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_last_error());
		return;
	}
	value = out_array();
	for (i = 0; i < list.nr; i++) {
		const struct imee_linux_hidden *h = &list.entries[i];
		json_t *v = out_object(), *seen = out_array(), *missing = out_array();

		out_set(v, "pid", json_integer(h->pid));
		out_set(v, "tgid", json_integer(h->tgid));
		out_set(v, "comm", out_c_string(h->comm, sizeof(h->comm)));
		out_set(v, "task", out_hex(h->task));
		out_append(seen,
			   json_string(h->seen_in & IMEE_LINUX_VIEW_PSLIST ? "pslist" : "pidlist"));
		out_append(missing,
			   json_string(h->missing_from & IMEE_LINUX_VIEW_PSLIST ? "pslist"
										: "pidlist"));
		out_set(v, "seen_in", seen);
		out_set(v, "missing_from", missing);
		out_append(value, v);
	}
	views = out_object();
	out_set(views, "pslist", json_integer((json_int_t)list.nr_tasks));
	out_set(views, "pidlist", json_integer((json_int_t)list.nr_pids));
	out_set(result, "ok", json_true());
	out_set(result, "count", json_integer((json_int_t)list.nr));
	out_set(result, "complete", json_true());
	out_set(result, "rounds", json_integer(list.rounds));
	out_set(result, "views", views);
	out_set(result, "value", value);
	imee_linux_hidden_list_free(&list);
}

/* One integer of a walk's field: a number, or "0x..." past what JSON integers hold. */
static json_t *walk_int(const struct imee_linux_walk_field *f, const unsigned char *b, size_t j)
{
	uint64_t v = imee_linux_walk_int(f, b, j);

	if (f->kind == IMEE_LINUX_WALK_ARRAY && f->elem_ptr)
		return out_hex(v);
	if (f->is_signed || v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	return out_hex(v);
}

static json_t *walk_value(const struct imee_linux_walk_field *f, const unsigned char *b)
{
	json_t *a;
	uint32_t j;

	switch (f->kind) {
	case IMEE_LINUX_WALK_INT:
		return walk_int(f, b, 0);
	case IMEE_LINUX_WALK_PTR:
		return out_hex(imee_linux_walk_int(f, b, 0));
	case IMEE_LINUX_WALK_STRING:
		return out_c_string(b, (size_t)f->size);
	case IMEE_LINUX_WALK_ARRAY:
		a = out_array();
		for (j = 0; j < f->nelems; j++)
			out_append(a, walk_int(f, b, j));
		return a;
	}
	return json_null();
}

static json_t *walk_entry_json(const struct imee_linux_walk *w, size_t i)
{
	const struct imee_linux_walk_field *fs;
	json_t *v = out_object(), *fields = out_object(), *errors = NULL;
	size_t k, nr;

	fs = imee_linux_walk_fields(w, &nr);
	out_set(v, "address", out_hex(imee_linux_walk_address(w, i)));
	for (k = 0; k < nr; k++) {
		const unsigned char *b;
		uint64_t at = 0;
		int err = imee_linux_walk_value(w, i, k, &b, &at);
		struct imee_error e = { .err = err };
		char msg[160];

		if (!err) {
			out_set(fields, fs[k].path, walk_value(&fs[k], b));
			continue;
		}
		out_set(fields, fs[k].path, json_null());
		if (err == -ENODATA)
			continue; /* a NULL pointer on the way: no value, no error */
		if (!errors)
			errors = out_object();
		snprintf(msg, sizeof(msg), "cannot read \"%s\" (at 0x%" PRIx64 ")", fs[k].path, at);
		out_set(errors, fs[k].path, out_error(out_error_code(&e), msg));
	}
	out_set(v, "fields", fields);
	if (errors)
		out_set(v, "errors", errors);
	return v;
}

/* The head of a walk: an address, or a symbol found in kallsyms (once per run). */
static int walk_head(struct run_linux *rl, const struct job *job, uint64_t *head, json_t *result)
{
	struct imee_linux_ksym sym;
	size_t matches = 0;
	char msg[IMEE_ERRMSG_MAX];

	if (!job->head_symbol) {
		*head = job->head_address;
		return 0;
	}
	if (need_kallsyms(rl, job)) {
		out_set(result, "error",
			out_error(out_error_code(&rl->ks_error), rl->ks_error.message));
		return -1;
	}
	if (imee_linux_kallsyms_lookup_name(rl->ks, job->head_symbol, &sym, &matches)) {
		snprintf(msg, sizeof(msg), "kallsyms: no symbol \"%.200s\"", job->head_symbol);
		out_set(result, "error", out_error("not-found", msg));
		return -1;
	}
	if (matches > 1) {
		snprintf(msg, sizeof(msg),
			 "kallsyms: %zu symbols are named \"%.100s\": give the head's address",
			 matches, job->head_symbol);
		out_set(result, "error", out_error("not-found", msg));
		return -1;
	}
	*head = sym.address;
	return 0;
}

static void run_walk(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
		     json_t *result)
{
	IMEE_OPTS(imee_linux_walk_opts, o, .type = job->walk_struct, .list = job->walk_list,
		  .head_is_entry = job->head_is_entry, .fields = (const char *const *)job->fields,
		  .nr_fields = job->nr_fields, .max = job->max);
	struct imee_linux_walk *w;
	struct imee_error error;
	json_t *value;
	size_t i, nr;
	int err;

	out_set(result, "struct", json_string(job->walk_struct));
	out_set(result, "list", json_string(job->walk_list));
	if (walk_head(rl, job, &o.head, result))
		return;
	out_set(result, "head", out_hex(o.head));
	if (imee_linux_walk(rl->lx, vmem, &o, &w)) {
		out_set(result, "error", out_last_error());
		return;
	}
	value = out_array();
	nr = imee_linux_walk_count(w);
	for (i = 0; i < nr; i++)
		out_append(value, walk_entry_json(w, i));
	err = imee_linux_walk_error(w, &error);
	walk_outcome(result, nr, err, &error);
	out_set(result, "value", value);
	imee_linux_walk_free(w);
}

static json_t *module_json(const struct imee_linux_module *m)
{
	json_t *v = out_object();

	out_set(v, "name", out_c_string(m->name, sizeof(m->name)));
	out_set(v, "state", json_string(imee_linux_module_state_name(m->state)));
	if (m->state == IMEE_LINUX_MODULE_UNKNOWN)
		out_set(v, "state_raw", json_integer(m->state_raw));
	out_set(v, "base", out_hex(m->base));
	out_set(v, "size", json_integer((json_int_t)m->size));
	out_set(v, "refcount", m->has_refcount ? json_integer(m->refcount) : json_null());
	out_set(v, "address", out_hex(m->address));
	return v;
}

static void run_modules(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
			json_t *result)
{
	IMEE_OPTS(imee_linux_modules_opts, o, .max = job->max);
	struct imee_linux_module_list list;
	json_t *value;
	size_t i;

	if (imee_linux_modules(rl->lx, vmem, &o, &list)) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_last_error());
		return;
	}
	value = out_array();
	for (i = 0; i < list.nr; i++)
		out_append(value, module_json(&list.modules[i]));
	walk_outcome(result, list.nr, list.err, &list.error);
	out_set(result, "value", value);
	imee_linux_module_list_free(&list);
}

static json_t *syscall_json(const struct imee_linux_syscall *e)
{
	json_t *v = out_object();

	out_set(v, "nr", json_integer(e->nr));
	out_set(v, "handler", out_hex(e->handler));
	if (e->symbol) {
		out_set(v, "symbol", out_c_string(e->symbol, strlen(e->symbol)));
		out_set(v, "offset", json_integer((json_int_t)e->offset));
	} else {
		out_set(v, "symbol", json_null());
	}
	out_set(v, "flagged", json_boolean(e->flag != IMEE_LINUX_SYSCALL_OK));
	if (e->flag != IMEE_LINUX_SYSCALL_OK)
		out_set(v, "reason", json_string(imee_linux_syscall_flag_name(e->flag)));
	return v;
}

static json_t *syscall_table_json(const struct imee_linux_syscall_table *t)
{
	json_t *v = out_object(), *entries = out_array();
	size_t i;

	out_set(v, "address", out_hex(t->address));
	out_set(v, "size", json_integer((json_int_t)t->size));
	out_set(v, "size_from",
		json_string(t->count_source == IMEE_LINUX_SYSCALL_COUNT_BTF ? "btf" : "kallsyms"));
	out_set(v, "used_for_dispatch", json_boolean(t->used_for_dispatch));
	out_set(v, "flagged", json_integer((json_int_t)t->nr_flagged));
	for (i = 0; i < t->nr; i++)
		out_append(entries, syscall_json(&t->entries[i]));
	out_set(v, "entries", entries);
	return v;
}

static json_t *ksyms_kernel_json(const struct imee_linux_kallsyms *ks,
				 const struct imee_linux_syscall_table *t)
{
	struct imee_linux_ksym sym;
	json_t *k = out_object();

	if (!imee_linux_kallsyms_lookup_name(ks, "_text", &sym, NULL)) {
		out_set(k, "text", out_hex(sym.address));
		out_set(k, "kaslr_slide", out_hex(sym.address - IMEE_LINUX_TEXT_DEFAULT));
	}
	out_set(k, "stext", out_hex(t->stext));
	out_set(k, "etext", out_hex(t->etext));
	return k;
}

/*
 * Both tables: a table the kernel does not have is null. The first table
 * that cannot be read, or has more than "max" entries, makes the job fail
 * with that error; what was read is still given.
 */
static void run_syscalls(struct run_linux *rl, const struct job *job, const struct imee_vmem *vmem,
			 json_t *result)
{
	static const enum imee_linux_syscall_abi abis[] = { IMEE_LINUX_SYSCALLS_X64,
							    IMEE_LINUX_SYSCALLS_IA32 };
	static const char *const names[] = { "sys_call_table", "ia32_sys_call_table" };
	struct imee_error error = { 0 };
	json_t *value = out_object(), *kernel = NULL;
	size_t i, count = 0, flagged = 0, present = 0;

	if (need_kallsyms(rl, job)) {
		out_set(result, "ok", json_false());
		out_set(result, "error",
			out_error(out_error_code(&rl->ks_error), rl->ks_error.message));
		json_decref(value);
		return;
	}
	for (i = 0; i < sizeof(abis) / sizeof(abis[0]); i++) {
		IMEE_OPTS(imee_linux_syscalls_opts, o, .abi = abis[i], .lx = rl->lx,
			  .max = job->max);
		struct imee_linux_syscall_table t;
		struct imee_linux_ksym sym;

		if (imee_linux_kallsyms_lookup_name(rl->ks, names[i], &sym, NULL)) {
			out_set(value, names[i], json_null());
			continue;
		}
		if (imee_linux_syscalls(rl->ks, vmem, &o, &t)) {
			if (!error.err)
				error = *imee_last_error();
			continue;
		}
		present++;
		if (!kernel)
			kernel = ksyms_kernel_json(rl->ks, &t);
		out_set(value, names[i], syscall_table_json(&t));
		count += t.nr;
		flagged += t.nr_flagged;
		if (t.err && !error.err)
			error = t.error;
		imee_linux_syscall_table_free(&t);
	}
	if (!error.err && !present)
		error = (struct imee_error){
			.err = -ENOENT, .message = "kallsyms: the kernel has no system call table"
		};
	if (kernel)
		out_set(result, "kernel", kernel);
	walk_outcome(result, count, error.err, &error);
	out_set(result, "flagged", json_integer((json_int_t)flagged));
	out_set(result, "value", value);
}

void run_linux_job(struct run_linux *rl, const struct job *job, json_t *result)
{
	struct imee_vmem vmem;
	int opened;

	if (!rl->vcpu) {
		out_set(result, "ok", json_false());
		out_set(result, "error",
			out_error("no-vcpu",
				  "the target has no vCPU to take CR3 and the paging mode from"));
		return;
	}
	/* first, as it may change walk.cr3 to the kernel's own table */
	opened = open_linux(rl, job);
	if (job_vmem(rl, job, &vmem)) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_last_error());
		return;
	}
	if (job->type == JOB_SYSCALLDMP) {
		/* BTF (NR_syscalls) helps, but is not needed: a failure is no error here. */
		run_syscalls(rl, job, &vmem, result);
	} else if (opened) {
		out_set(result, "ok", json_false());
		out_set(result, "error", out_error(out_error_code(&rl->error), rl->error.message));
	} else {
		out_set(result, "kernel", kernel_json(rl, rl->lx));
		if (job->type == JOB_PIDLIST)
			run_pids(rl, job, &vmem, result);
		else if (job->type == JOB_MODULES)
			run_modules(rl, job, &vmem, result);
		else if (job->type == JOB_HIDDEN)
			run_hidden(rl, job, &vmem, result);
		else if (job->type == JOB_WALK)
			run_walk(rl, job, &vmem, result);
		else
			run_tasks(rl, job, &vmem, result);
	}
	imee_vmem_release(&vmem);
}

void run_linux_done(struct run_linux *rl)
{
	imee_linux_close(rl->lx);
	rl->lx = NULL;
	imee_linux_kallsyms_free(rl->ks);
	rl->ks = NULL;
}
