// SPDX-License-Identifier: GPL-2.0
/*
 * Checks and decoding shared by the Linux structure walkers. The guest is
 * not trusted: every pointer read from it is checked before it is
 * followed, and every walk has a bound and cycle detection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "linux_guest.h"

/* The lowest kernel-half address of each paging mode (the rest is the hole). */
#define KERNEL_HALF_4LEVEL 0xffff800000000000ULL
#define KERNEL_HALF_5LEVEL 0xff00000000000000ULL

bool linux_kernel_ptr_ok(const struct imee_linux *lx, uint64_t p, uint64_t align)
{
	uint64_t lowest =
		lx->paging == IMEE_PAGING_4LEVEL ? KERNEL_HALF_4LEVEL : KERNEL_HALF_5LEVEL;

	return p >= lowest && !(p & (align - 1));
}

int linux_bad_ptr(const char *what, uint64_t p, uint64_t where)
{
	return imee_fail_fault(-EBADMSG, IMEE_FAULT_NONE, 0, where,
			       "%s 0x%" PRIx64 " (read at 0x%" PRIx64
			       ") is not a kernel pointer: corrupt, or changed under the walk",
			       what, p, where);
}

uint64_t linux_field(const unsigned char *buf, uint64_t base_off, struct layout_field f)
{
	const unsigned char *p = buf + (f.off - base_off);
	uint64_t v = 0;
	size_t n = f.size < 8 ? (size_t)f.size : 8, i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int linux_read_u64(const struct imee_vmem *vmem, uint64_t va, uint64_t *val_ret)
{
	unsigned char b[8];
	int err = imee_vmem_read(vmem, va, b, sizeof(b));

	if (err)
		return err;
	*val_ret = linux_field(b, 0, (struct layout_field){ 0, 8 });
	return 0;
}

void linux_span(const struct layout_field *const *fs, size_t nr, uint64_t *lo, uint64_t *hi)
{
	size_t i;

	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < nr; i++) {
		if (fs[i]->off < *lo)
			*lo = fs[i]->off;
		if (fs[i]->off + fs[i]->size > *hi)
			*hi = fs[i]->off + fs[i]->size;
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

void linux_cycle_init(struct linux_cycle *c, uint64_t start)
{
	c->tortoise = start;
	c->power = 1;
	c->lam = 0;
}

bool linux_cycle_step(struct linux_cycle *c, uint64_t x)
{
	if (x == c->tortoise)
		return true;
	if (++c->lam == c->power) {
		/* Teleport the tortoise: a cycle of length L is met within 2L steps of entering it. */
		c->tortoise = x;
		c->power *= 2;
		c->lam = 0;
	}
	return false;
}

void *linux_list_room(void *items, size_t elem, size_t nr, size_t *cap, size_t max,
		      const char *what, int *err)
{
	size_t ncap;
	void *p;

	if (nr >= max) {
		*err = imee_fail(-E2BIG, "more than %zu %s: the walk stopped there", max, what);
		return NULL;
	}
	if (nr < *cap)
		return items;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > max)
		ncap = max;
	p = realloc(items, ncap * elem);
	if (!p) {
		*err = imee_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	*cap = ncap;
	return p;
}

bool linux_walk_failed(int err, size_t nr)
{
	return err == -ENOMEM || err == -ESRCH || err == -ENODEV || (err && !nr);
}
