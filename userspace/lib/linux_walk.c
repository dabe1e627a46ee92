// SPDX-License-Identifier: GPL-2.0
/*
 * A generic list walk: the struct, its list member and the fields to read
 * are named, and resolved through the guest kernel's BTF (nested members,
 * array indices, anonymous structs and unions, and pointers followed with
 * "->"). Everything is resolved before the first read, so an unknown name
 * is an error that names it, and nothing is walked.
 *
 * The walk is the task walk's (linux_tasks.c): bounded, each pointer
 * checked before it is followed, each node's prev checked, cycles that
 * miss the head caught (Brent), transient inconsistencies retried from
 * the start. Each entry is read once, in one read covering its list
 * member, its fields and the first pointer of each field that follows one.
 * A field whose pointer is NULL has no value; one whose pointer is bad or
 * unreadable carries that error; the walk goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

#define ATTEMPTS 3
#define NODE_ALIGN 8

struct field {
	struct imee_linux_walk_field pub;
	char path[IMEE_LINUX_WALK_PATH_MAX + 1];
	/* off[0] in the entry; off[h] in what pointer h points to */
	uint64_t off[IMEE_LINUX_WALK_DEREFS_MAX + 1];
	uint64_t data_off; /* where its bytes lie in an entry's record */
};

/* How one field of one entry went. */
struct outcome {
	int err; /* 0, -ENODATA (a NULL on the way), or the error */
	uint64_t at;
};

struct imee_linux_walk {
	struct field fields[IMEE_LINUX_WALK_FIELDS_MAX];
	struct imee_linux_walk_field pubs[IMEE_LINUX_WALK_FIELDS_MAX];
	size_t nr_fields;
	uint64_t list_off; /* of the list_head in the struct */
	uint64_t lo, hi; /* the span of the struct read per entry */
	size_t stride; /* bytes of one entry's record */
	/* the entries */
	size_t nr, cap, max;
	uint64_t *addresses;
	unsigned char *data;
	struct outcome *outcomes;
	int err;
	struct imee_error error;
};

static int classify(struct field *f, const struct imee_linux_btf_member *m)
{
	struct imee_linux_walk_field *p = &f->pub;

	switch (m->kind) {
	case IMEE_LINUX_BTF_INT:
	case IMEE_LINUX_BTF_ENUM:
		p->kind = IMEE_LINUX_WALK_INT;
		p->is_signed = m->is_signed;
		if (m->bit_size) {
			if (m->bit_offset + m->bit_size > 64)
				break;
			p->bit_offset = m->bit_offset;
			p->bit_size = m->bit_size;
			p->size = (m->bit_offset + m->bit_size + 7) / 8;
			return 0;
		}
		if (m->size != 1 && m->size != 2 && m->size != 4 && m->size != 8)
			break;
		p->size = m->size;
		return 0;
	case IMEE_LINUX_BTF_PTR:
		p->kind = IMEE_LINUX_WALK_PTR;
		p->size = 8;
		return 0;
	case IMEE_LINUX_BTF_ARRAY: {
		bool num = m->target_kind == IMEE_LINUX_BTF_INT ||
			   m->target_kind == IMEE_LINUX_BTF_ENUM;

		if (!m->nelems || m->size > IMEE_LINUX_WALK_VALUE_MAX)
			return imee_fail(-EINVAL,
					 "walk: \"%s\": an array of %" PRIu64
					 " bytes (1..%u can be read: index it)",
					 f->path, m->size, IMEE_LINUX_WALK_VALUE_MAX);
		if (num && m->elem_size == 1) {
			p->kind = IMEE_LINUX_WALK_STRING;
		} else if ((num && (m->elem_size == 2 || m->elem_size == 4 || m->elem_size == 8)) ||
			   m->target_kind == IMEE_LINUX_BTF_PTR) {
			p->kind = IMEE_LINUX_WALK_ARRAY;
			p->is_signed = m->target_signed;
			p->elem_ptr = m->target_kind == IMEE_LINUX_BTF_PTR;
			p->elem_size = m->elem_size;
		} else {
			return imee_fail(-EINVAL,
					 "walk: \"%s\" is an array of structs or unions: index it "
					 "and name a member (\"%s[0]....\")",
					 f->path, f->path);
		}
		p->nelems = m->nelems;
		p->size = m->size;
		return 0;
	}
	case IMEE_LINUX_BTF_STRUCT:
	case IMEE_LINUX_BTF_UNION:
		return imee_fail(-EINVAL,
				 "walk: \"%s\" is a struct or union: name one of its members "
				 "(\"%s.member\")",
				 f->path, f->path);
	default:
		break;
	}
	return imee_fail(-EINVAL, "walk: \"%s\" is not an integer, enum, pointer or array of them",
			 f->path);
}

/* Resolve one field: "a.b", "p->q.r", each segment from the struct the last points to. */
static int resolve_field(const struct imee_linux_btf *btf, uint32_t type_id, const char *path,
			 struct field *f)
{
	struct imee_linux_btf_member m;
	char seg[IMEE_LINUX_WALK_PATH_MAX + 1];
	const char *p = path;
	unsigned int h;
	int err;

	memset(f, 0, sizeof(*f));
	if (!path[0] || strlen(path) > IMEE_LINUX_WALK_PATH_MAX)
		return imee_fail(-EINVAL, "walk: a field's path must be 1..%d bytes",
				 IMEE_LINUX_WALK_PATH_MAX);
	strcpy(f->path, path);
	f->pub.path = f->path;
	for (h = 0;; h++) {
		const char *arrow = strstr(p, "->");
		size_t n = arrow ? (size_t)(arrow - p) : strlen(p);

		if (!n)
			return imee_fail(-EINVAL, "walk: \"%s\": an empty member name", path);
		memcpy(seg, p, n);
		seg[n] = '\0';
		err = imee_linux_btf_member_in(btf, type_id, seg, &m);
		if (err)
			return imee_fail_context(err, "walk: field \"%s\"", path);
		f->off[h] = m.offset;
		if (!arrow)
			break;
		if (h == IMEE_LINUX_WALK_DEREFS_MAX)
			return imee_fail(-EINVAL, "walk: \"%s\" follows more than %d pointers",
					 path, IMEE_LINUX_WALK_DEREFS_MAX);
		if (m.kind != IMEE_LINUX_BTF_PTR || (m.target_kind != IMEE_LINUX_BTF_STRUCT &&
						     m.target_kind != IMEE_LINUX_BTF_UNION))
			return imee_fail(
				-EINVAL,
				"walk: \"%s\": \"%s\" is not a pointer to a struct or union", path,
				seg);
		type_id = m.target_id;
		p = arrow + 2;
	}
	f->pub.derefs = h;
	return classify(f, &m);
}

static int prepare(struct imee_linux *lx, const struct imee_vmem *vmem,
		   const struct imee_linux_walk_opts *o, struct imee_linux_walk *w)
{
	const struct imee_linux_btf *btf;
	struct imee_linux_btf_member lm;
	uint64_t size, lo, hi, data = 0;
	uint32_t id;
	size_t k;
	int err;

	if (!o->type || !o->list || !o->fields || !o->nr_fields ||
	    o->nr_fields > IMEE_LINUX_WALK_FIELDS_MAX || o->max > IMEE_LINUX_WALK_MAX)
		return imee_fail(-EINVAL, "walk: bad options");
	err = imee_linux_btf(lx, vmem, &btf);
	if (err)
		return err;
	err = imee_linux_btf_composite(btf, o->type, &id, &size);
	if (err)
		return err;
	if (!size || size > IMEE_LINUX_WALK_ENTRY_MAX)
		return imee_fail(-EINVAL, "walk: struct %s has %" PRIu64 " bytes", o->type, size);
	if (strlen(o->list) > IMEE_LINUX_WALK_PATH_MAX)
		return imee_fail(-EINVAL, "walk: the list's path is too long");
	err = imee_linux_btf_member_in(btf, id, o->list, &lm);
	if (err)
		return imee_fail_context(err, "walk: list \"%s\"", o->list);
	if (lm.kind != IMEE_LINUX_BTF_STRUCT || lm.bit_size ||
	    strcmp(imee_linux_btf_type_name(btf, lm.type_id), "list_head"))
		return imee_fail(-EINVAL,
				 "walk: list \"%s\" of struct %s is not a struct list_head",
				 o->list, o->type);
	w->list_off = lm.offset;
	lo = lm.offset;
	hi = lm.offset + 16;
	for (k = 0; k < o->nr_fields; k++) {
		struct field *f = &w->fields[k];
		uint64_t end;

		if (!o->fields[k])
			return imee_fail(-EINVAL, "walk: bad options");
		err = resolve_field(btf, id, o->fields[k], f);
		if (err)
			return err;
		/* In the entry: the value itself, or the first pointer to follow. */
		end = f->off[0] + (f->pub.derefs ? 8 : f->pub.size);
		if (end > size)
			return imee_fail(-EBADMSG, "walk: \"%s\" lies outside struct %s", f->path,
					 o->type);
		lo = f->off[0] < lo ? f->off[0] : lo;
		hi = end > hi ? end : hi;
		f->data_off = data;
		data += f->pub.size;
		w->pubs[k] = f->pub;
	}
	if (hi > size)
		return imee_fail(-EBADMSG, "walk: list \"%s\" lies outside struct %s", o->list,
				 o->type);
	w->nr_fields = o->nr_fields;
	w->lo = lo;
	w->hi = hi;
	w->stride = (size_t)data;
	w->max = o->max ? o->max : IMEE_LINUX_WALK_DEFAULT;
	return 0;
}

/* Room for one more entry: every array grows alike, never beyond max. */
static int room(struct imee_linux_walk *w)
{
	size_t ncap;
	void *a, *d, *o;

	if (w->nr >= w->max)
		return imee_fail(-E2BIG, "more than %zu entries: the walk stopped there", w->max);
	if (w->nr < w->cap)
		return 0;
	ncap = w->cap ? w->cap * 2 : 64;
	if (ncap > w->max)
		ncap = w->max;
	a = realloc(w->addresses, ncap * sizeof(*w->addresses));
	if (a)
		w->addresses = a;
	d = realloc(w->data, ncap * (w->stride ? w->stride : 1));
	if (d)
		w->data = d;
	o = realloc(w->outcomes, ncap * w->nr_fields * sizeof(*w->outcomes));
	if (o)
		w->outcomes = o;
	if (!a || !d || !o)
		return imee_fail(-ENOMEM, "out of memory");
	w->cap = ncap;
	return 0;
}

/* Follow field f's pointers from the first (read in the entry) to its value. */
static struct outcome follow(const struct imee_linux *lx, const struct imee_vmem *vmem,
			     const struct field *f, uint64_t first, uint64_t first_at,
			     unsigned char *out)
{
	uint64_t p = first, at = first_at;
	unsigned int h;
	int err;

	for (h = 1; h <= f->pub.derefs; h++) {
		if (!p)
			return (struct outcome){ -ENODATA, at };
		if (!linux_kernel_ptr_ok(lx, p, 1))
			return (struct outcome){ linux_bad_ptr(f->path, p, at), at };
		if (h < f->pub.derefs) {
			at = p + f->off[h];
			err = linux_read_u64(vmem, at, &p);
		} else {
			at = p + f->off[h];
			err = imee_vmem_read(vmem, at, out, (size_t)f->pub.size);
		}
		if (err)
			return (struct outcome){ err, at };
	}
	return (struct outcome){ 0, 0 };
}

static int read_entry(const struct imee_linux *lx, const struct imee_vmem *vmem,
		      struct imee_linux_walk *w, uint64_t entry, const unsigned char *buf,
		      uint64_t *next, uint64_t *prev)
{
	struct layout_field nf = { w->list_off, 8 }, pf = { w->list_off + 8, 8 };
	unsigned char *rec;
	size_t k;
	int err;

	*next = linux_field(buf, w->lo, nf);
	*prev = linux_field(buf, w->lo, pf);
	err = room(w);
	if (err)
		return err;
	rec = w->data + w->nr * w->stride;
	for (k = 0; k < w->nr_fields; k++) {
		const struct field *f = &w->fields[k];
		struct outcome *oc = &w->outcomes[w->nr * w->nr_fields + k];

		memset(rec + f->data_off, 0, (size_t)f->pub.size);
		if (!f->pub.derefs) {
			memcpy(rec + f->data_off, buf + (f->off[0] - w->lo), (size_t)f->pub.size);
			*oc = (struct outcome){ 0, 0 };
		} else {
			uint64_t first =
				linux_field(buf, w->lo, (struct layout_field){ f->off[0], 8 });

			*oc = follow(lx, vmem, f, first, entry + f->off[0], rec + f->data_off);
		}
	}
	w->addresses[w->nr] = entry;
	return 0;
}

static int walk_once(const struct imee_linux *lx, const struct imee_vmem *vmem,
		     struct imee_linux_walk *w, uint64_t head, unsigned char *buf)
{
	struct linux_cycle cyc;
	uint64_t node, prev, next, back;
	int err;

	err = linux_read_u64(vmem, head, &node);
	if (err)
		return imee_fail_context(err, "the list's head at 0x%" PRIx64, head);
	prev = head;
	linux_cycle_init(&cyc, head);
	/* Each round adds an entry or ends; room() stops at max. */
	while (node != head) {
		uint64_t entry = node - w->list_off;

		if (!linux_kernel_ptr_ok(lx, node, NODE_ALIGN))
			return linux_bad_ptr("next", node, prev);
		if (linux_cycle_step(&cyc, node))
			return imee_fail_fault(-ELOOP, IMEE_FAULT_NONE, 0, node,
					       "the list loops without coming back to its head "
					       "(at 0x%" PRIx64 ")",
					       node);
		err = imee_vmem_read(vmem, entry + w->lo, buf, (size_t)(w->hi - w->lo));
		if (err)
			return imee_fail_context(err, "entry at 0x%" PRIx64, entry);
		err = read_entry(lx, vmem, w, entry, buf, &next, &back);
		if (err)
			return err;
		if (back != prev)
			return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, node,
					       "list: 0x%" PRIx64 "->prev is 0x%" PRIx64
					       ", not 0x%" PRIx64,
					       node, back, prev);
		w->nr++;
		prev = node;
		node = next;
	}
	return 0;
}

/* Errors a second look may not see: the guest changed the list meanwhile. */
static bool transient(int err)
{
	return err == -EBADMSG || err == -ELOOP || err == -EFAULT;
}

int imee_linux_walk(struct imee_linux *lx, const struct imee_vmem *vmem,
		    const struct imee_linux_walk_opts *opts, struct imee_linux_walk **walk_ret)
{
	struct imee_linux_walk *w;
	unsigned char *buf;
	unsigned int attempt;
	uint64_t head;
	int err;

	if (!lx || !vmem || !opts || !walk_ret)
		return imee_fail(-EINVAL, "walk: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_walk_opts, max),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "walk: bad options");
	w = calloc(1, sizeof(*w));
	if (!w)
		return imee_fail(-ENOMEM, "out of memory");
	err = prepare(lx, vmem, opts, w);
	if (err) {
		free(w);
		return err;
	}
	head = opts->head + (opts->head_is_entry ? w->list_off : 0);
	if (!linux_kernel_ptr_ok(lx, head, NODE_ALIGN)) {
		free(w);
		return imee_fail(-EINVAL, "walk: the head 0x%" PRIx64 " is not a kernel address",
				 head);
	}
	buf = malloc((size_t)(w->hi - w->lo));
	if (!buf) {
		free(w);
		return imee_fail(-ENOMEM, "out of memory");
	}
	for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
		w->nr = 0;
		err = walk_once(lx, vmem, w, head, buf);
		if (!err || !transient(err))
			break;
	}
	free(buf);
	if (linux_walk_failed(err, w->nr)) {
		imee_linux_walk_free(w);
		return err;
	}
	w->err = err;
	if (err)
		w->error = *imee_last_error();
	*walk_ret = w;
	return 0;
}

void imee_linux_walk_free(struct imee_linux_walk *walk)
{
	if (!walk)
		return;
	free(walk->addresses);
	free(walk->data);
	free(walk->outcomes);
	free(walk);
}

const struct imee_linux_walk_field *imee_linux_walk_fields(const struct imee_linux_walk *walk,
							   size_t *nr_ret)
{
	*nr_ret = walk->nr_fields;
	return walk->pubs;
}

size_t imee_linux_walk_count(const struct imee_linux_walk *walk)
{
	return walk->nr;
}

int imee_linux_walk_error(const struct imee_linux_walk *walk, struct imee_error *error_ret)
{
	if (error_ret)
		*error_ret = walk->error;
	return walk->err;
}

uint64_t imee_linux_walk_address(const struct imee_linux_walk *walk, size_t i)
{
	return i < walk->nr ? walk->addresses[i] : 0;
}

int imee_linux_walk_value(const struct imee_linux_walk *walk, size_t i, size_t k,
			  const unsigned char **bytes_ret, uint64_t *at_ret)
{
	const struct outcome *oc;

	if (i >= walk->nr || k >= walk->nr_fields)
		return -EINVAL;
	oc = &walk->outcomes[i * walk->nr_fields + k];
	*bytes_ret = walk->data + i * walk->stride + walk->fields[k].data_off;
	if (at_ret)
		*at_ret = oc->at;
	return oc->err;
}

uint64_t imee_linux_walk_int(const struct imee_linux_walk_field *field, const unsigned char *bytes,
			     size_t j)
{
	uint64_t size = field->kind == IMEE_LINUX_WALK_ARRAY ? field->elem_size : field->size;
	unsigned int bits;
	uint64_t v;

	if (field->kind == IMEE_LINUX_WALK_ARRAY)
		bytes += j * size;
	v = linux_field(bytes, 0, (struct layout_field){ 0, size });
	bits = (unsigned int)(size * 8);
	if (field->kind == IMEE_LINUX_WALK_INT && field->bit_size) {
		v >>= field->bit_offset;
		bits = field->bit_size;
	}
	if (bits < 64) {
		v &= (1ULL << bits) - 1;
		if (field->is_signed && (v >> (bits - 1)) & 1)
			v |= ~0ULL << bits;
	}
	return v;
}
