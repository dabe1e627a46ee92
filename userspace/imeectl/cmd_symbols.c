// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl symbols: the guest kernel's kallsyms, as one JSON document (the
 * same as 'imeectl run' with one "symbols" job).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "job.h"

static const char usage[] =
	"Usage: imeectl symbols --pid PID [--vm-fd FD] [--vcpu N] [--engine ENGINE]\n"
	"                       [--system-map FILE] [NAME...]\n"
	"\n"
	"Find the guest Linux kernel's kallsyms tables in its memory (no System.map)\n"
	"and print, as 'imeectl run' would for a \"symbols\" job with id \"symbols\":\n"
	"each NAME's address and type letter (null when there is no such symbol), or\n"
	"without names the number of symbols, _text and the KASLR slide.\n"
	"\n"
	"  --pid PID        the VMM's pid\n"
	"  --vm-fd FD       the VMM's fd of the VM, needed when it owns several VMs\n"
	"  --vcpu N         the KVM vCPU whose CR3 the kernel is walked with\n"
	"  --engine ENGINE  \"imee\" (the default where the host can run an ImEE),\n"
	"                   \"software\" or \"legacy\"\n"
	"  --system-map FILE  the symbols from this System.map instead, its addresses\n"
	"                   slid to the guest's (as \"system_map\" in a job file)\n"
	"\n"
	"Exit status: 0 the document was printed (see its \"ok\"), 1 runtime failure,\n"
	"2 usage error.\n";

int cmd_symbols(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "vm-fd", required_argument, NULL, 'f' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "engine", required_argument, NULL, 'e' },
		{ "system-map", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_target target = { 0 };
	struct job_file jf = { 0 };
	bool handled;
	struct job job = { 0 };
	long v;
	int c, i, ret;

	jf.engine = IMEE_ENGINE_IMEE;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'f':
			if (!cli_target_option(c, optarg, &target, &handled))
				return EXIT_USAGE;
			jf.target.pid = target.pid;
			jf.target.has_vm_fd = target.has_vm_fd;
			jf.target.vm_fd = target.vm_fd;
			break;
		case 'c':
			if (!cli_parse_long(optarg, 0, JOB_VCPU_MAX, &v)) {
				cli_error("--vcpu: must be 0..%d", JOB_VCPU_MAX);
				return EXIT_USAGE;
			}
			jf.target.has_vcpu = true;
			jf.target.vcpu = (unsigned int)v;
			break;
		case 'e':
			if (!strcmp(optarg, "imee")) {
				jf.engine = IMEE_ENGINE_IMEE;
			} else if (!strcmp(optarg, "software")) {
				jf.engine = IMEE_ENGINE_SOFTWARE;
			} else if (!strcmp(optarg, "legacy")) {
				jf.engine = IMEE_ENGINE_LEGACY;
			} else {
				cli_error("--engine: must be \"imee\", \"software\" or \"legacy\"");
				return EXIT_USAGE;
			}
			jf.engine_explicit = true;
			break;
		case 'm':
			if (!*optarg || strlen(optarg) >= IMEE_LINUX_PATH_MAX) {
				cli_error("--system-map: a file's path");
				return EXIT_USAGE;
			}
			jf.system_map = optarg; /* argv's: nothing here frees it */
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!jf.target.pid) {
		cli_error("symbols needs --pid");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (argc - optind > JOB_SYMBOLS_MAX) {
		cli_error("at most %d names", JOB_SYMBOLS_MAX);
		return EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (!len || len > JOB_SYMBOL_NAME_MAX) {
			cli_error("a symbol name is 1..%d bytes long", JOB_SYMBOL_NAME_MAX);
			return EXIT_USAGE;
		}
	}
	strcpy(job.id, "symbols");
	job.type = JOB_SYMBOLS;
	job.engine = jf.engine;
	job.engine_explicit = jf.engine_explicit;
	/* The names stay argv's: nothing here frees them. */
	job.has_names = argc > optind;
	job.names = argv + optind;
	job.nr_names = (size_t)(argc - optind);
	jf.jobs = &job;
	jf.nr_jobs = 1;
	ret = cli_run_job_file(&jf);
	return ret;
}
