// SPDX-License-Identifier: GPL-2.0
/*
 * The guest kernel's kallsyms tables, found and decoded from its memory
 * alone (no System.map); or, as an override, read from a System.map.
 *
 * scripts/kallsyms.c (Linux 6.1.y) emits, each table 8-byte aligned in
 * .rodata:
 *   kallsyms_offsets       s32[num_syms]
 *   kallsyms_relative_base u64 (relocated at boot: KASLR is in it)
 *   kallsyms_num_syms      u32
 *   kallsyms_names         per symbol: length (1 byte, or 2 when the first
 *                          has bit 7 set: ULEB128), then token indices; the
 *                          first decoded character is the type letter
 *   kallsyms_markers       u32[(num_syms + 255) / 256]: offsets into names
 *   kallsyms_seqs_of_names u8[3 * num_syms] (6.1.y and 6.2+ only)
 *   kallsyms_token_table   256 NUL-terminated tokens
 *   kallsyms_token_index   u16[256]: each token's offset in the table
 * Linux 6.4 moved offsets, relative_base and seqs_of_names after
 * token_index; that order is recognised as well.
 *
 * Finding them: every character used in a symbol name is its own token, at
 * its own index (insert_real_symbols_in_table()), and every kernel uses all
 * ten digits, so tokens 48..57 are "0\0" "1\0" ... "9\0". Each occurrence of
 * those 20 bytes in the kernel image is a candidate, accepted only if the
 * token index after it matches the token table exactly, then num_syms,
 * names and markers before it agree with each other, and the offsets decode
 * to sorted addresses. The guest is not trusted: every length and offset
 * read from it is checked before use, and every loop has a fixed bound.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "linux_cache.h"

static const char digit_tokens[] = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009";
#define DIGITS_LEN 20 /* with the last NUL */
#define DIGIT0 48

/* Bytes from token 48 to the end of the token table that are searched. */
#define TOKENS_FWD_MAX 16384
/* Bytes before the token table searched for num_syms, names, markers. */
#define BACK_MAX (24U << 20)
#define NUM_SYMS_MAX (1U << 20)
/* Token tables validated before giving up (each costs a BACK_MAX read). */
#define CANDIDATES_MAX 8
/* Digit runs looked at: a hostile guest could fill its image with them. */
#define HITS_MAX 65536
/* Candidate name tables decoded in full (each O(num_syms)) per token table. */
#define DECODES_MAX 64
/* A decoded name with its type letter, as the kernel bounds it (KSYM_NAME_LEN). */
#define NAME_MAX_LEN IMEE_LINUX_KSYM_NAME_MAX

struct imee_linux_kallsyms {
	struct imee_linux_kallsyms_info info;
	size_t n;
	uint64_t *addr;
	char *types;
	uint32_t *name_off; /* into pool */
	char *pool;
	uint32_t *by_name; /* indices sorted by name, then index */
};

struct ks_scan {
	const struct imee_mem *mem;
	struct imee_walk_opts kopts;
	unsigned int nr_validated;
	unsigned int nr_hits;
	bool saw_tokens; /* a token table validated, the rest did not */
	uint64_t tokens_va;
	unsigned char *tt; /* the token table */
	uint32_t tt_len;
	uint16_t idx[256];
};

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static bool fatal(int err)
{
	return err == -ESRCH || err == -ENODEV || err == -ENOMEM || err == -EOPNOTSUPP;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Read [va, va + len), or as much of it as is mapped: from its start
 * (backward false) or up to its end (backward true). *got is the number of
 * bytes read, at buf's start or end. Fails only with a fatal error.
 */
static int read_mapped(struct ks_scan *s, uint64_t va, unsigned char *buf, size_t len,
		       bool backward, size_t *got)
{
	size_t done = 0;
	int err;

	/* Each round reads up to a page boundary: at most len / 4096 + 2 rounds. */
	while (done < len) {
		uint64_t at;
		size_t chunk;

		if (!backward) {
			at = va + done;
			chunk = IMEE_PAGE_SIZE - (at & ~IMEE_PAGE_MASK);
		} else {
			uint64_t end = va + len - done;

			chunk = (end & ~IMEE_PAGE_MASK) ? (size_t)(end & ~IMEE_PAGE_MASK)
							: IMEE_PAGE_SIZE;
			at = end - (chunk < len - done ? chunk : len - done);
		}
		if (chunk > len - done)
			chunk = len - done;
		err = imee_virt_read(s->mem, &s->kopts, at,
				     backward ? buf + len - done - chunk : buf + done, chunk);
		if (err) {
			if (fatal(err))
				return err;
			break;
		}
		done += chunk;
	}
	*got = done;
	return 0;
}

/* Read all of [va, va + len): 0, 1 when not all of it is mapped, or fatal. */
static int read_all(struct ks_scan *s, uint64_t va, void *buf, size_t len)
{
	int err = imee_virt_read(s->mem, &s->kopts, va, buf, len);

	if (err && fatal(err))
		return err;
	return err ? 1 : 0;
}

/*
 * Is there a token table whose token 48 is at va, followed by its token
 * index? Fills s->tt, s->tt_len, s->idx, s->tokens_va. 0 yes, 1 no, or fatal.
 */
static int check_tokens(struct ks_scan *s, uint64_t va)
{
	unsigned char *fwd, *tt;
	uint32_t tok_off[256], pos = 0, head;
	uint64_t end_va, idx_va, start;
	size_t got;
	unsigned int i;
	int ret;

	fwd = malloc(TOKENS_FWD_MAX + 520);
	if (!fwd)
		return -ENOMEM;
	ret = read_mapped(s, va, fwd, TOKENS_FWD_MAX + 520, false, &got);
	if (ret)
		goto out;
	ret = 1;
	for (i = DIGIT0; i < 256; i++) {
		unsigned char *nul = pos < got ? memchr(fwd + pos, 0, got - pos) : NULL;

		if (!nul || pos > TOKENS_FWD_MAX)
			goto out;
		tok_off[i] = pos;
		pos = (uint32_t)(nul - fwd) + 1;
	}
	end_va = va + pos;
	idx_va = (end_va + 7) & ~7ULL;
	if (idx_va - va + 512 > got || !all_zero(fwd + pos, (size_t)(idx_va - end_va)))
		goto out;
	for (i = 0; i < 256; i++) {
		const unsigned char *p = fwd + (idx_va - va) + 2 * i;

		s->idx[i] = (uint16_t)(p[0] | p[1] << 8);
	}
	head = s->idx[DIGIT0];
	start = va - head;
	if (s->idx[0] != 0 || (start & 7) || head < DIGIT0)
		goto out;
	for (i = DIGIT0; i < 256; i++)
		if (s->idx[i] != head + tok_off[i])
			goto out;
	tt = malloc((size_t)head + pos);
	if (!tt) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_all(s, start, tt, head);
	/* Tokens 0..47: each must end (NUL) exactly where the next begins. */
	for (i = 0; !ret && i < DIGIT0; i++) {
		uint32_t next = s->idx[i + 1];
		unsigned char *nul;

		if (s->idx[i] >= next || next > head) {
			ret = 1;
			break;
		}
		nul = memchr(tt + s->idx[i], 0, next - s->idx[i]);
		if (!nul || (uint32_t)(nul - tt) + 1 != next)
			ret = 1;
	}
	if (ret) {
		free(tt);
		goto out;
	}
	memcpy(tt + head, fwd, pos);
	free(s->tt);
	s->tt = tt;
	s->tt_len = head + pos;
	s->tokens_va = start;
	ret = 0;
out:
	free(fwd);
	return ret;
}

/* What the backward search found. */
struct ks_found {
	uint64_t n;
	uint64_t num_syms_va, names_va, markers_va;
	uint32_t names_len;
	bool seqs;
};

/*
 * Do num_syms at w[p] (w holds [base, base + wlen), ending at the token
 * table), names after it, markers (and seqs_of_names when seqs) after those
 * agree with each other? 0 yes (fills *f), 1 no, -ENOMEM.
 */
static int check_names(const unsigned char *w, uint64_t base, size_t wlen, size_t p, bool seqs,
		       unsigned int *budget, struct ks_found *f)
{
	const uint64_t n = get_u32(w + p), m = (n + 255) / 256;
	const size_t names = p + 8;
	size_t mk_limit = wlen, mk, i, off = 0;
	unsigned char *seen;

	if (seqs) {
		if (3 * n > wlen)
			return 1;
		mk_limit = (wlen - 3 * n) & ~(size_t)7;
		if (!all_zero(w + mk_limit + 3 * n, wlen - mk_limit - 3 * n))
			return 1;
	}
	if (4 * m > mk_limit)
		return 1;
	mk = (mk_limit - 4 * m) & ~(size_t)7;
	/* Every symbol takes at least two bytes: a length and a token. */
	if (mk < names || mk - names < 2 * n || get_u32(w + mk) != 0)
		return 1;
	if (!all_zero(w + mk + 4 * m, mk_limit - mk - 4 * m))
		return 1;
	for (i = 1; i < m; i++)
		if (get_u32(w + mk + 4 * i) <= get_u32(w + mk + 4 * (i - 1)) ||
		    get_u32(w + mk + 4 * i) >= mk - names)
			return 1;
	if (!*budget)
		return 1;
	--*budget;
	/* Each round consumes at least two bytes of names: bounded by n. */
	for (i = 0; i < n; i++) {
		size_t len;

		if (!(i & 0xff) && get_u32(w + mk + 4 * (i >> 8)) != off)
			return 1;
		if (names + off >= mk)
			return 1;
		len = w[names + off];
		if (len & 0x80) {
			if (names + off + 1 >= mk)
				return 1;
			len = (len & 0x7f) | (size_t)w[names + off + 1] << 7;
			off++;
		}
		off++;
		if (!len || len > mk - names - off)
			return 1;
		off += len;
	}
	if (((names + off + 7) & ~(size_t)7) != mk || !all_zero(w + names + off, mk - names - off))
		return 1;
	if (seqs) {
		/* A permutation of 0..n-1, as 3-byte big-endian numbers. */
		seen = calloc((size_t)n, 1);
		if (!seen)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			const unsigned char *q = w + mk_limit + 3 * i;
			uint32_t seq = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];

			if (seq >= n || seen[seq]++)
				break;
		}
		free(seen);
		if (i < n)
			return 1;
	}
	f->n = n;
	f->num_syms_va = base + p;
	f->names_va = base + names;
	f->markers_va = base + mk;
	f->names_len = (uint32_t)off;
	f->seqs = seqs;
	return 0;
}

/*
 * Read relative_base and offsets at the given places and decode addresses:
 * 0 when they are plausible (base in the kernel image, addresses sorted),
 * 1 not, or fatal.
 */
static int check_offsets(struct ks_scan *s, uint64_t offsets_va, uint64_t relbase_va, uint64_t n,
			 struct imee_linux_kallsyms *ks)
{
	unsigned char b8[8], *raw;
	uint64_t relbase, i;
	bool negative = false;
	int ret;

	ret = read_all(s, relbase_va, b8, 8);
	if (ret)
		return ret;
	relbase = get_u64(b8);
	if (relbase < IMEE_LINUX_KERNEL_IMAGE_START || relbase >= IMEE_LINUX_KERNEL_IMAGE_END)
		return 1;
	raw = malloc((size_t)n * 4);
	if (!raw)
		return -ENOMEM;
	ret = read_all(s, offsets_va, raw, (size_t)n * 4);
	for (i = 0; !ret && i < n; i++)
		if ((int32_t)get_u32(raw + 4 * i) < 0)
			negative = true;
	/*
	 * Without absolute percpu, offsets are unsigned and the kernel image is
	 * smaller than 2 GiB: none is negative. With it (x86-64 SMP), kernel
	 * symbols are negative and percpu ones positive absolute values.
	 */
	for (i = 0; !ret && i < n; i++) {
		int32_t o = (int32_t)get_u32(raw + 4 * i);

		if (!negative)
			ks->addr[i] = relbase + (uint32_t)o;
		else if (o >= 0)
			ks->addr[i] = (uint64_t)o;
		else
			ks->addr[i] = relbase - 1 - (uint64_t)(int64_t)o;
		if (i && ks->addr[i] < ks->addr[i - 1])
			ret = 1;
	}
	free(raw);
	if (!ret) {
		ks->info.relative_base = relbase;
		ks->info.offsets_va = offsets_va;
		ks->info.absolute_percpu = negative;
	}
	return ret;
}

/* Decode every name: 0, 1 (a bad name), or -ENOMEM. */
static int decode_names(struct ks_scan *s, const unsigned char *names, uint32_t names_len,
			struct imee_linux_kallsyms *ks)
{
	size_t cap = (size_t)ks->n * 16 + 64, used = 0, i, off = 0;
	char *pool = malloc(cap);

	if (!pool)
		return -ENOMEM;
	for (i = 0; i < ks->n; i++) {
		char name[NAME_MAX_LEN + 1];
		size_t len, nlen = 0, k;

		/* check_names() walked the same lengths: check them again anyway. */
		if (names_len - off < 2)
			goto bad;
		len = names[off++];
		if (len & 0x80)
			len = (len & 0x7f) | (size_t)names[off++] << 7;
		if (len > names_len - off)
			goto bad;
		for (k = 0; k < len; k++) {
			const unsigned char *tok = s->tt + s->idx[names[off + k]];
			size_t tlen = strlen((const char *)tok); /* NUL-terminated in tt */

			if (tlen > NAME_MAX_LEN - nlen)
				goto bad;
			memcpy(name + nlen, tok, tlen);
			nlen += tlen;
		}
		off += len;
		if (nlen < 2)
			goto bad;
		if (cap - used < nlen) {
			char *p;

			cap = cap * 2 + nlen;
			p = realloc(pool, cap);
			if (!p) {
				free(pool);
				return -ENOMEM;
			}
			pool = p;
		}
		ks->types[i] = name[0];
		ks->name_off[i] = (uint32_t)used;
		memcpy(pool + used, name + 1, nlen - 1);
		pool[used + nlen - 1] = '\0';
		used += nlen;
	}
	ks->pool = pool;
	return 0;
bad:
	free(pool);
	return 1;
}

static const struct imee_linux_kallsyms *sort_ks;

static int by_name_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(sort_ks->pool + sort_ks->name_off[x], sort_ks->pool + sort_ks->name_off[y]);

	return c ? c : (x > y) - (x < y);
}

/*
 * The token table is s->tt at s->tokens_va: find the rest. 0 and *ks_ret,
 * 1 when it does not fit, or fatal.
 */
static int check_tables(struct ks_scan *s, struct imee_linux_kallsyms **ks_ret)
{
	const uint64_t tt_va = s->tokens_va;
	const uint64_t lo_limit = IMEE_LINUX_KERNEL_IMAGE_START;
	size_t want = tt_va - lo_limit < BACK_MAX ? (size_t)(tt_va - lo_limit) : BACK_MAX;
	struct imee_linux_kallsyms *ks = NULL;
	struct ks_found f;
	unsigned char *w;
	uint64_t base, idx_va = (tt_va + s->tt_len + 7) & ~7ULL;
	unsigned int budget = DECODES_MAX;
	size_t got, p, i;
	int ret;

	want &= ~(size_t)7;
	w = malloc(want ? want : 8);
	if (!w)
		return -ENOMEM;
	ret = read_mapped(s, tt_va - want, w, want, true, &got);
	if (ret)
		goto out;
	got &= ~(size_t)7;
	base = tt_va - got;
	memmove(w, w + want - got, got);
	/* Downward from the token table, every 8-aligned u32 with a zero pad after it. */
	ret = 1;
	for (p = got >= 16 ? got - 16 : 0; got >= 16; p -= 8) {
		uint32_t n = get_u32(w + p);

		if (n && n <= NUM_SYMS_MAX && get_u32(w + p + 4) == 0) {
			ret = check_names(w, base, got, p, true, &budget, &f);
			if (ret == 1)
				ret = check_names(w, base, got, p, false, &budget, &f);
			if (ret <= 0)
				break;
		}
		if (p < 8)
			break;
	}
	if (ret)
		goto out;
	ret = -ENOMEM;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		goto out;
	ks->n = (size_t)f.n;
	ks->addr = calloc(ks->n, sizeof(*ks->addr));
	ks->types = calloc(ks->n, 1);
	ks->name_off = calloc(ks->n, sizeof(*ks->name_off));
	ks->by_name = calloc(ks->n, sizeof(*ks->by_name));
	if (!ks->addr || !ks->types || !ks->name_off || !ks->by_name)
		goto out;
	/* 6.1: offsets, then relative_base, before num_syms. */
	ret = check_offsets(s, (f.num_syms_va - 8 - 4 * f.n) & ~7ULL, f.num_syms_va - 8, f.n, ks);
	if (ret == 1 && !f.seqs) {
		/* 6.4+: offsets and relative_base after token_index. */
		uint64_t off_va = idx_va + 512;

		ret = check_offsets(s, off_va, (off_va + 4 * f.n + 7) & ~7ULL, f.n, ks);
		if (!ret)
			ks->info.offsets_last = true;
	}
	if (ret == 1) {
		ret = imee_fail(-EPROTO,
				"kallsyms: names at 0x%" PRIx64
				" but no kallsyms_offsets/relative_base in a known place: give the "
				"kernel's System.map as \"system_map\"",
				f.names_va);
		goto out;
	}
	if (ret)
		goto out;
	ret = decode_names(s, w + (f.names_va - base), f.names_len, ks);
	if (ret)
		goto out;
	for (i = 0; i < ks->n; i++)
		ks->by_name[i] = (uint32_t)i;
	sort_ks = ks;
	qsort(ks->by_name, ks->n, sizeof(*ks->by_name), by_name_cmp);
	sort_ks = NULL;
	ks->info.num_syms = f.n;
	ks->info.names_va = f.names_va;
	ks->info.markers_va = f.markers_va;
	ks->info.token_table_va = tt_va;
	ks->info.token_index_va = idx_va;
	ks->info.seqs_of_names = f.seqs || ks->info.offsets_last;
	*ks_ret = ks;
	ks = NULL;
	ret = 0;
out:
	imee_linux_kallsyms_free(ks);
	free(w);
	return ret;
}

/* A digit-token candidate at va: 0 found (*ks_ret), 1 not, or an error. */
static int try_candidate(struct ks_scan *s, uint64_t va, struct imee_linux_kallsyms **ks_ret)
{
	int ret;

	if (s->nr_validated >= CANDIDATES_MAX || s->nr_hits >= HITS_MAX)
		return 1;
	s->nr_hits++;
	ret = check_tokens(s, va);
	if (ret)
		return ret;
	s->nr_validated++;
	ret = check_tables(s, ks_ret);
	if (ret == 1)
		s->saw_tokens = true;
	return ret;
}

int imee_linux_kallsyms_load(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			     struct imee_linux_kallsyms **ks_ret)
{
	const uint64_t start = IMEE_LINUX_KERNEL_IMAGE_START, end = IMEE_LINUX_KERNEL_IMAGE_END;
	const uint64_t max_rounds = (end - start) / IMEE_PAGE_SIZE + 1;
	struct imee_linux_kallsyms *ks = NULL;
	unsigned char buf[DIGITS_LEN + IMEE_PAGE_SIZE];
	struct ks_scan s;
	struct imee_walk w;
	uint64_t va = start, rounds;
	size_t carry = 0;
	int ret = 1;

	if (!mem || !mem->ops || !mem->ops->read || !opts || !ks_ret)
		return imee_fail(-EINVAL, "kallsyms: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_walk_opts, flags),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "bad page-walk options");
	memset(&s, 0, sizeof(s));
	s.mem = mem;
	memcpy(&s.kopts, opts, opts->sz < sizeof(s.kopts) ? opts->sz : sizeof(s.kopts));
	s.kopts.sz = sizeof(s.kopts);
	s.kopts.cr3 = imee_linux_cr3_for(opts->cr3, start);

	/* As the banner search: every round advances at least one page. */
	for (rounds = 0; ret == 1 && va < end && rounds < max_rounds; rounds++) {
		uint64_t run, piece, pa;
		size_t len, n, at;

		ret = imee_walk(mem, &s.kopts, va, &w);
		if (ret)
			break;
		ret = 1;
		if (w.fault) {
			carry = 0;
			if (w.skip >= end - va)
				break;
			va += w.skip;
			continue;
		}
		run = w.skip < end - va ? w.skip : end - va;
		len = IMEE_PAGE_SIZE - (va & ~IMEE_PAGE_MASK);
		piece = len < run ? len : run;
		pa = w.pa;
		ret = mem->ops->read(mem->ctx, pa, buf + carry, (size_t)piece);
		if (ret == -ENXIO) {
			carry = 0;
			va += piece;
			ret = 1;
			continue;
		}
		if (ret) {
			ret = imee_fail_context(ret, "kallsyms search at 0x%" PRIx64, va);
			break;
		}
		ret = 1;
		n = carry + (size_t)piece;
		/* Each hit moves at least one byte on: bounded by n. */
		for (at = 0; ret == 1 && at + DIGITS_LEN <= n;) {
			unsigned char *hit = memmem(buf + at, n - at, digit_tokens, DIGITS_LEN);

			if (!hit)
				break;
			at = (size_t)(hit - buf);
			/* The token before "0" ends in NUL (or the table starts here). */
			ret = try_candidate(&s, va - carry + at, &ks);
			at++;
		}
		carry = n < DIGITS_LEN - 1 ? n : DIGITS_LEN - 1;
		memmove(buf, buf + n - carry, carry);
		va += piece;
	}
	free(s.tt);
	if (ret < 0)
		return ret;
	if (ret == 0 && ks) {
		*ks_ret = ks;
		return 0;
	}
	if (s.saw_tokens)
		return imee_fail(-EPROTO,
				 "kallsyms: a token table at 0x%" PRIx64
				 " but no num_syms/names/markers before it in a known layout: give "
				 "the kernel's System.map as \"system_map\"",
				 s.tokens_va);
	return imee_fail(-ENOENT,
			 "no kallsyms found in the guest kernel's memory (no token table in "
			 "0x%" PRIx64 "..0x%" PRIx64 "; CONFIG_KALLSYMS? a Linux guest?): give its "
			 "System.map as \"system_map\"",
			 start, end - 1);
}

int imee_linux_kallsyms_load_from(void *arg, struct imee_linux_kallsyms **ks_ret)
{
	const struct imee_linux_kallsyms_from *from = arg;

	if (!from)
		return imee_fail(-EINVAL, "kallsyms: bad arguments");
	return imee_linux_kallsyms_load(from->mem, from->walk, ks_ret);
}

void imee_linux_kallsyms_free(struct imee_linux_kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->addr);
	free(ks->types);
	free(ks->name_off);
	free(ks->pool);
	free(ks->by_name);
	free(ks);
}

size_t imee_linux_kallsyms_count(const struct imee_linux_kallsyms *ks)
{
	return ks ? ks->n : 0;
}

void imee_linux_kallsyms_info(const struct imee_linux_kallsyms *ks,
			      struct imee_linux_kallsyms_info *info_ret)
{
	if (ks && info_ret)
		*info_ret = ks->info;
}

static void fill(const struct imee_linux_kallsyms *ks, size_t i, struct imee_linux_ksym *sym)
{
	sym->address = ks->addr[i];
	sym->type = ks->types[i];
	sym->name = ks->pool + ks->name_off[i];
	sym->index = i;
}

int imee_linux_kallsyms_get(const struct imee_linux_kallsyms *ks, size_t index,
			    struct imee_linux_ksym *sym_ret)
{
	if (!ks || !sym_ret)
		return imee_fail(-EINVAL, "kallsyms: bad arguments");
	if (index >= ks->n)
		return imee_fail(-ERANGE, "kallsyms: no symbol %zu (there are %zu)", index, ks->n);
	fill(ks, index, sym_ret);
	return 0;
}

int imee_linux_kallsyms_lookup_name(const struct imee_linux_kallsyms *ks, const char *name,
				    struct imee_linux_ksym *sym_ret, size_t *nr_matches_ret)
{
	size_t lo = 0, hi, k;

	if (!ks || !name || !sym_ret)
		return imee_fail(-EINVAL, "kallsyms: bad arguments");
	hi = ks->n;
	/* The first entry not less than name. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ks->pool + ks->name_off[ks->by_name[mid]], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= ks->n || strcmp(ks->pool + ks->name_off[ks->by_name[lo]], name))
		return imee_fail(-ENOENT, "kallsyms: no symbol \"%.64s\"", name);
	for (k = lo + 1; k < ks->n && !strcmp(ks->pool + ks->name_off[ks->by_name[k]], name); k++)
		;
	fill(ks, ks->by_name[lo], sym_ret);
	if (nr_matches_ret)
		*nr_matches_ret = k - lo;
	return 0;
}

int imee_linux_kallsyms_lookup_address(const struct imee_linux_kallsyms *ks, uint64_t address,
				       struct imee_linux_ksym *sym_ret)
{
	size_t lo = 0, hi;

	if (!ks || !sym_ret)
		return imee_fail(-EINVAL, "kallsyms: bad arguments");
	hi = ks->n;
	/* The first entry above address; addresses are sorted (checked at load). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->addr[mid] <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return imee_fail(-ENOENT, "kallsyms: no symbol at or below 0x%" PRIx64, address);
	fill(ks, lo - 1, sym_ret);
	return 0;
}

/*
 * System.map. Its addresses are where the kernel was linked; the guest's
 * linux_banner (found in memory, see imee_linux_find_banner()) gives the
 * slide KASLR added to all of them at once. The image moves by whole 2 MiB
 * steps, so the map's linux_banner and the guest's must share their low 21
 * bits: a map of another build fails that, with odds of about two million
 * to one against a false match (init_task is checked later, with the BTF).
 */
#define IMAGE_ALIGN (2ULL << 20)
#define MAP_SYMS_MAX (1U << 22)

struct map_sym {
	uint64_t addr;
	uint32_t name_off; /* into the pool */
	uint32_t line; /* the file's order, for ties */
	char type;
};

static bool map_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool map_graph(char c)
{
	return c > 0x20 && c < 0x7f;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One line of p[0..n): 1 a symbol (its name is p[*name_at..+*name_len)),
 * 0 nothing to take (blank, or a module's symbol), -1 not a symbol.
 */
static int map_line(const char *p, size_t n, uint64_t *addr, char *type, size_t *name_at,
		    size_t *name_len)
{
	size_t i = 0, digits = 0;
	uint64_t a = 0;

	while (n && (p[n - 1] == '\r' || map_space(p[n - 1])))
		n--;
	if (!n)
		return 0;
	for (; i < n && hex_value(p[i]) >= 0; i++) {
		if (++digits > 16)
			return -1;
		a = a << 4 | (uint64_t)hex_value(p[i]);
	}
	if (!digits || i >= n || !map_space(p[i]))
		return -1;
	while (i < n && map_space(p[i]))
		i++;
	if (i + 1 >= n || !map_graph(p[i]) || !map_space(p[i + 1]))
		return -1;
	*type = p[i];
	for (i += 2; i < n && map_space(p[i]); i++)
		;
	*name_at = i;
	while (i < n && map_graph(p[i]))
		i++;
	*name_len = i - *name_at;
	if (!*name_len || *name_len > NAME_MAX_LEN - 2)
		return -1;
	if (i < n) {
		while (i < n && map_space(p[i]))
			i++;
		/* /proc/kallsyms: "ADDRESS TYPE NAME\t[MODULE]" */
		return p[i] == '[' && p[n - 1] == ']' ? 0 : -1;
	}
	*addr = a;
	return 1;
}

static int cmp_map_sym(const void *a, const void *b)
{
	const struct map_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* The slide from the map's linux_banner(s) to the guest's. */
static int map_slide(const struct map_sym *syms, size_t n, const char *pool,
		     const struct imee_linux_banner *banner, uint64_t *slide_ret)
{
	uint64_t seen = 0;
	bool found = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(pool + syms[i].name_off, "linux_banner"))
			continue;
		found = true;
		seen = syms[i].addr;
		if (!seen)
			return imee_fail(-EINVAL,
					 "System.map: linux_banner is at 0 (a /proc/kallsyms "
					 "read without privilege?)");
		if ((banner->va - seen) % IMAGE_ALIGN == 0) {
			*slide_ret = banner->va - seen;
			return 0;
		}
	}
	if (!found)
		return imee_fail(-ENOENT, "System.map: no linux_banner, which the KASLR slide is "
					  "taken from");
	return imee_fail(-ESTALE,
			 "the System.map does not match the guest's kernel: its linux_banner at "
			 "0x%" PRIx64
			 " is not a whole 2 MiB KASLR slide from the guest's, at 0x%" PRIx64,
			 seen, banner->va);
}

int imee_linux_system_map_parse(const char *text, size_t len,
				const struct imee_linux_banner *banner,
				struct imee_linux_kallsyms **ks_ret)
{
	struct imee_linux_kallsyms *ks = NULL;
	struct map_sym *syms = NULL;
	size_t lines = 1, n = 0, used = 0, at = 0, i, line;
	uint64_t slide = 0;
	char *pool = NULL;
	const char *nl;
	int err;

	if (!text || !banner || !ks_ret)
		return imee_fail(-EINVAL, "System.map: bad arguments");
	if (len > IMEE_LINUX_SYSTEM_MAP_MAX)
		return imee_fail(-EFBIG, "System.map: larger than %u MiB",
				 IMEE_LINUX_SYSTEM_MAP_MAX >> 20);
	for (nl = text; (nl = memchr(nl, '\n', len - (size_t)(nl - text))); nl++)
		lines++;
	if (lines > MAP_SYMS_MAX)
		return imee_fail(-E2BIG, "System.map: more than %u lines", MAP_SYMS_MAX);
	syms = calloc(lines, sizeof(*syms));
	pool = malloc(len + 1);
	if (!syms || !pool) {
		err = imee_fail(-ENOMEM, "out of memory");
		goto out;
	}
	/* Each round takes one line: bounded by lines. */
	for (line = 1; at <= len && line <= lines; line++) {
		const char *p = text + at;
		size_t ll, name_at, name_len;
		uint64_t addr = 0;
		char type = 0;
		int r;

		nl = memchr(p, '\n', len - at);
		ll = nl ? (size_t)(nl - p) : len - at;
		r = map_line(p, ll, &addr, &type, &name_at, &name_len);
		if (r < 0) {
			err = imee_fail(-EBADMSG,
					"System.map: line %zu is not \"ADDRESS TYPE NAME\"", line);
			goto out;
		}
		if (r) {
			syms[n] = (struct map_sym){ addr, (uint32_t)used, (uint32_t)line, type };
			memcpy(pool + used, p + name_at, name_len);
			pool[used + name_len] = '\0';
			used += name_len + 1;
			n++;
		}
		at += ll + 1;
	}
	if (!n) {
		err = imee_fail(-EBADMSG, "System.map: no symbols");
		goto out;
	}
	err = map_slide(syms, n, pool, banner, &slide);
	if (err)
		goto out;
	for (i = 0; i < n; i++)
		if (syms[i].addr >= IMEE_LINUX_KERNEL_IMAGE_START &&
		    syms[i].addr < IMEE_LINUX_KERNEL_IMAGE_END)
			syms[i].addr += slide;
	qsort(syms, n, sizeof(*syms), cmp_map_sym);

	ks = calloc(1, sizeof(*ks));
	if (ks) {
		ks->n = n;
		ks->addr = calloc(n, sizeof(*ks->addr));
		ks->types = calloc(n, 1);
		ks->name_off = calloc(n, sizeof(*ks->name_off));
		ks->by_name = calloc(n, sizeof(*ks->by_name));
	}
	if (!ks || !ks->addr || !ks->types || !ks->name_off || !ks->by_name) {
		err = imee_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ks->addr[i] = syms[i].addr;
		ks->types[i] = syms[i].type;
		ks->name_off[i] = syms[i].name_off;
		ks->by_name[i] = (uint32_t)i;
	}
	ks->pool = pool;
	pool = NULL;
	sort_ks = ks;
	qsort(ks->by_name, ks->n, sizeof(*ks->by_name), by_name_cmp);
	sort_ks = NULL;
	ks->info.num_syms = n;
	ks->info.from_system_map = true;
	ks->info.kaslr_slide = slide;
	*ks_ret = ks;
	ks = NULL;
	err = 0;
out:
	imee_linux_kallsyms_free(ks);
	free(pool);
	free(syms);
	return err;
}

int imee_linux_system_map_load(const char *path, const struct imee_linux_banner *banner,
			       struct imee_linux_kallsyms **ks_ret)
{
	char *text;
	size_t len;
	int err;

	if (!path || !banner || !ks_ret)
		return imee_fail(-EINVAL, "System.map: bad arguments");
	err = linux_file_read("System.map", path, IMEE_LINUX_SYSTEM_MAP_MAX, &text, &len);
	if (err)
		return err;
	err = imee_linux_system_map_parse(text, len, banner, ks_ret);
	free(text);
	return err;
}
