// SPDX-License-Identifier: GPL-2.0
/*
 * Facts about Linux guests that the OS-agnostic walker must not know: which
 * page tables map the kernel under page-table isolation, and where to find
 * the kernel's banner.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CR3_NOFLUSH (1ULL << 63)
/* PCID (or PWT/PCD) in bits 0-11, and bit 12 selects the user half of a PTI pair. */
#define PTI_PGD_PAIR_MASK 0x1fffULL

uint64_t imee_linux_cr3_for(uint64_t cr3, uint64_t va)
{
	if (!(va >> 63))
		return cr3;
	return cr3 & ~CR3_NOFLUSH & ~PTI_PGD_PAIR_MASK;
}

#define BANNER_PREFIX "Linux version "
#define BANNER_PREFIX_LEN (sizeof(BANNER_PREFIX) - 1)

enum verdict { NOT_BANNER, BANNER, NEED_MORE };

/*
 * Is the string starting at w[at] (which starts with BANNER_PREFIX) the
 * banner: printable ASCII, then "\n\0", all of it shorter than
 * IMEE_LINUX_BANNER_MAX? NEED_MORE when the window ends before that is known.
 */
static enum verdict banner_at(const unsigned char *w, size_t n, size_t at, size_t *text_len)
{
	size_t i;

	/* Bounded by the length limit as well as by n. */
	for (i = at; i < n; i++) {
		size_t len = i - at;

		if (len + 2 >= IMEE_LINUX_BANNER_MAX)
			return NOT_BANNER;
		if (w[i] == '\n') {
			if (i + 1 >= n)
				return NEED_MORE;
			if (w[i + 1] != '\0')
				return NOT_BANNER;
			*text_len = len;
			return BANNER;
		}
		if (w[i] < 0x20 || w[i] > 0x7e)
			return NOT_BANNER;
	}
	return NEED_MORE;
}

/*
 * Search a window for the first banner; *at_ret is its offset. A candidate
 * that runs to the end of the window is left for the next window (which
 * starts with this one's tail); no later candidate can win before it, as it
 * would lie inside it.
 */
static bool search_window(const unsigned char *w, size_t n, size_t *at_ret, size_t *len_ret)
{
	const unsigned char *p = w;

	while ((size_t)(p - w) < n) {
		size_t at;

		p = memmem(p, n - (size_t)(p - w), BANNER_PREFIX, BANNER_PREFIX_LEN);
		if (!p)
			return false;
		at = (size_t)(p - w);
		switch (banner_at(w, n, at, len_ret)) {
		case BANNER:
			*at_ret = at;
			return true;
		case NEED_MORE:
			return false;
		case NOT_BANNER:
			break;
		}
		p++;
	}
	return false;
}

/* Bytes of a window kept for the next one: a pending candidate fits in them. */
#define CARRY_MAX IMEE_LINUX_BANNER_MAX

/* The last banner seen so far on one kind of page. */
struct banner_candidate {
	bool found;
	uint64_t va;
	size_t len;
	char text[IMEE_LINUX_BANNER_MAX];
};

struct banner_scan {
	const struct imee_mem *mem;
	size_t carry; /* bytes at the start of buf from the virtually preceding page */
	struct banner_candidate read_only, writable;
	unsigned char buf[CARRY_MAX + IMEE_PAGE_SIZE];
};

/*
 * Scan one piece (at most 4 KiB, within one page) of a mapped range and note
 * every banner in it; the last one, in virtual order, wins (see
 * imee_linux_find_banner). Returns 0 to go on, or a negative errno.
 */
static int scan_piece(struct banner_scan *scan, uint64_t va, uint64_t pa, size_t len, bool writable)
{
	struct banner_candidate *best = writable ? &scan->writable : &scan->read_only;
	const uint64_t window_va = va - scan->carry;
	size_t n, keep, from = 0, at, text_len;
	int err;

	err = scan->mem->ops->read(scan->mem->ctx, pa, scan->buf + scan->carry, len);
	if (err == -ENXIO) {
		/* Mapped, but not to RAM (a device): nothing to find, and a break. */
		scan->carry = 0;
		return 0;
	}
	if (err)
		return imee_fail_context(err, "banner search at 0x%" PRIx64, va);
	n = scan->carry + len;
	/* Each round moves past a whole banner: at most n rounds. */
	while (from < n && search_window(scan->buf + from, n - from, &at, &text_len)) {
		uint64_t cand_va = window_va + from + at;

		/* A banner in the carried bytes was seen in the previous window. */
		if (!best->found || cand_va > best->va) {
			best->found = true;
			best->va = cand_va;
			best->len = text_len;
			memcpy(best->text, scan->buf + from + at, text_len);
		}
		from += at + text_len + 2;
	}
	keep = n < CARRY_MAX ? n : CARRY_MAX;
	memmove(scan->buf, scan->buf + n - keep, keep);
	scan->carry = keep;
	return 0;
}

/* Scan the mapped run [va, va + run), physically contiguous from pa. */
static int scan_run(struct banner_scan *scan, uint64_t va, uint64_t pa, uint64_t run, bool writable)
{
	uint64_t off = 0;
	int ret;

	/* At most run / 4096 + 1 pieces: each ends at a page boundary or at run. */
	while (off < run) {
		uint64_t piece_va = va + off;
		size_t len = IMEE_PAGE_SIZE - (piece_va & ~IMEE_PAGE_MASK);

		if (len > run - off)
			len = (size_t)(run - off);
		ret = scan_piece(scan, piece_va, pa + off, len, writable);
		if (ret)
			return ret;
		off += len;
	}
	return 0;
}

/*
 * Several strings in a kernel image can look like the banner. The printk log
 * keeps a copy without the newline (not a candidate). Since Linux 6.1,
 * init/version.o is built with a provisional UTS_VERSION (no build number,
 * "# SMP ...") and the final linux_banner comes from init/version-timestamp.o,
 * linked after everything else: so the banner the kernel reports in
 * /proc/version is the LAST candidate in virtual-address order. Older kernels
 * have a single candidate, which the same rule picks. Writable memory (.data,
 * .bss: buffers, the log) may hold any bytes, stale copies included, while
 * linux_banner is const and .rodata is mapped read-only once the kernel has
 * booted: so candidates on read-only pages come first, and writable ones are
 * taken only when there is none (a kernel still booting).
 */
int imee_linux_find_banner(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			   struct imee_linux_banner *banner_ret)
{
	const uint64_t start = IMEE_LINUX_KERNEL_IMAGE_START, end = IMEE_LINUX_KERNEL_IMAGE_END;
	/* Every round advances at least one page: a hard bound on the loop. */
	const uint64_t max_rounds = (end - start) / IMEE_PAGE_SIZE + 1;
	struct imee_linux_banner banner;
	struct imee_walk_opts kopts;
	const struct banner_candidate *best;
	struct banner_scan *scan;
	struct imee_walk w;
	uint64_t va = start, rounds;
	int ret = 0;

	if (!mem || !mem->ops || !mem->ops->read || !opts || !banner_ret)
		return imee_fail(-EINVAL, "banner search: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_walk_opts, flags),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "bad page-walk options");
	/* Copy no more than the caller's struct holds; newer fields stay zero. */
	memset(&kopts, 0, sizeof(kopts));
	memcpy(&kopts, opts, opts->sz < sizeof(kopts) ? opts->sz : sizeof(kopts));
	kopts.sz = sizeof(kopts);
	/* The whole range is in the kernel half: one root for all of it. */
	kopts.cr3 = imee_linux_cr3_for(opts->cr3, start);

	scan = calloc(1, sizeof(*scan));
	if (!scan)
		return imee_fail(-ENOMEM, "out of memory");
	scan->mem = mem;

	for (rounds = 0; va < end && rounds < max_rounds; rounds++) {
		uint64_t run;

		ret = imee_walk(mem, &kopts, va, &w);
		if (ret)
			break;
		if (w.fault) {
			/* Skip all that the missing entry covers, not page by page. */
			scan->carry = 0;
			if (w.skip >= end - va)
				break;
			va += w.skip;
			continue;
		}
		run = w.skip < end - va ? w.skip : end - va;
		ret = scan_run(scan, va, w.pa, run, w.writable);
		if (ret)
			break;
		va += run;
	}

	best = scan->read_only.found ? &scan->read_only : &scan->writable;
	if (!ret && best->found) {
		memset(&banner, 0, sizeof(banner));
		banner.va = best->va;
		banner.len = best->len;
		memcpy(banner.text, best->text, best->len);
		/* It may start in the previous piece: translate its start afresh. */
		ret = imee_walk(mem, &kopts, banner.va, &w);
		if (!ret && w.fault)
			ret = imee_walk_error(&w);
		if (!ret) {
			banner.pa = w.pa;
			*banner_ret = banner;
		}
	} else if (!ret) {
		ret = imee_fail(-ENOENT,
				"no Linux banner in 0x%" PRIx64 "..0x%" PRIx64
				" (is this a Linux guest?)",
				start, end - 1);
	}
	free(scan);
	return ret;
}
