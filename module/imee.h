/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: introspection of KVM guests from the host.
 *
 * Declarations shared by main.c (the device), session.c (attach and the
 * session fd) and view.c (the mmap view and its pin table). Everything that
 * touches KVM's internals is behind kvm_glue.h.
 *
 * Objects and references
 *
 *   A session (struct imee_session) is the private data of one session fd.
 *   It holds, for its whole life, a reference on the target's struct kvm, a
 *   reference on the VMM's struct pid, an mm_count reference (mmgrab) on the
 *   VMM's mm (kvm->mm), an mmu_notifier registered on that mm, and a watch
 *   on the VM's memslot removals (kvm_glue.c). The session fd's file holds
 *   the module (fops->owner); so does every mapping of the view, through its
 *   vm_file.
 *
 * Locks, outermost first
 *
 *   the introspector's mmap_lock       held by the core around ->fault
 *   kvm->slots_lock                    held by KVM around our memslot
 *                                      removal callback (view.c)
 *   s->refresh_lock (mutex)            replacing s->snap (view.c)
 *   kvm->srcu (read side)              only inside kvm_glue.c
 *   the VMM's mmap_lock (read)         around GUP only; never with s->lock;
 *                                      a first fault attempt drops the
 *                                      introspector's mmap_lock before
 *   our file's i_mmap_rwsem            inside unmap_mapping_pages()
 *   s->lock (spinlock)                 see struct imee_session
 *   the introspector's PTE lock        inside vmf_insert_pfn()
 *   xa_lock of s->pins                 inside the xa_*() calls
 *
 *   The mmu notifier callbacks run with VMM-side mm locks held (its
 *   mmap_lock, or rmap locks during reclaim and migration) and may be
 *   reached from memory reclaim. They take s->lock and, when allowed to
 *   sleep, our i_mmap_rwsem; so nothing may allocate memory that can enter
 *   reclaim while holding s->lock.
 */
#ifndef IMEE_INTERNAL_H
#define IMEE_INTERNAL_H

#include <linux/ioctl.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/imee.h>

#define IMEE_MODULE_VERSION	"0.1"

/*
 * An ioctl command without its size bits. Structs may grow (their own size
 * field says which version the caller has), which changes the size encoded
 * in the command number; commands are matched on direction, type and number
 * only.
 */
#define IMEE_IOC_BASE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

struct file;
struct imee_kvm_watch;
struct imee_slots;
struct kvm;
struct page;
struct pid;
struct vm_area_struct;

/**
 * struct imee_session - one attachment to one KVM VM
 * @kvm:	the target VM (reference)
 * @pid:	the VMM's thread-group pid (reference)
 * @mm:		the VMM's mm, kvm->mm (mmgrab)
 * @mn:		our mmu notifier on @mm
 * @watch:	tells us when KVM deletes or moves a memslot
 * @refresh_lock: serialises replacing @snap (memslot changes)
 * @lock:	protects the fields below it, and the view's one rule: a PTE of
 *		the view is installed only under @lock, while the gfn's pin is
 *		in @pins and no invalidation covers the gfn's VMM address
 * @dead:	the VMM is gone; nothing is ever mapped or pinned again
 * @snap:	memslots the view currently uses (NULL: none yet)
 * @snap_id:	bumped whenever @snap is replaced
 * @inval_seq:	bumped at the end of every invalidation
 * @inval_count: invalidations in progress
 * @inval_start: start of the VMM address range they cover (a union)
 * @inval_end:	its end (exclusive)
 * @mapping:	our file's address_space, once the view was mmapped
 * @has_ee:	the session has an ImEE (ee.c; at most one)
 * @pins:	gfn -> struct page *, each entry one pin (FOLL_PIN) on a page
 *		of the VMM; own locking (xa_lock). An entry is erased and its
 *		pin dropped only after the view's PTEs for it were zapped, by
 *		whoever erases it.
 */
struct imee_session {
	struct kvm *kvm;
	struct pid *pid;
	struct mm_struct *mm;
	struct mmu_notifier mn;
	struct imee_kvm_watch *watch;

	/* serialises replacing @snap */
	struct mutex refresh_lock;

	/* protects @dead to @mapping, and installing PTEs of the view */
	spinlock_t lock;
	bool dead;
	struct imee_slots *snap;
	unsigned long snap_id;
	unsigned long inval_seq;
	unsigned int inval_count;
	unsigned long inval_start;
	unsigned long inval_end;
	struct address_space *mapping;
	bool has_ee;

	struct xarray pins;
};

/**
 * struct imee_epoch - what the ImEE compares between activations
 * @inval_seq:	struct imee_session's
 * @snap_id:	struct imee_session's
 * @ram_end:	end of the highest memslot (bytes)
 */
struct imee_epoch {
	unsigned long inval_seq;
	unsigned long snap_id;
	u64 ram_end;
};

/* main.c */
int imee_copy_args(void *dst, size_t ksize, size_t minsize,
		   const void __user *uarg);

/* session.c */
long imee_attach(const void __user *uarg);
bool imee_session_gone(struct imee_session *s);

/* view.c */
int imee_view_init(struct imee_session *s);
void imee_view_destroy(struct imee_session *s);
int imee_view_mmap(struct file *file, struct vm_area_struct *vma);
void imee_view_set_snapshot(struct imee_session *s, struct imee_slots *snap);
void imee_view_kill(struct imee_session *s);
int imee_view_sync(struct imee_session *s);
int imee_view_epoch(struct imee_session *s, struct imee_epoch *epoch);
int imee_view_gfn_to_hva(struct imee_session *s, unsigned long gfn,
			 unsigned long *hva);
int imee_pin_guest_page(struct imee_session *s, unsigned long hva,
			struct page **pagep);

#endif /* IMEE_INTERNAL_H */
