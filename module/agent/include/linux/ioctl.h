/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee agent: <linux/ioctl.h> for freestanding code (see types.h here).
 * <linux/imee.h> includes it for its ioctl numbers, which the agent never
 * uses: nothing is needed.
 */
#ifndef IMEE_AGENT_LINUX_IOCTL_H
#define IMEE_AGENT_LINUX_IOCTL_H
#endif /* IMEE_AGENT_LINUX_IOCTL_H */
