// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: opening /dev/imee, attaching to a VM, the session info, the
 * zero-copy view's mapping, detaching.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "session.h"

/*
 * Sanity bounds on what the module reports: KVM allows at most 32764
 * memslots per address space and a few thousand vCPUs. Anything beyond is a
 * broken module, not a reason to allocate gigabytes.
 */
#define MAX_MEMSLOTS 65536
#define MAX_VCPUS 16384
/* The largest guest-physical address space x86-64 can have (MAXPHYADDR 52). */
#define MAX_VIEW_SIZE (1ULL << 52)
/* Counts can change between two info calls; give up growing after this. */
#define INFO_ATTEMPTS 8
#define INITIAL_CAP 16

static int attach_error(int err, const struct imee_attach_opts *opts)
{
	switch (-err) {
	case ESRCH:
		return imee_fail(err, "no process %d", (int)opts->pid);
	case ENOENT:
		return imee_fail(err, "process %d owns no KVM VM", (int)opts->pid);
	case EBADF:
		return imee_fail(err, "fd %d is not open in process %d", opts->vm_fd,
				 (int)opts->pid);
	case ENOTTY:
		return imee_fail(err, "fd %d of process %d is not a KVM VM", opts->vm_fd,
				 (int)opts->pid);
	case ENOTUNIQ:
		return imee_fail(err, "process %d owns several KVM VMs: give the VM's fd",
				 (int)opts->pid);
	case EPERM:
	case EACCES:
		return imee_fail(err, "not permitted to attach to process %d (%s)", (int)opts->pid,
				 "needs CAP_SYS_ADMIN and CAP_SYS_PTRACE");
	default:
		return imee_fail(err, "cannot attach to process %d: %s", (int)opts->pid,
				 strerror(-err));
	}
}

static int cmp_slots(const void *a, const void *b)
{
	const struct imee_memslot *x = a, *y = b;

	if (x->gpa != y->gpa)
		return x->gpa < y->gpa ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static int check_slots(const struct imee_memslot *slots, size_t nr, uint64_t view_size)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		const struct imee_memslot *s = &slots[i];

		if (!s->size || (s->gpa | s->size) & ~IMEE_PAGE_MASK ||
		    s->size > UINT64_MAX - s->gpa || s->gpa + s->size > view_size)
			return imee_fail(-EPROTO,
					 "imee.ko reported a bad memslot: 0x%" PRIx64
					 " + 0x%" PRIx64 " (view 0x%" PRIx64 ")",
					 (uint64_t)s->gpa, (uint64_t)s->size, view_size);
	}
	return 0;
}

/* IMEE_SESSION_INFO with arrays of the right size: grown and retried. */
static int query_info(int fd, struct imee_session_info *info_ret, struct imee_memslot **slots_ret,
		      struct imee_vcpu_regs **vcpus_ret)
{
	size_t cap_slots = INITIAL_CAP, cap_vcpus = INITIAL_CAP;
	struct imee_memslot *slots = NULL;
	struct imee_vcpu_regs *vcpus = NULL;
	struct imee_session_info info;
	int attempt, err;

	for (attempt = 0; attempt < INFO_ATTEMPTS; attempt++) {
		void *p;

		p = realloc(slots, cap_slots * sizeof(*slots));
		if (!p)
			goto nomem;
		slots = p;
		p = realloc(vcpus, cap_vcpus * sizeof(*vcpus));
		if (!p)
			goto nomem;
		vcpus = p;

		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		info.memslots_cap = cap_slots;
		info.memslots = (uintptr_t)slots;
		info.vcpus_cap = cap_vcpus;
		info.vcpus = (uintptr_t)vcpus;
		if (ioctl(fd, IMEE_SESSION_INFO, &info)) {
			err = -errno;
			imee_fail(err, "IMEE_SESSION_INFO: %s", strerror(errno));
			goto fail;
		}
		if (info.nr_memslots > MAX_MEMSLOTS || info.nr_vcpus > MAX_VCPUS) {
			err = imee_fail(-EPROTO,
					"imee.ko reported %" PRIu32 " memslots and %" PRIu32
					" vCPUs: too many",
					info.nr_memslots, info.nr_vcpus);
			goto fail;
		}
		if (info.nr_memslots <= cap_slots && info.nr_vcpus <= cap_vcpus) {
			info.memslots = 0;
			info.vcpus = 0;
			*info_ret = info;
			*slots_ret = slots;
			*vcpus_ret = vcpus;
			return 0;
		}
		/* The arrays were too small: grow them, with room for a few more. */
		if (info.nr_memslots > cap_slots)
			cap_slots = info.nr_memslots + INITIAL_CAP;
		if (info.nr_vcpus > cap_vcpus)
			cap_vcpus = info.nr_vcpus + INITIAL_CAP;
	}
	err = imee_fail(-EAGAIN, "the target's memslots or vCPUs kept changing");
	goto fail;
nomem:
	err = imee_fail(-ENOMEM, "out of memory");
fail:
	free(slots);
	free(vcpus);
	return err;
}

int imee_session_vcpu_now(struct imee_session *s, size_t index, struct imee_vcpu_regs *regs_ret)
{
	struct imee_session_info info;
	struct imee_memslot *slots = NULL;
	struct imee_vcpu_regs *vcpus = NULL;
	int err;

	if (!s || !regs_ret)
		return imee_fail(-EINVAL, "no session");
	err = query_info(s->fd, &info, &slots, &vcpus);
	if (err)
		return err;
	if (index < info.nr_vcpus)
		*regs_ret = vcpus[index];
	else
		err = imee_fail(-ENOENT, "the target has no vCPU at index %zu", index);
	free(slots);
	free(vcpus);
	return err;
}

int imee_session_refresh(struct imee_session *s)
{
	struct imee_session_info info;
	struct imee_memslot *slots = NULL;
	struct imee_vcpu_regs *vcpus = NULL;
	const unsigned char *view = s->view;
	size_t view_len = s->view_len;
	int err;

	err = query_info(s->fd, &info, &slots, &vcpus);
	if (err)
		return err;
	if (info.view_size > MAX_VIEW_SIZE || info.view_size > SIZE_MAX) {
		err = imee_fail(-EPROTO, "imee.ko reported a view of 0x%" PRIx64 " bytes",
				(uint64_t)info.view_size);
		goto fail;
	}
	qsort(slots, info.nr_memslots, sizeof(*slots), cmp_slots);
	err = check_slots(slots, info.nr_memslots, info.view_size);
	if (err)
		goto fail;

	/* Map a new view only when the old one is too small, before dropping it. */
	if (info.view_size > view_len) {
		void *p = mmap(NULL, info.view_size, PROT_READ, MAP_SHARED, s->fd, 0);

		if (p == MAP_FAILED) {
			err = imee_fail(-errno, "cannot map the view of 0x%" PRIx64 " bytes: %s",
					(uint64_t)info.view_size, strerror(errno));
			goto fail;
		}
		if (view)
			munmap((void *)view, view_len);
		view = p;
		view_len = info.view_size;
	}

	free(s->slots);
	free(s->vcpus);
	s->info = info;
	s->slots = slots;
	s->nr_slots = info.nr_memslots;
	s->vcpus = vcpus;
	s->nr_vcpus = info.nr_vcpus;
	s->view = view;
	s->view_len = view_len;
	return 0;
fail:
	free(slots);
	free(vcpus);
	return err;
}

int imee_session_attach(const struct imee_attach_opts *opts, struct imee_session **session_ret)
{
	struct imee_attach attach;
	struct imee_session *s;
	const char *path;
	int dev, fd, err;

	if (!imee_opts_ok(opts, opts ? opts->sz : 0,
			  imee_offsetofend(struct imee_attach_opts, vm_fd), sizeof(*opts)) ||
	    !session_ret)
		return imee_fail(-EINVAL, "bad attach options");
	if (opts->pid <= 0)
		return imee_fail(-EINVAL, "bad pid %d", (int)opts->pid);
	if (opts->has_vm_fd && opts->vm_fd < 0)
		return imee_fail(-EINVAL, "bad VM fd %d", opts->vm_fd);

	path = opts->device ? opts->device : IMEE_DEVICE_PATH;
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		const char *hint = "";

		err = -errno;
		if (errno == ENOENT)
			hint = " (is imee.ko loaded?)";
		else if (errno == EACCES || errno == EPERM)
			hint = " (needs CAP_SYS_ADMIN)";
		return imee_fail(err, "cannot open %s: %s%s", path, strerror(-err), hint);
	}

	memset(&attach, 0, sizeof(attach));
	attach.size = sizeof(attach);
	attach.pid = opts->pid;
	if (opts->has_vm_fd) {
		attach.flags |= IMEE_ATTACH_F_VM_FD;
		attach.vm_fd = opts->vm_fd;
	}
	fd = ioctl(dev, IMEE_ATTACH, &attach);
	err = fd < 0 ? -errno : 0;
	/* The session stands alone: the device fd is not needed any more. */
	close(dev);
	if (err)
		return attach_error(err, opts);

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return imee_fail(-ENOMEM, "out of memory");
	}
	s->fd = fd;
	err = imee_session_refresh(s);
	if (err) {
		imee_session_detach(s);
		return err;
	}
	*session_ret = s;
	return 0;
}

int imee_session_from_view_fd(int view_fd, const struct imee_memslot *slots, size_t nr_slots,
			      uint64_t view_size, struct imee_session **session_ret)
{
	struct imee_session *s;
	int err;

	if (view_size > MAX_VIEW_SIZE || view_size > SIZE_MAX || nr_slots > MAX_MEMSLOTS)
		return imee_fail(-EINVAL, "bad view");
	s = calloc(1, sizeof(*s));
	if (!s)
		return imee_fail(-ENOMEM, "out of memory");
	s->fd = fcntl(view_fd, F_DUPFD_CLOEXEC, 0);
	if (s->fd < 0) {
		err = imee_fail(-errno, "dup: %s", strerror(errno));
		free(s);
		return err;
	}
	s->slots = calloc(nr_slots ? nr_slots : 1, sizeof(*slots));
	if (!s->slots) {
		imee_session_detach(s);
		return imee_fail(-ENOMEM, "out of memory");
	}
	if (nr_slots)
		memcpy(s->slots, slots, nr_slots * sizeof(*slots));
	qsort(s->slots, nr_slots, sizeof(*slots), cmp_slots);
	s->nr_slots = nr_slots;
	err = check_slots(s->slots, nr_slots, view_size);
	if (err) {
		imee_session_detach(s);
		return err;
	}
	if (view_size) {
		void *p = mmap(NULL, view_size, PROT_READ, MAP_SHARED, s->fd, 0);

		if (p == MAP_FAILED) {
			err = imee_fail(-errno, "mmap: %s", strerror(errno));
			imee_session_detach(s);
			return err;
		}
		s->view = p;
		s->view_len = view_size;
	}
	s->info.size = sizeof(s->info);
	s->info.nr_memslots = nr_slots;
	s->info.view_size = view_size;
	*session_ret = s;
	return 0;
}

void imee_session_detach(struct imee_session *s)
{
	if (!s)
		return;
	imee_ee_destroy(s->ee);
	if (s->view)
		munmap((void *)s->view, s->view_len);
	if (s->fd >= 0)
		close(s->fd);
	free(s->slots);
	free(s->vcpus);
	free(s);
}

int imee_session_check_alive(struct imee_session *s)
{
	struct imee_session_info info;

	/* Capacities of zero: only the counts and flags come back. */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(s->fd, IMEE_SESSION_INFO, &info)) {
		if (errno == ESRCH)
			return imee_fail(-ESRCH, "the target is gone (its VMM exited)");
		return imee_fail(-errno, "IMEE_SESSION_INFO: %s", strerror(errno));
	}
	if (info.flags & IMEE_INFO_F_TARGET_DEAD)
		return imee_fail(-ESRCH, "the target is gone (its VMM exited)");
	return 0;
}

pid_t imee_session_vmm_pid(const struct imee_session *s)
{
	return s->info.vmm_pid;
}

uint32_t imee_session_api_version(const struct imee_session *s)
{
	return s->info.api_version;
}

uint64_t imee_session_view_size(const struct imee_session *s)
{
	return s->info.view_size;
}

uint64_t imee_session_memslots_generation(const struct imee_session *s)
{
	return s->info.memslots_generation;
}

size_t imee_session_memslots(const struct imee_session *s, const struct imee_memslot **slots_ret)
{
	*slots_ret = s->slots;
	return s->nr_slots;
}

size_t imee_session_vcpus(const struct imee_session *s, const struct imee_vcpu_regs **vcpus_ret)
{
	*vcpus_ret = s->vcpus;
	return s->nr_vcpus;
}
