// SPDX-License-Identifier: GPL-2.0
/*
 * The system call tables: sys_call_table (and ia32_sys_call_table where the
 * kernel has one), each entry named by the kernel symbol it points to and
 * checked against what the kernel itself puts there.
 *
 * What Linux puts there (arch/x86/entry/syscall_64.c and syscall_32.c,
 * since 4.17's syscall wrappers): entry N of sys_call_table is
 * __x64_sys_NAME, or __x64_sys_ni_syscall for a number with no system call
 * (older kernels: sys_ni_syscall); ia32_sys_call_table holds __ia32_sys_*
 * and __ia32_compat_sys_* (and the ni_syscall ones). So a handler is
 * expected to be the start of a symbol with one of those names, inside the
 * kernel's text; an entry that points anywhere else (a module, a page of
 * its own, another kernel function, the middle of one) is flagged. This
 * rule takes nothing from outside the guest: the names come from its own
 * kallsyms.
 *
 * How many entries: NR_syscalls is no symbol. The guest's BTF has it as
 * the length of trace_array.enter_syscall_files[NR_syscalls] (with
 * CONFIG_FTRACE_SYSCALLS, as Debian's kernels have); that is used when it
 * fits in the room kallsyms leaves before the next symbol. Otherwise that
 * room decides, less the zero words at its end that are alignment padding
 * (a real entry is never 0). Either way at most IMEE_LINUX_SYSCALLS_MAX,
 * and the table is read once, in one read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

/*
 * Padding the compiler or linker may leave between the table and the next
 * object (alignment to 32 bytes, or a cache line): zero words within this
 * many bytes of the next symbol are not entries.
 */
#define PAD_MAX 64
/* Symbols sharing one address looked at, at most. */
#define ALIASES_MAX 64

struct abi_rule {
	const char *table;
	const char *dispatch; /* the switch that replaced the table in the entry code */
	const char *prefixes[3];
};

static const struct abi_rule rules[] = {
	[IMEE_LINUX_SYSCALLS_X64] = { "sys_call_table", "x64_sys_call", { "__x64_sys_", NULL } },
	[IMEE_LINUX_SYSCALLS_IA32] = { "ia32_sys_call_table",
				       "ia32_sys_call",
				       { "__ia32_sys_", "__ia32_compat_sys_", NULL } },
};

const char *imee_linux_syscall_flag_name(enum imee_linux_syscall_flag flag)
{
	switch (flag) {
	case IMEE_LINUX_SYSCALL_OK:
		return "ok";
	case IMEE_LINUX_SYSCALL_OUTSIDE_TEXT:
		return "outside-text";
	case IMEE_LINUX_SYSCALL_NOT_A_HANDLER:
		return "not-a-handler";
	}
	return "unknown";
}

static bool expected_name(const struct abi_rule *r, const char *name)
{
	size_t i;

	if (!strcmp(name, "sys_ni_syscall"))
		return true;
	for (i = 0; r->prefixes[i]; i++)
		if (!strncmp(name, r->prefixes[i], strlen(r->prefixes[i])))
			return true;
	return false;
}

struct sc_ctx {
	const struct imee_linux_kallsyms *ks;
	const struct abi_rule *rule;
	uint64_t text, end; /* the kernel image: symbols are named inside it */
	uint64_t stext, etext;
};

/* Name an entry's handler, and flag it when it is not what the kernel puts there. */
static void classify(const struct sc_ctx *c, struct imee_linux_syscall *e)
{
	struct imee_linux_ksym sym, alias;
	bool expected = false;
	size_t k;

	e->flag = IMEE_LINUX_SYSCALL_OK;
	if (e->handler < c->stext || e->handler >= c->etext)
		e->flag = IMEE_LINUX_SYSCALL_OUTSIDE_TEXT;
	if (e->handler >= c->text && e->handler < c->end &&
	    !imee_linux_kallsyms_lookup_address(c->ks, e->handler, &sym)) {
		e->symbol = sym.name;
		e->type = sym.type;
		e->offset = e->handler - sym.address;
		/* Several names for one address (__x64_ and __ia32_sys_ni_syscall): any will do. */
		for (k = 0; !e->offset && k < ALIASES_MAX && k <= sym.index; k++) {
			if (imee_linux_kallsyms_get(c->ks, sym.index - k, &alias) ||
			    alias.address != e->handler)
				break;
			if (expected_name(c->rule, alias.name)) {
				e->symbol = alias.name;
				e->type = alias.type;
				expected = true;
				break;
			}
		}
	}
	if (e->flag == IMEE_LINUX_SYSCALL_OK && !expected)
		e->flag = IMEE_LINUX_SYSCALL_NOT_A_HANDLER;
}

static int need_symbol(const struct imee_linux_kallsyms *ks, const char *name, uint64_t *addr,
		       size_t *index)
{
	struct imee_linux_ksym sym;

	if (imee_linux_kallsyms_lookup_name(ks, name, &sym, NULL))
		return imee_fail(-ENOENT, "kallsyms: the kernel has no %s", name);
	*addr = sym.address;
	if (index)
		*index = sym.index;
	return 0;
}

/* The first symbol above addr, from index on (the table's own); 0 when there is none. */
static uint64_t next_symbol(const struct imee_linux_kallsyms *ks, size_t index, uint64_t addr)
{
	struct imee_linux_ksym sym;
	size_t i, n = imee_linux_kallsyms_count(ks);

	/* Addresses are sorted (checked at load): the loop ends at the first one above. */
	for (i = index; i < n; i++)
		if (!imee_linux_kallsyms_get(ks, i, &sym) && sym.address > addr)
			return sym.address;
	return 0;
}

/* NR_syscalls from BTF, when it fits the room before the next symbol; else 0. */
static size_t btf_count(const struct imee_linux_syscalls_opts *o, uint64_t room)
{
	uint64_t nr;

	if (!o->lx || o->abi != IMEE_LINUX_SYSCALLS_X64)
		return 0;
	nr = o->lx->build.layout.trace_syscall_files.size / 8;
	if (!nr || nr > IMEE_LINUX_SYSCALLS_MAX || 8 * nr > room || room - 8 * nr > PAD_MAX)
		return 0;
	return (size_t)nr;
}

int imee_linux_syscalls(const struct imee_linux_kallsyms *ks, const struct imee_vmem *vmem,
			const struct imee_linux_syscalls_opts *opts,
			struct imee_linux_syscall_table *table_ret)
{
	struct imee_linux_syscalls_opts o;
	struct imee_linux_syscall_table t;
	struct sc_ctx c = { .ks = ks };
	unsigned char *raw = NULL;
	uint64_t next, room, dispatch;
	size_t index = 0, words, i, max;
	int err;

	if (!ks || !vmem || !opts || !table_ret)
		return imee_fail(-EINVAL, "syscalls: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_syscalls_opts, max),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "syscalls: bad options");
	memset(&o, 0, sizeof(o));
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if ((o.abi != IMEE_LINUX_SYSCALLS_X64 && o.abi != IMEE_LINUX_SYSCALLS_IA32) ||
	    o.max > IMEE_LINUX_SYSCALLS_MAX)
		return imee_fail(-EINVAL, "syscalls: bad options");
	c.rule = &rules[o.abi];
	memset(&t, 0, sizeof(t));
	t.abi = o.abi;
	t.name = c.rule->table;
	err = need_symbol(ks, t.name, &t.address, &index);
	if (!err)
		err = need_symbol(ks, "_stext", &c.stext, NULL);
	if (!err)
		err = need_symbol(ks, "_etext", &c.etext, NULL);
	if (err)
		return err;
	if (need_symbol(ks, "_text", &c.text, NULL))
		c.text = c.stext;
	if (need_symbol(ks, "_end", &c.end, NULL))
		c.end = c.etext;
	t.stext = c.stext;
	t.etext = c.etext;
	t.used_for_dispatch = need_symbol(ks, c.rule->dispatch, &dispatch, NULL) != 0;
	if (c.stext >= c.etext || c.text > c.stext || c.end < c.etext ||
	    c.stext < IMEE_LINUX_KERNEL_IMAGE_START || c.end > IMEE_LINUX_KERNEL_IMAGE_END)
		return imee_fail(-EBADMSG, "kallsyms: _text, _stext, _etext, _end implausible");
	if (t.address % 8 || t.address < c.text || t.address >= c.end)
		return imee_fail(-EBADMSG,
				 "kallsyms: %s at 0x%" PRIx64 " is not in the kernel image", t.name,
				 t.address);

	/* The room before the next symbol bounds the table. */
	next = next_symbol(ks, index, t.address);
	if (!next)
		return imee_fail(-EPROTO, "kallsyms: nothing follows %s: its size is unknown",
				 t.name);
	room = next - t.address;
	words = room / 8 < IMEE_LINUX_SYSCALLS_MAX ? (size_t)(room / 8) : IMEE_LINUX_SYSCALLS_MAX;
	if (!words)
		return imee_fail(-EPROTO, "kallsyms: %s has no room for an entry", t.name);
	raw = malloc(words * 8);
	if (!raw)
		return imee_fail(-ENOMEM, "out of memory");
	err = imee_vmem_read(vmem, t.address, raw, words * 8);
	if (err) {
		free(raw);
		return imee_fail_context(err, "%s at 0x%" PRIx64, t.name, t.address);
	}
	t.size = btf_count(&o, room);
	if (t.size) {
		t.count_source = IMEE_LINUX_SYSCALL_COUNT_BTF;
	} else {
		t.count_source = IMEE_LINUX_SYSCALL_COUNT_KALLSYMS;
		t.size = words;
		while (t.size && room - 8 * (t.size - 1) <= PAD_MAX &&
		       !linux_field(raw, 0, (struct layout_field){ 8 * (t.size - 1), 8 }))
			t.size--;
		if (!t.size) {
			free(raw);
			return imee_fail(-EBADMSG, "%s at 0x%" PRIx64 " holds only zeros", t.name,
					 t.address);
		}
	}

	max = o.max && o.max < t.size ? o.max : t.size;
	t.entries = calloc(max, sizeof(*t.entries));
	if (!t.entries) {
		free(raw);
		return imee_fail(-ENOMEM, "out of memory");
	}
	for (i = 0; i < max; i++) {
		struct imee_linux_syscall *e = &t.entries[i];

		e->nr = (uint32_t)i;
		e->handler = linux_field(raw, 0, (struct layout_field){ 8 * i, 8 });
		classify(&c, e);
		t.nr_flagged += e->flag != IMEE_LINUX_SYSCALL_OK;
	}
	t.nr = max;
	free(raw);
	if (max < t.size) {
		t.err = imee_fail(-E2BIG, "%s has %zu entries, more than %zu: stopped there",
				  t.name, t.size, max);
		t.error = *imee_last_error();
	}
	*table_ret = t;
	return 0;
}

void imee_linux_syscall_table_free(struct imee_linux_syscall_table *table)
{
	if (!table)
		return;
	free(table->entries);
	table->entries = NULL;
	table->nr = 0;
}
