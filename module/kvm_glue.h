/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: the only interface to KVM's internals.
 *
 * Every access to struct kvm, its memslots and its vCPUs is in kvm_glue.c,
 * written against Linux 6.1 (x86). A port to another kernel touches
 * kvm_glue.c alone; the rest of the module sees only what is declared here.
 */
#ifndef IMEE_KVM_GLUE_H
#define IMEE_KVM_GLUE_H

#include <linux/types.h>

struct file;
struct imee_kvm_watch;
struct imee_vcpu_regs;
struct kvm;
struct mm_struct;

/**
 * struct imee_slot - one guest RAM range, as a memslot maps it
 * @base_gfn:	first guest frame number
 * @npages:	number of 4 KiB pages
 * @hva:	VMM address of @base_gfn
 * @flags:	IMEE_MEMSLOT_F_*
 * @id:		KVM's slot number
 */
struct imee_slot {
	u64 base_gfn;
	u64 npages;
	unsigned long hva;
	u32 flags;
	u32 id;
};

/**
 * struct imee_slots - a copy of a VM's user memslots (address space 0)
 * @generation:	KVM's memslots generation the copy was taken at
 * @nr:		number of entries in @slot
 * @slot:	the memslots, sorted by @base_gfn, not overlapping
 *
 * Allocated by imee_kvm_snapshot(); free it with kvfree().
 */
struct imee_slots {
	u64 generation;
	u32 nr;
	struct imee_slot slot[];
};

struct kvm *imee_kvm_of_file(struct file *file);
void imee_kvm_get(struct kvm *kvm);
void imee_kvm_put(struct kvm *kvm);
struct mm_struct *imee_kvm_mm(struct kvm *kvm);

u64 imee_kvm_generation(struct kvm *kvm);
struct imee_slots *imee_kvm_snapshot(struct kvm *kvm);
int imee_kvm_gpa_to_hva(struct kvm *kvm, u64 gpa, unsigned long *hva);

struct imee_kvm_watch *imee_kvm_watch_slots(struct kvm *kvm,
					    void (*removed)(void *data),
					    void *data);
void imee_kvm_unwatch_slots(struct imee_kvm_watch *watch);

u32 imee_kvm_nr_vcpus(struct kvm *kvm);
u32 imee_kvm_vcpu_regs(struct kvm *kvm, struct imee_vcpu_regs *regs, u32 cap);
int imee_kvm_vcpu_regs_one(struct kvm *kvm, u32 index,
			   struct imee_vcpu_regs *regs);

#endif /* IMEE_KVM_GLUE_H */
