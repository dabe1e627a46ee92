// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl scan: one job file run on every KVM VM of the host (or those named
 * with --pid), one JSON document per VM, one per line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "job.h"
#include "output.h"

#define SCAN_MAX_PIDS 256

static const char usage[] =
	"Usage: imeectl scan [--pid PID]... JOB.json | -\n"
	"\n"
	"Run a job file's jobs on every KVM VM of this host (as 'imeectl vms' lists\n"
	"them), or on the VMs of the processes named with --pid, one after the other.\n"
	"Prints one JSON document per VM, each on one line, as 'imeectl run' would\n"
	"print it for that VM. The job file's \"target\" may be left out; if it is\n"
	"there, its \"pid\" and \"vm_fd\" are ignored, and its \"vcpu\" and\n"
	"\"maxphyaddr\" apply to every VM. The Linux jobs' kernel facts are cached per\n"
	"kernel build, so VMs running the same kernel discover them once.\n"
	"\n"
	"A VM that cannot be attached (or a --pid without a VM) gives a line\n"
	"{\"target\": {\"pid\": P, ...}, \"ok\": false, \"error\": {\"message\": ...}}.\n"
	"\n"
	"  --pid PID   only this VMM process's VM(s); repeat for more (at most 256)\n"
	"  --help      this text\n"
	"\n"
	"Exit status: 0 every VM gave its document (single jobs may still have\n"
	"failed: see their \"ok\"), also when there is no VM; 1 some VM could not be\n"
	"attached, or /proc could not be read; 2 usage error or bad job file.\n";

/* The line of a VM that gave no document. */
static void print_failure(pid_t pid, int vm_fd, const char *message)
{
	json_t *doc = json_pack("{s:{s:i}, s:b, s:{s:s}}", "target", "pid", (int)pid, "ok", 0,
				"error", "message", message);

	if (doc && vm_fd >= 0)
		json_object_set_new(json_object_get(doc, "target"), "vm_fd", json_integer(vm_fd));
	if (!doc || out_print_line(doc, stdout))
		cli_error("pid %d: %s", (int)pid, message);
	json_decref(doc);
}

static int scan_one(struct job_file *jf, pid_t pid, int vm_fd)
{
	const struct run_opts once = { .line = true };
	int ret;

	jf->target.pid = pid;
	jf->target.has_vm_fd = true;
	jf->target.vm_fd = vm_fd;
	ret = cli_run_job_file_opts(jf, &once);
	if (ret != EXIT_OK)
		print_failure(pid, vm_fd, imee_errmsg());
	fflush(stdout);
	return ret;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	IMEE_OPTS(imee_vms_opts, vopts);
	pid_t pids[SCAN_MAX_PIDS];
	struct imee_vm_list list;
	struct job_file jf;
	size_t nr_pids = 0, i, j;
	char msg[512];
	int c, ret, status = EXIT_OK;
	long v;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!cli_parse_long(optarg, 1, INT32_MAX, &v)) {
				cli_error("--pid must be a process id");
				return EXIT_USAGE;
			}
			if (nr_pids == SCAN_MAX_PIDS) {
				cli_error("at most %d --pid", SCAN_MAX_PIDS);
				return EXIT_USAGE;
			}
			pids[nr_pids++] = (pid_t)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("scan needs one job file (or '-' for stdin)");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	ret = cli_load_job_file(argv[optind], true, &jf);
	if (ret)
		return ret;
	if (imee_vms_find(&vopts, &list)) {
		cli_error("%s", imee_errmsg());
		job_file_free(&jf);
		return EXIT_RUNTIME;
	}
	if (!list.nr && !nr_pids)
		cli_error("no KVM VM found on this host");

	/* In the order of --pid when given (each pid's VMs), else of the list. */
	for (i = 0; i < (nr_pids ? nr_pids : 1); i++) {
		bool found = false;

		for (j = 0; j < list.nr; j++) {
			const struct imee_vm *vm = &list.vms[j];

			if (nr_pids && vm->pid != pids[i])
				continue;
			found = true;
			if (scan_one(&jf, vm->pid, vm->vm_fd) != EXIT_OK)
				status = EXIT_RUNTIME;
		}
		if (nr_pids && !found) {
			snprintf(msg, sizeof(msg), "process %d has no KVM VM", (int)pids[i]);
			print_failure(pids[i], -1, msg);
			status = EXIT_RUNTIME;
		}
	}
	imee_vm_list_free(&list);
	job_file_free(&jf);
	return status;
}
