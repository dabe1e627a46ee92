/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the lab's guest modules only: write one entry of the read-only
 * sys_call_table through a temporary writable alias of its page (a vmap()
 * of the same physical page).
 */
#ifndef IMEE_LAB_SYSCALL_ALIAS_H
#define IMEE_LAB_SYSCALL_ALIAS_H

#include <linux/compiler.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <asm/pgtable_types.h>
#include <asm/syscall.h>

static inline int imee_lab_write_syscall_entry(sys_call_ptr_t *entry,
					       sys_call_ptr_t value)
{
	phys_addr_t phys = slow_virt_to_phys(entry);
	struct page *page = pfn_to_page(PHYS_PFN(phys));
	void *alias = vmap(&page, 1, VM_MAP, PAGE_KERNEL);

	if (!alias)
		return -ENOMEM;
	WRITE_ONCE(*(sys_call_ptr_t *)(alias + offset_in_page(entry)), value);
	vunmap(alias);
	return 0;
}

#endif /* IMEE_LAB_SYSCALL_ALIAS_H */
