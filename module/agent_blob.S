/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: the agent (module/agent/, built by module/Kbuild into
 * agent/agent.bin), embedded in imee.ko's read-only data:
 *
 *	extern const u8 imee_agent_blob[], imee_agent_blob_end[];
 *
 * It starts with struct imee_agent_header (agent/agent_abi.h). The blob is
 * page aligned and padded with zeros to a whole number of pages.
 */
#include <linux/linkage.h>

	.pushsection .rodata, "a"
	.balign 4096
SYM_DATA_START(imee_agent_blob)
	.incbin IMEE_AGENT_BIN
SYM_DATA_END_LABEL(imee_agent_blob, SYM_L_GLOBAL, imee_agent_blob_end)
	.balign 4096, 0
	.popsection
