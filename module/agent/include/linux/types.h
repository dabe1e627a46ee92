/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee agent: <linux/types.h> for freestanding code. The agent is built
 * with -nostdinc: it includes nothing but the repository's own headers, so
 * it builds the same with any kernel headers and C library. This gives the
 * fixed-width types of the uapi <linux/types.h> and nothing else.
 */
#ifndef IMEE_AGENT_LINUX_TYPES_H
#define IMEE_AGENT_LINUX_TYPES_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;

#endif /* IMEE_AGENT_LINUX_TYPES_H */
