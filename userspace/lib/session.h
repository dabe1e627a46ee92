/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session object, shared by device.c (lifetime, info) and phys.c (reads).
 */
#ifndef IMEE_LIB_SESSION_H
#define IMEE_LIB_SESSION_H

#include "internal.h"

struct imee_session {
	int fd; /* the session file descriptor */
	const unsigned char *view; /* the zero-copy view, or NULL without RAM */
	size_t view_len;
	/* IMEE_SESSION_INFO as of the last refresh (its user pointers cleared) */
	struct imee_session_info info;
	struct imee_memslot *slots; /* sorted by gpa */
	size_t nr_slots;
	struct imee_vcpu_regs *vcpus;
	size_t nr_vcpus;
	struct imee_ee *ee; /* the ImEE, once the imee engine was used (ee.c) */
};

#endif /* IMEE_LIB_SESSION_H */
