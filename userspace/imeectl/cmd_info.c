// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl info: what a session reports about its target.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static const char usage[] =
	"Usage: imeectl info --pid PID [--vm-fd FD] [--json]\n"
	"\n"
	"Attach to the KVM VM of process PID (a VMM such as QEMU) and show its\n"
	"memslots (guest-physical RAM), its vCPUs' control registers with their\n"
	"flags and paging mode, and the size of the zero-copy view.\n"
	"\n"
	"  --pid PID   the VMM's pid\n"
	"  --vm-fd FD  the VMM's fd of the VM, needed when it owns several VMs\n"
	"  --json      one JSON document instead of text\n"
	"  --help      this text\n"
	"\n"
	"Exit status: 0 shown, 1 cannot attach, 2 usage error.\n";

/*
 * What the ImEE holds once warm: one empty activation on vCPU 0's page
 * table (the first maps the target's top-level table in), then the module's
 * count of its pages and of the target pages it keeps pinned. False (and
 * the reason in imee_errmsg()) if that activation fails.
 */
static bool ee_memory(struct imee_ee *ee, uint32_t *pages, uint32_t *pinned)
{
	static const struct imee_insn empty[] = { { .op = IMEE_OP_EXIT } };
	IMEE_OPTS(imee_ee_run_opts, opts, .use_vcpu_cr3 = true, .vcpu = 0);
	struct imee_run run;

	if (imee_ee_run(ee, empty, 1, &opts, &run, NULL))
		return false;
	*pages = run.mem_pages;
	*pinned = run.pinned;
	return true;
}

/* What tags the ImEE's TLB entries (IMEE_HW_F_VPID, else the vendor's default). */
static const char *tlb_tag(const struct imee_ee *ee)
{
	if (imee_ee_hw_flags(ee) & IMEE_HW_F_VPID)
		return "a VPID of its own";
	if (imee_ee_hw(ee) == IMEE_HW_SVM_NPT)
		return "an ASID, flushed at each activation";
	return "VPID 0, flushed at each VM entry and exit";
}

static void print_text(struct imee_session *s)
{
	const struct imee_memslot *slots;
	const struct imee_vcpu_regs *vcpus;
	size_t nr_slots = imee_session_memslots(s, &slots);
	size_t nr_vcpus = imee_session_vcpus(s, &vcpus);
	uint64_t ram = 0;
	char size[32], flags[64];
	struct imee_ee *ee;
	size_t i;

	for (i = 0; i < nr_slots; i++)
		ram += slots[i].size;
	cli_format_size(ram, size, sizeof(size));
	printf("VMM pid %d, imee API %" PRIu32 "%s\n", (int)imee_session_vmm_pid(s),
	       imee_session_api_version(s),
	       imee_session_check_alive(s) == -ESRCH ? " (target gone)" : "");
	printf("memory: %s in %zu memslots; view 0x%" PRIx64 " bytes; generation %" PRIu64 "\n",
	       size, nr_slots, imee_session_view_size(s), imee_session_memslots_generation(s));
	printf("  %5s  %-37s  %10s  %s\n", "SLOT", "GUEST-PHYSICAL", "SIZE", "FLAGS");
	for (i = 0; i < nr_slots; i++) {
		cli_format_size(slots[i].size, size, sizeof(size));
		cli_memslot_flags(slots[i].flags, flags, sizeof(flags));
		printf("  %5" PRIu32 "  0x%016" PRIx64 "-0x%016" PRIx64 "  %10s  %s\n",
		       (uint32_t)slots[i].slot, (uint64_t)slots[i].gpa,
		       (uint64_t)(slots[i].gpa + slots[i].size - 1), size, flags);
	}
	printf("vCPUs: %zu\n", nr_vcpus);
	printf("  %4s  %-8s  %-18s  %-18s  %-18s  %-10s  %10s  %s\n", "ID", "PAGING", "CR0", "CR3",
	       "CR4", "EFER", "EXITS", "FLAGS");
	for (i = 0; i < nr_vcpus; i++) {
		const struct imee_vcpu_regs *v = &vcpus[i];

		cli_vcpu_flags(v->flags, flags, sizeof(flags));
		printf("  %4" PRIu32 "  %-8s  0x%016" PRIx64 "  0x%016" PRIx64 "  0x%016" PRIx64
		       "  0x%08" PRIx64 "  %10" PRIu64 "  %s\n",
		       (uint32_t)v->vcpu_id,
		       imee_paging_name(imee_paging_mode(v->cr0, v->cr4, v->efer)),
		       (uint64_t)v->cr0, (uint64_t)v->cr3, (uint64_t)v->cr4, (uint64_t)v->efer,
		       (uint64_t)v->exits, flags);
	}
	if (!imee_session_ee(s, &ee)) {
		uint32_t f = imee_ee_hw_flags(ee);

		printf("ImEE: %s (nested page table: %s)\n", imee_ee_hw_name(imee_ee_hw(ee)),
		       imee_ee_hw(ee) == IMEE_HW_SVM_NPT ? "AMD NPT" : "Intel EPT");
		uint32_t pages, pinned;

		if (ee_memory(ee, &pages, &pinned))
			printf("  memory when warm: %" PRIu32 " KiB (agent pages, nested tables, "
			       "A/D copies); %" PRIu32 " target pages pinned\n",
			       pages * 4, pinned);
		else
			printf("  memory when warm: unknown (an empty activation failed: %s)\n",
			       imee_errmsg());
		printf("  views: %s; agent code: %s; TLB tag: %s\n",
		       (f & IMEE_HW_F_VIEWS) ? "two, switched by VMFUNC" : "one table",
		       (f & IMEE_HW_F_EXEC_ONLY) ? "execute-only" : "readable", tlb_tag(ee));
	} else {
		printf("ImEE: not available: %s\n", imee_errmsg());
	}
}

static json_t *flag_list(const char *names)
{
	json_t *a = out_array();
	char buf[64];
	char *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		out_append(a, json_string(tok));
	return a;
}

static int print_json(struct imee_session *s)
{
	const struct imee_memslot *slots;
	const struct imee_vcpu_regs *vcpus;
	size_t nr_slots = imee_session_memslots(s, &slots);
	size_t nr_vcpus = imee_session_vcpus(s, &vcpus);
	json_t *doc = out_object(), *jslots = out_array(), *jvcpus = out_array(), *jee;
	struct imee_ee *ee;
	char flags[64];
	size_t i;
	int ret;

	out_set(doc, "vmm_pid", json_integer(imee_session_vmm_pid(s)));
	out_set(doc, "api_version", json_integer(imee_session_api_version(s)));
	out_set(doc, "target_dead", json_boolean(imee_session_check_alive(s) == -ESRCH));
	out_set(doc, "view_size", out_hex(imee_session_view_size(s)));
	out_set(doc, "memslots_generation",
		json_integer((json_int_t)imee_session_memslots_generation(s)));
	for (i = 0; i < nr_slots; i++) {
		json_t *m = out_object();

		cli_memslot_flags(slots[i].flags, flags, sizeof(flags));
		out_set(m, "slot", json_integer(slots[i].slot));
		out_set(m, "gpa", out_hex(slots[i].gpa));
		out_set(m, "size", json_integer((json_int_t)slots[i].size));
		out_set(m, "flags", flag_list(flags));
		out_append(jslots, m);
	}
	out_set(doc, "memslots", jslots);
	for (i = 0; i < nr_vcpus; i++) {
		const struct imee_vcpu_regs *v = &vcpus[i];
		json_t *c = out_object();

		cli_vcpu_flags(v->flags, flags, sizeof(flags));
		out_set(c, "id", json_integer(v->vcpu_id));
		out_set(c, "paging",
			json_string(imee_paging_name(imee_paging_mode(v->cr0, v->cr4, v->efer))));
		out_set(c, "cr0", out_hex(v->cr0));
		out_set(c, "cr3", out_hex(v->cr3));
		out_set(c, "cr4", out_hex(v->cr4));
		out_set(c, "efer", out_hex(v->efer));
		out_set(c, "exits", json_integer((json_int_t)v->exits));
		out_set(c, "flags", flag_list(flags));
		out_append(jvcpus, c);
	}
	out_set(doc, "vcpus", jvcpus);
	jee = out_object();
	if (!imee_session_ee(s, &ee)) {
		out_set(jee, "available", json_true());
		out_set(jee, "hw", json_string(imee_ee_hw_name(imee_ee_hw(ee))));
		out_set(jee, "nested_paging",
			json_string(imee_ee_hw(ee) == IMEE_HW_SVM_NPT ? "npt" : "ept"));
		out_set(jee, "views",
			json_string((imee_ee_hw_flags(ee) & IMEE_HW_F_VIEWS) ? "vmfunc" : "one"));
		out_set(jee, "agent_code",
			json_string((imee_ee_hw_flags(ee) & IMEE_HW_F_EXEC_ONLY) ? "execute-only"
										 : "readable"));
		out_set(jee, "own_vpid", json_boolean(imee_ee_hw_flags(ee) & IMEE_HW_F_VPID));
		{
			uint32_t pages, pinned;
			json_t *mem = out_object();

			if (ee_memory(ee, &pages, &pinned)) {
				out_set(mem, "bytes", json_integer((json_int_t)pages * 4096));
				out_set(mem, "pinned_target_pages", json_integer(pinned));
			} else {
				out_set(mem, "error", json_string(imee_errmsg()));
			}
			out_set(jee, "memory", mem);
		}
		out_set(jee, "launch_ns", json_integer((json_int_t)imee_ee_launch_ns(ee)));
	} else {
		out_set(jee, "available", json_false());
		out_set(jee, "reason", json_string(imee_errmsg()));
	}
	out_set(doc, "imee", jee);
	ret = out_print(doc, stdout);
	json_decref(doc);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "vm-fd", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct imee_session *s;
	struct cli_target target = { 0 };
	bool handled;
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'f':
			if (!cli_target_option(c, optarg, &target, &handled))
				return EXIT_USAGE;
			break;
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
	if (optind != argc || !target.pid) {
		cli_error(target.pid ? "info takes no arguments" : "info needs --pid");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}

	s = cli_attach(target.pid, target.has_vm_fd, target.vm_fd);
	if (!s)
		return EXIT_RUNTIME;
	if (json) {
		ret = print_json(s);
	} else {
		print_text(s);
		ret = EXIT_OK;
	}
	imee_session_detach(s);
	return ret;
}
