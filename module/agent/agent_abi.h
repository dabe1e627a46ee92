/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: the contract between imee.ko and its agent.
 *
 * The agent is freestanding x86-64 code, built from module/agent/ into a flat
 * position-independent binary that the module embeds. The module maps it
 * read-only and executable into the ImEE's address space, next to one
 * control page (struct imee_agent_ctl, read-write) and a stack, and enters it
 * once per activation:
 *
 *   entry:        RIP = agent base + header.entry, RSP = stack top,
 *                 RDI = control page, RFLAGS = 2 (interrupts off), CPL 0,
 *                 64-bit mode, the target's paging mode.
 *   completion:   the agent executes HLT (intercepted) with its results in
 *                 the control page.
 *   trap:         an exception (#PF, #GP...) or a nested page fault while
 *                 the agent accesses target memory (ctl->in_access set) is
 *                 intercepted; the module fills ctl->trap_* and enters again
 *                 at header.fault_entry with a fresh stack and RDI = control
 *                 page. The agent resumes the program there. A trap with
 *                 in_access clear is an agent bug: the module ends the run
 *                 with EIO.
 *
 *   views:        with ctl->view_switch (Intel VMFUNC EPTP switching), the
 *                 agent's view maps its pages and no target frame; it reads
 *                 the target in the target's view, which maps only its code
 *                 and page tables of the agent's pages: nothing but registers
 *                 are used there. A trap re-enters it in its own view.
 *
 * The binary has no writable sections: all its state is in the control page.
 * Its layout (agent.lds): the header and read-only data, then from a page
 * boundary the code, which starts with the entry point; the pages from the
 * entry point's on are mapped executable (execute-only where the CPU can),
 * those before it readable.
 */
#ifndef IMEE_AGENT_ABI_H
#define IMEE_AGENT_ABI_H

#include <linux/types.h>
#include <linux/imee.h>

#define IMEE_AGENT_MAGIC	0x746e656765656d69ULL	/* "imeegent" */
#define IMEE_AGENT_VERSION	2

/*
 * With ctl->view_switch, the EPTP list of the ImEE vCPU (VMFUNC leaf 0):
 * the agent starts in its own view and reads the target in the target's.
 */
#define IMEE_AGENT_VIEW_AGENT	0
#define IMEE_AGENT_VIEW_TARGET	1

/* At offset 0 of the agent binary. */
struct imee_agent_header {
	__u64 magic;
	__u32 version;
	__u32 entry;		/* offset of the entry point */
	__u32 fault_entry;	/* offset of the trap re-entry point */
	__u32 size;		/* bytes of the binary (code and read-only data) */
};

/* The interpreter's state: the same for the agent and userspace. */
struct imee_prog_state {
	__u64 regs[IMEE_PROG_NR_REGS];
	__u64 pc;
	__u64 steps;
	__u64 out_len;
	__u32 status;		/* enum imee_status, while running: ~0U */
	__u32 fault;		/* enum imee_prog_fault */
	__u64 fault_addr;
};

struct imee_agent_ctl {
	/* written by the module before each activation */
	__u64 magic;		/* IMEE_AGENT_MAGIC */
	__u64 insns_va;		/* the program (read-only to the agent) */
	__u32 nr_insns;
	__u32 levels;		/* 4 or 5: canonical addresses are 48 or 57 bits */
	__u64 out_va;		/* output buffer */
	__u64 out_cap;		/* its size in bytes */
	__u64 physmap_va;	/* guest-physical address p is at physmap_va + p */
	__u64 physmap_size;	/* for p < physmap_size */
	__u64 slot_start;	/* the agent's own virtual range [start, end): */
	__u64 slot_end;		/* a load there faults IMEE_PROG_FAULT_AGENT */
	__u64 max_steps;
	__u32 view_switch;	/* read the target in its view (VMFUNC) */
	__u32 pad0;

	/* the agent's: the program's state */
	struct imee_prog_state state;
	__u32 in_access;	/* 1 while the agent reads target memory */
	__u32 pad;
	__u64 access_addr;	/* the address being read (its page chunk) */

	/* written by the module before it enters at fault_entry */
	__u32 trap_fault;	/* enum imee_prog_fault */
	__u32 trap_vector;	/* exception vector, or 0xffff for an NPF */
	__u64 trap_error;	/* error code (#PF) or EXITINFO1 (NPF) */
	__u64 trap_addr;	/* CR2 (#PF) or access_addr (others) */
	__u64 traps;		/* traps during this activation */
};

#endif /* IMEE_AGENT_ABI_H */
