// SPDX-License-Identifier: GPL-2.0
/*
 * The field offsets the Linux jobs use, resolved from the guest's BTF by
 * name (never typed in by hand), checked, and written to and read from the
 * cache. Every field is one row of the table below.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_layout.h"

enum entry_kind { E_SIZE, E_ENUM, E_MEMBER };

/* A struct's size has a field offset; "none" bounds nothing. */
#define NO_STRUCT SIZE_MAX
#define L(f) offsetof(struct linux_layout, f)

struct entry {
	const char *key; /* the BTF path, and the name in the cache */
	const char *alt; /* the name in older kernels, or NULL */
	enum entry_kind kind;
	size_t at; /* where in struct linux_layout */
	size_t within; /* the size of the struct it lies in, or NO_STRUCT */
	uint64_t size_lo, size_hi; /* the member sizes accepted */
	bool pidtype; /* the path gets "[PIDTYPE_PID]" appended */
	/*
	 * The kernel may lack it (a build without modules, another
	 * version's layout): then 0 (a size, a member's offset and size) or
	 * LAYOUT_ABSENT (an enumerator), and only the job that needs it fails.
	 */
	bool optional;
};

#define SIZE(key, f)                                                          \
	{                                                                     \
		key, NULL, E_SIZE, L(f), NO_STRUCT, 1, 1U << 20, false, false \
	}
#define MEMBER(key, alt, f, in, lo, hi)                               \
	{                                                             \
		key, alt, E_MEMBER, L(f), L(in), lo, hi, false, false \
	}
#define OPT_SIZE(key, f)                                                     \
	{                                                                    \
		key, NULL, E_SIZE, L(f), NO_STRUCT, 1, 1U << 20, false, true \
	}
#define OPT_ENUM(key, f)                                              \
	{                                                             \
		key, NULL, E_ENUM, L(f), NO_STRUCT, 0, 0, false, true \
	}
#define OPT_MEMBER(key, f, in, lo, hi)                                \
	{                                                             \
		key, NULL, E_MEMBER, L(f), L(in), lo, hi, false, true \
	}

static const struct entry entries[] = {
	SIZE("task_struct", task_size),
	SIZE("signal_struct", signal_size),
	SIZE("cred", cred_size),
	SIZE("pid", pid_size),
	SIZE("upid", upid_size),
	SIZE("pid_namespace", pidns_size),
	SIZE("xa_node", xa_node_size),
	SIZE("list_head", list_size),
	SIZE("hlist_head", hlist_size),
	{ "PIDTYPE_PID", NULL, E_ENUM, L(pidtype_pid), NO_STRUCT, 0, 0, false, false },
	MEMBER("task_struct.tasks", NULL, task_tasks, task_size, 16, 16),
	MEMBER("task_struct.pid", NULL, task_pid, task_size, 4, 4),
	MEMBER("task_struct.tgid", NULL, task_tgid, task_size, 4, 4),
	MEMBER("task_struct.real_parent", NULL, task_real_parent, task_size, 8, 8),
	MEMBER("task_struct.comm", NULL, task_comm, task_size, IMEE_LINUX_COMM_LEN, 64),
	/* Linux 5.14 renamed state (a long) to __state (an unsigned int). */
	MEMBER("task_struct.__state", "task_struct.state", task_state, task_size, 4, 8),
	MEMBER("task_struct.exit_state", NULL, task_exit_state, task_size, 4, 4),
	MEMBER("task_struct.flags", NULL, task_flags, task_size, 4, 4),
	MEMBER("task_struct.real_cred", NULL, task_real_cred, task_size, 8, 8),
	MEMBER("task_struct.cred", NULL, task_cred, task_size, 8, 8),
	MEMBER("task_struct.start_time", NULL, task_start_time, task_size, 8, 8),
	/* Linux 5.5 renamed real_start_time to start_boottime. */
	MEMBER("task_struct.start_boottime", "task_struct.real_start_time", task_start_boottime,
	       task_size, 8, 8),
	MEMBER("task_struct.signal", NULL, task_signal, task_size, 8, 8),
	MEMBER("task_struct.thread_node", NULL, task_thread_node, task_size, 16, 16),
	{ "task_struct.pid_links", NULL, E_MEMBER, L(task_pid_link), L(task_size), 16, 16, true,
	  false },
	MEMBER("signal_struct.thread_head", NULL, signal_thread_head, signal_size, 16, 16),
	MEMBER("list_head.next", NULL, list_next, list_size, 8, 8),
	MEMBER("list_head.prev", NULL, list_prev, list_size, 8, 8),
	MEMBER("hlist_head.first", NULL, hlist_first, hlist_size, 8, 8),
	MEMBER("cred.uid", NULL, cred_uid, cred_size, 4, 4),
	MEMBER("cred.gid", NULL, cred_gid, cred_size, 4, 4),
	MEMBER("cred.suid", NULL, cred_suid, cred_size, 4, 4),
	MEMBER("cred.sgid", NULL, cred_sgid, cred_size, 4, 4),
	MEMBER("cred.euid", NULL, cred_euid, cred_size, 4, 4),
	MEMBER("cred.egid", NULL, cred_egid, cred_size, 4, 4),
	MEMBER("cred.fsuid", NULL, cred_fsuid, cred_size, 4, 4),
	MEMBER("cred.fsgid", NULL, cred_fsgid, cred_size, 4, 4),
	MEMBER("cred.cap_inheritable", NULL, cred_cap_inheritable, cred_size, 8, 8),
	MEMBER("cred.cap_permitted", NULL, cred_cap_permitted, cred_size, 8, 8),
	MEMBER("cred.cap_effective", NULL, cred_cap_effective, cred_size, 8, 8),
	MEMBER("cred.cap_bset", NULL, cred_cap_bset, cred_size, 8, 8),
	MEMBER("cred.cap_ambient", NULL, cred_cap_ambient, cred_size, 8, 8),
	MEMBER("pid.level", NULL, pid_level, pid_size, 4, 4),
	{ "pid.tasks", NULL, E_MEMBER, L(pid_task_head), L(pid_size), 8, 8, true, false },
	/* numbers[1] in the kernel's struct; a flexible array in some builds. */
	MEMBER("pid.numbers", NULL, pid_numbers, pid_size, 0, 1U << 12),
	MEMBER("upid.nr", NULL, upid_nr, upid_size, 4, 4),
	MEMBER("upid.ns", NULL, upid_ns, upid_size, 8, 8),
	MEMBER("pid_namespace.idr.idr_rt.xa_head", NULL, pidns_xa_head, pidns_size, 8, 8),
	MEMBER("pid_namespace.idr.idr_base", NULL, pidns_idr_base, pidns_size, 4, 4),
	MEMBER("xa_node.shift", NULL, xa_shift, xa_node_size, 1, 1),
	MEMBER("xa_node.offset", NULL, xa_offset, xa_node_size, 1, 1),
	MEMBER("xa_node.parent", NULL, xa_parent, xa_node_size, 8, 8),
	MEMBER("xa_node.slots", NULL, xa_slots, xa_node_size, 16, 8 * 256),
	/* Modules: struct module, its list and where its memory lies. */
	OPT_SIZE("module", module_size),
	OPT_SIZE("module_memory", module_memory_size),
	OPT_ENUM("MOD_TEXT", mod_text),
	OPT_ENUM("MODULE_STATE_LIVE", module_state_live),
	OPT_ENUM("MODULE_STATE_COMING", module_state_coming),
	OPT_ENUM("MODULE_STATE_GOING", module_state_going),
	OPT_ENUM("MODULE_STATE_UNFORMED", module_state_unformed),
	OPT_MEMBER("module.list", module_list, module_size, 16, 16),
	OPT_MEMBER("module.name", module_name, module_size, 8, 256),
	OPT_MEMBER("module.state", module_state, module_size, 4, 4),
	OPT_MEMBER("module.refcnt", module_refcnt, module_size, 4, 4),
	/* Up to 6.3: core_layout and init_layout. */
	OPT_MEMBER("module.core_layout.base", module_core_base, module_size, 8, 8),
	OPT_MEMBER("module.core_layout.size", module_core_size, module_size, 4, 8),
	OPT_MEMBER("module.init_layout.size", module_init_size, module_size, 4, 8),
	/* 6.4+: mem[MOD_MEM_NUM_TYPES]. */
	OPT_MEMBER("module.mem", module_mem, module_size, 16, 1U << 12),
	OPT_MEMBER("module_memory.base", module_memory_base, module_memory_size, 8, 8),
	OPT_MEMBER("module_memory.size", module_memory_size_f, module_memory_size, 4, 8),
	/* NR_syscalls, from the length of an array of that many pointers. */
	{ "trace_array.enter_syscall_files", NULL, E_MEMBER, L(trace_syscall_files), NO_STRUCT, 8,
	  8 * 1024, false, true },
};

static uint64_t *u64_at(struct linux_layout *l, size_t at)
{
	return (uint64_t *)((char *)l + at);
}

static const uint64_t *cu64_at(const struct linux_layout *l, size_t at)
{
	return (const uint64_t *)((const char *)l + at);
}

static int resolve_member(const struct imee_linux_btf *btf, const struct entry *e,
			  const struct linux_layout *l, struct imee_linux_btf_member *m)
{
	char path[128];
	int err;

	if (e->pidtype)
		snprintf(path, sizeof(path), "%s[%" PRId64 "]", e->key, l->pidtype_pid);
	else
		snprintf(path, sizeof(path), "%s", e->key);
	err = imee_linux_btf_member(btf, path, m);
	if (err == -ENOENT && e->alt)
		err = imee_linux_btf_member(btf, e->alt, m);
	if (err)
		return err;
	if (m->bit_size)
		return imee_fail(-EPROTO, "BTF: %s is a bitfield", e->key);
	return 0;
}

int linux_layout_from_btf(const struct imee_linux_btf *btf, struct linux_layout *layout)
{
	struct linux_layout l;
	size_t i;
	int err;

	memset(&l, 0, sizeof(l));
	/* The table lists sizes and the enum first: members need them. */
	for (i = 0; i < IMEE_ARRAY_SIZE(entries); i++) {
		const struct entry *e = &entries[i];
		struct imee_linux_btf_member m;

		switch (e->kind) {
		case E_SIZE:
			err = imee_linux_btf_type_size(btf, e->key, u64_at(&l, e->at));
			break;
		case E_ENUM:
			err = imee_linux_btf_enum_value(btf, e->key, (int64_t *)u64_at(&l, e->at));
			if (err == -ENOENT && e->optional) {
				*(int64_t *)u64_at(&l, e->at) = LAYOUT_ABSENT;
				err = 0;
			}
			break;
		case E_MEMBER:
			err = resolve_member(btf, e, &l, &m);
			if (err == -ENOENT && e->optional) {
				m = (struct imee_linux_btf_member){ .size = 0 };
				err = 0;
			}
			if (!err) {
				struct layout_field *f = (struct layout_field *)u64_at(&l, e->at);

				f->off = m.offset;
				f->size = m.size;
			}
			break;
		default:
			err = -EINVAL;
		}
		if (err == -ENOENT && e->optional && e->kind == E_SIZE)
			err = 0; /* left 0: absent */
		if (err)
			return imee_fail_context(err, "the kernel's %s", e->key);
	}
	err = linux_layout_check(&l);
	if (err)
		return err;
	*layout = l;
	return 0;
}

static bool enum_ok(int64_t v, int64_t max)
{
	return v == LAYOUT_ABSENT || (v >= 0 && v <= max);
}

/* What the optional entries must satisfy among themselves. */
static int check_optional(const struct linux_layout *l)
{
	const int64_t states[] = { l->module_state_live, l->module_state_coming,
				   l->module_state_going, l->module_state_unformed };
	size_t i, j;

	if (!enum_ok(l->mod_text, 64))
		return imee_fail(-EPROTO, "layout: MOD_TEXT is %" PRId64, l->mod_text);
	for (i = 0; i < IMEE_ARRAY_SIZE(states); i++) {
		if (!enum_ok(states[i], 1 << 16))
			return imee_fail(-EPROTO, "layout: a module state is %" PRId64, states[i]);
		for (j = 0; j < i; j++)
			if (states[i] != LAYOUT_ABSENT && states[i] == states[j])
				return imee_fail(-EPROTO, "layout: two module states are %" PRId64,
						 states[i]);
	}
	/* mem[] is an array of struct module_memory, MOD_TEXT one of them. */
	if (l->module_mem.size &&
	    (!l->module_memory_size || l->module_mem.size % l->module_memory_size ||
	     (l->mod_text != LAYOUT_ABSENT &&
	      (uint64_t)l->mod_text >= l->module_mem.size / l->module_memory_size)))
		return imee_fail(-EPROTO, "layout: module.mem implausible");
	if (l->trace_syscall_files.size % 8)
		return imee_fail(-EPROTO, "layout: trace_array.enter_syscall_files implausible");
	return 0;
}

int linux_layout_check(const struct linux_layout *l)
{
	size_t i;

	if (l->pidtype_pid < 0 || l->pidtype_pid > 16)
		return imee_fail(-EPROTO, "layout: PIDTYPE_PID is %" PRId64, l->pidtype_pid);
	for (i = 0; i < IMEE_ARRAY_SIZE(entries); i++) {
		const struct entry *e = &entries[i];
		const struct layout_field *f;

		if (e->kind == E_SIZE) {
			uint64_t v = *cu64_at(l, e->at);

			if (e->optional && !v)
				continue;
			if (v < e->size_lo || v > e->size_hi)
				return imee_fail(-EPROTO, "layout: sizeof(%s) is %" PRIu64, e->key,
						 v);
			continue;
		}
		if (e->kind != E_MEMBER)
			continue;
		f = (const struct layout_field *)cu64_at(l, e->at);
		if (e->optional && !f->size && !f->off)
			continue;
		if (f->size < e->size_lo || f->size > e->size_hi)
			return imee_fail(-EPROTO, "layout: %s has %" PRIu64 " bytes", e->key,
					 f->size);
		/* Sizes are at most 1 MiB (checked above, first): no overflow. */
		if (e->within != NO_STRUCT && f->off + f->size > *cu64_at(l, e->within))
			return imee_fail(-EPROTO,
					 "layout: %s at %" PRIu64 "+%" PRIu64
					 " lies outside its struct (%" PRIu64 " bytes)",
					 e->key, f->off, f->size, *cu64_at(l, e->within));
	}
	/* numbers[] may be a flexible array: its first element may end past sizeof. */
	if (l->pid_numbers.off > l->pid_size || l->xa_slots.size % 8 ||
	    (l->xa_slots.size / 8) & (l->xa_slots.size / 8 - 1))
		return imee_fail(-EPROTO, "layout: pid.numbers or xa_node.slots implausible");
	return check_optional(l);
}

/* ---- the cache file's form ---- */

#define CACHE_MAGIC "imee-linux-cache 1"
#define CACHE_TEXT_MAX (64U << 10)

struct sink {
	char *buf;
	size_t len, cap;
	bool failed;
};

IMEE_PRINTF(2, 3) static void put(struct sink *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->cap - s->len) {
		s->failed = true;
		return;
	}
	s->len += (size_t)n;
}

static bool banner_ok(const char *text)
{
	size_t i, n = strnlen(text, IMEE_LINUX_BANNER_MAX);

	if (!n || n >= IMEE_LINUX_BANNER_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			return false;
	return true;
}

static void put_range(struct sink *s, const char *name, const struct linux_range_sum *r)
{
	put(s, "%s 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n", name, r->off, r->len, r->sum);
}

int linux_build_format(const struct linux_build *b, char **text_ret)
{
	struct sink s = { .cap = CACHE_TEXT_MAX };
	size_t i;

	if (!banner_ok(b->banner))
		return imee_fail(-EINVAL, "cache: the banner is not printable");
	s.buf = malloc(s.cap);
	if (!s.buf)
		return imee_fail(-ENOMEM, "out of memory");
	put(&s, "%s\n", CACHE_MAGIC);
	put(&s, "banner %s\n", b->banner);
	put(&s, "btf_checksum 0x%" PRIx64 "\n", b->btf_checksum);
	put_range(&s, "ksyms_names", &b->ksyms_names);
	put_range(&s, "ksyms_offsets", &b->ksyms_offsets);
	put(&s, "sym init_task 0x%" PRIx64 "\n", b->sym.init_task);
	put(&s, "sym init_pid_ns 0x%" PRIx64 "\n", b->sym.init_pid_ns);
	put(&s, "sym linux_banner 0x%" PRIx64 "\n", b->sym.banner);
	put(&s, "sym __start_BTF 0x%" PRIx64 "\n", b->sym.btf);
	put(&s, "sym btf_size 0x%" PRIx64 "\n", b->sym.btf_size);
	put(&s, "sym modules 0x%" PRIx64 "\n", b->sym.modules);
	if (b->sym.top_pgt)
		put(&s, "sym init_top_pgt 0x%" PRIx64 "\n", b->sym.top_pgt);
	for (i = 0; i < IMEE_ARRAY_SIZE(entries); i++) {
		const struct entry *e = &entries[i];
		const uint64_t *v = cu64_at(&b->layout, e->at);

		if (e->kind == E_MEMBER)
			put(&s, "field %s 0x%" PRIx64 " 0x%" PRIx64 "\n", e->key, v[0], v[1]);
		else
			put(&s, "%s %s 0x%" PRIx64 "\n", e->kind == E_SIZE ? "size" : "enum",
			    e->key, v[0]);
	}
	put(&s, "checksum 0x%016" PRIx64 "\n", imee_fnv1a(IMEE_FNV1A_INIT, s.buf, s.len));
	if (s.failed) {
		free(s.buf);
		return imee_fail(-E2BIG, "cache: the entry does not fit");
	}
	*text_ret = s.buf;
	return 0;
}

/* A "0x..." number ending at a space or the end of the line; moves *p past it. */
static bool hex_word(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;
	uint64_t x = 0;
	unsigned int digits = 0;

	if (end - q < 3 || q[0] != '0' || q[1] != 'x')
		return false;
	for (q += 2; q < end && *q != ' '; q++, digits++) {
		unsigned int d;

		if (*q >= '0' && *q <= '9')
			d = (unsigned int)(*q - '0');
		else if (*q >= 'a' && *q <= 'f')
			d = (unsigned int)(*q - 'a' + 10);
		else
			return false;
		if (digits >= 16)
			return false;
		x = x << 4 | d;
	}
	if (!digits)
		return false;
	if (q < end)
		q++; /* the space */
	*p = q;
	*v = x;
	return true;
}

/* "word " at *p: moves past it. */
static bool word(const char **p, const char *end, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(end - *p) <= n || memcmp(*p, w, n) || (*p)[n] != ' ')
		return false;
	*p += n + 1;
	return true;
}

/* Parse "name 0xA 0xB ..." with nr numbers and nothing else on the line. */
static bool numbers(const char *p, const char *end, uint64_t *v, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!hex_word(&p, end, &v[i]))
			return false;
	return p == end;
}

static int parse_line(const char *p, const char *end, struct linux_build *b, bool *seen)
{
	uint64_t v[3];
	size_t i;

	if (word(&p, end, "banner")) {
		size_t n = (size_t)(end - p);

		if (n >= IMEE_LINUX_BANNER_MAX || seen[0])
			return -1;
		memcpy(b->banner, p, n);
		b->banner[n] = '\0';
		seen[0] = true;
		return banner_ok(b->banner) ? 0 : -1;
	}
	if (word(&p, end, "btf_checksum") && numbers(p, end, v, 1) && !seen[1]) {
		b->btf_checksum = v[0];
		seen[1] = true;
		return 0;
	}
	if (word(&p, end, "ksyms_names") && numbers(p, end, v, 3) && !seen[2]) {
		b->ksyms_names = (struct linux_range_sum){ v[0], v[1], v[2] };
		seen[2] = true;
		return 0;
	}
	if (word(&p, end, "ksyms_offsets") && numbers(p, end, v, 3) && !seen[3]) {
		b->ksyms_offsets = (struct linux_range_sum){ v[0], v[1], v[2] };
		seen[3] = true;
		return 0;
	}
	if (word(&p, end, "sym")) {
		static const char *const names[] = {
			"init_task", "init_pid_ns", "linux_banner", "__start_BTF",
			"btf_size",  "modules",	    "init_top_pgt", /* optional: seen[10] */
		};
		uint64_t *dst[] = {
			&b->sym.init_task, &b->sym.init_pid_ns, &b->sym.banner,	 &b->sym.btf,
			&b->sym.btf_size,  &b->sym.modules,	&b->sym.top_pgt,
		};

		for (i = 0; i < IMEE_ARRAY_SIZE(names); i++) {
			const char *q = p;

			if (word(&q, end, names[i]) && numbers(q, end, v, 1) && !seen[4 + i]) {
				*dst[i] = v[0];
				seen[4 + i] = true;
				return 0;
			}
		}
		return -1;
	}
	for (i = 0; i < IMEE_ARRAY_SIZE(entries); i++) {
		const struct entry *e = &entries[i];
		const char *kind = e->kind == E_MEMBER ? "field"
				   : e->kind == E_SIZE ? "size"
						       : "enum";
		const char *q = p;
		uint64_t *dst = u64_at(&b->layout, e->at);

		if (!word(&q, end, kind) || !word(&q, end, e->key))
			continue;
		if (seen[16 + i] || !numbers(q, end, v, e->kind == E_MEMBER ? 2 : 1))
			return -1;
		dst[0] = v[0];
		if (e->kind == E_MEMBER)
			dst[1] = v[1];
		seen[16 + i] = true;
		return 0;
	}
	return -1;
}

int linux_build_parse(const char *text, size_t len, struct linux_build *b)
{
	bool seen[16 + IMEE_ARRAY_SIZE(entries)];
	const char *p = text, *end = text + len, *sum_line;
	struct linux_build out;
	uint64_t sum;
	size_t i;

	memset(seen, 0, sizeof(seen));
	memset(&out, 0, sizeof(out));
	if (len > CACHE_TEXT_MAX || len < sizeof(CACHE_MAGIC) ||
	    memcmp(p, CACHE_MAGIC "\n", sizeof(CACHE_MAGIC)))
		return imee_fail(-EBADMSG, "cache: not an imee cache file");
	/* The last line is "checksum 0x...": of every byte before it. */
	if (text[len - 1] != '\n')
		return imee_fail(-EBADMSG, "cache: truncated");
	sum_line = memrchr(text, '\n', len - 1);
	if (!sum_line)
		return imee_fail(-EBADMSG, "cache: truncated");
	sum_line++;
	{
		const char *q = sum_line;

		if (!word(&q, end - 1, "checksum") || !numbers(q, end - 1, &sum, 1) ||
		    sum != imee_fnv1a(IMEE_FNV1A_INIT, text, (size_t)(sum_line - text)))
			return imee_fail(-EBADMSG, "cache: checksum mismatch");
	}
	p += sizeof(CACHE_MAGIC);
	/* Each round consumes a line: bounded by len. */
	while (p < sum_line) {
		const char *nl = memchr(p, '\n', (size_t)(sum_line - p));

		if (!nl || parse_line(p, nl, &out, seen))
			return imee_fail(-EBADMSG, "cache: bad line \"%.40s\"", p);
		p = nl + 1;
	}
	for (i = 0; i < IMEE_ARRAY_SIZE(seen); i++)
		if (!seen[i] && (i < 10 || i >= 16))
			return imee_fail(-EBADMSG, "cache: incomplete");
	*b = out;
	return 0;
}
