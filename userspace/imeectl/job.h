/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Job files: parsed and validated completely before anything runs.
 */
#ifndef IMEECTL_JOB_H
#define IMEECTL_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <imee/imee.h>

#define JOB_ID_MAX 64 /* bytes of a job's id */
#define JOB_READ_MAX (1U << 20) /* bytes one read job may ask for */
#define JOBS_MAX 4096 /* jobs in one file */
#define JOB_FILE_MAX (16U << 20) /* bytes of a job file */
#define JOB_VCPU_MAX 16383
#define JOB_SYMBOLS_MAX 4096 /* names one symbols job may ask for */
#define JOB_SYMBOL_NAME_MAX 511 /* bytes of a symbol name (KSYM_NAME_LEN - 1) */

enum job_type {
	JOB_BANNER,
	JOB_READ,
	JOB_TRANSLATE,
	JOB_SYMBOLS,
	JOB_PSLIST,
	JOB_PIDLIST,
	JOB_CREDLIST,
	JOB_SYSCALLDMP,
	JOB_MODULES,
	JOB_HIDDEN,
	JOB_WALK,
};
enum job_space { SPACE_VIRTUAL, SPACE_PHYSICAL };
enum job_format { FORMAT_HEX, FORMAT_U64, FORMAT_STRING };

struct job {
	char id[JOB_ID_MAX + 1];
	enum job_type type;
	enum imee_engine engine;
	bool engine_explicit; /* named in the job or the file (else the default) */
	uint64_t address; /* read, translate */
	uint32_t length; /* read: 1..JOB_READ_MAX */
	enum job_space space; /* read */
	enum job_format format; /* read */
	bool verbose; /* translate: report every step of the walk */
	bool has_cr3; /* translate: walk from cr3 instead of the vCPU's */
	uint64_t cr3;
	bool has_names; /* symbols: names given (else: count, base, KASLR slide) */
	char **names; /* symbols: nr_names malloc'ed names, freed by job_file_free() */
	size_t nr_names;
	bool threads; /* pslist, credlist: every thread, not only group leaders */
	uint32_t max; /* the Linux jobs but symbols: most entries (0: all/default) */
	/* walk: names resolved through the guest's BTF (malloc'ed, freed by job_file_free()) */
	char *walk_struct; /* "task_struct" */
	char *walk_list; /* its list_head member: "tasks" */
	char *head_symbol; /* the head by symbol, or NULL: head_address */
	uint64_t head_address;
	bool head_is_entry; /* "head_is": "entry" (else "list_head") */
	char **fields; /* nr_fields member paths */
	size_t nr_fields;
};

struct job_target {
	pid_t pid;
	bool has_vm_fd;
	int vm_fd;
	bool has_vcpu;
	unsigned int vcpu; /* the KVM vCPU id whose registers addresses are walked with */
	unsigned int maxphyaddr; /* 0: IMEE_MAXPHYADDR_DEFAULT */
};

struct job_file {
	struct job_target target;
	enum imee_engine engine; /* the default of the jobs */
	bool engine_explicit; /* named in the file (else imee, or software without it) */
	struct job *jobs;
	size_t nr_jobs;
	size_t nr_alloc; /* entries of jobs[] (all zeroed when unused) */
	bool no_cache; /* "cache": false: no per-kernel cache for the Linux jobs */
	/* Overrides for the Linux and symbols jobs (malloc'ed paths, or NULL) */
	char *system_map; /* "system_map": the kernel's symbols from this System.map */
	char *btf_file; /* "btf": its BTF from this file (raw, or an ELF's .BTF) */
};

/* Where and why a job file is bad. */
struct job_error {
	int line; /* of a JSON syntax error (1-based), or 0 */
	int column;
	char path[96]; /* the offending field ("jobs[2].length"), or "" */
	char message[256];
};

const char *job_type_name(enum job_type type);
const char *job_space_name(enum job_space space);
const char *job_format_name(enum job_format format);

/*
 * Parse and validate a job file held in text[0..len). Returns 0 and fills
 * *jf (free it with job_file_free()), or -EINVAL with *err describing the
 * first problem, or -ENOMEM.
 */
int job_file_parse(const char *text, size_t len, struct job_file *jf, struct job_error *err);

/* The same for imeectl scan: "target" may be left out (its pid is then 0). */
int job_file_parse_no_target(const char *text, size_t len, struct job_file *jf,
			     struct job_error *err);

/*
 * Read a job file (path "-" is stdin), at most JOB_FILE_MAX bytes. Returns 0
 * and a malloc'ed NUL-terminated buffer, or a negative errno with a message in
 * err->message.
 */
int job_file_read(const char *path, char **text_ret, size_t *len_ret, struct job_error *err);

void job_file_free(struct job_file *jf);

/* "NAME:LINE:COLUMN: MESSAGE" or "NAME: PATH: MESSAGE", into buf. */
void job_error_format(const char *name, const struct job_error *err, char *buf, size_t size);

#endif /* IMEECTL_JOB_H */
