// SPDX-License-Identifier: GPL-2.0
/*
 * Finding VMs in a synthetic /proc: fd links to "anon_inode:kvm-vm" count,
 * vCPU fds and everything else do not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <imee/imee.h>

#include "tap.h"

static char proc[64];

static void mkpath(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		perror(path);
}

static void link_fd(const char *rel, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	if (symlink(target, path))
		perror(path);
}

static void write_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void build_proc(void)
{
	mkpath("100");
	mkpath("100/fd");
	write_file("100/comm", "qemu-system-x86\n");
	link_fd("100/fd/0", "/dev/null");
	link_fd("100/fd/5", "anon_inode:kvm-vm");
	link_fd("100/fd/7", "anon_inode:kvm-vcpu:0");
	link_fd("100/fd/8", "anon_inode:kvm-vm-but-longer");
	mkpath("200");
	mkpath("200/fd");
	write_file("200/comm", "firecracker\n");
	link_fd("200/fd/9", "anon_inode:kvm-vm");
	link_fd("200/fd/3", "anon_inode:kvm-vm");
	mkpath("300"); /* a process without an fd directory (gone, or a kernel thread) */
	mkpath("self");
	mkpath("sys");
	mkpath("99999999999"); /* too big for a pid */
	mkpath("99999999999/fd");
	link_fd("99999999999/fd/1", "anon_inode:kvm-vm");
}

static void finds_vms(void)
{
	IMEE_OPTS(imee_vms_opts, o, .proc = proc);
	struct imee_vm_list list;

	REQUIRE(imee_vms_find(&o, &list) == 0);
	REQUIRE(list.nr == 3);
	EXPECT_INT(list.vms[0].pid, 100);
	EXPECT_INT(list.vms[0].vm_fd, 5);
	EXPECT_STR(list.vms[0].comm, "qemu-system-x86");
	EXPECT_INT(list.vms[1].pid, 200);
	EXPECT_INT(list.vms[1].vm_fd, 3);
	EXPECT_INT(list.vms[2].vm_fd, 9);
	EXPECT_STR(list.vms[2].comm, "firecracker");
	imee_vm_list_free(&list);
}

static void missing_proc(void)
{
	IMEE_OPTS(imee_vms_opts, o, .proc = "/nonexistent/proc");
	struct imee_vm_list list = { 0 };

	EXPECT_INT(imee_vms_find(&o, &list), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "/nonexistent/proc");
	EXPECT(list.vms == NULL);
}

static void real_proc(void)
{
	struct imee_vm_list list;

	/* Whatever this host runs: the scan must work and the list be sane. */
	REQUIRE(imee_vms_find(NULL, &list) == 0);
	EXPECT(list.nr == 0 || list.vms != NULL);
	imee_vm_list_free(&list);
}

int main(void)
{
	char cmd[128];
	int ret;

	snprintf(proc, sizeof(proc), "/tmp/imee-proc-XXXXXX");
	if (!mkdtemp(proc)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	build_proc();
	tap_run(finds_vms, "kvm-vm fds in a synthetic /proc, sorted, with comm");
	tap_run(missing_proc, "a missing /proc is an error");
	tap_run(real_proc, "the real /proc can be scanned");
	ret = tap_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc);
	if (system(cmd))
		printf("# could not remove %s\n", proc);
	return ret;
}
