/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct imee_linux, shared by the modules that open it (linux_open.c) and
 * walk the guest with it (linux_tasks.c, linux_pids.c), and their common
 * checks of guest pointers and decoding of fields.
 */
#ifndef IMEE_LIB_LINUX_GUEST_H
#define IMEE_LIB_LINUX_GUEST_H

#include "linux_layout.h"

struct imee_linux {
	struct linux_build build;
	uint64_t text; /* _text after KASLR: symbols are build.sym + text */
	enum imee_paging paging;
	struct imee_linux_btf *btf; /* NULL after a cache hit, until asked for */
	struct imee_linux_info info;
};

/*
 * Could p point to a kernel object: not NULL, aligned to align, canonical
 * and in the kernel half for the paging mode (any kernel-half address when
 * it is not known)? A pointer that passes may still be unmapped: the read
 * then fails.
 */
bool linux_kernel_ptr_ok(const struct imee_linux *lx, uint64_t p, uint64_t align);

/* Record a bad pointer read from the guest as the error (-EBADMSG). */
int linux_bad_ptr(const char *what, uint64_t p, uint64_t where);

/*
 * The little-endian integer of f.size bytes (1, 2, 4 or 8) at f.off in
 * buf, which holds the object's bytes from base_off on.
 */
uint64_t linux_field(const unsigned char *buf, uint64_t base_off, struct layout_field f);

/* Read a little-endian 64-bit word (a pointer) at va. */
int linux_read_u64(const struct imee_vmem *vmem, uint64_t va, uint64_t *val_ret);

/*
 * The bytes [lo, hi) of fields fs[0..nr) cover, relative to their
 * object's start: to read an object's fields in one read (once, into a
 * local copy).
 */
void linux_span(const struct layout_field *const *fs, size_t nr, uint64_t *lo, uint64_t *hi);

/*
 * Make room for item nr of a list the walks emit: items (elem bytes each,
 * *cap allocated) grows by doubling, never beyond max. Returns the array,
 * perhaps moved, or NULL with the error recorded in *err: -E2BIG when nr
 * reached max (what names the items), -ENOMEM.
 */
void *linux_list_room(void *items, size_t elem, size_t nr, size_t *cap, size_t max,
		      const char *what, int *err);

/*
 * Is a walk that ended with err after nr items given up, rather than
 * returned as a partial list with its error?
 */
bool linux_walk_failed(int err, size_t nr);

/*
 * Brent's cycle detection over a sequence of addresses: linux_cycle_step()
 * returns true when x was seen before at the remembered point (a cycle).
 */
struct linux_cycle {
	uint64_t tortoise;
	uint64_t power, lam;
};

void linux_cycle_init(struct linux_cycle *c, uint64_t start);
bool linux_cycle_step(struct linux_cycle *c, uint64_t x);

#endif /* IMEE_LIB_LINUX_GUEST_H */
