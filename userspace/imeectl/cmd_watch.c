// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl watch: a job file's list jobs (pslist, pidlist, credlist,
 * modules, syscalldmp) run over and over on one session; only what changed
 * is printed, a JSON line per round that saw a change.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "job.h"

#define INTERVAL_US_MAX 3600000000L

static const char usage[] =
	"Usage: imeectl watch [--interval-us N] [--rounds N] JOB.json | -\n"
	"\n"
	"Run a job file's jobs again and again over one session, until SIGINT or\n"
	"SIGTERM, the target's end or --rounds, and print only what changed, as JSON\n"
	"lines. The jobs must be pslist, pidlist, credlist, modules or syscalldmp.\n"
	"\n"
	"Lines on stdout:\n"
	"  the first round, in full, as 'imeectl run' prints it, with \"round\": 1\n"
	"  and \"time\" (UTC, ISO 8601, microseconds);\n"
	"  then, for each round that saw a change: {\"round\", \"time\",\n"
	"  \"rounds_per_second\" (so far), \"changes\": [{\"id\", \"type\", \"ok\",\n"
	"  \"appeared\": [entries], \"disappeared\": [entries], \"changed\":\n"
	"  [{\"before\", \"after\"}] (credlist, modules, syscalldmp)}]}: a process\n"
	"  started or exited, credentials changed, a module came or went, a system\n"
	"  call table entry changed. A job that fails is reported once, with its\n"
	"  error, until it fails otherwise or works again;\n"
	"  last: {\"done\": true, \"reason\": \"signal\" | \"rounds\" | \"target-gone\",\n"
	"  \"rounds\", \"seconds\", \"rounds_per_second\", \"time\"}.\n"
	"\n"
	"  --interval-us N  sleep N microseconds between rounds (0..3600000000,\n"
	"                   default 0: as fast as the jobs run)\n"
	"  --rounds N       stop after N rounds (1..4294967295; default: no limit)\n"
	"  --help           this text\n"
	"\n"
	"Exit status: 0 stopped by a signal or --rounds; 1 the target went away, or\n"
	"it could not be attached, or stdout failed; 2 usage error or bad job file.\n";

/* The jobs whose results watch compares between rounds. */
static bool watchable(enum job_type type)
{
	return type == JOB_PSLIST || type == JOB_PIDLIST || type == JOB_CREDLIST ||
	       type == JOB_MODULES || type == JOB_SYSCALLDMP;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "interval-us", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .watch = true };
	struct job_file jf;
	size_t i;
	long v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case 'i':
			if (!cli_parse_long(optarg, 0, INTERVAL_US_MAX, &v)) {
				cli_error("--interval-us must be 0..%ld", INTERVAL_US_MAX);
				return EXIT_USAGE;
			}
			o.interval_us = (uint64_t)v;
			break;
		case 'r':
			if (!cli_parse_long(optarg, 1, 4294967295L, &v)) {
				cli_error("--rounds must be 1..4294967295");
				return EXIT_USAGE;
			}
			o.watch_rounds = (uint64_t)v;
			break;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("watch needs one job file (or '-' for stdin)");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	ret = cli_load_job_file(argv[optind], false, &jf);
	if (ret)
		return ret;
	for (i = 0; i < jf.nr_jobs; i++) {
		if (!watchable(jf.jobs[i].type)) {
			cli_error(
				"jobs[%zu] (\"%s\"): watch runs pslist, pidlist, credlist, modules and syscalldmp jobs only",
				i, jf.jobs[i].id);
			job_file_free(&jf);
			return EXIT_USAGE;
		}
	}
	ret = cli_run_job_file_opts(&jf, &o);
	job_file_free(&jf);
	return ret;
}
