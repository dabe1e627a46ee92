// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic kallsyms image of ksyms_build.h.
 */
#include "ksyms_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Merged tokens, placed from slot 255 down as optimize_result() does. */
static const char *const merged[] = { "func_", "per", "__", "_t", "in" };

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "ksyms_build: %s\n", what);
	abort();
}

static void put(struct buf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len)
		die("image too large");
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_u8(struct buf *b, unsigned int v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void put_le(struct buf *b, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		put_u8(b, (unsigned int)(v >> (8 * i)) & 0xff);
}

static void align8(struct buf *b)
{
	while (b->len & 7)
		put_u8(b, 0);
}

static const struct ksb_sym *sort_syms;

static int by_name(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sort_syms[x].name, sort_syms[y].name);

	return c ? c : (x > y) - (x < y);
}

static void put_offsets(struct buf *b, const struct ksb_opts *o, const struct ksb_sym *syms,
			size_t n, struct ksb_layout *l)
{
	size_t i;

	align8(b);
	l->offsets = b->len;
	for (i = 0; i < n; i++) {
		int64_t off;

		if (!o->abs_percpu)
			off = (int64_t)(syms[i].addr - o->relative_base);
		else if (syms[i].percpu)
			off = (int64_t)syms[i].addr;
		else
			off = (int64_t)(o->relative_base - syms[i].addr) - 1;
		put_le(b, (uint64_t)(uint32_t)(int32_t)off, 4);
	}
	align8(b);
	l->relative_base = b->len;
	put_le(b, o->relative_base, 8);
}

static void put_seqs(struct buf *b, const struct ksb_sym *syms, size_t n, struct ksb_layout *l)
{
	size_t *order = calloc(n, sizeof(*order)), i;

	if (!order)
		die("out of memory");
	for (i = 0; i < n; i++)
		order[i] = i;
	sort_syms = syms;
	qsort(order, n, sizeof(*order), by_name);
	align8(b);
	l->seqs = b->len;
	for (i = 0; i < n; i++) {
		put_u8(b, (unsigned int)(order[i] >> 16) & 0xff);
		put_u8(b, (unsigned int)(order[i] >> 8) & 0xff);
		put_u8(b, (unsigned int)order[i] & 0xff);
	}
	free(order);
}

struct ksb_layout ksb_build(const struct ksb_opts *o, const struct ksb_sym *syms, size_t n,
			    unsigned char *out, size_t cap)
{
	const char *tokens[256] = { 0 };
	char singles[256][2];
	struct ksb_layout l = { 0 };
	struct buf b = { out, 0, cap };
	uint32_t *markers = calloc((n + 255) / 256 + 1, sizeof(*markers));
	size_t i, k, slot = 255, off = 0;

	if (!markers)
		die("out of memory");
	memset(out, 0, cap);
	/* Every character used is its own token. */
	for (i = 0; i < n; i++) {
		char full[1024];

		snprintf(full, sizeof(full), "%c%s", syms[i].type, syms[i].name);
		for (k = 0; full[k]; k++) {
			unsigned char c = (unsigned char)full[k];

			singles[c][0] = (char)c;
			singles[c][1] = '\0';
			tokens[c] = singles[c];
		}
	}
	for (i = 0; i < sizeof(merged) / sizeof(merged[0]); i++) {
		while (tokens[slot])
			slot--;
		tokens[slot] = merged[i];
	}
	for (i = 0; i < 256; i++)
		if (!tokens[i])
			tokens[i] = "";

	if (!o->offsets_last)
		put_offsets(&b, o, syms, n, &l);
	align8(&b);
	l.num_syms = b.len;
	put_le(&b, n, 4);
	align8(&b);
	l.names = b.len;
	for (i = 0; i < n; i++) {
		unsigned char comp[2048];
		char full[1024];
		size_t clen = 0, pos = 0;

		if (!(i & 0xff))
			markers[i >> 8] = (uint32_t)off;
		snprintf(full, sizeof(full), "%c%s", syms[i].type, syms[i].name);
		/* Greedy: the longest token that matches, else the character. */
		while (full[pos]) {
			size_t best = (unsigned char)full[pos], best_len = 1, t;

			for (t = 0; t < 256; t++) {
				size_t tl = strlen(tokens[t]);

				if (tl > best_len && !strncmp(full + pos, tokens[t], tl)) {
					best = t;
					best_len = tl;
				}
			}
			comp[clen++] = (unsigned char)best;
			pos += best_len;
		}
		if (clen > 0x3fff)
			die("name too long");
		if (clen <= 0x7f) {
			put_u8(&b, (unsigned int)clen);
			off += clen + 1;
		} else {
			put_u8(&b, (unsigned int)(clen & 0x7f) | 0x80);
			put_u8(&b, (unsigned int)(clen >> 7) & 0x7f);
			off += clen + 2;
		}
		put(&b, comp, clen);
	}
	align8(&b);
	l.markers = b.len;
	for (i = 0; i < (n + 255) / 256; i++)
		put_le(&b, markers[i], 4);
	if (o->seqs && !o->offsets_last)
		put_seqs(&b, syms, n, &l);
	align8(&b);
	l.token_table = b.len;
	for (i = 0; i < 256; i++)
		put(&b, tokens[i], strlen(tokens[i]) + 1);
	align8(&b);
	l.token_index = b.len;
	for (i = 0, off = 0; i < 256; i++) {
		put_le(&b, off, 2);
		off += strlen(tokens[i]) + 1;
	}
	if (o->offsets_last) {
		put_offsets(&b, o, syms, n, &l);
		if (o->seqs)
			put_seqs(&b, syms, n, &l);
	}
	align8(&b);
	l.size = b.len;
	free(markers);
	return l;
}
