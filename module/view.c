// SPDX-License-Identifier: GPL-2.0
/*
 * imee: the zero-copy view of guest-physical memory.
 *
 * mmap() of a session fd gives a read-only view of the guest in which the
 * file offset is the guest-physical address: view[gpa] is guest byte gpa.
 * Pages outside the memslots fault SIGBUS. The view is a secondary MMU of
 * the VMM's address space, kept coherent the way KVM keeps its own:
 *
 *  - Fault: look the gfn up in our copy of the memslots (s->snap), pin the
 *    page backing it in the VMM (pin_user_pages_remote(), read-only, under
 *    the VMM's mmap_lock and without s->lock), then under s->lock check
 *    that no invalidation raced with the pin, record the pin in s->pins and
 *    insert the pfn (VM_PFNMAP: no struct page refcounting in our PTE; the
 *    pin is what keeps the page). A first attempt pins after dropping the
 *    faulting process's own mmap_lock and returns VM_FAULT_RETRY; the
 *    retried fault finds the pin and maps it. The shared zero page may come
 *    back for guest memory never written: it is mapped like any page
 *    (pinning and unpinning it are no-ops in the core), and when the guest
 *    first writes there the VMM's PTE changes, which invalidates ours.
 *
 *  - Invalidation: an mmu_notifier on the VMM's mm. invalidate_range_start()
 *    counts an invalidation in progress over its VMM address range (faults
 *    there retry until the matching invalidate_range_end()), zaps our PTEs of
 *    the gfns the range backs (unmap_mapping_pages() on this session's own
 *    address_space), then drops their pins. invalidate_range_end() bumps
 *    s->inval_seq so that a fault whose pin started before it, and so may
 *    hold the old page, retries.
 *
 *  - Memslot changes: when KVM deletes or moves a memslot, it tells us
 *    (kvm_glue.c) before it lets go of the slot, and the view drops
 *    everything and takes a new copy of the memslots (without that slot).
 *    Other changes (new slots, flags) are picked up by the next fault or
 *    IMEE_SESSION_INFO: they see KVM's memslots generation differ from
 *    s->snap's and do the same. Either way, every pin and PTE is dropped:
 *    gfns may be backed by other VMM addresses now.
 *
 *  - The VMM's mm going away (the notifier's release(), or a session
 *    operation noticing the VMM exited): the session is dead, everything is
 *    zapped and unpinned, faults return SIGBUS.
 *
 * Pins are long-lived but not FOLL_LONGTERM: like KVM's references, they are
 * dropped by the notifier whenever the VMM's page table changes (reclaim,
 * migration, compaction, munmap, THP split...), so the core can still move
 * or free the guest's memory. Pinning a page that is shared copy-on-write
 * (after fork() or by KSM) first unshares it in the VMM, as read pins do.
 *
 * Why s->lock is a spinlock held across vmf_insert_pfn(): the notifier must
 * be able to exclude PTE installation even when it may not sleep, and the
 * check "no invalidation covers this address" must stay true until the PTE
 * is in place. vmf_insert_pfn() allocates only a missing page table; the
 * fault handler makes sure it exists first (apply_to_page_range()), so no
 * allocation (which could recurse into reclaim, and into our notifier)
 * happens under s->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "imee.h"
#include "kvm_glue.h"

/* pins dropped per hold of s->lock */
#define IMEE_DROP_BATCH		64
/* attempts of a fault before it lets the CPU fault again */
#define IMEE_FAULT_TRIES	8

/* The memslot of @snap holding @gfn (binary search), or NULL. */
static const struct imee_slot *imee_slot_find(const struct imee_slots *snap,
					      unsigned long gfn)
{
	u32 lo = 0, hi = snap->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct imee_slot *slot = &snap->slot[mid];

		if (gfn < slot->base_gfn)
			hi = mid;
		else if (gfn - slot->base_gfn >= slot->npages)
			lo = mid + 1;
		else
			return slot;
	}
	return NULL;
}

static unsigned long imee_slot_hva(const struct imee_slot *slot,
				   unsigned long gfn)
{
	return slot->hva + ((gfn - slot->base_gfn) << PAGE_SHIFT);
}

/*
 * The gfns [*first, *last] of @slot that the VMM addresses [@start, @end)
 * back; false if none.
 */
static bool imee_slot_overlap(const struct imee_slot *slot,
			      unsigned long start, unsigned long end,
			      unsigned long *first, unsigned long *last)
{
	unsigned long slot_end = slot->hva + (slot->npages << PAGE_SHIFT);
	unsigned long lo = max(start, slot->hva);
	unsigned long hi = min(end, slot_end);

	if (lo >= hi)
		return false;
	*first = slot->base_gfn + ((lo - slot->hva) >> PAGE_SHIFT);
	*last = slot->base_gfn + ((hi - 1 - slot->hva) >> PAGE_SHIFT);
	return true;
}

/* Start an invalidation of the VMM addresses [@start, @end). */
static void imee_inval_begin(struct imee_session *s, unsigned long start,
			     unsigned long end)
{
	lockdep_assert_held(&s->lock);
	if (!s->inval_count++) {
		s->inval_start = start;
		s->inval_end = end;
	} else {
		s->inval_start = min(s->inval_start, start);
		s->inval_end = max(s->inval_end, end);
	}
}

/* Does any memslot of @snap map VMM addresses in [@start, @end)? */
static bool imee_snap_overlaps(const struct imee_slots *snap,
			       unsigned long start, unsigned long end)
{
	unsigned long first, last;
	u32 i;

	for (i = 0; i < snap->nr; i++)
		if (imee_slot_overlap(&snap->slot[i], start, end, &first, &last))
			return true;
	return false;
}

/* End an invalidation of the VMM addresses [@start, @end). */
static void imee_inval_end(struct imee_session *s, unsigned long start,
			   unsigned long end)
{
	lockdep_assert_held(&s->lock);
	/*
	 * A fault that pinned a page there before this point may hold the
	 * old page: make it retry. Invalidations of other VMM memory (most
	 * of them) do not concern the view; a fault that read s->snap_id
	 * under another copy of the memslots retries anyway.
	 */
	if (!s->snap || imee_snap_overlaps(s->snap, start, end))
		s->inval_seq++;
	/* registration excludes invalidations in flight (mm_take_all_locks) */
	if (WARN_ON_ONCE(!s->inval_count))
		return;
	s->inval_count--;
}

/* Does an invalidation in progress cover VMM address @hva? */
static bool imee_inval_covers(const struct imee_session *s, unsigned long hva)
{
	lockdep_assert_held(&s->lock);
	return s->inval_count && hva >= s->inval_start && hva < s->inval_end;
}

/*
 * Erase the pins of gfns [@first, @last] from s->pins and drop them.
 *
 * The view's PTEs for them must have been zapped already, and none may be
 * installed meanwhile: an invalidation covering them is in progress, or the
 * session is dead. Works in batches under s->lock; with @snap_id, it stops
 * as soon as s->snap was replaced (whoever replaced it dropped everything,
 * and the gfns may mean other VMM addresses now).
 */
static void imee_pins_drop(struct imee_session *s, unsigned long first,
			   unsigned long last, const unsigned long *snap_id)
{
	unsigned long index;
	struct page *page;
	unsigned int n;

	for (;;) {
		n = 0;
		spin_lock(&s->lock);
		if (snap_id && s->snap_id != *snap_id) {
			spin_unlock(&s->lock);
			return;
		}
		xa_for_each_range(&s->pins, index, page, first, last) {
			xa_erase(&s->pins, index);
			unpin_user_page(page);
			if (++n == IMEE_DROP_BATCH)
				break;
		}
		spin_unlock(&s->lock);
		if (n < IMEE_DROP_BATCH || index == last)
			return;
		first = index + 1;
		cond_resched();
	}
}

/*
 * Zap every PTE of the view and drop every pin. The caller has made sure
 * none is installed meanwhile (dead, or an invalidation covering everything
 * is in progress). May sleep.
 */
static void imee_view_drop_all(struct imee_session *s)
{
	struct address_space *mapping;

	spin_lock(&s->lock);
	mapping = s->mapping;
	spin_unlock(&s->lock);

	if (mapping)
		unmap_mapping_pages(mapping, 0, 0, true);
	imee_pins_drop(s, 0, ULONG_MAX, NULL);
}

/*
 * The VMM addresses [@start, @end) are being invalidated (counted in
 * s->inval_*, so no PTE gets installed there meanwhile): zap the view's PTEs
 * of the gfns they back and drop their pins. @snap_id: s->snap_id when the
 * invalidation started. May sleep.
 */
static void imee_view_invalidate(struct imee_session *s, unsigned long start,
				 unsigned long end, unsigned long snap_id)
{
	unsigned long first = 0, last = 0, index;
	struct address_space *mapping;
	bool hit;
	u32 i = 0;

	for (;;) {
		spin_lock(&s->lock);
		if (s->snap_id != snap_id || !s->snap) {
			spin_unlock(&s->lock);
			return;
		}
		/*
		 * Several memslots may alias one VMM range. A gfn range with
		 * no pin has no PTE either: nothing to do for it.
		 */
		for (hit = false; !hit && i < s->snap->nr; i++) {
			if (!imee_slot_overlap(&s->snap->slot[i], start, end,
					       &first, &last))
				continue;
			index = first;
			hit = xa_find(&s->pins, &index, last, XA_PRESENT);
		}
		mapping = s->mapping;
		spin_unlock(&s->lock);

		if (!hit)
			return;
		if (mapping)
			unmap_mapping_pages(mapping, first, last - first + 1,
					    true);
		imee_pins_drop(s, first, last, &snap_id);
	}
}

static int imee_mn_invalidate_range_start(struct mmu_notifier *mn,
					  const struct mmu_notifier_range *range)
{
	struct imee_session *s = container_of(mn, struct imee_session, mn);
	unsigned long snap_id;

	spin_lock(&s->lock);
	imee_inval_begin(s, range->start, range->end);
	snap_id = s->snap_id;
	spin_unlock(&s->lock);

	/*
	 * Not allowed to sleep (only the OOM reaper does this, on a VMM that
	 * was killed): zapping our PTEs needs our i_mmap_rwsem, so they stay,
	 * and so do the pins behind them: the view keeps showing the pages the
	 * VMM had, which cannot be freed under it. Faults in the range still
	 * wait for the invalidation to end. The killed VMM's exit_mmap() then
	 * calls release(), which drops everything. Failing with -EAGAIN
	 * instead would stop the reaper from freeing anything else in that
	 * VMA, and would forbid invalidate_range_end().
	 */
	if (mmu_notifier_range_blockable(range))
		imee_view_invalidate(s, range->start, range->end, snap_id);
	return 0;
}

static void imee_mn_invalidate_range_end(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct imee_session *s = container_of(mn, struct imee_session, mn);

	spin_lock(&s->lock);
	imee_inval_end(s, range->start, range->end);
	spin_unlock(&s->lock);
}

/*
 * The VMM's mm is being torn down (exit_mmap()), or we unregister: before
 * this returns, no PTE of the view may refer to its pages. Runs in process
 * context and may sleep.
 */
static void imee_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	imee_view_kill(container_of(mn, struct imee_session, mn));
}

static const struct mmu_notifier_ops imee_mn_ops = {
	.release		= imee_mn_release,
	.invalidate_range_start	= imee_mn_invalidate_range_start,
	.invalidate_range_end	= imee_mn_invalidate_range_end,
};

/**
 * imee_view_kill() - the VMM is gone: zap and unpin everything, for good
 * @s: the session
 *
 * Idempotent; may sleep.
 */
void imee_view_kill(struct imee_session *s)
{
	spin_lock(&s->lock);
	if (s->dead) {
		spin_unlock(&s->lock);
		return;
	}
	s->dead = true;
	spin_unlock(&s->lock);

	imee_view_drop_all(s);
}

/**
 * imee_view_set_snapshot() - make the view use a copy of the memslots
 * @s:		the session
 * @snap:	from imee_kvm_snapshot(), consumed; or NULL: no copy (the next
 *		fault takes one)
 *
 * If @snap is of another generation than the copy in use, every PTE and pin
 * of the view is dropped first: gfns may now be backed by other VMM
 * addresses, or by none. May sleep.
 */
void imee_view_set_snapshot(struct imee_session *s, struct imee_slots *snap)
{
	struct imee_slots *old;

	mutex_lock(&s->refresh_lock);
	spin_lock(&s->lock);
	if (s->dead || (!snap && !s->snap) ||
	    (snap && s->snap && s->snap->generation == snap->generation)) {
		spin_unlock(&s->lock);
		mutex_unlock(&s->refresh_lock);
		kvfree(snap);
		return;
	}
	/* no PTE anywhere until the new copy is in place */
	imee_inval_begin(s, 0, ULONG_MAX);
	old = s->snap;
	s->snap = NULL;
	s->snap_id++;
	spin_unlock(&s->lock);

	imee_view_drop_all(s);

	spin_lock(&s->lock);
	s->snap = snap;
	s->snap_id++;
	imee_inval_end(s, 0, ULONG_MAX);
	spin_unlock(&s->lock);
	mutex_unlock(&s->refresh_lock);
	kvfree(old);
}

/*
 * KVM is deleting or moving a memslot (kvm->slots_lock is held): its gfns
 * must leave the view now, since pages already mapped would not fault
 * again. The active memslots have it marked invalid already, so a new copy
 * leaves it out.
 */
static void imee_view_slot_removed(void *data)
{
	struct imee_session *s = data;
	struct imee_slots *snap = imee_kvm_snapshot(s->kvm);

	/* without memory for a copy, drop the old one all the same */
	imee_view_set_snapshot(s, IS_ERR(snap) ? NULL : snap);
}

/* Take a new copy of the memslots if KVM's changed. May sleep. */
int imee_view_sync(struct imee_session *s)
{
	u64 gen = imee_kvm_generation(s->kvm);
	struct imee_slots *snap;
	bool fresh;

	spin_lock(&s->lock);
	fresh = s->dead || (s->snap && s->snap->generation == gen);
	spin_unlock(&s->lock);
	if (fresh)
		return 0;

	snap = imee_kvm_snapshot(s->kvm);
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	imee_view_set_snapshot(s, snap);
	return 0;
}

/**
 * imee_view_epoch() - where the session's memory stands, for the ImEE
 * @s:		the session
 * @epoch:	filled in: a snapshot of the counters that change whenever a
 *		page of the VMM that backs guest RAM may have been replaced
 *		(invalidations) or the memslots were (snap_id)
 *
 * Takes a new copy of the memslots first if KVM's changed. May sleep.
 *
 * Return: 0, -ESRCH if the target is gone, or -ENOMEM.
 */
int imee_view_epoch(struct imee_session *s, struct imee_epoch *epoch)
{
	int ret = imee_view_sync(s);

	if (ret)
		return ret;
	spin_lock(&s->lock);
	epoch->inval_seq = s->inval_seq;
	epoch->snap_id = s->snap_id;
	epoch->ram_end = 0;
	if (s->snap && s->snap->nr) {
		const struct imee_slot *last = &s->snap->slot[s->snap->nr - 1];

		epoch->ram_end = (last->base_gfn + last->npages) << PAGE_SHIFT;
	}
	ret = s->dead ? -ESRCH : 0;
	spin_unlock(&s->lock);
	return ret;
}

/**
 * imee_view_gfn_to_hva() - the VMM address backing guest frame @gfn
 * @s:		the session
 * @gfn:	guest frame number
 * @hva:	the VMM address (out)
 *
 * Uses the session's current copy of the memslots.
 *
 * Return: 0, -ENXIO if @gfn is not guest RAM, -EAGAIN if the copy is being
 * replaced, -ESRCH if the target is gone.
 */
int imee_view_gfn_to_hva(struct imee_session *s, unsigned long gfn,
			 unsigned long *hva)
{
	const struct imee_slot *slot;
	int ret = 0;

	spin_lock(&s->lock);
	if (s->dead) {
		ret = -ESRCH;
	} else if (!s->snap) {
		ret = -EAGAIN;
	} else {
		slot = imee_slot_find(s->snap, gfn);
		if (slot)
			*hva = imee_slot_hva(slot, gfn);
		else
			ret = -ENXIO;
	}
	spin_unlock(&s->lock);
	return ret;
}

/**
 * imee_pin_guest_page() - pin the VMM's page at @hva, read-only
 * @s:		the session
 * @hva:	page-aligned VMM address
 * @pagep:	the pinned page (out); release it with unpin_user_page()
 *
 * Takes the VMM's mmap_lock for read: the caller must not hold s->lock.
 *
 * Return: 0, -ESRCH if the VMM's mm is gone, -EINTR on a fatal signal, or
 * GUP's error (-EFAULT when nothing readable is mapped there, -ENOMEM...).
 */
int imee_pin_guest_page(struct imee_session *s, unsigned long hva,
			struct page **pagep)
{
	struct mm_struct *mm = s->mm;
	int locked = 1;
	long n;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	if (mmap_read_lock_killable(mm)) {
		mmput_async(mm);
		return -EINTR;
	}
	n = pin_user_pages_remote(mm, hva, 1, 0, pagep, NULL, &locked);
	if (locked)
		mmap_read_unlock(mm);
	/* never run the VMM's exit_mmap() from here (e.g. inside our fault) */
	mmput_async(mm);

	if (n == 1)
		return 0;
	return n < 0 ? (int)n : -EFAULT;
}

/* Under s->lock, with the PTE table present: map @page at the fault. */
static vm_fault_t imee_view_map(struct vm_fault *vmf, struct page *page)
{
	return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(page));
}

/* What a fault saw under s->lock before pinning without it. */
struct imee_fault {
	unsigned long gfn;
	unsigned long hva;
	unsigned long seq;
	unsigned long snap_id;
	u64 gen;
};

/*
 * The slow path of a fault: pin the page at f->hva, then record the pin in
 * s->pins, and with @vmf also map it, unless an invalidation or memslot
 * change raced with the pin. Without @vmf (our mmap_lock was dropped), the
 * fault is retried and finds the pin. Returns 0 to try again, else the
 * fault's result.
 */
static vm_fault_t imee_view_pin(struct imee_session *s,
				const struct imee_fault *f,
				struct vm_fault *vmf)
{
	struct page *page, *cur;
	vm_fault_t ret;
	int err;

	err = imee_pin_guest_page(s, f->hva, &page);
	if (err)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;

	/* the memslots may have changed while we pinned */
	if (imee_kvm_generation(s->kvm) != f->gen) {
		unpin_user_page(page);
		return 0;
	}
	/* room for the entry, so that storing it under s->lock cannot fail */
	if (xa_reserve(&s->pins, f->gfn, GFP_KERNEL_ACCOUNT)) {
		unpin_user_page(page);
		return VM_FAULT_OOM;
	}

	spin_lock(&s->lock);
	if (s->dead) {
		ret = VM_FAULT_SIGBUS;
		goto out_unlock_release;
	}
	if (s->snap_id != f->snap_id || s->inval_seq != f->seq ||
	    imee_inval_covers(s, f->hva)) {
		ret = 0;
		goto out_unlock_release;
	}
	cur = xa_load(&s->pins, f->gfn);
	if (cur) {
		/* another fault pinned it meanwhile: use that pin */
		ret = vmf ? imee_view_map(vmf, cur) : VM_FAULT_NOPAGE;
		spin_unlock(&s->lock);
		unpin_user_page(page);
		return ret;
	}
	if (xa_is_err(xa_store(&s->pins, f->gfn, page,
			       GFP_NOWAIT | __GFP_NOWARN))) {
		/* our reservation was released by a racing fault */
		ret = 0;
		goto out_unlock_release;
	}
	ret = vmf ? imee_view_map(vmf, page) : VM_FAULT_NOPAGE;
	spin_unlock(&s->lock);
	return ret;

out_unlock_release:
	spin_unlock(&s->lock);
	xa_release(&s->pins, f->gfn);
	unpin_user_page(page);
	return ret;
}

/*
 * One attempt at the fault of @vmf. Returns 0 to try again (an invalidation
 * or memslot change raced with it), else the fault's result.
 */
static vm_fault_t imee_view_fault_once(struct imee_session *s,
				       struct vm_fault *vmf)
{
	struct imee_fault f = { .gfn = vmf->pgoff };
	const struct imee_slot *slot;
	struct file *file;
	struct page *page;
	vm_fault_t ret;

	if (imee_view_sync(s))
		return VM_FAULT_OOM;

	spin_lock(&s->lock);
	if (s->dead) {
		spin_unlock(&s->lock);
		return VM_FAULT_SIGBUS;
	}
	if (!s->snap) {
		/* being replaced right now */
		spin_unlock(&s->lock);
		return 0;
	}
	slot = imee_slot_find(s->snap, f.gfn);
	if (!slot) {
		spin_unlock(&s->lock);
		return VM_FAULT_SIGBUS;
	}
	f.hva = imee_slot_hva(slot, f.gfn);
	if (imee_inval_covers(s, f.hva)) {
		spin_unlock(&s->lock);
		return 0;
	}
	page = xa_load(&s->pins, f.gfn);
	if (page) {
		/* pinned already: by our first attempt, or for another VMA */
		ret = imee_view_map(vmf, page);
		spin_unlock(&s->lock);
		return ret;
	}
	f.seq = s->inval_seq;
	f.snap_id = s->snap_id;
	f.gen = s->snap->generation;
	spin_unlock(&s->lock);

	/*
	 * Pinning takes the VMM's mmap_lock. On a first attempt, do it
	 * without holding ours (as filemap_fault() does for I/O): the fault
	 * is retried and maps the pin. Otherwise the two are nested: the VMM
	 * is never this process (see imee_view_mmap()), but two VMMs each
	 * faulting on the other's view could deadlock, and lockdep reports
	 * recursive mmap_lock classes there.
	 */
	if (fault_flag_allow_retry_first(vmf->flags) &&
	    !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT)) {
		/* keeps s alive once the VMA may be gone */
		file = get_file(vmf->vma->vm_file);
		mmap_read_unlock(vmf->vma->vm_mm);
		imee_view_pin(s, &f, NULL);
		fput(file);
		return VM_FAULT_RETRY;
	}
	return imee_view_pin(s, &f, vmf);
}

static vm_fault_t imee_view_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct imee_session *s = vma->vm_private_data;
	vm_fault_t ret;
	int tries;

	if (imee_session_gone(s)) {
		imee_view_kill(s);
		return VM_FAULT_SIGBUS;
	}

	/*
	 * Make sure the page table that will hold the PTE exists, so that
	 * vmf_insert_pfn() under s->lock does not allocate. Page tables are
	 * freed only with our mmap_lock held for write; the core holds it for
	 * read until we return (or drop it and return VM_FAULT_RETRY).
	 */
	if (apply_to_page_range(vma->vm_mm, vmf->address, PAGE_SIZE, NULL,
				NULL))
		return VM_FAULT_OOM;

	for (tries = 0; tries < IMEE_FAULT_TRIES; tries++) {
		ret = imee_view_fault_once(s, vmf);
		if (ret)
			return ret;
		cond_resched();
	}
	/* still racing: let the access fault again */
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct imee_view_vm_ops = {
	.fault = imee_view_fault,
};

/**
 * imee_view_mmap() - mmap() of a session fd: the read-only view
 * @file:	the session file
 * @vma:	the new mapping; vm_pgoff is the first gfn
 *
 * Return: 0, -EACCES for a writable or executable mapping, -EINVAL in the
 * VMM's own process, -ESRCH if the VMM is gone.
 */
int imee_view_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct imee_session *s = file->private_data;

	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EACCES;
	/* a session fd passed to the VMM itself: see imee_attach() */
	if (vma->vm_mm == s->mm)
		return -EINVAL;
	if (imee_session_gone(s))
		return -ESRCH;

	/*
	 * Not VM_MAYWRITE: never writable, so never a COW mapping either
	 * (private mappings included) and vmf_insert_pfn() is allowed.
	 */
	vma->vm_flags |= VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_flags &= ~(VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_ops = &imee_view_vm_ops;
	vma->vm_private_data = s;

	spin_lock(&s->lock);
	s->mapping = file->f_mapping;
	spin_unlock(&s->lock);
	return 0;
}

/**
 * imee_view_init() - set up the view of a new session
 * @s: the session, with kvm, pid and mm set
 *
 * Asks KVM to tell us about memslot removals, and registers the mmu
 * notifier on the VMM's mm.
 *
 * Return: 0, -ENOMEM, -ESRCH if the VMM's mm is gone, or
 * mmu_notifier_register()'s error. Nothing to undo on failure.
 */
int imee_view_init(struct imee_session *s)
{
	int ret;

	mutex_init(&s->refresh_lock);
	spin_lock_init(&s->lock);
	xa_init(&s->pins);
	s->mn.ops = &imee_mn_ops;

	s->watch = imee_kvm_watch_slots(s->kvm, imee_view_slot_removed, s);
	if (IS_ERR(s->watch))
		return PTR_ERR(s->watch);

	/* registration needs a user of the mm: it must not be exiting */
	if (!mmget_not_zero(s->mm)) {
		ret = -ESRCH;
		goto err_unwatch;
	}
	ret = mmu_notifier_register(&s->mn, s->mm);
	mmput(s->mm);
	if (ret)
		goto err_unwatch;
	return 0;

err_unwatch:
	imee_kvm_unwatch_slots(s->watch);
	kvfree(s->snap);
	return ret;
}

/**
 * imee_view_destroy() - tear the view down when the session goes
 * @s: the session; no mapping of the view is left
 *
 * Unregisters both notifiers synchronously: when this returns, no callback
 * of ours runs or will run, and every pin is dropped.
 */
void imee_view_destroy(struct imee_session *s)
{
	imee_kvm_unwatch_slots(s->watch);
	/* calls imee_mn_release() unless the mm's exit_mmap() did already */
	mmu_notifier_unregister(&s->mn, s->mm);
	imee_view_kill(s);
	/* no mapping and no ioctl left: nothing can have pinned since */
	imee_pins_drop(s, 0, ULONG_MAX, NULL);
	xa_destroy(&s->pins);
	kvfree(s->snap);
	mutex_destroy(&s->refresh_lock);
}
