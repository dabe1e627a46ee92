// SPDX-License-Identifier: GPL-2.0
/*
 * Job files. Everything is checked before anything runs: JSON syntax (with
 * the line and column jansson reports), unknown fields (an error: a typo
 * must not silently change what runs), types, ranges. Errors name the field
 * by its path, e.g. "jobs[2].length".
 */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define PATH_MAX_LEN sizeof(((struct job_error *)0)->path)

static const char *const root_fields[] = {
	"target", "jobs", "engine", "cache", "system_map", "btf", NULL,
};
static const char *const target_fields[] = { "pid", "vm_fd", "vcpu", "maxphyaddr", NULL };
static const char *const banner_fields[] = { "id", "type", "engine", NULL };
static const char *const read_fields[] = {
	"id", "type", "engine", "space", "address", "length", "format", NULL,
};
static const char *const translate_fields[] = {
	"id", "type", "engine", "address", "verbose", "cr3", NULL,
};
static const char *const symbols_fields[] = { "id", "type", "engine", "names", NULL };
static const char *const tasks_fields[] = { "id", "type", "engine", "threads", "max", NULL };
/* pidlist, modules, syscalldmp, hidden */
static const char *const max_fields[] = { "id", "type", "engine", "max", NULL };
static const char *const walk_fields[] = {
	"id", "type", "engine", "struct", "list", "head", "head_is", "fields", "max", NULL,
};

const char *job_type_name(enum job_type type)
{
	switch (type) {
	case JOB_BANNER:
		return "banner";
	case JOB_READ:
		return "read";
	case JOB_TRANSLATE:
		return "translate";
	case JOB_SYMBOLS:
		return "symbols";
	case JOB_PSLIST:
		return "pslist";
	case JOB_PIDLIST:
		return "pidlist";
	case JOB_CREDLIST:
		return "credlist";
	case JOB_SYSCALLDMP:
		return "syscalldmp";
	case JOB_MODULES:
		return "modules";
	case JOB_HIDDEN:
		return "hidden";
	case JOB_WALK:
		return "walk";
	}
	return "unknown";
}

const char *job_space_name(enum job_space space)
{
	return space == SPACE_PHYSICAL ? "physical" : "virtual";
}

const char *job_format_name(enum job_format format)
{
	switch (format) {
	case FORMAT_HEX:
		return "hex";
	case FORMAT_U64:
		return "u64";
	case FORMAT_STRING:
		return "string";
	}
	return "unknown";
}

__attribute__((format(printf, 3, 4))) static int bad(struct job_error *err, const char *path,
						     const char *fmt, ...)
{
	va_list ap;

	err->line = 0;
	err->column = 0;
	snprintf(err->path, sizeof(err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* parent.key, or key at the top. Long keys are cut: it is only a message. */
static void field_path(char *buf, const char *parent, const char *key)
{
	if (snprintf(buf, PATH_MAX_LEN, "%s%s%s", parent, *parent ? "." : "", key) < 0)
		buf[0] = '\0';
}

static bool in_list(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(key, *list))
			return true;
	return false;
}

static int check_fields(json_t *obj, const char *path, const char *what, const char *const *allowed,
			struct job_error *err)
{
	char fpath[PATH_MAX_LEN], names[160];
	const char *key;
	json_t *value;
	size_t used = 0;
	const char *const *f;

	json_object_foreach(obj, key, value) {
		if (in_list(key, allowed))
			continue;
		names[0] = '\0';
		for (f = allowed; *f; f++) {
			int n = snprintf(names + used, sizeof(names) - used, "%s%s",
					 f == allowed ? "" : ", ", *f);

			if (n < 0 || (size_t)n >= sizeof(names) - used)
				break;
			used += (size_t)n;
		}
		field_path(fpath, path, key);
		return bad(err, fpath, "unknown field (%s has: %s)", what, names);
	}
	return 0;
}

/* An integer field in [min, max]. *present tells whether it was there. */
static int get_int(json_t *obj, const char *path, const char *key, bool required, long long min,
		   long long max, long long *val, bool *present, struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	long long x;

	field_path(fpath, path, key);
	*present = v != NULL;
	if (!v)
		return required ? bad(err, fpath, "missing") : 0;
	if (!json_is_integer(v))
		return bad(err, fpath, "must be an integer %lld..%lld", min, max);
	x = json_integer_value(v);
	if (x < min || x > max)
		return bad(err, fpath, "must be %lld..%lld", min, max);
	*val = x;
	return 0;
}

/* One of the names in choices (NULL-terminated); *index is its position. */
static int get_choice(json_t *obj, const char *path, const char *key, bool required,
		      const char *const *choices, int *index, bool *present, struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	const char *s;
	int i;

	field_path(fpath, path, key);
	*present = v != NULL;
	if (!v)
		return required ? bad(err, fpath, "missing") : 0;
	s = json_string_value(v);
	for (i = 0; s && choices[i]; i++) {
		if (!strcmp(s, choices[i])) {
			*index = i;
			return 0;
		}
	}
	/* "must be "a", "b" or "c"": every choice, as many as there are. */
	{
		char list[200];
		size_t used = 0, n;

		list[0] = '\0';
		for (i = 0; choices[i] && used < sizeof(list); i++) {
			const char *sep = !i ? "" : " or ";
			int k;

			if (i && choices[i + 1])
				sep = ", ";
			k = snprintf(list + used, sizeof(list) - used, "%s\"%s\"", sep, choices[i]);

			if (k < 0)
				break;
			n = (size_t)k;
			used += n < sizeof(list) - used ? n : sizeof(list) - used;
		}
		return bad(err, fpath, "must be %s", list);
	}
}

/* "0x..." (hex, up to 64 bits) or a non-negative JSON integer. */
static int get_address(json_t *obj, const char *path, const char *key, bool required,
		       uint64_t *addr, bool *present, struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	const char *s, *p;
	uint64_t x = 0;

	field_path(fpath, path, key);
	*present = v != NULL;
	if (!v)
		return required ? bad(err, fpath, "missing") : 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return bad(err, fpath, "must not be negative");
		*addr = (uint64_t)json_integer_value(v);
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return bad(err, fpath, "must be a \"0x...\" string or an integer");
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return bad(err, fpath, "must be a hex string starting with \"0x\"");
	/* The string's length bounds the loop; the value check bounds the digits. */
	for (p = s + 2; *p; p++) {
		unsigned int digit;

		if (*p >= '0' && *p <= '9')
			digit = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			digit = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			digit = (unsigned int)(*p - 'A' + 10);
		else
			return bad(err, fpath, "\"%.40s\" is not a hex number", s);
		if (x > UINT64_MAX >> 4)
			return bad(err, fpath, "\"%.40s\" does not fit in 64 bits", s);
		x = (x << 4) | digit;
	}
	*addr = x;
	return 0;
}

static int get_bool(json_t *obj, const char *path, const char *key, bool *val,
		    struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		field_path(fpath, path, key);
		return bad(err, fpath, "must be true or false");
	}
	*val = json_is_true(v);
	return 0;
}

/*
 * A file's path (an override: "system_map", "btf"), optional: a non-empty
 * string without NUL. Whether it can be read is found out when it is used
 * (per job, at run time), as for any other guest fact.
 */
static int get_path(json_t *obj, const char *key, char **val, struct job_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (!v)
		return 0;
	if (!s)
		return bad(err, key, "must be a file's path (a string)");
	if (!*s || json_string_length(v) != strlen(s) ||
	    json_string_length(v) >= IMEE_LINUX_PATH_MAX)
		return bad(err, key, "must be a file's path: 1..%d bytes, no NUL",
			   IMEE_LINUX_PATH_MAX - 1);
	*val = strdup(s);
	return *val ? 0 : -ENOMEM;
}

static const char *const engine_names[] = { "software", "legacy", "imee", NULL };

static int get_engine(json_t *obj, const char *path, enum imee_engine *engine, bool *explicit,
		      struct job_error *err)
{
	bool present;
	int i = 0, ret;

	ret = get_choice(obj, path, "engine", false, engine_names, &i, &present, err);
	if (ret) {
		snprintf(err->message, sizeof(err->message),
			 "must be \"imee\", \"software\" or \"legacy\"");
		return ret;
	}
	if (!present)
		return 0;
	*engine = i == 2 ? IMEE_ENGINE_IMEE : i == 1 ? IMEE_ENGINE_LEGACY : IMEE_ENGINE_SOFTWARE;
	*explicit = true;
	return 0;
}

static int parse_target(json_t *root, struct job_target *t, bool optional, struct job_error *err)
{
	json_t *obj = json_object_get(root, "target");
	long long v = 0;
	bool present;
	int ret;

	if (!obj && optional)
		return 0;
	if (!obj)
		return bad(err, "target", "missing");
	if (!json_is_object(obj))
		return bad(err, "target", "must be an object");
	ret = check_fields(obj, "target", "a target", target_fields, err);
	if (ret)
		return ret;
	ret = get_int(obj, "target", "pid", !optional, 1, INT_MAX, &v, &present, err);
	if (ret)
		return ret;
	t->pid = (pid_t)v;
	ret = get_int(obj, "target", "vm_fd", false, 0, INT_MAX, &v, &present, err);
	if (ret)
		return ret;
	t->has_vm_fd = present;
	t->vm_fd = present ? (int)v : -1;
	ret = get_int(obj, "target", "vcpu", false, 0, JOB_VCPU_MAX, &v, &present, err);
	if (ret)
		return ret;
	t->has_vcpu = present;
	t->vcpu = present ? (unsigned int)v : 0;
	ret = get_int(obj, "target", "maxphyaddr", false, 32, 52, &v, &present, err);
	if (ret)
		return ret;
	t->maxphyaddr = present ? (unsigned int)v : 0;
	return 0;
}

static int parse_id(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, "id");
	const char *s;
	size_t i, n;

	field_path(fpath, path, "id");
	if (!v)
		return bad(err, fpath, "missing");
	s = json_string_value(v);
	if (!s)
		return bad(err, fpath, "must be a string");
	n = json_string_length(v);
	if (!n || n > JOB_ID_MAX)
		return bad(err, fpath, "must be 1..%d bytes long", JOB_ID_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return bad(err, fpath, "must not contain control characters");
	memcpy(job->id, s, n);
	job->id[n] = '\0';
	return 0;
}

static const char *const type_names[] = {
	"banner",   "read",	  "translate", "symbols", "pslist", "pidlist",
	"credlist", "syscalldmp", "modules",   "hidden",  "walk",   NULL,
};
static const char *const space_names[] = { "virtual", "physical", NULL };
static const char *const format_names[] = { "hex", "u64", "string", NULL };

static int parse_read(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	long long len = 0;
	bool present;
	int i = 0, ret;

	ret = get_choice(obj, path, "space", true, space_names, &i, &present, err);
	if (ret)
		return ret;
	job->space = i == 1 ? SPACE_PHYSICAL : SPACE_VIRTUAL;
	ret = get_address(obj, path, "address", true, &job->address, &present, err);
	if (ret)
		return ret;
	ret = get_int(obj, path, "length", true, 1, JOB_READ_MAX, &len, &present, err);
	if (ret)
		return ret;
	job->length = (uint32_t)len;
	i = FORMAT_HEX;
	ret = get_choice(obj, path, "format", false, format_names, &i, &present, err);
	if (ret)
		return ret;
	job->format = (enum job_format)i;
	if (job->format == FORMAT_U64 && job->length % 8) {
		field_path(fpath, path, "length");
		return bad(err, fpath, "must be a multiple of 8 with format \"u64\"");
	}
	if (job->address + (job->length - 1) < job->address) {
		field_path(fpath, path, "address");
		return bad(err, fpath, "address + length wraps around");
	}
	return 0;
}

static int parse_translate(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	bool present;
	int ret;

	ret = get_address(obj, path, "address", true, &job->address, &present, err);
	if (ret)
		return ret;
	ret = get_bool(obj, path, "verbose", &job->verbose, err);
	if (ret)
		return ret;
	ret = get_address(obj, path, "cr3", false, &job->cr3, &present, err);
	if (ret)
		return ret;
	job->has_cr3 = present;
	return 0;
}

static int parse_symbols(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	char fpath[PATH_MAX_LEN], epath[PATH_MAX_LEN + 16];
	json_t *names = json_object_get(obj, "names"), *v;
	size_t i, j, k, n;

	if (!names)
		return 0;
	field_path(fpath, path, "names");
	if (!json_is_array(names))
		return bad(err, fpath, "must be an array of symbol names");
	n = json_array_size(names);
	if (!n || n > JOB_SYMBOLS_MAX)
		return bad(err, fpath, "must have 1..%d names", JOB_SYMBOLS_MAX);
	job->names = calloc(n, sizeof(*job->names));
	if (!job->names)
		return -ENOMEM;
	job->has_names = true;
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		size_t len = s ? json_string_length(v) : 0;

		snprintf(epath, sizeof(epath), "%s[%zu]", fpath, i);
		if (!s)
			return bad(err, epath, "must be a string");
		if (!len || len > JOB_SYMBOL_NAME_MAX)
			return bad(err, epath, "must be 1..%d bytes long", JOB_SYMBOL_NAME_MAX);
		for (k = 0; k < len; k++)
			if ((unsigned char)s[k] <= 0x20 || (unsigned char)s[k] == 0x7f)
				return bad(err, epath,
					   "must not contain spaces or control characters");
		for (j = 0; j < i; j++)
			if (!strcmp(job->names[j], s))
				return bad(err, epath, "\"%s\" is already names[%zu]", s, j);
		job->names[i] = strdup(s);
		if (!job->names[i])
			return -ENOMEM;
		job->nr_names = i + 1;
	}
	return 0;
}

/*
 * pslist, pidlist, credlist, modules: "threads" (pslist and credlist only:
 * job_fields() refuses it elsewhere), "max"; syscalldmp: "max" up to the
 * largest table.
 */
static int parse_walk(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	long long max = 0, limit = job->type == JOB_SYSCALLDMP ? IMEE_LINUX_SYSCALLS_MAX
							       : IMEE_LINUX_WALK_MAX;
	bool present;
	int ret;

	ret = get_bool(obj, path, "threads", &job->threads, err);
	if (ret)
		return ret;
	ret = get_int(obj, path, "max", false, 1, limit, &max, &present, err);
	if (ret)
		return ret;
	job->max = present ? (uint32_t)max : 0;
	return 0;
}

/* A name made of printable ASCII without spaces, 1..max bytes: a copy, or NULL. */
static int get_name(json_t *obj, const char *path, const char *key, size_t max, char **val,
		    struct job_error *err)
{
	char fpath[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);
	size_t i, n = s ? json_string_length(v) : 0;

	field_path(fpath, path, key);
	if (!v)
		return bad(err, fpath, "missing");
	if (!s)
		return bad(err, fpath, "must be a string");
	if (!n || n > max)
		return bad(err, fpath, "must be 1..%zu bytes long", max);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return bad(err, fpath, "must be printable ASCII without spaces");
	*val = strdup(s);
	return *val ? 0 : -ENOMEM;
}

static const char *const head_is_names[] = { "list_head", "entry", NULL };

/*
 * walk: "struct", "list" and "fields" are names for the guest's BTF (checked
 * there, when the job runs); "head" a symbol or an address; "max".
 */
static int parse_list_walk(json_t *obj, const char *path, struct job *job, struct job_error *err)
{
	char fpath[PATH_MAX_LEN], epath[PATH_MAX_LEN + 16];
	json_t *fields, *head, *v;
	bool present;
	long long max = 0;
	size_t i, j;
	int ret, is = 0;

	ret = get_name(obj, path, "struct", IMEE_LINUX_WALK_PATH_MAX, &job->walk_struct, err);
	if (!ret)
		ret = get_name(obj, path, "list", IMEE_LINUX_WALK_PATH_MAX, &job->walk_list, err);
	if (ret)
		return ret;
	head = json_object_get(obj, "head");
	if (json_is_string(head) && json_string_value(head)[0] != '0') {
		ret = get_name(obj, path, "head", JOB_SYMBOL_NAME_MAX, &job->head_symbol, err);
	} else {
		ret = get_address(obj, path, "head", true, &job->head_address, &present, err);
		if (ret && head)
			snprintf(err->message, sizeof(err->message),
				 "must be a symbol name or an address (\"0x...\")");
	}
	if (ret)
		return ret;
	ret = get_choice(obj, path, "head_is", false, head_is_names, &is, &present, err);
	if (ret)
		return ret;
	job->head_is_entry = is == 1;
	ret = get_int(obj, path, "max", false, 1, IMEE_LINUX_WALK_MAX, &max, &present, err);
	if (ret)
		return ret;
	job->max = present ? (uint32_t)max : 0;

	fields = json_object_get(obj, "fields");
	field_path(fpath, path, "fields");
	if (!fields)
		return bad(err, fpath, "missing");
	if (!json_is_array(fields))
		return bad(err, fpath, "must be an array of member paths");
	if (!json_array_size(fields) || json_array_size(fields) > IMEE_LINUX_WALK_FIELDS_MAX)
		return bad(err, fpath, "must have 1..%d fields", IMEE_LINUX_WALK_FIELDS_MAX);
	job->fields = calloc(json_array_size(fields), sizeof(*job->fields));
	if (!job->fields)
		return -ENOMEM;
	json_array_foreach(fields, i, v) {
		json_t *one = json_pack("{sO}", "f", v);

		snprintf(epath, sizeof(epath), "%s[%zu]", fpath, i);
		if (!one)
			return -ENOMEM;
		ret = get_name(one, "", "f", IMEE_LINUX_WALK_PATH_MAX, &job->fields[i], err);
		json_decref(one);
		if (ret) {
			/* The path as bad() would cut it. */
			memcpy(err->path, epath, sizeof(err->path) - 1);
			err->path[sizeof(err->path) - 1] = '\0';
			return ret;
		}
		job->nr_fields = i + 1;
		for (j = 0; j < i; j++)
			if (!strcmp(job->fields[j], job->fields[i]))
				return bad(err, epath, "\"%s\" is already fields[%zu]",
					   job->fields[i], j);
	}
	return 0;
}

/* The fields a job of this type may have. */
static const char *const *job_fields(enum job_type type)
{
	switch (type) {
	case JOB_BANNER:
		return banner_fields;
	case JOB_READ:
		return read_fields;
	case JOB_TRANSLATE:
		return translate_fields;
	case JOB_SYMBOLS:
		return symbols_fields;
	case JOB_PSLIST:
	case JOB_CREDLIST:
		return tasks_fields;
	case JOB_PIDLIST: /* no "threads": it has every thread's pid */
	case JOB_SYSCALLDMP:
	case JOB_MODULES:
	case JOB_HIDDEN: /* always with threads: pidlist has them */
		return max_fields;
	case JOB_WALK:
		return walk_fields;
	}
	return banner_fields;
}

static int parse_job(json_t *obj, size_t index, const struct job_file *jf, struct job *job,
		     struct job_error *err)
{
	char path[PATH_MAX_LEN], what[32];
	bool present;
	int type = 0, ret;

	snprintf(path, sizeof(path), "jobs[%zu]", index);
	if (!json_is_object(obj))
		return bad(err, path, "must be an object");
	ret = get_choice(obj, path, "type", true, type_names, &type, &present, err);
	if (ret)
		return ret;
	job->type = (enum job_type)type;
	snprintf(what, sizeof(what), "a %s job", type_names[type]);
	ret = check_fields(obj, path, what, job_fields(job->type), err);
	if (ret)
		return ret;
	ret = parse_id(obj, path, job, err);
	if (ret)
		return ret;
	job->engine = jf->engine;
	job->engine_explicit = jf->engine_explicit;
	ret = get_engine(obj, path, &job->engine, &job->engine_explicit, err);
	if (ret)
		return ret;
	switch (job->type) {
	case JOB_BANNER:
		return 0;
	case JOB_READ:
		return parse_read(obj, path, job, err);
	case JOB_TRANSLATE:
		return parse_translate(obj, path, job, err);
	case JOB_SYMBOLS:
		return parse_symbols(obj, path, job, err);
	case JOB_PSLIST:
	case JOB_PIDLIST:
	case JOB_CREDLIST:
	case JOB_SYSCALLDMP:
	case JOB_MODULES:
	case JOB_HIDDEN:
		return parse_walk(obj, path, job, err);
	case JOB_WALK:
		return parse_list_walk(obj, path, job, err);
	}
	return bad(err, path, "unknown type");
}

static int check_unique_ids(const struct job_file *jf, struct job_error *err)
{
	char path[PATH_MAX_LEN];
	size_t i, j;

	/* Quadratic, but bounded by JOBS_MAX and cheap next to running them. */
	for (i = 1; i < jf->nr_jobs; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(jf->jobs[i].id, jf->jobs[j].id))
				continue;
			snprintf(path, sizeof(path), "jobs[%zu].id", i);
			return bad(err, path, "\"%s\" is already the id of jobs[%zu]",
				   jf->jobs[i].id, j);
		}
	}
	return 0;
}

static int parse_root(json_t *root, struct job_file *jf, bool target_optional,
		      struct job_error *err)
{
	json_t *jobs, *obj;
	size_t i;
	int ret;

	if (!json_is_object(root))
		return bad(err, "", "a job file is an object with \"target\" and \"jobs\"");
	ret = check_fields(root, "", "a job file", root_fields, err);
	if (ret)
		return ret;
	ret = parse_target(root, &jf->target, target_optional, err);
	if (ret)
		return ret;
	jf->engine = IMEE_ENGINE_IMEE;
	ret = get_engine(root, "", &jf->engine, &jf->engine_explicit, err);
	if (ret)
		return ret;
	{
		bool cache = true;

		ret = get_bool(root, "", "cache", &cache, err);
		if (ret)
			return ret;
		jf->no_cache = !cache;
	}
	ret = get_path(root, "system_map", &jf->system_map, err);
	if (!ret)
		ret = get_path(root, "btf", &jf->btf_file, err);
	if (ret)
		return ret;

	jobs = json_object_get(root, "jobs");
	if (!jobs)
		return bad(err, "jobs", "missing");
	if (!json_is_array(jobs))
		return bad(err, "jobs", "must be an array");
	if (json_array_size(jobs) > JOBS_MAX)
		return bad(err, "jobs", "more than %d jobs", JOBS_MAX);
	jf->jobs = calloc(json_array_size(jobs) ? json_array_size(jobs) : 1, sizeof(*jf->jobs));
	if (!jf->jobs)
		return -ENOMEM;
	jf->nr_alloc = json_array_size(jobs) ? json_array_size(jobs) : 1;
	json_array_foreach(jobs, i, obj) {
		ret = parse_job(obj, i, jf, &jf->jobs[i], err);
		if (ret)
			return ret;
		jf->nr_jobs = i + 1;
	}
	return check_unique_ids(jf, err);
}

static int parse_text(const char *text, size_t len, struct job_file *jf, bool target_optional,
		      struct job_error *err);

int job_file_parse(const char *text, size_t len, struct job_file *jf, struct job_error *err)
{
	return parse_text(text, len, jf, false, err);
}

int job_file_parse_no_target(const char *text, size_t len, struct job_file *jf,
			     struct job_error *err)
{
	return parse_text(text, len, jf, true, err);
}

static int parse_text(const char *text, size_t len, struct job_file *jf, bool target_optional,
		      struct job_error *err)
{
	struct job_file parsed = { 0 };
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(err, 0, sizeof(*err));
	/* Duplicate keys are as suspicious as unknown ones. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		err->line = jerr.line > 0 ? jerr.line : 0;
		err->column = jerr.column > 0 ? jerr.column : 0;
		snprintf(err->message, sizeof(err->message), "invalid JSON: %s", jerr.text);
		return -EINVAL;
	}
	ret = parse_root(root, &parsed, target_optional, err);
	json_decref(root);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err->message, sizeof(err->message), "out of memory");
		job_file_free(&parsed);
		return ret;
	}
	*jf = parsed;
	return 0;
}

int job_file_read(const char *path, char **text_ret, size_t *len_ret, struct job_error *err)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf;
	int fd, ret = 0;

	memset(err, 0, sizeof(*err));
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		ret = -errno;
		snprintf(err->message, sizeof(err->message), "cannot open: %s", strerror(errno));
		return ret;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* At most JOB_FILE_MAX + 1 bytes: the extra byte tells a file too big. */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap * 2 > JOB_FILE_MAX + 1 ? JOB_FILE_MAX + 1 : cap * 2;
			char *p;

			if (ncap == cap) {
				snprintf(err->message, sizeof(err->message), "larger than %u MiB",
					 JOB_FILE_MAX >> 20);
				ret = -EFBIG;
				break;
			}
			p = realloc(buf, ncap + 1);
			if (!p) {
				ret = -ENOMEM;
				break;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err->message, sizeof(err->message), "cannot read: %s",
				 strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!ret && len > JOB_FILE_MAX) {
		snprintf(err->message, sizeof(err->message), "larger than %u MiB",
			 JOB_FILE_MAX >> 20);
		ret = -EFBIG;
	}
out:
	if (ret == -ENOMEM)
		snprintf(err->message, sizeof(err->message), "out of memory");
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*text_ret = buf;
	*len_ret = len;
	return 0;
}

void job_file_free(struct job_file *jf)
{
	size_t i, k;

	/* A job that failed to parse may hold names too: jobs[] is calloc'ed. */
	for (i = 0; jf->jobs && i < jf->nr_alloc; i++) {
		struct job *job = &jf->jobs[i];

		for (k = 0; k < job->nr_names; k++)
			free(job->names[k]);
		free(job->names);
		for (k = 0; k < job->nr_fields; k++)
			free(job->fields[k]);
		free(job->fields);
		free(job->walk_struct);
		free(job->walk_list);
		free(job->head_symbol);
	}
	free(jf->jobs);
	free(jf->system_map);
	free(jf->btf_file);
	jf->system_map = NULL;
	jf->btf_file = NULL;
	jf->nr_alloc = 0;
	jf->jobs = NULL;
	jf->nr_jobs = 0;
}

void job_error_format(const char *name, const struct job_error *err, char *buf, size_t size)
{
	const char *shown = strcmp(name, "-") ? name : "<stdin>";

	if (err->line > 0)
		snprintf(buf, size, "%s:%d:%d: %s", shown, err->line, err->column, err->message);
	else if (err->path[0])
		snprintf(buf, size, "%s: %s: %s", shown, err->path, err->message);
	else
		snprintf(buf, size, "%s: %s", shown, err->message);
}
