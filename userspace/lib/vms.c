// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the KVM VMs on this host: a VM is an anonymous-inode file named
 * "kvm-vm" that its VMM holds open, so it shows in /proc/PID/fd as a link to
 * "anon_inode:kvm-vm".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define KVM_VM_LINK "anon_inode:kvm-vm"
/* A bound on what we collect, whatever /proc says. */
#define MAX_VMS 65536

/* A non-negative decimal number that fits an int, and nothing else. */
static bool parse_id(const char *s, int *id)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return false;
	}
	*id = (int)v;
	return true;
}

static void read_comm(int proc_fd, int pid, char *comm, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(comm, size, "?");
	snprintf(path, sizeof(path), "%d/comm", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, size - 1);
	close(fd);
	if (n <= 0) {
		snprintf(comm, size, "?");
		return;
	}
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

static int add_vm(struct imee_vm_list *list, size_t *cap, int proc_fd, int pid, int fd)
{
	struct imee_vm *vm;

	if (list->nr >= MAX_VMS)
		return 0;
	if (list->nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(list->vms, ncap * sizeof(*list->vms));

		if (!p)
			return imee_fail(-ENOMEM, "out of memory");
		list->vms = p;
		*cap = ncap;
	}
	vm = &list->vms[list->nr++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	vm->vm_fd = fd;
	read_comm(proc_fd, pid, vm->comm, sizeof(vm->comm));
	return 0;
}

/* The VM fds of one process. */
static int scan_process(struct imee_vm_list *list, size_t *cap, int proc_fd, int pid)
{
	char path[64], link[sizeof(KVM_VM_LINK) + 1];
	struct dirent *de;
	DIR *fds;
	int dfd, err = 0;

	snprintf(path, sizeof(path), "%d/fd", pid);
	dfd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* Another user's process, unless we are root: count it. Gone: ignore. */
		if (errno == EACCES || errno == EPERM)
			list->nr_unreadable++;
		return 0;
	}
	fds = fdopendir(dfd);
	if (!fds) {
		close(dfd);
		return 0;
	}
	while (!err && (de = readdir(fds))) {
		ssize_t n;
		int fd;

		if (!parse_id(de->d_name, &fd))
			continue;
		/* Only the start matters: a longer target cannot match anyway. */
		n = readlinkat(dirfd(fds), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, KVM_VM_LINK))
			err = add_vm(list, cap, proc_fd, pid, fd);
	}
	closedir(fds);
	return err;
}

static int cmp_vms(const void *a, const void *b)
{
	const struct imee_vm *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->vm_fd > y->vm_fd) - (x->vm_fd < y->vm_fd);
}

int imee_vms_find(const struct imee_vms_opts *opts, struct imee_vm_list *list_ret)
{
	struct imee_vm_list list = { 0 };
	const char *proc = "/proc";
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	int proc_fd, err = 0;

	if (opts) {
		if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_vms_opts, proc),
				  sizeof(*opts)))
			return imee_fail(-EINVAL, "bad VM search options");
		if (opts->proc)
			proc = opts->proc;
	}
	if (!list_ret)
		return imee_fail(-EINVAL, "no list");

	proc_fd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return imee_fail(-errno, "cannot open %s: %s", proc, strerror(errno));
	dir = fdopendir(dup(proc_fd));
	if (!dir) {
		err = imee_fail(-errno, "cannot list %s: %s", proc, strerror(errno));
		close(proc_fd);
		return err;
	}
	while (!err && (de = readdir(dir))) {
		int pid;

		if (parse_id(de->d_name, &pid) && pid > 0)
			err = scan_process(&list, &cap, proc_fd, pid);
	}
	closedir(dir);
	close(proc_fd);
	if (err) {
		free(list.vms);
		return err;
	}
	if (list.nr)
		qsort(list.vms, list.nr, sizeof(*list.vms), cmp_vms);
	*list_ret = list;
	return 0;
}

void imee_vm_list_free(struct imee_vm_list *list)
{
	if (!list)
		return;
	free(list->vms);
	list->vms = NULL;
	list->nr = 0;
	list->nr_unreadable = 0;
}
