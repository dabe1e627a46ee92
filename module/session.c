// SPDX-License-Identifier: GPL-2.0
/*
 * imee: attaching to a VM, and the session fd.
 *
 * IMEE_ATTACH finds the target's struct kvm through the VMM's file table and
 * returns a session fd (an anon inode of its own, so that each session has
 * its own address_space for the view). The session ioctls are
 * IMEE_SESSION_INFO and IMEE_READ_PHYS, the copying read; the zero-copy view
 * (mmap) is in view.c.
 *
 * Permissions: /dev/imee can only be opened with CAP_SYS_ADMIN. Attaching
 * reads another process's memory, which would call for
 * ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS); that is not exported in
 * 6.1, so attaching requires CAP_SYS_PTRACE (in the initial user namespace)
 * instead. LSM ptrace policies (Yama, SELinux ptrace rules) are therefore
 * not consulted: the capabilities are the whole policy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "imee.h"
#include "ee.h"
#include "kvm_glue.h"

/* Sizes of the first version of each struct: the smallest accepted. */
#define IMEE_ATTACH_SIZE_VER1	offsetofend(struct imee_attach, reserved)
#define IMEE_INFO_SIZE_VER1	offsetofend(struct imee_session_info, reserved)
#define IMEE_READ_SIZE_VER1	offsetofend(struct imee_read_phys, buf)

#define IMEE_ATTACH_FLAGS	IMEE_ATTACH_F_VM_FD

/**
 * imee_session_gone() - has the VMM gone away?
 * @s: the session
 *
 * True once the VMM's mm was torn down (our notifier's release ran, or no
 * user is left), or its thread group exited or is exiting (a group exit or
 * fatal signal is under way, or it was reaped).
 */
bool imee_session_gone(struct imee_session *s)
{
	struct task_struct *task;
	bool gone;

	if (READ_ONCE(s->dead) || !atomic_read(&s->mm->mm_users))
		return true;
	rcu_read_lock();
	task = pid_task(s->pid, PIDTYPE_TGID);
	gone = !task || (READ_ONCE(task->signal->flags) & SIGNAL_GROUP_EXIT);
	rcu_read_unlock();
	return gone;
}

/* As imee_session_gone(), and if gone, drop the view's mappings and pins. */
static bool imee_session_check_gone(struct imee_session *s)
{
	if (!imee_session_gone(s))
		return false;
	imee_view_kill(s);
	return true;
}

/* What the search of the VMM's file table looks for, and finds. */
struct imee_find {
	int vm_fd;		/* the fd to check, or -1: any KVM VM */
	struct kvm *kvm;	/* the VM found (a reference), or NULL */
	int err;
};

/*
 * iterate_fd() callback, called with the VMM's files->file_lock held: the
 * file table's reference on @file, and so @file's reference on its VM, is
 * stable, and kvm_get_kvm() on that VM is safe.
 */
static int imee_find_vm(const void *arg, struct file *file, unsigned int fd)
{
	struct imee_find *find = (struct imee_find *)arg;
	struct kvm *kvm = imee_kvm_of_file(file);

	if (find->vm_fd >= 0) {
		/* iteration starts at vm_fd: the first fd seen is it, or above */
		if (fd != find->vm_fd) {
			find->err = -EBADF;
		} else if (!kvm) {
			find->err = -ENOTTY;
		} else {
			imee_kvm_get(kvm);
			find->kvm = kvm;
			find->err = 0;
		}
		return 1;
	}

	if (!kvm || kvm == find->kvm)
		return 0;
	if (find->kvm) {
		find->err = -ENOTUNIQ;
		return 1;
	}
	imee_kvm_get(kvm);
	find->kvm = kvm;
	find->err = 0;
	return 0;
}

/*
 * Find the KVM VM of process @nr (in the caller's pid namespace): its VM fd
 * @vm_fd, or with @vm_fd < 0 its only VM. On success returns 0 with a
 * reference on the VM in *@kvmp and one on the process's thread-group pid in
 * *@pidp.
 */
static int imee_find_target(pid_t nr, int vm_fd, struct kvm **kvmp,
			    struct pid **pidp)
{
	struct imee_find find = {
		.vm_fd = vm_fd,
		.err = vm_fd >= 0 ? -EBADF : -ENOENT,
	};
	struct task_struct *task;
	struct pid *pid;

	if (nr <= 0)
		return -ESRCH;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;

	/* task_lock() keeps task->files (exit_files() clears it under it) */
	task_lock(task);
	if (!task->files || (task->flags & PF_EXITING))
		find.err = -ESRCH;
	else
		iterate_fd(task->files, vm_fd >= 0 ? vm_fd : 0, imee_find_vm,
			   &find);
	task_unlock(task);

	if (find.err) {
		/* outside file_lock: this may be the VM's last reference now */
		if (find.kvm)
			imee_kvm_put(find.kvm);
		goto out_put_task;
	}
	*pidp = get_task_pid(task, PIDTYPE_TGID);
	if (!*pidp) {
		/* reaped meanwhile */
		imee_kvm_put(find.kvm);
		find.err = -ESRCH;
		goto out_put_task;
	}
	*kvmp = find.kvm;

out_put_task:
	put_task_struct(task);
	return find.err;
}

/**
 * imee_session_info() - IMEE_SESSION_INFO
 * @s:		the session
 * @uarg:	struct imee_session_info
 *
 * The (out) fields are ignored on input. The memslots reported also become
 * the view's: if they changed since the view last looked, everything the
 * view mapped is dropped first (see imee_view_set_snapshot()).
 */
static long imee_session_info(struct imee_session *s, void __user *uarg)
{
	struct imee_vcpu_regs *vcpus = NULL;
	struct imee_memslot *slots = NULL;
	struct imee_session_info info;
	struct imee_slots *snap;
	u32 nslots, nvcpus, i;
	u64 view_size = 0;
	bool gone;
	long ret;

	ret = imee_copy_args(&info, sizeof(info), IMEE_INFO_SIZE_VER1, uarg);
	if (ret)
		return ret;

	gone = imee_session_check_gone(s);

	snap = imee_kvm_snapshot(s->kvm);
	if (IS_ERR(snap))
		return PTR_ERR(snap);

	nslots = min(info.memslots_cap, snap->nr);
	if (nslots) {
		slots = kvcalloc(nslots, sizeof(*slots), GFP_KERNEL_ACCOUNT);
		if (!slots) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < snap->nr; i++) {
		const struct imee_slot *sl = &snap->slot[i];

		if (i < nslots) {
			slots[i].gpa = sl->base_gfn << PAGE_SHIFT;
			slots[i].size = sl->npages << PAGE_SHIFT;
			slots[i].flags = sl->flags;
			slots[i].slot = sl->id;
		}
		view_size = max(view_size, (sl->base_gfn + sl->npages) << PAGE_SHIFT);
	}

	nvcpus = min(info.vcpus_cap, imee_kvm_nr_vcpus(s->kvm));
	if (nvcpus) {
		vcpus = kvcalloc(nvcpus, sizeof(*vcpus), GFP_KERNEL_ACCOUNT);
		if (!vcpus) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	/* vCPUs may have been added since: report all, fill what fits */
	info.nr_vcpus = imee_kvm_vcpu_regs(s->kvm, vcpus, nvcpus);

	info.flags = gone ? IMEE_INFO_F_TARGET_DEAD : 0;
	info.api_version = IMEE_API_VERSION;
	info.vmm_pid = pid_vnr(s->pid);
	info.nr_memslots = snap->nr;
	info.view_size = view_size;
	info.memslots_generation = snap->generation;
	memset(info.reserved, 0, sizeof(info.reserved));

	ret = -EFAULT;
	if (nslots && copy_to_user(u64_to_user_ptr(info.memslots), slots,
				   array_size(nslots, sizeof(*slots))))
		goto out_free;
	if (nvcpus && copy_to_user(u64_to_user_ptr(info.vcpus), vcpus,
				   array_size(nvcpus, sizeof(*vcpus))))
		goto out_free;
	if (copy_to_user(uarg, &info, sizeof(info)))
		goto out_free;
	ret = 0;

	/* the view follows what the caller now knows; it frees snap */
	if (!gone)
		imee_view_set_snapshot(s, snap);
	else
		kvfree(snap);
	snap = NULL;

out_free:
	kvfree(vcpus);
	kvfree(slots);
	kvfree(snap);
	return ret;
}

/**
 * imee_session_read_phys() - IMEE_READ_PHYS, the copying read
 * @s:		the session
 * @uarg:	struct imee_read_phys
 *
 * The per-request path: look the memslot up, pin the one page in the VMM,
 * copy out of it, unpin. Nothing is kept between requests.
 */
static long imee_session_read_phys(struct imee_session *s,
				   const void __user *uarg)
{
	struct imee_read_phys rd;
	unsigned long hva;
	struct page *page;
	void *kaddr;
	long ret;

	ret = imee_copy_args(&rd, sizeof(rd), IMEE_READ_SIZE_VER1, uarg);
	if (ret)
		return ret;
	if (rd.flags || rd.reserved)
		return -EINVAL;
	if (!rd.len || rd.len > PAGE_SIZE ||
	    offset_in_page(rd.gpa) + rd.len > PAGE_SIZE)
		return -EINVAL;

	if (imee_session_check_gone(s))
		return -ESRCH;

	ret = imee_kvm_gpa_to_hva(s->kvm, rd.gpa, &hva);
	if (ret)
		return ret;

	ret = imee_pin_guest_page(s, hva & PAGE_MASK, &page);
	switch (ret) {
	case 0:
		break;
	case -ESRCH:
	case -ENOMEM:
	case -EINTR:
		return ret;
	default:
		/* the VMM no longer maps (readable) memory there */
		return -ENODEV;
	}

	kaddr = kmap_local_page(page);
	if (copy_to_user(u64_to_user_ptr(rd.buf), kaddr + offset_in_page(rd.gpa),
			 rd.len))
		ret = -EFAULT;
	kunmap_local(kaddr);
	unpin_user_page(page);
	return ret;
}

static long imee_session_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct imee_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (IMEE_IOC_BASE(cmd)) {
	case IMEE_IOC_BASE(IMEE_SESSION_INFO):
		return imee_session_info(s, uarg);
	case IMEE_IOC_BASE(IMEE_READ_PHYS):
		return imee_session_read_phys(s, uarg);
	case IMEE_IOC_BASE(IMEE_CREATE):
		return imee_ee_create(s, file, uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * The last reference to the session file is gone: no ioctl is running and
 * no mapping of the view is left. Unregistering the notifier is synchronous,
 * so no callback of ours runs afterwards and the module may go.
 */
static int imee_session_release(struct inode *inode, struct file *file)
{
	struct imee_session *s = file->private_data;

	imee_view_destroy(s);
	mmdrop(s->mm);
	put_pid(s->pid);
	imee_kvm_put(s->kvm);
	kfree(s);
	return 0;
}

static const struct file_operations imee_session_fops = {
	.owner		= THIS_MODULE,
	.release	= imee_session_release,
	.unlocked_ioctl	= imee_session_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= imee_view_mmap,
	.llseek		= no_llseek,
};

/**
 * imee_attach() - IMEE_ATTACH: attach to the KVM VM of a VMM process
 * @uarg: struct imee_attach
 *
 * Return: a new session fd (O_CLOEXEC), or a negative errno (see the uapi
 * header).
 */
long imee_attach(const void __user *uarg)
{
	struct imee_session *s;
	struct imee_attach at;
	struct mm_struct *mm;
	struct kvm *kvm;
	struct pid *pid;
	int vm_fd = -1;
	long ret;

	ret = imee_copy_args(&at, sizeof(at), IMEE_ATTACH_SIZE_VER1, uarg);
	if (ret)
		return ret;
	if (at.flags & ~IMEE_ATTACH_FLAGS)
		return -EINVAL;
	if (at.reserved[0] || at.reserved[1])
		return -EINVAL;
	if (at.flags & IMEE_ATTACH_F_VM_FD) {
		if (at.vm_fd < 0)
			return -EBADF;
		vm_fd = at.vm_fd;
	}
	/* stands in for ptrace_may_access(), which 6.1 does not export */
	if (!capable(CAP_SYS_PTRACE))
		return -EPERM;

	ret = imee_find_target(at.pid, vm_fd, &kvm, &pid);
	if (ret)
		return ret;

	/*
	 * Not a VM of our own process: faults on the view take the VMM's
	 * mmap_lock (to pin its pages) while the core holds the faulting
	 * process's mmap_lock; with both the same mm, that is a recursive
	 * read lock, which deadlocks as soon as a writer queues in between.
	 * imee_view_mmap() refuses the same for a session fd passed on.
	 */
	mm = imee_kvm_mm(kvm);
	if (mm == current->mm) {
		ret = -EINVAL;
		goto err_put_target;
	}

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s) {
		ret = -ENOMEM;
		goto err_put_target;
	}
	s->kvm = kvm;
	s->pid = pid;
	s->mm = mm;
	mmgrab(mm);

	ret = imee_view_init(s);
	if (ret)
		goto err_free;

	ret = anon_inode_getfd_secure("[imee-session]", &imee_session_fops, s,
				      O_RDONLY | O_CLOEXEC, NULL);
	if (ret < 0)
		goto err_view;
	/* the fd is live: s may be released by now */
	return ret;

err_view:
	imee_view_destroy(s);
err_free:
	mmdrop(mm);
	kfree(s);
err_put_target:
	put_pid(pid);
	imee_kvm_put(kvm);
	return ret;
}
