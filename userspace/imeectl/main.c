// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl: look inside running KVM guests through /dev/imee.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"Usage: imeectl COMMAND [OPTIONS]\n"
	"\n"
	"Look inside running KVM guests from the host, through imee.ko's /dev/imee.\n"
	"\n"
	"Commands:\n"
	"  vms [--json]                         the KVM VMs on this host\n"
	"  info --pid PID [--vm-fd FD] [--json] a VM's memslots, vCPUs, paging mode, ImEE\n"
	"  run JOB.json | -                     run a job file, print one JSON document\n"
	"  scan [--pid PID]... JOB.json | -     run a job file on every VM, a JSON line each\n"
	"  watch [--interval-us N] JOB.json     repeat list jobs, print only changes\n"
	"  symbols --pid PID [NAME...]          the guest kernel's symbols (kallsyms), as JSON\n"
	"  bench --pid PID [--json]             the engines measured on one target\n"
	"\n"
	"Run 'imeectl COMMAND --help' for a command's options.\n"
	"\n"
	"Exit status:\n"
	"  0  success (in a job file's output, single jobs may still have failed:\n"
	"     see their \"ok\")\n"
	"  1  runtime failure: cannot open /dev/imee, cannot attach, ...\n"
	"  2  usage error or bad job file: nothing was run\n"
	"\n"
	"Errors and notes go to stderr; 'run' prints only JSON on stdout.\n";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "vms", cmd_vms },	    { "info", cmd_info },   { "run", cmd_run },
	{ "symbols", cmd_symbols }, { "bench", cmd_bench }, { "scan", cmd_scan },
	{ "watch", cmd_watch },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("imeectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_long(const char *s, long min, long max, long *val)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*val = v;
	return true;
}

bool cli_parse_u64(const char *s, uint64_t *val)
{
	unsigned long long v;
	char *end;

	/* strtoull takes a sign: refuse it */
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*val = v;
	return true;
}

bool cli_target_option(int c, const char *arg, struct cli_target *t, bool *handled)
{
	long v;

	*handled = c == 'p' || c == 'f';
	if (c == 'p') {
		if (!cli_parse_long(arg, 1, INT_MAX, &v)) {
			cli_error("--pid: '%s' is not a pid", arg);
			return false;
		}
		t->pid = (pid_t)v;
		return true;
	}
	if (c == 'f') {
		if (!cli_parse_long(arg, 0, INT_MAX, &v)) {
			cli_error("--vm-fd: '%s' is not a file descriptor number", arg);
			return false;
		}
		t->has_vm_fd = true;
		t->vm_fd = (int)v;
		return true;
	}
	return false;
}

struct imee_session *cli_attach(pid_t pid, bool has_vm_fd, int vm_fd)
{
	IMEE_OPTS(imee_attach_opts, opts, .pid = pid, .has_vm_fd = has_vm_fd, .vm_fd = vm_fd);
	struct imee_session *s;

	if (imee_session_attach(&opts, &s)) {
		cli_error("%s", imee_errmsg());
		return NULL;
	}
	return s;
}

void cli_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;
	uint64_t whole = bytes;

	while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		whole /= 1024;
		u++;
	}
	if (u && bytes % (1ULL << (10 * u)))
		snprintf(buf, size, "%.2f %s", (double)bytes / (double)(1ULL << (10 * u)),
			 units[u]);
	else
		snprintf(buf, size, "%" PRIu64 " %s", whole, units[u]);
}

static void flag_names(uint32_t flags, const char *const *names, unsigned int nr, char *buf,
		       size_t size)
{
	size_t used = 0;
	unsigned int bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32; bit++) {
		int n;

		if (!(flags & (1U << bit)))
			continue;
		if (bit < nr)
			n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[bit]);
		else
			n = snprintf(buf + used, size - used, "%sbit%u", used ? "," : "", bit);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

void cli_vcpu_flags(uint32_t flags, char *buf, size_t size)
{
	static const char *const names[] = { "cr3-current", "in-guest" };

	flag_names(flags, names, 2, buf, size);
}

void cli_memslot_flags(uint32_t flags, char *buf, size_t size)
{
	static const char *const names[] = { "readonly", "log-dirty" };

	flag_names(flags, names, 2, buf, size);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s' (see 'imeectl --help')", argv[1]);
	return EXIT_USAGE;
}
