// SPDX-License-Identifier: GPL-2.0
/*
 * imee: every access to KVM's internals (Linux 6.1, x86).
 *
 * Nothing here runs on a vCPU thread or with vcpu_load(): the vCPUs belong
 * to the VMM and run concurrently. So vCPU state is only ever read, with
 * READ_ONCE(), from what KVM keeps in struct kvm_vcpu_arch; vendor callbacks
 * (kvm_x86_ops, kvm_read_cr3() and friends) are never called from here.
 *
 * Memslots are read under kvm->srcu, as KVM's own readers do.
 */
#include <linux/bits.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include <asm/kvm_page_track.h>

#include <linux/imee.h>

#include "kvm_glue.h"

/**
 * imee_kvm_of_file() - the VM behind a KVM VM file
 * @file: any file
 *
 * Return: the struct kvm if @file is a KVM VM file, else NULL. No reference
 * is taken: the caller must keep @file's reference on the VM stable (e.g.
 * hold the files_struct's file_lock of a table @file is installed in) and
 * take one with imee_kvm_get() before letting go.
 */
struct kvm *imee_kvm_of_file(struct file *file)
{
	return file_is_kvm(file) ? file->private_data : NULL;
}

void imee_kvm_get(struct kvm *kvm)
{
	kvm_get_kvm(kvm);
}

/* May destroy the VM: process context, no locks held. */
void imee_kvm_put(struct kvm *kvm)
{
	kvm_put_kvm(kvm);
}

/* The VMM's mm, which memslot addresses refer to; fixed for the VM's life. */
struct mm_struct *imee_kvm_mm(struct kvm *kvm)
{
	return kvm->mm;
}

/*
 * A memslot the guest can see: a user slot that is not being deleted or
 * moved (KVM marks those KVM_MEMSLOT_INVALID while the update is in flight).
 */
static bool imee_kvm_slot_visible(const struct kvm_memory_slot *slot)
{
	return slot->id < KVM_USER_MEM_SLOTS &&
	       !(slot->flags & KVM_MEMSLOT_INVALID);
}

/**
 * imee_kvm_generation() - the generation of the VM's address space 0
 * @kvm: the VM
 *
 * Any change of the memslots changes it. During an update bit 63 is set (see
 * KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS): that value, too, differs from both
 * the old and the new one.
 */
u64 imee_kvm_generation(struct kvm *kvm)
{
	u64 gen;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	gen = kvm_memslots(kvm)->generation;
	srcu_read_unlock(&kvm->srcu, idx);
	return gen;
}

/**
 * imee_kvm_snapshot() - copy the VM's user memslots of address space 0
 * @kvm: the VM
 *
 * Return: the copy, sorted by guest frame number (kvfree() it), or
 * ERR_PTR(-ENOMEM).
 */
struct imee_slots *imee_kvm_snapshot(struct kvm *kvm)
{
	struct kvm_memslot_iter iter;
	struct kvm_memslots *slots;
	struct imee_slots *snap;
	u32 nr = 0;
	int idx;

	/* SRCU readers may sleep: allocating inside the section is allowed. */
	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	kvm_for_each_memslot_in_gfn_range(&iter, slots, 0, U64_MAX)
		if (imee_kvm_slot_visible(iter.slot))
			nr++;

	snap = kvzalloc(struct_size(snap, slot, nr), GFP_KERNEL_ACCOUNT);
	if (!snap) {
		srcu_read_unlock(&kvm->srcu, idx);
		return ERR_PTR(-ENOMEM);
	}

	snap->generation = slots->generation;
	/* the gfn tree is walked in ascending base_gfn order */
	kvm_for_each_memslot_in_gfn_range(&iter, slots, 0, U64_MAX) {
		const struct kvm_memory_slot *ms = iter.slot;
		struct imee_slot *slot;

		if (!imee_kvm_slot_visible(ms))
			continue;
		if (WARN_ON_ONCE(snap->nr >= nr))
			break;
		slot = &snap->slot[snap->nr++];
		slot->base_gfn = ms->base_gfn;
		slot->npages = ms->npages;
		slot->hva = ms->userspace_addr;
		slot->id = ms->id;
		if (ms->flags & KVM_MEM_READONLY)
			slot->flags |= IMEE_MEMSLOT_F_READONLY;
		if (ms->flags & KVM_MEM_LOG_DIRTY_PAGES)
			slot->flags |= IMEE_MEMSLOT_F_LOG_DIRTY;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return snap;
}

/**
 * imee_kvm_gpa_to_hva() - where the VMM maps a guest-physical address
 * @kvm: the VM
 * @gpa: guest-physical address
 * @hva: the VMM's virtual address of @gpa (out)
 *
 * Return: 0, or -ENXIO if no visible memslot of address space 0 holds @gpa.
 */
int imee_kvm_gpa_to_hva(struct kvm *kvm, u64 gpa, unsigned long *hva)
{
	struct kvm_memory_slot *slot;
	gfn_t gfn = gpa_to_gfn(gpa);
	int idx, ret = -ENXIO;

	idx = srcu_read_lock(&kvm->srcu);
	slot = __gfn_to_memslot(kvm_memslots(kvm), gfn);
	if (slot && imee_kvm_slot_visible(slot)) {
		*hva = __gfn_to_hva_memslot(slot, gfn) + offset_in_page(gpa);
		ret = 0;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/**
 * struct imee_kvm_watch - told when a user memslot goes away
 * @node:	KVM's page-track notifier
 * @kvm:	the VM watched
 * @removed:	called when a user memslot of address space 0 is deleted or
 *		moved, before KVM lets go of its memory
 * @data:	passed to @removed
 */
struct imee_kvm_watch {
	struct kvm_page_track_notifier_node node;
	struct kvm *kvm;
	void (*removed)(void *data);
	void *data;
};

/*
 * kvm_arch_flush_shadow_memslot() calls this for every memslot being
 * deleted or moved, once the slot is marked KVM_MEMSLOT_INVALID in the
 * active memslots and no SRCU reader sees the old one; kvm->slots_lock is
 * held, and sleeping is allowed.
 */
static void imee_kvm_flush_slot(struct kvm *kvm, struct kvm_memory_slot *slot,
				struct kvm_page_track_notifier_node *node)
{
	struct imee_kvm_watch *watch = container_of(node, struct imee_kvm_watch,
						    node);

	if (slot->as_id == 0 && slot->id < KVM_USER_MEM_SLOTS)
		watch->removed(watch->data);
}

/**
 * imee_kvm_watch_slots() - have @removed called when a memslot goes away
 * @kvm:	the VM
 * @removed:	the callback; it may sleep, and must not take kvm->slots_lock
 * @data:	its argument
 *
 * Uses the x86 page-track notifier (the one KVMGT uses), for its
 * track_flush_slot() hook only: no page is write-tracked.
 *
 * Return: the watch, for imee_kvm_unwatch_slots(), or ERR_PTR(-ENOMEM).
 */
struct imee_kvm_watch *imee_kvm_watch_slots(struct kvm *kvm,
					    void (*removed)(void *data),
					    void *data)
{
	struct imee_kvm_watch *watch;

	watch = kzalloc(sizeof(*watch), GFP_KERNEL_ACCOUNT);
	if (!watch)
		return ERR_PTR(-ENOMEM);
	watch->kvm = kvm;
	watch->removed = removed;
	watch->data = data;
	watch->node.track_flush_slot = imee_kvm_flush_slot;
	kvm_page_track_register_notifier(kvm, &watch->node);
	return watch;
}

/* Stop watching; when this returns, @removed is not running. */
void imee_kvm_unwatch_slots(struct imee_kvm_watch *watch)
{
	kvm_page_track_unregister_notifier(watch->kvm, &watch->node);
	kfree(watch);
}

/* vCPUs created so far; they live until the VM is destroyed. */
u32 imee_kvm_nr_vcpus(struct kvm *kvm)
{
	return atomic_read(&kvm->online_vcpus);
}

/*
 * What KVM last knew of the vCPU's control registers.
 *
 * CR0, CR4 and EFER are kept in vcpu->arch by KVM (bits the guest owns on
 * VMX, e.g. CR0.TS, may lag). CR3 depends on the vendor:
 *
 *  - SVM with NPT: svm_handle_exit() copies the VMCB's CR3 into arch.cr3 at
 *    every exit, and VCPU_EXREG_CR3 stays marked available; without NPT,
 *    KVM intercepts CR3 writes and arch.cr3 is the guest's value.
 *  - VMX with EPT: arch.cr3 is a cache filled lazily from the VMCS (only when
 *    KVM itself reads CR3 on the vCPU thread), and VCPU_EXREG_CR3 is cleared
 *    from regs_avail at every VM entry; then arch.cr3 may be stale.
 *
 * IMEE_VCPU_F_CR3_CURRENT reports that bit of regs_avail. Protected guests
 * (SEV-ES) keep their registers from KVM: never current.
 */
static void imee_kvm_read_vcpu(struct kvm_vcpu *vcpu, struct imee_vcpu_regs *r)
{
	r->vcpu_id = vcpu->vcpu_id;
	r->flags = 0;
	/* not atomic with the registers: callers compare two readings */
	r->exits = READ_ONCE(vcpu->stat.exits);
	r->cr0 = READ_ONCE(vcpu->arch.cr0);
	r->cr3 = READ_ONCE(vcpu->arch.cr3);
	r->cr4 = READ_ONCE(vcpu->arch.cr4);
	r->efer = READ_ONCE(vcpu->arch.efer);
	if ((READ_ONCE(vcpu->arch.regs_avail) & BIT(VCPU_EXREG_CR3)) &&
	    !vcpu->arch.guest_state_protected)
		r->flags |= IMEE_VCPU_F_CR3_CURRENT;
	if (READ_ONCE(vcpu->mode) == IN_GUEST_MODE)
		r->flags |= IMEE_VCPU_F_IN_GUEST;
}

/**
 * imee_kvm_vcpu_regs() - read the control registers of every vCPU
 * @kvm:  the VM
 * @regs: array of @cap entries (may be NULL if @cap is 0)
 * @cap:  capacity of @regs
 *
 * Return: the number of vCPUs; the first min(@cap, that) are filled in, in
 * vCPU index order.
 */
u32 imee_kvm_vcpu_regs(struct kvm *kvm, struct imee_vcpu_regs *regs, u32 cap)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;
	u32 n = 0;

	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (n < cap)
			imee_kvm_read_vcpu(vcpu, &regs[n]);
		n++;
	}
	return n;
}

/**
 * imee_kvm_vcpu_regs_one() - read the control registers of one vCPU
 * @kvm:   the VM
 * @index: the vCPU's index (creation order, as imee_kvm_vcpu_regs() lists)
 * @regs:  filled in on success
 *
 * For the ImEE's activations: no allocation, no walk over every vCPU.
 *
 * Return: 0, or -EINVAL if the VM has no vCPU @index.
 */
int imee_kvm_vcpu_regs_one(struct kvm *kvm, u32 index,
			   struct imee_vcpu_regs *regs)
{
	struct kvm_vcpu *vcpu;

	if (index >= imee_kvm_nr_vcpus(kvm))
		return -EINVAL;
	/* online_vcpus is read first: the vCPU at @index is fully created */
	vcpu = kvm_get_vcpu(kvm, index);
	if (!vcpu)
		return -EINVAL;
	imee_kvm_read_vcpu(vcpu, regs);
	return 0;
}
