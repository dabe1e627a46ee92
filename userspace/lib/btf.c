// SPDX-License-Identifier: GPL-2.0
/*
 * The guest kernel's BTF (CONFIG_DEBUG_INFO_BTF): found in its memory, the
 * header checked here against hostile lengths, the rest parsed and checked
 * by libbpf (btf__new() validates every type and string offset; libbpf's
 * parser is fuzzed continuously), then struct layouts looked up by name.
 *
 * The blob is where the linker put the .BTF section, between __start_BTF
 * and __stop_BTF; /sys/kernel/btf/vmlinux shows exactly those bytes. When
 * the symbols are unknown, the kernel image is scanned for the header.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "linux_cache.h"

/* Type chains (typedefs, qualifiers) and anonymous members nest no deeper. */
#define CHAIN_MAX 32
/* Members looked at in one lookup, anonymous ones included. */
#define VISITS_MAX (1U << 20)
/* Header candidates a scan parses at most (each may cost a large read). */
#define SCAN_CANDIDATES_MAX 16
#define PATH_MAX_LEN 256

struct imee_linux_btf {
	struct btf *btf;
	struct imee_linux_btf_info info;
};

struct raw_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len;
	uint32_t str_off, str_len;
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void decode_header(const unsigned char *p, struct raw_header *h)
{
	h->magic = (uint16_t)(p[0] | p[1] << 8);
	h->version = p[2];
	h->flags = p[3];
	h->hdr_len = le32(p + 4);
	h->type_off = le32(p + 8);
	h->type_len = le32(p + 12);
	h->str_off = le32(p + 16);
	h->str_len = le32(p + 20);
}

/*
 * Is this a plausible header, and how long is the blob it describes? The
 * sections must lie after the header, in order, without overlap, and
 * within IMEE_LINUX_BTF_MAX: all sums in 64 bits.
 */
static int check_header(const unsigned char *p, uint64_t *size_ret)
{
	struct raw_header h;
	uint64_t types_end, strs_end;

	decode_header(p, &h);
	if (h.magic != IMEE_LINUX_BTF_MAGIC || h.version != 1)
		return imee_fail(-EBADMSG, "BTF: bad magic 0x%04x or version %u", h.magic,
				 h.version);
	if (h.hdr_len != IMEE_LINUX_BTF_HDR_LEN)
		return imee_fail(-EBADMSG, "BTF: header length %" PRIu32 ", not %d", h.hdr_len,
				 IMEE_LINUX_BTF_HDR_LEN);
	types_end = (uint64_t)h.type_off + h.type_len;
	strs_end = (uint64_t)h.str_off + h.str_len;
	if ((h.type_off & 3) || types_end > h.str_off || !h.str_len)
		return imee_fail(-EBADMSG,
				 "BTF: bad sections (types %" PRIu32 "+%" PRIu32
				 ", strings %" PRIu32 "+%" PRIu32 ")",
				 h.type_off, h.type_len, h.str_off, h.str_len);
	if (h.hdr_len + strs_end > IMEE_LINUX_BTF_MAX)
		return imee_fail(-EBADMSG, "BTF: %" PRIu64 " bytes, more than the %u allowed",
				 h.hdr_len + strs_end, IMEE_LINUX_BTF_MAX);
	*size_ret = h.hdr_len + strs_end;
	return 0;
}

/* libbpf's complaint about the blob being parsed, for the error message. */
static _Thread_local char libbpf_msg[160];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(libbpf_msg, sizeof(libbpf_msg), fmt, ap);
	n = strlen(libbpf_msg);
	while (n && libbpf_msg[n - 1] == '\n')
		libbpf_msg[--n] = '\0';
	return 0;
}

static bool id_ok(const struct btf *btf, uint32_t id)
{
	return id < btf__type_cnt(btf);
}

static bool name_ok(const struct btf *btf, uint32_t off)
{
	return btf__name_by_offset(btf, off) != NULL;
}

/*
 * What btf__new() of older libbpf (Debian 12 has 1.1) leaves unchecked:
 * that every name is inside the string section and every type id a type
 * references exists. After this, lookups need no checks of their own but
 * for chains (cycles are still possible: they are followed to a bound).
 */
static int check_types(const struct btf *btf)
{
	uint32_t id, nr = btf__type_cnt(btf);

	for (id = 1; id < nr; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		unsigned int i, vlen;
		bool ok;

		if (!t || !name_ok(btf, t->name_off))
			return imee_fail(-EBADMSG, "BTF: type %" PRIu32 " has a bad name", id);
		vlen = btf_vlen(t);
		switch (btf_kind(t)) {
		case BTF_KIND_PTR:
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_FUNC:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
			ok = id_ok(btf, t->type);
			break;
		case BTF_KIND_ARRAY:
			ok = id_ok(btf, btf_array(t)->type) && id_ok(btf, btf_array(t)->index_type);
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			ok = true;
			for (i = 0; i < vlen && ok; i++)
				ok = name_ok(btf, btf_members(t)[i].name_off) &&
				     id_ok(btf, btf_members(t)[i].type);
			break;
		case BTF_KIND_ENUM:
			ok = true;
			for (i = 0; i < vlen && ok; i++)
				ok = name_ok(btf, btf_enum(t)[i].name_off);
			break;
		case BTF_KIND_ENUM64:
			ok = true;
			for (i = 0; i < vlen && ok; i++)
				ok = name_ok(btf, btf_enum64(t)[i].name_off);
			break;
		case BTF_KIND_FUNC_PROTO:
			ok = id_ok(btf, t->type);
			for (i = 0; i < vlen && ok; i++)
				ok = name_ok(btf, btf_params(t)[i].name_off) &&
				     id_ok(btf, btf_params(t)[i].type);
			break;
		case BTF_KIND_DATASEC:
			ok = true;
			for (i = 0; i < vlen && ok; i++)
				ok = id_ok(btf, btf_var_secinfos(t)[i].type);
			break;
		default:
			ok = true;
		}
		if (!ok)
			return imee_fail(-EBADMSG,
					 "BTF: type %" PRIu32 " refers to what is not there", id);
	}
	return 0;
}

int imee_linux_btf_parse(const void *data, size_t len, struct imee_linux_btf **btf_ret)
{
	struct imee_linux_btf *b;
	libbpf_print_fn_t old;
	uint64_t size;
	int err;

	if (!data || !btf_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	if (len < IMEE_LINUX_BTF_HDR_LEN)
		return imee_fail(-EBADMSG, "BTF: %zu bytes, shorter than its header", len);
	err = check_header(data, &size);
	if (err)
		return err;
	if (size != len)
		return imee_fail(-EBADMSG, "BTF: the header describes %" PRIu64 " bytes, not %zu",
				 size, len);
	b = calloc(1, sizeof(*b));
	if (!b)
		return imee_fail(-ENOMEM, "out of memory");
	/*
	 * libbpf reports what it rejects through a process-wide print hook:
	 * take it for the message, then give the hook back.
	 */
	libbpf_msg[0] = '\0';
	old = libbpf_set_print(capture_print);
	b->btf = btf__new(data, (uint32_t)len);
	err = b->btf ? 0 : -errno;
	libbpf_set_print(old);
	if (!b->btf) {
		free(b);
		if (err == -ENOMEM)
			return imee_fail(-ENOMEM, "out of memory");
		return imee_fail(-EBADMSG, "BTF: libbpf rejects it (%s)",
				 libbpf_msg[0] ? libbpf_msg : "invalid");
	}
	err = check_types(b->btf);
	if (err) {
		btf__free(b->btf);
		free(b);
		return err;
	}
	b->info.size = (uint32_t)len;
	b->info.checksum = imee_fnv1a(IMEE_FNV1A_INIT, data, len);
	b->info.nr_types = btf__type_cnt(b->btf) - 1;
	*btf_ret = b;
	return 0;
}

/* The .BTF section of an ELF file (a vmlinux), through libbpf. */
static int load_elf(const char *path, struct imee_linux_btf **btf_ret)
{
	libbpf_print_fn_t old;
	const void *raw;
	struct btf *btf;
	uint32_t size;
	int err;

	libbpf_msg[0] = '\0';
	old = libbpf_set_print(capture_print);
	btf = btf__parse_elf(path, NULL);
	err = btf ? 0 : -errno;
	libbpf_set_print(old);
	if (!btf) {
		if (err == -ENOMEM)
			return imee_fail(-ENOMEM, "out of memory");
		if (err == -ENOENT)
			return imee_fail(-ENOENT, "BTF file %.160s: an ELF file without .BTF",
					 path);
		return imee_fail(err ? err : -EBADMSG,
				 "BTF file %.160s: libbpf cannot read it (%s)", path,
				 libbpf_msg[0] ? libbpf_msg : strerror(-err));
	}
	/* The section's bytes, checked and checksummed as a blob from memory is. */
	raw = btf__raw_data(btf, &size);
	err = raw ? imee_linux_btf_parse(raw, size, btf_ret) : imee_fail(-ENOMEM, "out of memory");
	btf__free(btf);
	return err;
}

int imee_linux_btf_load_file(const char *path, struct imee_linux_btf **btf_ret)
{
	static const unsigned char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	unsigned char magic[4] = { 0 };
	struct stat st;
	size_t len;
	char *buf;
	FILE *f;
	int err;

	if (!path || !btf_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	/* A vmlinux may be far larger than its .BTF: look before reading it all. */
	f = fopen(path, "rbe");
	if (!f)
		return imee_fail(-errno, "BTF file %.160s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return imee_fail(-EINVAL, "BTF file %.160s: not a regular file", path);
	}
	len = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	if (len == sizeof(magic) && !memcmp(magic, elf_magic, sizeof(magic)))
		return load_elf(path, btf_ret);
	if (len < 2 || (magic[0] | magic[1] << 8) != IMEE_LINUX_BTF_MAGIC)
		return imee_fail(
			-EBADMSG,
			"BTF file %.160s: neither raw BTF (as /sys/kernel/btf/vmlinux) nor "
			"an ELF file",
			path);
	err = linux_file_read("BTF file", path, IMEE_LINUX_BTF_MAX, &buf, &len);
	if (err)
		return err;
	err = imee_linux_btf_parse(buf, len, btf_ret);
	free(buf);
	if (err)
		return imee_fail_context(err, "BTF file %.160s", path);
	return 0;
}

void imee_linux_btf_free(struct imee_linux_btf *btf)
{
	if (!btf)
		return;
	btf__free(btf->btf);
	free(btf);
}

void imee_linux_btf_info(const struct imee_linux_btf *btf, struct imee_linux_btf_info *info_ret)
{
	if (btf && info_ret)
		*info_ret = btf->info;
}

/* Read the blob whose header is at va and parse it. */
static int load_at(const struct imee_vmem *vmem, uint64_t va, uint64_t want,
		   struct imee_linux_btf **btf_ret)
{
	unsigned char hdr[IMEE_LINUX_BTF_HDR_LEN];
	uint64_t size;
	void *buf;
	int err;

	err = imee_vmem_read(vmem, va, hdr, sizeof(hdr));
	if (err)
		return imee_fail_context(err, "BTF header at 0x%" PRIx64, va);
	err = check_header(hdr, &size);
	if (err)
		return imee_fail_context(err, "at 0x%" PRIx64, va);
	if (want && size != want)
		return imee_fail(-EBADMSG,
				 "BTF at 0x%" PRIx64 ": the header describes %" PRIu64
				 " bytes, the symbols %" PRIu64,
				 va, size, want);
	/* a header may claim up to IMEE_LINUX_BTF_MAX: its end must be readable first */
	err = imee_vmem_read(vmem, va + size - 1, hdr, 1);
	if (err)
		return imee_fail_context(err, "the end of the BTF at 0x%" PRIx64, va);
	buf = malloc((size_t)size);
	if (!buf)
		return imee_fail(-ENOMEM, "out of memory");
	err = imee_vmem_read(vmem, va, buf, (size_t)size);
	if (err)
		err = imee_fail_context(err, "BTF at 0x%" PRIx64, va);
	else
		err = imee_linux_btf_parse(buf, (size_t)size, btf_ret);
	if (!err)
		(*btf_ret)->info.va = va;
	free(buf);
	return err;
}

static bool fatal(int err)
{
	return err == -ESRCH || err == -ENODEV || err == -ENOMEM;
}

/*
 * Where the range a failed read of va lies in ends, from the fault's
 * level: a missing PDE leaves 2 MiB unmapped, and so on. Without a fault
 * (or a level), the page.
 */
static uint64_t skip_past(uint64_t va)
{
	const struct imee_error *e = imee_last_error();
	unsigned int level = e->fault != IMEE_FAULT_NONE && e->level ? e->level : 1;
	unsigned int shift;

	if (e->fault == IMEE_FAULT_NON_CANONICAL)
		level = 4; /* the hole is large: step 512 GiB at a time */
	if (level > 5)
		level = 5;
	shift = 12 + 9 * (level - 1);
	return (va | ((1ULL << shift) - 1)) + 1;
}

struct scan_hit {
	uint64_t va;
	uint64_t size;
};

/* Note a header at va if it describes a plausible blob; keep the largest. */
static void note_hit(struct scan_hit *hits, unsigned int *nr, const unsigned char *p, uint64_t va)
{
	uint64_t size;
	unsigned int i;

	if (check_header(p, &size))
		return;
	if (*nr < SCAN_CANDIDATES_MAX) {
		hits[(*nr)++] = (struct scan_hit){ va, size };
		return;
	}
	for (i = 0; i < *nr; i++) {
		if (hits[i].size < size) {
			hits[i] = (struct scan_hit){ va, size };
			return;
		}
	}
}

static int cmp_hits(const void *a, const void *b)
{
	const struct scan_hit *x = a, *y = b;

	/* Largest first: the kernel's own BTF dwarfs any other. */
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return (x->va > y->va) - (x->va < y->va);
}

/*
 * Scan [start, end) for BTF headers, reading through vmem a page at a
 * time and skipping an unmapped range as a whole. Bounded: every round
 * moves at least to the next page.
 */
static int scan(const struct imee_vmem *vmem, uint64_t start, uint64_t end,
		struct imee_linux_btf **btf_ret)
{
	static const unsigned char magic[3] = { 0x9f, 0xeb, 0x01 };
	struct scan_hit hits[SCAN_CANDIDATES_MAX];
	unsigned int nr = 0, i;
	unsigned char *buf;
	uint64_t va = start;
	size_t carry = 0;
	int err = 0;

	buf = malloc(IMEE_PAGE_SIZE + IMEE_LINUX_BTF_HDR_LEN);
	if (!buf)
		return imee_fail(-ENOMEM, "out of memory");
	while (va < end) {
		uint64_t page_end = (va | (IMEE_PAGE_SIZE - 1)) + 1;
		size_t len, n, at = 0;

		if (page_end > end || page_end < va)
			page_end = end;
		len = (size_t)(page_end - va);
		err = imee_vmem_read(vmem, va, buf + carry, len);
		if (err) {
			uint64_t next = skip_past(va);

			if (fatal(err))
				break;
			err = 0;
			carry = 0;
			if (next <= va || next >= end)
				break;
			va = next;
			continue;
		}
		n = carry + len;
		while (at + IMEE_LINUX_BTF_HDR_LEN <= n) {
			unsigned char *p = memmem(buf + at, n - at, magic, sizeof(magic));

			if (!p || (size_t)(p - buf) + IMEE_LINUX_BTF_HDR_LEN > n)
				break;
			note_hit(hits, &nr, p, va - carry + (uint64_t)(p - buf));
			at = (size_t)(p - buf) + 1;
		}
		carry = n < IMEE_LINUX_BTF_HDR_LEN - 1 ? n : IMEE_LINUX_BTF_HDR_LEN - 1;
		memmove(buf, buf + n - carry, carry);
		va = page_end;
		if (!va)
			break;
	}
	free(buf);
	if (err)
		return err;
	qsort(hits, nr, sizeof(hits[0]), cmp_hits);
	for (i = 0; i < nr; i++) {
		err = load_at(vmem, hits[i].va, hits[i].size, btf_ret);
		if (!err) {
			(*btf_ret)->info.scanned = true;
			return 0;
		}
		if (fatal(err))
			return err;
	}
	return imee_fail(-ENOENT,
			 "the guest kernel's BTF was not found in memory (0x%" PRIx64 "..0x%" PRIx64
			 "; CONFIG_DEBUG_INFO_BTF?): give a BTF file as \"btf\"",
			 start, end - 1);
}

int imee_linux_btf_load(const struct imee_vmem *vmem, const struct imee_linux_btf_find_opts *opts,
			struct imee_linux_btf **btf_ret)
{
	struct imee_linux_btf_find_opts o;
	int err = -ENOENT;

	if (!vmem || !opts || !btf_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	if (!imee_opts_ok(opts, opts->sz,
			  imee_offsetofend(struct imee_linux_btf_find_opts, no_scan),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "BTF: bad options");
	memset(&o, 0, sizeof(o));
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (o.start) {
		if (o.end <= o.start || o.end - o.start > IMEE_LINUX_BTF_MAX)
			err = imee_fail(-EBADMSG,
					"BTF: symbols give 0x%" PRIx64 "..0x%" PRIx64
					", not a plausible range",
					o.start, o.end);
		else
			err = load_at(vmem, o.start, o.end - o.start, btf_ret);
		if (!err || fatal(err) || o.no_scan)
			return err;
	} else if (o.no_scan) {
		return imee_fail(-ENOENT, "BTF: no place given and no scan allowed");
	}
	if (!o.scan_start && !o.scan_end) {
		o.scan_start = IMEE_LINUX_KERNEL_IMAGE_START;
		o.scan_end = IMEE_LINUX_KERNEL_IMAGE_END;
	}
	if (o.scan_end <= o.scan_start)
		return imee_fail(-EINVAL, "BTF: empty scan range");
	return scan(vmem, o.scan_start, o.scan_end, btf_ret);
}

/* Follow typedefs and qualifiers to the type they name (bounded). */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id, uint32_t *id_ret)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	unsigned int depth;

	for (depth = 0; t && depth < CHAIN_MAX; depth++) {
		if (!btf_is_typedef(t) && !btf_is_mod(t) && !btf_is_type_tag(t))
			break;
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (!t || depth == CHAIN_MAX)
		return NULL;
	*id_ret = id;
	return t;
}

static bool is_composite(const struct btf_type *t)
{
	return btf_is_struct(t) || btf_is_union(t);
}

/* A struct or union by name, or a typedef of one. */
static int find_composite(const struct btf *btf, const char *name, uint32_t *id_ret)
{
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF };
	unsigned int i;

	for (i = 0; i < IMEE_ARRAY_SIZE(kinds); i++) {
		const struct btf_type *t;
		int32_t id = btf__find_by_name_kind(btf, name, kinds[i]);
		uint32_t rid;

		if (id <= 0)
			continue;
		t = resolve(btf, (uint32_t)id, &rid);
		if (t && is_composite(t)) {
			*id_ret = rid;
			return 0;
		}
	}
	return imee_fail(-ENOENT, "BTF: no struct or union \"%.64s\"", name);
}

int imee_linux_btf_type_size(const struct imee_linux_btf *btf, const char *name, uint64_t *size_ret)
{
	uint32_t id;
	int err;

	if (!btf || !name || !size_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	err = find_composite(btf->btf, name, &id);
	if (err)
		return err;
	*size_ret = btf__type_by_id(btf->btf, id)->size;
	return 0;
}

/* What a member search found. */
struct found {
	uint64_t bit_off; /* from the start of the composite searched */
	uint32_t bit_size;
	uint32_t type_id;
};

/*
 * Find member name in composite id, descending into anonymous structs and
 * unions. 0 found, 1 not found, or a negative errno.
 */
static int find_member(const struct btf *btf, uint32_t id, const char *name, unsigned int depth,
		       unsigned long *visits, struct found *f)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	unsigned int i, vlen;

	if (!t || !is_composite(t) || depth >= CHAIN_MAX)
		return imee_fail(-EBADMSG, "BTF: anonymous members nest too deep");
	m = btf_members(t);
	vlen = btf_vlen(t);
	for (i = 0; i < vlen; i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt;
		uint32_t mid;
		int ret;

		if (++*visits > VISITS_MAX)
			return imee_fail(-EBADMSG, "BTF: too many members to search");
		if (mname && mname[0]) {
			if (strcmp(mname, name))
				continue;
			f->bit_off = btf_member_bit_offset(t, i);
			f->bit_size = btf_member_bitfield_size(t, i);
			f->type_id = m->type;
			return 0;
		}
		mt = resolve(btf, m->type, &mid);
		if (!mt || !is_composite(mt))
			continue;
		ret = find_member(btf, mid, name, depth + 1, visits, f);
		if (ret == 0)
			f->bit_off += btf_member_bit_offset(t, i);
		if (ret <= 0)
			return ret;
	}
	return 1;
}

static enum imee_linux_btf_kind kind_of(const struct btf_type *t)
{
	if (btf_is_int(t))
		return IMEE_LINUX_BTF_INT;
	if (btf_is_ptr(t))
		return IMEE_LINUX_BTF_PTR;
	if (btf_is_array(t))
		return IMEE_LINUX_BTF_ARRAY;
	if (btf_is_struct(t))
		return IMEE_LINUX_BTF_STRUCT;
	if (btf_is_union(t))
		return IMEE_LINUX_BTF_UNION;
	if (btf_is_enum(t) || btf_is_enum64(t))
		return IMEE_LINUX_BTF_ENUM;
	return IMEE_LINUX_BTF_OTHER;
}

/* Split "name[1][2]" into name and indices. */
static int parse_component(char *comp, char **name_ret, uint64_t *idx, unsigned int *nr_idx,
			   const char *path)
{
	char *br = strchr(comp, '[');

	*name_ret = comp;
	*nr_idx = 0;
	if (!br)
		return comp[0] ? 0 : imee_fail(-EINVAL, "BTF: empty name in \"%.64s\"", path);
	*br = '\0';
	while (br) {
		char *end;

		if (*nr_idx >= CHAIN_MAX || br[1] < '0' || br[1] > '9')
			return imee_fail(-EINVAL, "BTF: bad index in \"%.64s\"", path);
		idx[*nr_idx] = strtoull(br + 1, &end, 10);
		if (*end != ']' || idx[*nr_idx] > UINT32_MAX)
			return imee_fail(-EINVAL, "BTF: bad index in \"%.64s\"", path);
		(*nr_idx)++;
		br = end[1] == '[' ? end + 1 : NULL;
		if (!br && end[1])
			return imee_fail(-EINVAL, "BTF: bad index in \"%.64s\"", path);
	}
	return comp[0] ? 0 : imee_fail(-EINVAL, "BTF: empty name in \"%.64s\"", path);
}

/* Index into the array type *id (resolved) nr_idx times: adds to *bit_off. */
static int apply_indices(const struct btf *btf, uint32_t *id, const uint64_t *idx,
			 unsigned int nr_idx, uint64_t *bit_off, const char *path)
{
	unsigned int k;

	for (k = 0; k < nr_idx; k++) {
		const struct btf_type *t = resolve(btf, *id, id);
		const struct btf_array *a;
		int64_t esz;

		if (!t || !btf_is_array(t))
			return imee_fail(-EINVAL, "BTF: \"%.64s\" indexes what is not an array",
					 path);
		a = btf_array(t);
		if (idx[k] >= a->nelems)
			return imee_fail(-EINVAL, "BTF: \"%.64s\": index %" PRIu64 " of %" PRIu32,
					 path, idx[k], a->nelems);
		esz = btf__resolve_size(btf, a->type);
		if (esz < 0)
			return imee_fail(-EBADMSG, "BTF: \"%.64s\": element without a size", path);
		*bit_off += idx[k] * (uint64_t)esz * 8;
		*id = a->type;
	}
	return 0;
}

/* What a member's type is, seen through typedefs and qualifiers. */
static void describe(const struct btf_type *t, enum imee_linux_btf_kind *kind, bool *is_signed)
{
	*kind = kind_of(t);
	*is_signed = false;
	if (btf_is_int(t))
		*is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
	else if (btf_is_enum(t) || btf_is_enum64(t))
		*is_signed = btf_kflag(t);
}

/*
 * Resolve the members named by comps (a writable copy of "a.b[2].c", or
 * NULL for none) from the composite id, into *member_ret. path is the
 * whole path, for messages.
 */
static int member_path(const struct btf *btf, uint32_t id, char *comps, const char *path,
		       struct imee_linux_btf_member *member_ret)
{
	struct imee_linux_btf_member m;
	char *comp, *save, *name;
	const struct btf_type *t;
	uint64_t bit_off = 0, idx[CHAIN_MAX];
	unsigned long visits = 0;
	unsigned int nr_idx, nr_comps = 0;
	uint32_t bit_size = 0;
	int64_t size;
	int err;

	/* Split at dots by hand: an empty component ("a..b") is an error. */
	for (comp = comps; comp; comp = save) {
		struct found f;

		save = strchr(comp, '.');
		if (save)
			*save++ = '\0';
		err = parse_component(comp, &name, idx, &nr_idx, path);
		if (err)
			return err;
		nr_comps++;
		if (bit_size)
			return imee_fail(-EINVAL, "BTF: \"%.64s\" looks inside a bitfield", path);
		t = resolve(btf, id, &id);
		if (!t || !is_composite(t))
			return imee_fail(-EINVAL,
					 "BTF: \"%.64s\": \"%.32s\" is a member of what is not a "
					 "struct or union",
					 path, name);
		err = find_member(btf, id, name, 0, &visits, &f);
		if (err == 1)
			return imee_fail(-ENOENT, "BTF: no member \"%.32s\" in \"%.64s\"", name,
					 path);
		if (err)
			return err;
		bit_off += f.bit_off;
		bit_size = f.bit_size;
		id = f.type_id;
		if (nr_idx && bit_size)
			return imee_fail(-EINVAL, "BTF: \"%.64s\" indexes a bitfield", path);
		err = apply_indices(btf, &id, idx, nr_idx, &bit_off, path);
		if (err)
			return err;
	}
	if (!nr_comps)
		return imee_fail(-EINVAL, "BTF: \"%.64s\" names no member (struct.member)", path);
	t = resolve(btf, id, &id);
	if (!t)
		return imee_fail(-EBADMSG, "BTF: \"%.64s\": a type chain too long", path);
	memset(&m, 0, sizeof(m));
	m.type_id = id;
	describe(t, &m.kind, &m.is_signed);
	if (bit_size) {
		m.offset = bit_off / 8;
		m.bit_offset = (uint32_t)(bit_off % 8);
		m.bit_size = bit_size;
	} else {
		if (bit_off % 8)
			return imee_fail(-EBADMSG, "BTF: \"%.64s\" is not byte-aligned", path);
		m.offset = bit_off / 8;
	}
	size = btf__resolve_size(btf, id);
	if (btf_is_array(t)) {
		m.nelems = btf_array(t)->nelems;
		size = m.nelems ? size : 0;
		m.elem_size = (uint64_t)btf__resolve_size(btf, btf_array(t)->type);
	}
	if (btf_is_ptr(t) || btf_is_array(t)) {
		uint32_t tid = btf_is_ptr(t) ? t->type : btf_array(t)->type;
		const struct btf_type *tt = tid ? resolve(btf, tid, &tid) : NULL;

		/* void *: no target (kind OTHER, id 0). */
		if (tt) {
			m.target_id = tid;
			describe(tt, &m.target_kind, &m.target_signed);
		}
	}
	if (size < 0)
		return imee_fail(-EBADMSG, "BTF: \"%.64s\" has no size", path);
	m.size = (uint64_t)size;
	*member_ret = m;
	return 0;
}

int imee_linux_btf_member(const struct imee_linux_btf *btf, const char *path,
			  struct imee_linux_btf_member *member_ret)
{
	char buf[PATH_MAX_LEN], *rest, *name;
	uint64_t idx[CHAIN_MAX];
	unsigned int nr_idx;
	uint32_t id = 0;
	int err;

	if (!btf || !path || !member_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	if (strlen(path) >= sizeof(buf))
		return imee_fail(-EINVAL, "BTF: path too long");
	strcpy(buf, path);
	rest = strchr(buf, '.');
	if (rest)
		*rest++ = '\0';
	err = parse_component(buf, &name, idx, &nr_idx, path);
	if (err)
		return err;
	if (nr_idx)
		return imee_fail(-EINVAL, "BTF: \"%.64s\" indexes a type", path);
	err = find_composite(btf->btf, name, &id);
	if (err)
		return err;
	return member_path(btf->btf, id, rest, path, member_ret);
}

int imee_linux_btf_member_in(const struct imee_linux_btf *btf, uint32_t type_id, const char *path,
			     struct imee_linux_btf_member *member_ret)
{
	char buf[PATH_MAX_LEN];

	if (!btf || !path || !member_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	if (strlen(path) >= sizeof(buf))
		return imee_fail(-EINVAL, "BTF: path too long");
	if (!btf__type_by_id(btf->btf, type_id))
		return imee_fail(-EINVAL, "BTF: no type %" PRIu32, type_id);
	strcpy(buf, path);
	return member_path(btf->btf, type_id, buf, path, member_ret);
}

int imee_linux_btf_composite(const struct imee_linux_btf *btf, const char *name,
			     uint32_t *type_id_ret, uint64_t *size_ret)
{
	uint32_t id;
	int err;

	if (!btf || !name || !type_id_ret || !size_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	err = find_composite(btf->btf, name, &id);
	if (err)
		return err;
	*type_id_ret = id;
	*size_ret = btf__type_by_id(btf->btf, id)->size;
	return 0;
}

const char *imee_linux_btf_type_name(const struct imee_linux_btf *btf, uint32_t type_id)
{
	const struct btf_type *t = btf ? btf__type_by_id(btf->btf, type_id) : NULL;
	const char *name = t ? btf__name_by_offset(btf->btf, t->name_off) : NULL;

	return name ? name : "";
}

int imee_linux_btf_offset(const struct imee_linux_btf *btf, const char *path, uint64_t *offset_ret)
{
	struct imee_linux_btf_member m;
	int err;

	if (!offset_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	err = imee_linux_btf_member(btf, path, &m);
	if (err)
		return err;
	if (m.bit_size)
		return imee_fail(-EOPNOTSUPP, "BTF: \"%.64s\" is a bitfield", path);
	*offset_ret = m.offset;
	return 0;
}

int imee_linux_btf_enum_value(const struct imee_linux_btf *btf, const char *name,
			      int64_t *value_ret)
{
	uint32_t id, nr;

	if (!btf || !name || !value_ret)
		return imee_fail(-EINVAL, "BTF: bad arguments");
	nr = btf__type_cnt(btf->btf);
	for (id = 1; id < nr; id++) {
		const struct btf_type *t = btf__type_by_id(btf->btf, id);
		unsigned int i, vlen;

		if (!t || (!btf_is_enum(t) && !btf_is_enum64(t)))
			continue;
		vlen = btf_vlen(t);
		for (i = 0; i < vlen; i++) {
			const char *n;
			int64_t v;

			if (btf_is_enum(t)) {
				const struct btf_enum *e = btf_enum(t) + i;

				n = btf__name_by_offset(btf->btf, e->name_off);
				v = e->val;
			} else {
				const struct btf_enum64 *e = btf_enum64(t) + i;

				n = btf__name_by_offset(btf->btf, e->name_off);
				v = (int64_t)btf_enum64_value(e);
			}
			if (n && !strcmp(n, name)) {
				*value_ret = v;
				return 0;
			}
		}
	}
	return imee_fail(-ENOENT, "BTF: no enumerator \"%.64s\"", name);
}
