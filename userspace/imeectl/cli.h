/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imeectl's commands and what they share.
 */
#ifndef IMEECTL_CLI_H
#define IMEECTL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <imee/imee.h>

/* Exit statuses, as --help documents them. */
enum {
	EXIT_OK = 0, /* done (jobs of a job file may still have failed: see "ok") */
	EXIT_RUNTIME = 1, /* could not do it: no /dev/imee, cannot attach, ... */
	EXIT_USAGE = 2, /* bad command line or job file: nothing was run */
};

int cmd_vms(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_symbols(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_watch(int argc, char **argv);

struct job_file;
/* Attach to a job file's target, run its jobs, print the document (cmd_run.c). */
/*
 * Attach, run every job, print the document. Jobs left to the default engine
 * (imee) run on the software engine when this host has no ImEE (a notice
 * on stderr says why): jf is updated accordingly.
 */
int cli_run_job_file(struct job_file *jf);

/*
 * imeectl run's options: --repeat (0: once, one indented document), --interval-ms, --changes;
 * line: once, the document on one line (imeectl scan).
 */
struct run_opts {
	unsigned int repeat;
	unsigned int interval_ms;
	bool changes;
	bool line;
	/* imeectl watch: rounds until stopped (or watch_rounds, if not 0) */
	bool watch;
	uint64_t watch_rounds;
	uint64_t interval_us;
};

/* The same, with them. */
int cli_run_job_file_opts(struct job_file *jf, const struct run_opts *o);

/*
 * Read and parse the job file at path ("-": stdin), "target" optional with
 * no_target (imeectl scan). Returns EXIT_OK, or prints why and returns
 * EXIT_USAGE (EXIT_RUNTIME when out of memory).
 */
int cli_load_job_file(const char *path, bool no_target, struct job_file *jf);

/* Print "imeectl: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a whole decimal integer in [min, max]; false if it is not one. */
bool cli_parse_long(const char *s, long min, long max, long *val);

/* Parse a whole unsigned 64-bit number, 0x-prefixed hex or decimal. */
bool cli_parse_u64(const char *s, uint64_t *val);

/* The VM a command attaches to: --pid and --vm-fd. */
struct cli_target {
	pid_t pid; /* 0 until --pid is given */
	bool has_vm_fd;
	int vm_fd;
};

/*
 * Parse --pid (c == 'p') or --vm-fd (c == 'f') into t. Returns true when it
 * was one of them and valid; false after printing why when it was one of
 * them and invalid, or when c is neither (nothing printed then: *handled is
 * false).
 */
bool cli_target_option(int c, const char *arg, struct cli_target *t, bool *handled);

/* Attach for a command; on failure print why and return NULL. */
struct imee_session *cli_attach(pid_t pid, bool has_vm_fd, int vm_fd);

/* "512 MiB", "3.50 GiB": a size for people. */
void cli_format_size(uint64_t bytes, char *buf, size_t size);

/* "cr3-current,in-guest": the names of a vCPU's IMEE_VCPU_F_* flags. */
void cli_vcpu_flags(uint32_t flags, char *buf, size_t size);

/* "readonly,log-dirty": the names of a memslot's IMEE_MEMSLOT_F_* flags. */
void cli_memslot_flags(uint32_t flags, char *buf, size_t size);

#endif /* IMEECTL_CLI_H */
