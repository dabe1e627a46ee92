/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libimee internals shared between its modules. Not installed.
 */
#ifndef IMEE_LIB_INTERNAL_H
#define IMEE_LIB_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <imee/imee.h>

#define IMEE_PAGE_SHIFT 12
#define IMEE_PAGE_SIZE (1ULL << IMEE_PAGE_SHIFT)
#define IMEE_PAGE_MASK (~(IMEE_PAGE_SIZE - 1))

#define IMEE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define IMEE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/*
 * Record a failure as the thread's last error and return err (a negative
 * errno). The message is formatted into thread-local storage; nothing is
 * allocated.
 */
int imee_fail(int err, const char *fmt, ...) IMEE_PRINTF(2, 3);

/* The same, for a page-walk fault: also records its kind, level and address. */
int imee_fail_fault(int err, enum imee_fault fault, unsigned int level, uint64_t address,
		    const char *fmt, ...) IMEE_PRINTF(5, 6);

/*
 * Prefix the last error's message with context ("reading 0x1000: ...") and
 * return err unchanged. Use when passing up an error a callee recorded.
 */
int imee_fail_context(int err, const char *fmt, ...) IMEE_PRINTF(2, 3);

/*
 * Check an options struct's size field: at least min_sz (the fields every
 * version has), and any bytes beyond the size this library knows are zero
 * (the caller was built against a newer header and set nothing we ignore).
 */
bool imee_opts_ok(const void *opts, size_t opts_sz, size_t min_sz, size_t known_sz);

/* offsetof() the end of a member. */
#define imee_offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/*
 * Copy len bytes from src, which lies inside the mapped region
 * [region, region + region_len), to dst, catching the SIGBUS that a hole or
 * a dead target raises there. Returns 0, or -EFAULT after a fault.
 * Installs the process's SIGBUS handler on first use (faults outside any
 * guarded copy are passed to the handler that was there before).
 */
int imee_guarded_copy(void *dst, const void *src, size_t len, const void *region,
		      size_t region_len);

/* Does [gpa, gpa + len) lie in the memslots slots[0..nr) (sorted by gpa)? */
bool imee_slots_cover(const struct imee_memslot *slots, size_t nr, uint64_t gpa, uint64_t len);

/*
 * A session over an ordinary file mapped as the view, with the memslots
 * given: the software engine and its checks, without /dev/imee. For tests.
 */
int imee_session_from_view_fd(int fd, const struct imee_memslot *slots, size_t nr_slots,
			      uint64_t view_size, struct imee_session **session_ret);

/* FNV-1a, 64-bit: start with IMEE_FNV1A_INIT, feed data in any pieces. */
#define IMEE_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t imee_fnv1a(uint64_t hash, const void *data, size_t len);

#endif /* IMEE_LIB_INTERNAL_H */
