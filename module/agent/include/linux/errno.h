/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee agent: <linux/errno.h> for freestanding code (see types.h here): the
 * one errno the shared code returns (module/common/imee_prog_check.c).
 */
#ifndef IMEE_AGENT_LINUX_ERRNO_H
#define IMEE_AGENT_LINUX_ERRNO_H

#define EINVAL		22	/* as in <asm-generic/errno-base.h> */

#endif /* IMEE_AGENT_LINUX_ERRNO_H */
