/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: the agent's own declarations (agent.c). Not shared with imee.ko:
 * the contract with the module is agent_abi.h.
 */
#ifndef IMEE_AGENT_H
#define IMEE_AGENT_H

struct imee_agent_ctl;

/* A compile-time check (ok must be a true constant), and offsetof(). */
#define AGENT_STATIC_CHECK(ok)		((void)sizeof(char[(ok) ? 1 : -1]))
#define OFFSET_OF(type, member)		__builtin_offsetof(type, member)

/* The C side of the two entry points (called from the stubs only). */
void agent_main(struct imee_agent_ctl *ctl);
void agent_fault(struct imee_agent_ctl *ctl);

/* Holds the header and the entry stubs; never called. */
void agent_layout(void);

/* The compiler may emit calls to these. */
void *memcpy(void *dst, const void *src, unsigned long n);
void *memmove(void *dst, const void *src, unsigned long n);
void *memset(void *dst, int c, unsigned long n);

#endif /* IMEE_AGENT_H */
