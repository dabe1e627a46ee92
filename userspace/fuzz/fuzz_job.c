// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: imeectl's job-file parser, job_file_parse(), on any
 * bytes (the whole input is the file's text, not NUL-terminated).
 *
 * The parser must refuse a bad file with -EINVAL and a message (and
 * job_error_format() must make a line of it), or accept it with every
 * limit that job.h documents holding, and free everything it allocated
 * on either path (LeakSanitizer). Seeds: corpus/job/ (the README's
 * example and one job of every type); job.dict holds the field names
 * and values, so that mutations reach past "unknown field".
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "job.h"

/* A NUL within a fixed-size buffer: the field is a C string. */
#define TERMINATED(buf) (memchr((buf), 0, sizeof(buf)) != NULL)

static void check_name(const char *s, size_t max)
{
	size_t n;

	FUZZ_CHECK(s);
	n = strlen(s);
	FUZZ_CHECK(n >= 1 && n <= max);
}

static void check_job(const struct job *job)
{
	size_t i, j, n = strnlen(job->id, sizeof(job->id));

	FUZZ_CHECK(n >= 1 && n <= JOB_ID_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)job->id[i] >= 0x20);
	FUZZ_CHECK(strcmp(job_type_name(job->type), "unknown"));
	FUZZ_CHECK(job->engine == IMEE_ENGINE_IMEE || job->engine == IMEE_ENGINE_SOFTWARE ||
		   job->engine == IMEE_ENGINE_LEGACY);
	switch (job->type) {
	case JOB_READ:
		FUZZ_CHECK(job->length >= 1 && job->length <= JOB_READ_MAX);
		FUZZ_CHECK(strcmp(job_format_name(job->format), "unknown"));
		FUZZ_CHECK(job->format != FORMAT_U64 || job->length % 8 == 0);
		/* The last byte read is addressable: address + length does not wrap. */
		FUZZ_CHECK(job->address + (job->length - 1) >= job->address);
		break;
	case JOB_SYMBOLS:
		FUZZ_CHECK(job->has_names == (job->names != NULL));
		if (job->has_names)
			FUZZ_CHECK(job->nr_names >= 1 && job->nr_names <= JOB_SYMBOLS_MAX);
		for (i = 0; i < job->nr_names; i++) {
			check_name(job->names[i], JOB_SYMBOL_NAME_MAX);
			for (j = 0; j < i; j++)
				FUZZ_CHECK(strcmp(job->names[i], job->names[j]));
		}
		break;
	case JOB_WALK:
		check_name(job->walk_struct, IMEE_LINUX_WALK_PATH_MAX);
		check_name(job->walk_list, IMEE_LINUX_WALK_PATH_MAX);
		if (job->head_symbol)
			check_name(job->head_symbol, JOB_SYMBOL_NAME_MAX);
		FUZZ_CHECK(job->nr_fields >= 1 && job->nr_fields <= IMEE_LINUX_WALK_FIELDS_MAX);
		for (i = 0; i < job->nr_fields; i++)
			check_name(job->fields[i], IMEE_LINUX_WALK_PATH_MAX);
		FUZZ_CHECK(job->max <= IMEE_LINUX_WALK_MAX);
		break;
	case JOB_SYSCALLDMP:
		FUZZ_CHECK(job->max <= IMEE_LINUX_SYSCALLS_MAX);
		break;
	case JOB_PSLIST:
	case JOB_PIDLIST:
	case JOB_CREDLIST:
	case JOB_MODULES:
	case JOB_HIDDEN:
		FUZZ_CHECK(job->max <= IMEE_LINUX_WALK_MAX);
		break;
	default:
		break;
	}
}

static void check_file(const struct job_file *jf)
{
	size_t i, j;

	FUZZ_CHECK(jf->target.pid >= 1);
	FUZZ_CHECK(!jf->target.has_vcpu || jf->target.vcpu <= JOB_VCPU_MAX);
	FUZZ_CHECK(jf->target.has_vm_fd ? jf->target.vm_fd >= 0 : jf->target.vm_fd == -1);
	FUZZ_CHECK(!jf->target.maxphyaddr ||
		   (jf->target.maxphyaddr >= 32 && jf->target.maxphyaddr <= 52));
	FUZZ_CHECK(jf->nr_jobs <= JOBS_MAX && jf->nr_jobs <= jf->nr_alloc);
	for (i = 0; i < jf->nr_jobs; i++) {
		check_job(&jf->jobs[i]);
		/* Results are keyed by id: no two jobs share one. */
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(jf->jobs[i].id, jf->jobs[j].id));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_error err;
	struct job_file jf;
	char line[512];
	int ret;

	ret = job_file_parse((const char *)data, size, &jf, &err);
	if (ret == -ENOMEM)
		return 0; /* libFuzzer's -malloc_limit_mb: not a finding */
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL);
		FUZZ_CHECK(TERMINATED(err.path) && TERMINATED(err.message));
		FUZZ_CHECK(err.message[0]);
		FUZZ_CHECK(err.line >= 0 && err.column >= 0);
		job_error_format("fuzz.json", &err, line, sizeof(line));
		FUZZ_CHECK(TERMINATED(line));
		return 0;
	}
	check_file(&jf);
	job_file_free(&jf);
	return 0;
}
