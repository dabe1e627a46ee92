/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * imee: introspection of KVM guests from the host.
 *
 * The one interface shared by imee.ko and its userspace. Every struct starts
 * with a size field that the caller fills with sizeof() of the version it was
 * built against, so fields can be appended later without breaking old
 * binaries. Only fixed-width types; no kernel addresses are ever copied out.
 *
 * Flow:
 *   fd = open("/dev/imee", O_RDWR)            needs CAP_SYS_ADMIN
 *   sfd = ioctl(fd, IMEE_ATTACH, &attach)     returns a session fd
 *   ioctl(sfd, IMEE_SESSION_INFO, &info)      memslots, vCPU registers
 *   view = mmap(NULL, len, PROT_READ, MAP_SHARED, sfd, 0)
 *                                             view[gpa] is guest-physical
 *                                             byte gpa (zero-copy, read-only)
 *   ioctl(sfd, IMEE_READ_PHYS, &rd)           copying read, one page at most
 *   close(sfd)
 */
#ifndef _UAPI_LINUX_IMEE_H
#define _UAPI_LINUX_IMEE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IMEE_DEVICE_NAME	"imee"
#define IMEE_API_VERSION	1

#define IMEE_IOCTL_MAGIC	0xB8

/**
 * struct imee_attach - attach to the KVM VM of a VMM process
 * @size:	sizeof(struct imee_attach)
 * @flags:	IMEE_ATTACH_F_* flags
 * @pid:	pid of the VMM process (e.g. a QEMU), in the caller's namespace
 * @vm_fd:	the VMM's file descriptor number of its KVM VM; used only with
 *		IMEE_ATTACH_F_VM_FD, needed only when the VMM owns several VMs
 * @reserved:	must be zero
 *
 * Returns a new session file descriptor (O_CLOEXEC) on success.
 * Errors: ESRCH no such process, ENOENT the process owns no KVM VM,
 * EBADF @vm_fd is not open in the VMM, ENOTTY @vm_fd is not a KVM VM,
 * ENOTUNIQ several VMs and no @vm_fd, EPERM not allowed, EINVAL bad
 * arguments (including attaching to a VM of the caller's own process).
 *
 * For every struct here: @size smaller than the first version is EINVAL; a
 * larger @size (a newer caller) is accepted when the bytes this module does
 * not know are zero, and is E2BIG otherwise or above 4096.
 */
struct imee_attach {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__s32 vm_fd;
	__u64 reserved[2];
};

#define IMEE_ATTACH_F_VM_FD	(1U << 0)

/**
 * struct imee_memslot - one guest-physical RAM range of the target
 * @gpa:	first guest-physical address
 * @size:	length in bytes (a multiple of 4096)
 * @flags:	IMEE_MEMSLOT_F_*
 * @slot:	KVM's slot number (informational)
 */
struct imee_memslot {
	__u64 gpa;
	__u64 size;
	__u32 flags;
	__u32 slot;
};

#define IMEE_MEMSLOT_F_READONLY	(1U << 0)	/* the guest cannot write it */
#define IMEE_MEMSLOT_F_LOG_DIRTY	(1U << 1)	/* dirty logging enabled */

/**
 * struct imee_vcpu_regs - control registers of one target vCPU
 * @vcpu_id:	KVM's vCPU id
 * @flags:	IMEE_VCPU_F_*
 * @cr0, @cr3, @cr4, @efer: the values KVM last knew
 * @exits:	number of VM exits of this vCPU so far; the registers are as of
 *		the most recent of them (read @exits twice to tell how fresh)
 */
struct imee_vcpu_regs {
	__u32 vcpu_id;
	__u32 flags;
	__u64 cr0;
	__u64 cr3;
	__u64 cr4;
	__u64 efer;
	__u64 exits;
};

/* CR3 is the guest's current value as of the last VM exit (not a stale cache) */
#define IMEE_VCPU_F_CR3_CURRENT	(1U << 0)
/* the vCPU was executing guest code when the registers were read */
#define IMEE_VCPU_F_IN_GUEST	(1U << 1)

/**
 * struct imee_session_info - describe the attached target
 * @size:	sizeof(struct imee_session_info)
 * @flags:	IMEE_INFO_F_* (out)
 * @api_version: IMEE_API_VERSION of the module (out)
 * @vmm_pid:	pid of the VMM, in the caller's namespace (out)
 * @nr_memslots: number of memslots the target has (out); entries beyond
 *		@memslots_cap are not written
 * @memslots_cap: capacity of the array at @memslots (in)
 * @memslots:	user pointer to struct imee_memslot[@memslots_cap] (in)
 * @nr_vcpus:	number of vCPUs (out)
 * @vcpus_cap:	capacity of the array at @vcpus (in)
 * @vcpus:	user pointer to struct imee_vcpu_regs[@vcpus_cap] (in)
 * @view_size:	length of the mmap view: the end of the highest memslot (out)
 * @memslots_generation: changes whenever the target's memslots change (out)
 * @reserved:	zero (out)
 */
struct imee_session_info {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__s32 vmm_pid;
	__u32 nr_memslots;
	__u32 memslots_cap;
	__u64 memslots;
	__u32 nr_vcpus;
	__u32 vcpus_cap;
	__u64 vcpus;
	__u64 view_size;
	__u64 memslots_generation;
	__u64 reserved[4];
};

/* the target is gone (its VMM exited); only close() is left to do */
#define IMEE_INFO_F_TARGET_DEAD	(1U << 0)

/**
 * struct imee_read_phys - copy guest-physical memory (the per-request path)
 * @size:	sizeof(struct imee_read_phys)
 * @flags:	must be zero
 * @gpa:	guest-physical address
 * @len:	bytes to copy; @gpa .. @gpa + @len - 1 must lie within one 4 KiB
 *		page of one memslot
 * @buf:	user pointer to @len bytes
 *
 * Errors: EFAULT @buf bad, ENXIO @gpa not in any memslot, EINVAL bad
 * arguments, ESRCH the target is gone, ENODEV the memory was removed.
 */
struct imee_read_phys {
	__u32 size;
	__u32 flags;
	__u64 gpa;
	__u32 len;
	__u32 reserved;
	__u64 buf;
};

#define IMEE_ATTACH		_IOW(IMEE_IOCTL_MAGIC, 0x00, struct imee_attach)
#define IMEE_SESSION_INFO	_IOWR(IMEE_IOCTL_MAGIC, 0x10, struct imee_session_info)
#define IMEE_READ_PHYS		_IOW(IMEE_IOCTL_MAGIC, 0x11, struct imee_read_phys)

#endif /* _UAPI_LINUX_IMEE_H */
