// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl vms: the KVM VMs on this host, and what imee sees of each.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

static const char usage[] =
	"Usage: imeectl vms [--json]\n"
	"\n"
	"List the KVM VMs on this host: each VMM process (pid, name) and its VM's file\n"
	"descriptor, found in /proc/*/fd. When /dev/imee is usable, also each VM's\n"
	"memory and vCPU count (by attaching to it).\n"
	"\n"
	"  --json   one JSON document instead of a table\n"
	"  --help   this text\n"
	"\n"
	"Exit status: 0 listed (even none), 1 /proc could not be read, 2 usage error.\n";

struct vm_facts {
	bool known; /* attached: memory and vcpus are valid */
	uint64_t memory;
	size_t vcpus;
	char why[128]; /* why not known */
};

static void probe(const struct imee_vm *vm, struct vm_facts *f)
{
	IMEE_OPTS(imee_attach_opts, opts, .pid = vm->pid, .has_vm_fd = true, .vm_fd = vm->vm_fd);
	const struct imee_memslot *slots;
	const struct imee_vcpu_regs *vcpus;
	struct imee_session *s;
	size_t i, nr;

	memset(f, 0, sizeof(*f));
	if (imee_session_attach(&opts, &s)) {
		snprintf(f->why, sizeof(f->why), "%s", imee_errmsg());
		return;
	}
	nr = imee_session_memslots(s, &slots);
	for (i = 0; i < nr; i++)
		f->memory += slots[i].size;
	f->vcpus = imee_session_vcpus(s, &vcpus);
	f->known = true;
	imee_session_detach(s);
}

/* Can /dev/imee be opened at all? If not, say why once instead of per VM. */
static bool device_usable(char *why, size_t size)
{
	int fd = open(IMEE_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	snprintf(why, size, "%s: %s%s", IMEE_DEVICE_PATH, strerror(errno),
		 errno == ENOENT ? " (is imee.ko loaded?)" : "");
	return false;
}

static int print_json(const struct imee_vm_list *list, const struct vm_facts *facts, bool usable,
		      const char *why)
{
	json_t *doc = out_object(), *vms = out_array();
	size_t i;
	int ret;

	for (i = 0; i < list->nr; i++) {
		json_t *vm = out_object();

		out_set(vm, "pid", json_integer(list->vms[i].pid));
		out_set(vm, "vm_fd", json_integer(list->vms[i].vm_fd));
		out_set(vm, "comm", out_c_string(list->vms[i].comm, strlen(list->vms[i].comm)));
		if (facts[i].known) {
			out_set(vm, "memory", json_integer((json_int_t)facts[i].memory));
			out_set(vm, "vcpus", json_integer((json_int_t)facts[i].vcpus));
		} else if (usable) {
			out_set(vm, "error", json_string(facts[i].why));
		}
		out_append(vms, vm);
	}
	out_set(doc, "vms", vms);
	out_set(doc, "unreadable_processes", json_integer((json_int_t)list->nr_unreadable));
	if (!usable)
		out_set(doc, "imee", json_string(why));
	ret = out_print(doc, stdout);
	json_decref(doc);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

static void print_table(const struct imee_vm_list *list, const struct vm_facts *facts)
{
	size_t i;

	if (!list->nr) {
		printf("no KVM VMs found\n");
		return;
	}
	printf("%-8s %-6s %-16s %12s %6s\n", "PID", "VM FD", "COMM", "MEMORY", "VCPUS");
	for (i = 0; i < list->nr; i++) {
		char mem[32] = "-", vcpus[16] = "-";

		if (facts[i].known) {
			cli_format_size(facts[i].memory, mem, sizeof(mem));
			snprintf(vcpus, sizeof(vcpus), "%zu", facts[i].vcpus);
		}
		printf("%-8d %-6d %-16s %12s %6s\n", (int)list->vms[i].pid, list->vms[i].vm_fd,
		       list->vms[i].comm, mem, vcpus);
	}
}

int cmd_vms(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	IMEE_OPTS(imee_vms_opts, opts);
	struct imee_vm_list list;
	struct vm_facts *facts;
	char why[256] = "";
	bool json = false, usable;
	size_t i;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("vms takes no arguments");
		return EXIT_USAGE;
	}

	if (imee_vms_find(&opts, &list)) {
		cli_error("%s", imee_errmsg());
		return EXIT_RUNTIME;
	}
	facts = calloc(list.nr ? list.nr : 1, sizeof(*facts));
	if (!facts) {
		imee_vm_list_free(&list);
		cli_error("out of memory");
		return EXIT_RUNTIME;
	}
	usable = list.nr && device_usable(why, sizeof(why));
	for (i = 0; usable && i < list.nr; i++) {
		probe(&list.vms[i], &facts[i]);
		if (!facts[i].known)
			cli_error("pid %d fd %d: %s", (int)list.vms[i].pid, list.vms[i].vm_fd,
				  facts[i].why);
	}
	if (list.nr && !usable)
		cli_error("%s: memory and vCPUs not shown", why);
	if (list.nr_unreadable)
		cli_error("note: %zu processes could not be inspected (not root?)",
			  list.nr_unreadable);

	if (json) {
		ret = print_json(&list, facts, usable || !list.nr, why);
	} else {
		print_table(&list, facts);
		ret = EXIT_OK;
	}
	free(facts);
	imee_vm_list_free(&list);
	return ret;
}
