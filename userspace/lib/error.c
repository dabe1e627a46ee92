// SPDX-License-Identifier: GPL-2.0
/*
 * The thread's last error: an errno, a message, and for page walks the fault.
 * Kept in thread-local storage so that reporting an error (including
 * -ENOMEM) never allocates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local struct imee_error last_error = {
	.message = "no error",
};

const struct imee_error *imee_last_error(void)
{
	return &last_error;
}

const char *imee_errmsg(void)
{
	return last_error.message;
}

static int record(int err, enum imee_fault fault, unsigned int level, uint64_t address,
		  const char *fmt, va_list ap)
{
	last_error.err = err;
	last_error.fault = fault;
	last_error.level = level;
	last_error.address = address;
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	return err;
}

int imee_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(err, IMEE_FAULT_NONE, 0, 0, fmt, ap);
	va_end(ap);
	return err;
}

int imee_fail_fault(int err, enum imee_fault fault, unsigned int level, uint64_t address,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(err, fault, level, address, fmt, ap);
	va_end(ap);
	return err;
}

int imee_fail_context(int err, const char *fmt, ...)
{
	char context[IMEE_ERRMSG_MAX];
	char message[IMEE_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	/* Too long a message is cut short; that is all a negative return could mean. */
	if (snprintf(message, sizeof(message), "%s: %s", context, last_error.message) < 0)
		return err;
	memcpy(last_error.message, message, sizeof(message));
	last_error.err = err;
	return err;
}

const char *imee_fault_name(enum imee_fault fault)
{
	switch (fault) {
	case IMEE_FAULT_NONE:
		return "none";
	case IMEE_FAULT_NOT_MAPPED:
		return "not-mapped";
	case IMEE_FAULT_NON_CANONICAL:
		return "non-canonical";
	case IMEE_FAULT_BAD_ENTRY:
		return "bad-entry";
	case IMEE_FAULT_OUT_OF_RAM:
		return "out-of-ram";
	}
	return "unknown";
}

int imee_fault_errno(enum imee_fault fault)
{
	switch (fault) {
	case IMEE_FAULT_NONE:
		return 0;
	case IMEE_FAULT_NOT_MAPPED:
		return -EFAULT; /* what a page fault is to a read() */
	case IMEE_FAULT_NON_CANONICAL:
		return -EINVAL; /* no table can map it: a bad argument */
	case IMEE_FAULT_BAD_ENTRY:
		return -EBADMSG; /* the guest's data is corrupt */
	case IMEE_FAULT_OUT_OF_RAM:
		return -ENXIO; /* as IMEE_READ_PHYS says it */
	}
	return -EINVAL;
}

bool imee_opts_ok(const void *opts, size_t opts_sz, size_t min_sz, size_t known_sz)
{
	const unsigned char *p = opts;
	size_t i;

	/* The bound keeps a garbage size from sending the scan below astray. */
	if (!opts || opts_sz < min_sz || opts_sz > 4096)
		return false;
	/* A newer caller may pass a bigger struct: only if it left the rest zero. */
	for (i = known_sz; i < opts_sz; i++)
		if (p[i])
			return false;
	return true;
}
