// SPDX-License-Identifier: GPL-2.0
/*
 * Job files: what is accepted, how each kind of mistake is reported, and
 * imeectl's exit statuses, run as a subprocess (path in argv[1] or
 * $IMEECTL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "changes.h"
#include "job.h"
#include "output.h"
#include "subproc.h"
#include "tap.h"

static const char *imeectl;

static int parse(const char *text, struct job_file *jf, struct job_error *err)
{
	return job_file_parse(text, strlen(text), jf, err);
}

/* The text must be refused, naming path and a message containing msg. */
static bool refused(const char *text, const char *path, const char *msg)
{
	struct job_error err;
	struct job_file jf;
	bool ok = true;

	if (parse(text, &jf, &err) != -EINVAL) {
		job_file_free(&jf);
		printf("# accepted: %s\n", text);
		return EXPECT(false);
	}
	ok &= EXPECT_STR(err.path, path);
	ok &= EXPECT_HAS(err.message, msg);
	if (!ok)
		printf("# for: %s\n", text);
	return ok;
}

#define TARGET "\"target\": {\"pid\": 1234}"
#define JOBS(...) "{" TARGET ", \"jobs\": [" __VA_ARGS__ "]}"
#define READ(extra) "{\"id\": \"r\", \"type\": \"read\", \"space\": \"virtual\", " extra "}"

static void valid_file(void)
{
	static const char text[] =
		"{\"target\": {\"pid\": 1234, \"vm_fd\": 12, \"vcpu\": 1, \"maxphyaddr\": 46},\n"
		" \"engine\": \"legacy\",\n"
		" \"jobs\": [{\"id\": \"b\", \"type\": \"banner\"},\n"
		"  {\"id\": \"r\", \"type\": \"read\", \"space\": \"virtual\",\n"
		"   \"address\": \"0xffffffff81000000\", \"length\": 64, \"format\": \"hex\"},\n"
		"  {\"id\": \"p\", \"type\": \"read\", \"space\": \"physical\", \"engine\": "
		"\"software\",\n"
		"   \"address\": 4096, \"length\": 16, \"format\": \"u64\"},\n"
		"  {\"id\": \"s\", \"type\": \"read\", \"space\": \"virtual\",\n"
		"   \"address\": \"0XFFFFFFFF81000000\", \"length\": 1048576},\n"
		"  {\"id\": \"t\", \"type\": \"translate\", \"address\": \"0x0\", \"verbose\": true,\n"
		"   \"cr3\": \"0x1234000\"}]}\n";
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse(text, &jf, &err) == 0);
	EXPECT_INT(jf.target.pid, 1234);
	EXPECT(jf.target.has_vm_fd);
	EXPECT_INT(jf.target.vm_fd, 12);
	EXPECT(jf.target.has_vcpu);
	EXPECT_INT(jf.target.vcpu, 1);
	EXPECT_INT(jf.target.maxphyaddr, 46);
	EXPECT_INT(jf.engine, IMEE_ENGINE_LEGACY);
	REQUIRE(jf.nr_jobs == 5);
	EXPECT_STR(jf.jobs[0].id, "b");
	EXPECT_INT(jf.jobs[0].type, JOB_BANNER);
	EXPECT_INT(jf.jobs[0].engine, IMEE_ENGINE_LEGACY); /* the file's default */
	EXPECT_INT(jf.jobs[1].type, JOB_READ);
	EXPECT_INT(jf.jobs[1].space, SPACE_VIRTUAL);
	EXPECT_U64(jf.jobs[1].address, 0xffffffff81000000ULL);
	EXPECT_INT(jf.jobs[1].length, 64);
	EXPECT_INT(jf.jobs[1].format, FORMAT_HEX);
	EXPECT_INT(jf.jobs[2].engine, IMEE_ENGINE_SOFTWARE); /* its own */
	EXPECT_INT(jf.jobs[2].space, SPACE_PHYSICAL);
	EXPECT_U64(jf.jobs[2].address, 4096);
	EXPECT_INT(jf.jobs[2].format, FORMAT_U64);
	EXPECT_U64(jf.jobs[3].address, 0xffffffff81000000ULL);
	EXPECT_INT(jf.jobs[3].format, FORMAT_HEX); /* the default */
	EXPECT_INT(jf.jobs[3].length, 1048576);
	EXPECT_INT(jf.jobs[4].type, JOB_TRANSLATE);
	EXPECT(jf.jobs[4].verbose);
	EXPECT(jf.jobs[4].has_cr3);
	EXPECT_U64(jf.jobs[4].cr3, 0x1234000);
	job_file_free(&jf);

	/* The minimal file; no jobs at all is fine too. */
	REQUIRE(parse(JOBS(""), &jf, &err) == 0);
	EXPECT_INT(jf.nr_jobs, 0);
	EXPECT(!jf.target.has_vm_fd);
	EXPECT(!jf.target.has_vcpu);
	/* imee by default, but not named: it may fall back to software */
	EXPECT_INT(jf.engine, IMEE_ENGINE_IMEE);
	EXPECT(!jf.engine_explicit);
	job_file_free(&jf);
}

static void malformed_json_has_line_and_column(void)
{
	static const char text[] = "{\"target\": {\"pid\": 1},\n"
				   " \"jobs\": [\n"
				   "   {\"id\": \"a\",, \"type\": \"banner\"}]}\n";
	struct job_error err;
	struct job_file jf;
	char msg[512];

	REQUIRE(parse(text, &jf, &err) == -EINVAL);
	EXPECT_INT(err.line, 3);
	EXPECT_INT(err.column, 15);
	EXPECT_HAS(err.message, "invalid JSON");
	job_error_format("jobs.json", &err, msg, sizeof(msg));
	EXPECT_HAS(msg, "jobs.json:3:15: invalid JSON");

	REQUIRE(parse("{\"target\": {\"pid\": 1}, \"jobs\": [", &jf, &err) == -EINVAL);
	EXPECT_INT(err.line, 1);
	/* Duplicate keys are refused by the parser, with their place. */
	REQUIRE(parse("{\"target\": {\"pid\": 1},\n \"jobs\": [], \"jobs\": []}", &jf, &err) ==
		-EINVAL);
	EXPECT_INT(err.line, 2);
	EXPECT_HAS(err.message, "duplicate");
	/* Trailing garbage. */
	REQUIRE(parse(JOBS("") " x", &jf, &err) == -EINVAL);
	EXPECT(err.line == 1 && err.column > 0);
	/* Not an object. */
	EXPECT(refused("[1, 2]", "", "object"));
	EXPECT(refused("", "", "invalid JSON"));
}

static void unknown_fields(void)
{
	struct job_error err;
	struct job_file jf;
	char msg[512];

	EXPECT(refused("{" TARGET ", \"jobs\": [], \"bogus\": 1}", "bogus", "unknown field"));
	EXPECT(refused("{\"target\": {\"pid\": 1, \"pidd\": 2}, \"jobs\": []}", "target.pidd",
		       "unknown field"));
	EXPECT(refused(JOBS("{\"id\": \"b\", \"type\": \"banner\"}, " READ(
			       "\"address\": \"0x1000\", \"lenght\": 8")),
		       "jobs[1].lenght", "unknown field"));
	/* Fields of another job type are unknown here. */
	EXPECT(refused(JOBS("{\"id\": \"b\", \"type\": \"banner\", \"address\": \"0x1000\"}"),
		       "jobs[0].address", "a banner job has: id, type, engine"));
	EXPECT(refused(JOBS("{\"id\": \"t\", \"type\": \"translate\", \"address\": \"0x1\","
			    " \"length\": 8}"),
		       "jobs[0].length", "unknown field"));
	/* The formatted message names the file and the path. */
	REQUIRE(parse("{" TARGET ", \"jobs\": [], \"bogus\": 1}", &jf, &err) == -EINVAL);
	job_error_format("j.json", &err, msg, sizeof(msg));
	EXPECT_HAS(msg, "j.json: bogus: unknown field");
	job_error_format("-", &err, msg, sizeof(msg));
	EXPECT_HAS(msg, "<stdin>: bogus");
}

#define SYMS(names) "{\"id\": \"s\", \"type\": \"symbols\", \"names\": " names "}"

static void symbols_jobs(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse(JOBS(SYMS(
			      "[\"linux_banner\", \"_text\"]") ", "
							       "{\"id\": \"c\", \"type\": \"symbols\", \"engine\": \"legacy\"}"),
		      &jf, &err) == 0);
	REQUIRE(jf.nr_jobs == 2);
	EXPECT_INT(jf.jobs[0].type, JOB_SYMBOLS);
	EXPECT(jf.jobs[0].has_names);
	REQUIRE(jf.jobs[0].nr_names == 2);
	EXPECT_STR(jf.jobs[0].names[0], "linux_banner");
	EXPECT_STR(jf.jobs[0].names[1], "_text");
	EXPECT(!jf.jobs[1].has_names);
	EXPECT_INT(jf.jobs[1].engine, IMEE_ENGINE_LEGACY);
	EXPECT_STR(job_type_name(JOB_SYMBOLS), "symbols");
	job_file_free(&jf);

	EXPECT(refused(JOBS(SYMS("\"_text\"")), "jobs[0].names", "array"));
	EXPECT(refused(JOBS(SYMS("[]")), "jobs[0].names", "1..4096 names"));
	EXPECT(refused(JOBS(SYMS("[\"a\", 5]")), "jobs[0].names[1]", "string"));
	EXPECT(refused(JOBS(SYMS("[\"a\", \"\"]")), "jobs[0].names[1]", "1..511 bytes"));
	EXPECT(refused(JOBS(SYMS("[\"a b\"]")), "jobs[0].names[0]", "spaces"));
	EXPECT(refused(JOBS(SYMS("[\"a\", \"b\", \"a\"]")), "jobs[0].names[2]",
		       "already names[0]"));
	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"symbols\", \"address\": 1}"),
		       "jobs[0].address", "a symbols job has: id, type, engine, names"));
	/* A later job's error frees the names parsed before it. */
	EXPECT(refused(JOBS(SYMS("[\"a\", \"b\"]") ", {\"id\": \"x\"}"), "jobs[1].type",
		       "missing"));
}

/* pslist, pidlist, credlist: threads and max, checked strictly; "cache" at the top. */
static void linux_jobs(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse(JOBS("{\"id\": \"p\", \"type\": \"pslist\"}, "
			   "{\"id\": \"t\", \"type\": \"pslist\", \"threads\": true, \"max\": 10}, "
			   "{\"id\": \"i\", \"type\": \"pidlist\", \"max\": 4194304}, "
			   "{\"id\": \"c\", \"type\": \"credlist\", \"threads\": false}"),
		      &jf, &err) == 0);
	REQUIRE(jf.nr_jobs == 4);
	EXPECT_INT(jf.jobs[0].type, JOB_PSLIST);
	EXPECT(!jf.jobs[0].threads);
	EXPECT_INT(jf.jobs[0].max, 0);
	EXPECT(jf.jobs[1].threads);
	EXPECT_INT(jf.jobs[1].max, 10);
	EXPECT_INT(jf.jobs[2].type, JOB_PIDLIST);
	EXPECT_INT(jf.jobs[2].max, 4194304);
	EXPECT_INT(jf.jobs[3].type, JOB_CREDLIST);
	EXPECT(!jf.no_cache);
	EXPECT_STR(job_type_name(JOB_PSLIST), "pslist");
	EXPECT_STR(job_type_name(JOB_PIDLIST), "pidlist");
	EXPECT_STR(job_type_name(JOB_CREDLIST), "credlist");
	job_file_free(&jf);

	REQUIRE(parse("{" TARGET ", \"cache\": false, \"jobs\": []}", &jf, &err) == 0);
	EXPECT(jf.no_cache);
	job_file_free(&jf);
	EXPECT(refused("{" TARGET ", \"cache\": 0, \"jobs\": []}", "cache", "true or false"));
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"pslist\", \"max\": 0}"), "jobs[0].max",
		       "1..4194304"));
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"pslist\", \"max\": 4194305}"),
		       "jobs[0].max", "1..4194304"));
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"credlist\", \"threads\": 1}"),
		       "jobs[0].threads", "true or false"));
	/* pidlist has every thread's pid already: no "threads". */
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"pidlist\", \"threads\": true}"),
		       "jobs[0].threads", "a pidlist job has: id, type, engine, max"));
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"pslist\", \"names\": []}"),
		       "jobs[0].names", "a pslist job has: id, type, engine, threads, max"));
}

/* "system_map" and "btf" at the top: paths, kept for run time; checked strictly. */
static void override_fields(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse("{" TARGET ", \"system_map\": \"/boot/System.map-6.1.0-9-amd64\", "
		      "\"btf\": \"vmlinux btf\", \"jobs\": [{\"id\": \"p\", \"type\": \"pslist\"}]}",
		      &jf, &err) == 0);
	EXPECT_STR(jf.system_map, "/boot/System.map-6.1.0-9-amd64");
	EXPECT_STR(jf.btf_file, "vmlinux btf");
	job_file_free(&jf);
	EXPECT(!jf.system_map && !jf.btf_file);
	REQUIRE(parse(JOBS(""), &jf, &err) == 0);
	EXPECT(!jf.system_map && !jf.btf_file);
	job_file_free(&jf);

	EXPECT(refused("{" TARGET ", \"system_map\": 1, \"jobs\": []}", "system_map",
		       "a file's path"));
	EXPECT(refused("{" TARGET ", \"btf\": true, \"jobs\": []}", "btf", "a file's path"));
	EXPECT(refused("{" TARGET ", \"btf\": null, \"jobs\": []}", "btf", "a file's path"));
	EXPECT(refused("{" TARGET ", \"btf\": \"\", \"jobs\": []}", "btf", "1..4095 bytes"));
	/* A job's own override is no field of a job: they apply to the whole file. */
	EXPECT(refused(JOBS("{\"id\": \"p\", \"type\": \"pslist\", \"btf\": \"x\"}"), "jobs[0].btf",
		       "a pslist job has"));
	EXPECT(refused("{" TARGET ", \"System_map\": \"x\", \"jobs\": []}", "System_map",
		       "system_map, btf"));
}

/* hidden: "max" only; walk: struct, list, head, head_is, fields, max. */
static void hidden_and_walk_jobs(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse(JOBS("{\"id\": \"h\", \"type\": \"hidden\", \"max\": 100}, "
			   "{\"id\": \"w\", \"type\": \"walk\", \"struct\": \"task_struct\", "
			   "\"list\": \"tasks\", \"head\": \"init_task\", \"head_is\": \"entry\", "
			   "\"fields\": [\"pid\", \"comm\", \"real_cred->uid.val\"], \"max\": 9}, "
			   "{\"id\": \"m\", \"type\": \"walk\", \"struct\": \"module\", "
			   "\"list\": \"list\", \"head\": \"0xffffffff82001000\", "
			   "\"fields\": [\"name\"]}"),
		      &jf, &err) == 0);
	REQUIRE(jf.nr_jobs == 3);
	EXPECT_INT(jf.jobs[0].type, JOB_HIDDEN);
	EXPECT_INT(jf.jobs[0].max, 100);
	EXPECT_STR(job_type_name(JOB_HIDDEN), "hidden");
	EXPECT_STR(job_type_name(JOB_WALK), "walk");
	EXPECT_INT(jf.jobs[1].type, JOB_WALK);
	EXPECT_STR(jf.jobs[1].walk_struct, "task_struct");
	EXPECT_STR(jf.jobs[1].walk_list, "tasks");
	EXPECT_STR(jf.jobs[1].head_symbol, "init_task");
	EXPECT(jf.jobs[1].head_is_entry);
	REQUIRE(jf.jobs[1].nr_fields == 3);
	EXPECT_STR(jf.jobs[1].fields[2], "real_cred->uid.val");
	EXPECT_INT(jf.jobs[1].max, 9);
	EXPECT(!jf.jobs[2].head_symbol);
	EXPECT_U64(jf.jobs[2].head_address, 0xffffffff82001000ULL);
	EXPECT(!jf.jobs[2].head_is_entry);
	job_file_free(&jf);

#define WALK(extra)                                                              \
	JOBS("{\"id\": \"w\", \"type\": \"walk\", \"struct\": \"task_struct\", " \
	     "\"list\": \"tasks\", " extra "}")
	EXPECT(refused(JOBS("{\"id\": \"h\", \"type\": \"hidden\", \"threads\": true}"),
		       "jobs[0].threads", "a hidden job has: id, type, engine, max"));
	EXPECT(refused(WALK("\"head\": \"init_task\""), "jobs[0].fields", "missing"));
	EXPECT(refused(WALK("\"fields\": [\"pid\"]"), "jobs[0].head", "missing"));
	EXPECT(refused(WALK("\"head\": 12, \"fields\": []"), "jobs[0].fields", "1..32 fields"));
	EXPECT(refused(WALK("\"head\": \"0xzz\", \"fields\": [\"pid\"]"), "jobs[0].head",
		       "symbol name or an address"));
	EXPECT(refused(WALK("\"head\": true, \"fields\": [\"pid\"]"), "jobs[0].head",
		       "symbol name or an address"));
	EXPECT(refused(WALK("\"head\": \"init task\", \"fields\": [\"pid\"]"), "jobs[0].head",
		       "without spaces"));
	EXPECT(refused(WALK("\"head\": \"x\", \"fields\": [\"pid\", 3]"), "jobs[0].fields[1]",
		       "must be a string"));
	EXPECT(refused(WALK("\"head\": \"x\", \"fields\": [\"pid\", \"pid\"]"), "jobs[0].fields[1]",
		       "already fields[0]"));
	EXPECT(refused(WALK("\"head\": \"x\", \"head_is\": \"node\", \"fields\": [\"pid\"]"),
		       "jobs[0].head_is", "\"list_head\" or \"entry\""));
	EXPECT(refused(WALK("\"head\": \"x\", \"fields\": [\"pid\"], \"threads\": true"),
		       "jobs[0].threads", "a walk job has: id, type, engine, struct, list"));
	EXPECT(refused(JOBS("{\"id\": \"w\", \"type\": \"walk\", \"list\": \"tasks\", "
			    "\"head\": \"x\", \"fields\": [\"pid\"]}"),
		       "jobs[0].struct", "missing"));
#undef WALK
}

/* credlist, modules and syscalldmp: entries that changed under their key. */
static void round_changes_in_place(void)
{
	json_t *c1 = json_loads("{\"id\": \"c\", \"type\": \"credlist\", \"ok\": true, \"value\": ["
				"{\"pid\": 5, \"comm\": \"a\", \"uid\": 1000},"
				"{\"pid\": 6, \"comm\": \"b\", \"uid\": 1000}]}",
				0, NULL);
	json_t *c2 = json_loads("{\"id\": \"c\", \"type\": \"credlist\", \"ok\": true, \"value\": ["
				"{\"pid\": 5, \"comm\": \"a\", \"uid\": 0},"
				"{\"pid\": 6, \"comm\": \"b\", \"uid\": 1000}]}",
				0, NULL);
	json_t *s1 =
		json_loads("{\"id\": \"s\", \"type\": \"syscalldmp\", \"ok\": true, \"value\": {"
			   "\"sys_call_table\": {\"entries\": [{\"nr\": 0, \"handler\": \"0x1\"},"
			   "{\"nr\": 39, \"handler\": \"0x2\"}]}, \"ia32_sys_call_table\": null}}",
			   0, NULL);
	json_t *s2 = json_loads(
		"{\"id\": \"s\", \"type\": \"syscalldmp\", \"ok\": true, \"value\": {"
		"\"sys_call_table\": {\"entries\": [{\"nr\": 0, \"handler\": \"0x1\"},"
		"{\"nr\": 39, \"handler\": \"0x666\"}]}, \"ia32_sys_call_table\": null}}",
		0, NULL);
	json_t *m1 =
		json_loads("{\"id\": \"m\", \"type\": \"modules\", \"ok\": true, \"value\": ["
			   "{\"name\": \"ext4\", \"address\": \"0x10\", \"state\": \"live\"}]}",
			   0, NULL);
	json_t *m2 =
		json_loads("{\"id\": \"m\", \"type\": \"modules\", \"ok\": true, \"value\": ["
			   "{\"name\": \"ext4\", \"address\": \"0x10\", \"state\": \"live\"},"
			   "{\"name\": \"evil\", \"address\": \"0x20\", \"state\": \"coming\"}]}",
			   0, NULL);
	json_t *c, *ch;

	REQUIRE(c1 && c2 && s1 && s2 && m1 && m2);
	EXPECT(changes_tracked(c1) && changes_tracked(s1) && changes_tracked(m1));
	EXPECT(changes_between(c1, c1) == NULL);
	c = changes_between(c1, c2);
	REQUIRE(c);
	ch = json_object_get(c, "changed");
	REQUIRE(json_array_size(ch) == 1);
	EXPECT_INT(json_integer_value(json_object_get(
			   json_object_get(json_array_get(ch, 0), "before"), "uid")),
		   1000);
	EXPECT_INT(json_integer_value(
			   json_object_get(json_object_get(json_array_get(ch, 0), "after"), "uid")),
		   0);
	EXPECT_INT(json_array_size(json_object_get(c, "appeared")), 0);
	json_decref(c);
	c = changes_between(s1, s2);
	REQUIRE(c);
	ch = json_object_get(c, "changed");
	REQUIRE(json_array_size(ch) == 1);
	EXPECT_STR(json_string_value(json_object_get(
			   json_object_get(json_array_get(ch, 0), "after"), "table")),
		   "sys_call_table");
	EXPECT_STR(json_string_value(json_object_get(
			   json_object_get(json_array_get(ch, 0), "after"), "handler")),
		   "0x666");
	json_decref(c);
	EXPECT(changes_between(s2, s2) == NULL);
	c = changes_between(m1, m2);
	REQUIRE(c);
	EXPECT_INT(json_array_size(json_object_get(c, "appeared")), 1);
	EXPECT_INT(json_array_size(json_object_get(c, "changed")), 0);
	json_decref(c);
	c = changes_between(m2, m1);
	REQUIRE(c);
	EXPECT_STR(json_string_value(json_object_get(
			   json_array_get(json_object_get(c, "disappeared"), 0), "name")),
		   "evil");
	json_decref(c);
	json_decref(c1);
	json_decref(c2);
	json_decref(s1);
	json_decref(s2);
	json_decref(m1);
	json_decref(m2);
}

/* --changes: pslist entries keyed by pid and address between two rounds. */
static void round_changes(void)
{
	json_t *a = json_loads("{\"id\": \"ps\", \"type\": \"pslist\", \"ok\": true, \"value\": ["
			       "{\"pid\": 1, \"address\": \"0x10\", \"comm\": \"init\"},"
			       "{\"pid\": 7, \"address\": \"0x70\", \"comm\": \"old\"},"
			       "{\"pid\": 8, \"address\": \"0x80\", \"comm\": \"gone\"}]}",
			       0, NULL);
	json_t *b = json_loads("{\"id\": \"ps\", \"type\": \"pslist\", \"ok\": true, \"value\": ["
			       "{\"pid\": 1, \"address\": \"0x10\", \"comm\": \"init\"},"
			       "{\"pid\": 7, \"address\": \"0x90\", \"comm\": \"new\"},"
			       "{\"pid\": 9, \"address\": \"0xa0\", \"comm\": \"short\"}]}",
			       0, NULL);
	json_t *f = json_loads("{\"id\": \"ps\", \"type\": \"pslist\", \"ok\": false, "
			       "\"error\": {\"code\": \"cycle\", \"message\": \"m\"}}",
			       0, NULL);
	json_t *banner = json_loads("{\"id\": \"b\", \"type\": \"banner\", \"ok\": true}", 0, NULL);
	json_t *c, *ap, *dis;

	REQUIRE(a && b && f && banner);
	EXPECT(changes_tracked(a));
	EXPECT(!changes_tracked(banner));
	EXPECT(changes_between(a, a) == NULL);
	c = changes_between(a, b);
	REQUIRE(c);
	EXPECT_STR(json_string_value(json_object_get(c, "id")), "ps");
	ap = json_object_get(c, "appeared");
	dis = json_object_get(c, "disappeared");
	/* pid 7 used again by another task: gone and come; 8 gone; 9 came. */
	REQUIRE(json_array_size(ap) == 2 && json_array_size(dis) == 2);
	EXPECT_STR(json_string_value(json_object_get(json_array_get(ap, 0), "comm")), "new");
	EXPECT_STR(json_string_value(json_object_get(json_array_get(ap, 1), "comm")), "short");
	EXPECT_STR(json_string_value(json_object_get(json_array_get(dis, 0), "comm")), "old");
	EXPECT_STR(json_string_value(json_object_get(json_array_get(dis, 1), "comm")), "gone");
	json_decref(c);
	/* A failure is reported once, then not again while it is the same. */
	c = changes_between(a, f);
	REQUIRE(c);
	EXPECT(json_is_false(json_object_get(c, "ok")));
	EXPECT_STR(json_string_value(json_object_get(json_object_get(c, "error"), "code")),
		   "cycle");
	json_decref(c);
	EXPECT(changes_between(f, f) == NULL);
	/* After a failure, every entry is new. */
	c = changes_between(f, b);
	REQUIRE(c);
	EXPECT_INT(json_array_size(json_object_get(c, "appeared")), 3);
	EXPECT_INT(json_array_size(json_object_get(c, "disappeared")), 0);
	json_decref(c);
	json_decref(a);
	json_decref(b);
	json_decref(f);
	json_decref(banner);
}

/* syscalldmp and modules: "max" only, syscalldmp's up to the largest table. */
static void kernel_jobs(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\"}, "
			   "{\"id\": \"s2\", \"type\": \"syscalldmp\", \"max\": 1024, "
			   "\"engine\": \"legacy\"}, "
			   "{\"id\": \"m\", \"type\": \"modules\"}, "
			   "{\"id\": \"m2\", \"type\": \"modules\", \"max\": 4194304}"),
		      &jf, &err) == 0);
	REQUIRE(jf.nr_jobs == 4);
	EXPECT_INT(jf.jobs[0].type, JOB_SYSCALLDMP);
	EXPECT_INT(jf.jobs[0].max, 0);
	EXPECT_INT(jf.jobs[1].max, 1024);
	EXPECT_INT(jf.jobs[1].engine, IMEE_ENGINE_LEGACY);
	EXPECT_INT(jf.jobs[2].type, JOB_MODULES);
	EXPECT_INT(jf.jobs[3].max, 4194304);
	EXPECT_STR(job_type_name(JOB_SYSCALLDMP), "syscalldmp");
	EXPECT_STR(job_type_name(JOB_MODULES), "modules");
	job_file_free(&jf);

	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\", \"max\": 1025}"),
		       "jobs[0].max", "1..1024"));
	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\", \"max\": 0}"), "jobs[0].max",
		       "1..1024"));
	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\", \"max\": \"10\"}"),
		       "jobs[0].max", "integer"));
	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\", \"threads\": true}"),
		       "jobs[0].threads", "a syscalldmp job has: id, type, engine, max"));
	EXPECT(refused(JOBS("{\"id\": \"s\", \"type\": \"syscalldmp\", \"table\": \"x64\"}"),
		       "jobs[0].table", "a syscalldmp job has: id, type, engine, max"));
	EXPECT(refused(JOBS("{\"id\": \"m\", \"type\": \"modules\", \"max\": 4194305}"),
		       "jobs[0].max", "1..4194304"));
	EXPECT(refused(JOBS("{\"id\": \"m\", \"type\": \"modules\", \"threads\": false}"),
		       "jobs[0].threads", "a modules job has: id, type, engine, max"));
	EXPECT(refused(JOBS("{\"type\": \"modules\"}"), "jobs[0].id", "missing"));
}

static void wrong_types_and_values(void)
{
	EXPECT(refused("{\"jobs\": []}", "target", "missing"));
	EXPECT(refused("{\"target\": 5, \"jobs\": []}", "target", "object"));
	EXPECT(refused("{\"target\": {\"pid\": \"1234\"}, \"jobs\": []}", "target.pid", "integer"));
	EXPECT(refused("{\"target\": {\"pid\": 0}, \"jobs\": []}", "target.pid", "1.."));
	EXPECT(refused("{\"target\": {}, \"jobs\": []}", "target.pid", "missing"));
	EXPECT(refused("{\"target\": {\"pid\": 1, \"vm_fd\": -1}, \"jobs\": []}", "target.vm_fd",
		       "0.."));
	EXPECT(refused("{\"target\": {\"pid\": 1, \"maxphyaddr\": 64}, \"jobs\": []}",
		       "target.maxphyaddr", "32..52"));
	EXPECT(refused("{" TARGET "}", "jobs", "missing"));
	EXPECT(refused("{" TARGET ", \"jobs\": {}}", "jobs", "array"));
	EXPECT(refused(JOBS("5"), "jobs[0]", "object"));
	EXPECT(refused(JOBS("{\"id\": \"x\"}"), "jobs[0].type", "missing"));
	EXPECT(refused(JOBS("{\"id\": \"x\", \"type\": \"dump\"}"), "jobs[0].type",
		       "\"banner\", \"read\", \"translate\", \"symbols\", \"pslist\", "
		       "\"pidlist\", \"credlist\", \"syscalldmp\", \"modules\", \"hidden\" or "
		       "\"walk\""));
	EXPECT(refused(JOBS("{\"type\": \"banner\"}"), "jobs[0].id", "missing"));
	EXPECT(refused(JOBS("{\"id\": 7, \"type\": \"banner\"}"), "jobs[0].id", "string"));
	EXPECT(refused(JOBS("{\"id\": \"\", \"type\": \"banner\"}"), "jobs[0].id", "1..64"));
	EXPECT(refused(JOBS("{\"id\": \"a\", \"type\": \"banner\"}, {\"id\": \"a\", \"type\": "
			    "\"banner\"}"),
		       "jobs[1].id", "already the id of jobs[0]"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\"")), "jobs[0].length", "missing"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": \"64\"")), "jobs[0].length",
		       "integer"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": 8, \"format\": \"bin\"")),
		       "jobs[0].format", "\"hex\", \"u64\" or \"string\""));
	EXPECT(refused(JOBS("{\"id\": \"r\", \"type\": \"read\", \"space\": \"kernel\","
			    " \"address\": 1, \"length\": 1}"),
		       "jobs[0].space", "\"virtual\" or \"physical\""));
	EXPECT(refused(JOBS("{\"id\": \"t\", \"type\": \"translate\", \"address\": \"0x1\","
			    " \"verbose\": \"yes\"}"),
		       "jobs[0].verbose", "true or false"));
}

static void addresses(void)
{
	EXPECT(refused(JOBS(READ("\"address\": \"1000\", \"length\": 8")), "jobs[0].address",
		       "0x"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x\", \"length\": 8")), "jobs[0].address", "0x"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x12g4\", \"length\": 8")), "jobs[0].address",
		       "not a hex number"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1ffffffffffffffff\", \"length\": 8")),
		       "jobs[0].address", "64 bits"));
	EXPECT(refused(JOBS(READ("\"address\": -4096, \"length\": 8")), "jobs[0].address",
		       "negative"));
	EXPECT(refused(JOBS(READ("\"address\": 4096.5, \"length\": 8")), "jobs[0].address",
		       "\"0x...\" string or an integer"));
	EXPECT(refused(JOBS(READ("\"address\": \"0xffffffffffffffff\", \"length\": 2")),
		       "jobs[0].address", "wraps"));
	EXPECT(refused(JOBS("{\"id\": \"t\", \"type\": \"translate\", \"address\": \"0x1\","
			    " \"cr3\": true}"),
		       "jobs[0].cr3", "string or an integer"));
	/* Leading zeros are fine as long as the value fits. */
	{
		struct job_error err;
		struct job_file jf;

		REQUIRE(parse(JOBS(READ("\"address\": \"0x00000000000000000ffff\", \"length\": 8")),
			      &jf, &err) == 0);
		EXPECT_U64(jf.jobs[0].address, 0xffff);
		job_file_free(&jf);
	}
}

static void lengths(void)
{
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": 0")), "jobs[0].length",
		       "must be 1..1048576"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": 1048577")), "jobs[0].length",
		       "must be 1..1048576"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": -1")), "jobs[0].length",
		       "must be 1..1048576"));
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": 99999999999999999999")), "",
		       "invalid JSON")); /* jansson refuses the integer itself */
	EXPECT(refused(JOBS(READ("\"address\": \"0x1000\", \"length\": 12, \"format\": \"u64\"")),
		       "jobs[0].length", "multiple of 8"));
	/* The path names the right job. */
	EXPECT(refused(JOBS("{\"id\": \"a\", \"type\": \"banner\"}, {\"id\": \"b\", \"type\": "
			    "\"banner\"}, " READ("\"address\": \"0x1000\", \"length\": 0")),
		       "jobs[2].length", "must be 1..1048576"));
}

static void engines(void)
{
	struct job_error err;
	struct job_file jf;

	REQUIRE(parse("{" TARGET ", \"engine\": \"imee\", \"jobs\": ["
		      "{\"id\": \"b\", \"type\": \"banner\"},"
		      "{\"id\": \"c\", \"type\": \"banner\", \"engine\": \"legacy\"}]}",
		      &jf, &err) == 0);
	EXPECT_INT(jf.engine, IMEE_ENGINE_IMEE);
	EXPECT(jf.engine_explicit);
	EXPECT_INT(jf.jobs[0].engine, IMEE_ENGINE_IMEE);
	EXPECT(jf.jobs[0].engine_explicit);
	EXPECT_INT(jf.jobs[1].engine, IMEE_ENGINE_LEGACY);
	job_file_free(&jf);
	REQUIRE(parse(JOBS("{\"id\": \"b\", \"type\": \"banner\", \"engine\": \"software\"},"
			   "{\"id\": \"c\", \"type\": \"banner\"}"),
		      &jf, &err) == 0);
	EXPECT_INT(jf.jobs[0].engine, IMEE_ENGINE_SOFTWARE);
	EXPECT(jf.jobs[0].engine_explicit);
	EXPECT_INT(jf.jobs[1].engine, IMEE_ENGINE_IMEE);
	EXPECT(!jf.jobs[1].engine_explicit);
	job_file_free(&jf);
	EXPECT(refused(JOBS("{\"id\": \"b\", \"type\": \"banner\", \"engine\": \"fast\"}"),
		       "jobs[0].engine", "\"imee\", \"software\" or \"legacy\""));
}

static void too_many_jobs(void)
{
	size_t n = JOBS_MAX + 1, i, cap = 64 + n * 48, len = 0;
	char *text = malloc(cap);

	REQUIRE(text);
	len += (size_t)snprintf(text + len, cap - len, "{" TARGET ", \"jobs\": [");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"id\": \"j%zu\", \"type\": \"banner\"}", i ? "," : "",
					i);
	snprintf(text + len, cap - len, "]}");
	EXPECT(refused(text, "jobs", "more than 4096"));
	free(text);
}

/* output.c: strings from guest memory always become valid JSON strings. */
static void output_strings(void)
{
	static const unsigned char mixed[] = {
		'o', 'k', 0xc3, 0xa9, 0xff, 'x', 0xe2, 0x82, 0, 'z'
	};
	json_t *v = out_c_string(mixed, sizeof(mixed));

	REQUIRE(v);
	/* "ok", U+00E9, U+FFFD for 0xff, "x", U+FFFD twice for a truncated sequence. */
	EXPECT_STR(json_string_value(v), "ok\xc3\xa9\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(v);
	v = out_hex_bytes("\x01\xab", 2);
	EXPECT_STR(json_string_value(v), "01ab");
	json_decref(v);
	v = out_u64_words("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	EXPECT_STR(json_string_value(v), "0x807060504030201");
	json_decref(v);
	v = out_u64_words("\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16);
	EXPECT_INT(json_array_size(v), 2);
	EXPECT_STR(json_string_value(json_array_get(v, 1)), "0x2");
	json_decref(v);
	EXPECT(!out_failed());
}

static struct subproc_result res;

/* Run imeectl with args and stdin from input (NULL: empty). */
static int run(const char *const *args, const char *input)
{
	return subproc_run(imeectl, args, NULL, input, &res);
}

static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(path);
	close(fd);
}

static void cli_bad_job_files_exit_2(void)
{
	char bad_json[] = "/tmp/imee-test-job-XXXXXX", bad_field[] = "/tmp/imee-test-job-XXXXXX";
	const char *a1[] = { "run", bad_json, NULL };
	const char *a2[] = { "run", bad_field, NULL };
	const char *a3[] = { "run", "-", NULL };
	const char *a4[] = { "run", "/nonexistent/job.json", NULL };

	write_temp(bad_json, "{\"target\": {\"pid\": 1},\n \"jobs\": [");
	write_temp(bad_field, JOBS(READ("\"address\": \"0x1000\", \"length\": 0")));

	EXPECT_INT(run(a1, NULL), 2);
	EXPECT_STR(res.out, "");
	EXPECT_HAS(res.err, bad_json);
	EXPECT_HAS(res.err, ":2:");
	EXPECT_INT(run(a2, NULL), 2);
	EXPECT_STR(res.out, "");
	EXPECT_HAS(res.err, "jobs[0].length: must be 1..1048576");
	EXPECT_INT(run(a3, "{\"target\": {\"pid\": 1}, \"jobs\": [], \"bogus\": 1}"), 2);
	EXPECT_HAS(res.err, "<stdin>: bogus: unknown field");
	EXPECT_INT(run(a4, NULL), 2);
	EXPECT_HAS(res.err, "/nonexistent/job.json");
	unlink(bad_json);
	unlink(bad_field);
}

static void cli_usage_and_help(void)
{
	const char *help[] = { "--help", NULL };
	const char *run_help[] = { "run", "--help", NULL };
	const char *info_help[] = { "info", "--help", NULL };
	const char *vms_help[] = { "vms", "--help", NULL };
	const char *none[] = { NULL };
	const char *unknown[] = { "frobnicate", NULL };
	const char *run_none[] = { "run", NULL };
	const char *info_nopid[] = { "info", NULL };
	const char *info_badpid[] = { "info", "--pid", "12x", NULL };
	const char *bad_option[] = { "vms", "--bogus", NULL };

	EXPECT_INT(run(help, NULL), 0);
	EXPECT_HAS(res.out, "Exit status");
	EXPECT_HAS(res.out, "2  usage error");
	EXPECT_INT(run(run_help, NULL), 0);
	EXPECT_HAS(res.out, "Usage: imeectl run");
	EXPECT_INT(run(info_help, NULL), 0);
	EXPECT_HAS(res.out, "--vm-fd");
	EXPECT_INT(run(vms_help, NULL), 0);
	EXPECT_HAS(res.out, "--json");
	EXPECT_INT(run(none, NULL), 2);
	EXPECT_INT(run(unknown, NULL), 2);
	EXPECT_HAS(res.err, "unknown command");
	EXPECT_INT(run(run_none, NULL), 2);
	EXPECT_INT(run(info_nopid, NULL), 2);
	EXPECT_HAS(res.err, "--pid");
	EXPECT_INT(run(info_badpid, NULL), 2);
	EXPECT_INT(run(bad_option, NULL), 2);
	{
		const char *zero[] = { "run", "--repeat", "0", "-", NULL };
		const char *changes[] = { "run", "--changes", "-", NULL };

		EXPECT_INT(run(zero, NULL), 2);
		EXPECT_HAS(res.err, "--repeat must be 1..1000000");
		EXPECT_INT(run(changes, NULL), 2);
		EXPECT_HAS(res.err, "go with --repeat");
		EXPECT_INT(run(run_help, NULL), 0);
		EXPECT_HAS(res.out, "--interval-ms");
		EXPECT_HAS(res.out, "\"walk\"");
		EXPECT_HAS(res.out, "\"hidden\"");
	}
}

static void scan_files_and_usage(void)
{
	const char *scan_help[] = { "scan", "--help", NULL };
	const char *scan_none[] = { "scan", NULL };
	const char *scan_badpid[] = { "scan", "--pid", "0", "-", NULL };
	const char *scan_stdin[] = { "scan", "--pid", "1", "-", NULL };
	struct job_error err;
	struct job_file jf;
	const char *text;
	json_t *doc;

	/* scan's job files may leave out the target, or its pid; run's may not */
	text = "{\"jobs\": [{\"id\": \"b\", \"type\": \"banner\"}]}";
	REQUIRE(job_file_parse_no_target(text, strlen(text), &jf, &err) == 0);
	EXPECT_INT(jf.target.pid, 0);
	EXPECT_INT((int)jf.nr_jobs, 1);
	job_file_free(&jf);
	text = "{\"target\": {\"vcpu\": 1}, \"jobs\": []}";
	REQUIRE(job_file_parse_no_target(text, strlen(text), &jf, &err) == 0);
	EXPECT(jf.target.has_vcpu && jf.target.vcpu == 1);
	job_file_free(&jf);
	EXPECT(refused("{\"jobs\": []}", "target", "missing"));
	text = "{\"target\": {\"vcpu\": -1}, \"jobs\": []}";
	EXPECT_INT(job_file_parse_no_target(text, strlen(text), &jf, &err), -EINVAL);
	EXPECT_HAS(err.path, "target.vcpu");

	if (!imeectl)
		return;
	EXPECT_INT(run(scan_help, NULL), 0);
	EXPECT_HAS(res.out, "Usage: imeectl scan");
	EXPECT_INT(run(scan_none, NULL), 2);
	EXPECT_INT(run(scan_badpid, NULL), 2);
	EXPECT_HAS(res.err, "--pid");
	/* pid 1 runs no VM: one line saying so, status 1 */
	EXPECT_INT(run(scan_stdin, "{\"jobs\": [{\"id\": \"b\", \"type\": \"banner\"}]}"), 1);
	doc = json_loads(res.out, 0, NULL);
	EXPECT(doc && json_is_false(json_object_get(doc, "ok")));
	EXPECT(doc &&
	       json_integer_value(json_object_get(json_object_get(doc, "target"), "pid")) == 1);
	json_decref(doc);
}

static void cli_runtime_failure_exit_1(void)
{
	const char *args[] = { "run", "-", NULL };
	const char *vms[] = { "vms", "--json", NULL };
	json_error_t jerr;
	json_t *doc;

	/* A valid file, but no /dev/imee here (or no such VM): 1, and no JSON. */
	if (access(IMEE_DEVICE_PATH, F_OK) == 0) {
		printf("# %s exists: skipping the no-device check\n", IMEE_DEVICE_PATH);
	} else {
		EXPECT_INT(run(args, JOBS("{\"id\": \"b\", \"type\": \"banner\"}")), 1);
		EXPECT_STR(res.out, "");
		EXPECT_HAS(res.err, IMEE_DEVICE_PATH);
	}
	/* vms works without the device and prints JSON. */
	EXPECT_INT(run(vms, NULL), 0);
	doc = json_loads(res.out, 0, &jerr);
	EXPECT(doc && json_is_array(json_object_get(doc, "vms")));
	json_decref(doc);
}

int main(int argc, char **argv)
{
	imeectl = argc > 1 ? argv[1] : getenv("IMEECTL");
	tap_run(valid_file, "a valid job file, with defaults and overrides");
	tap_run(malformed_json_has_line_and_column, "malformed JSON: line and column");
	tap_run(unknown_fields, "unknown fields are errors, with their path");
	tap_run(symbols_jobs, "symbols jobs: names parsed, bad names refused, freed");
	tap_run(linux_jobs, "pslist, pidlist, credlist jobs: threads, max, cache");
	tap_run(override_fields, "system_map and btf: paths at the top, strictly checked");
	tap_run(kernel_jobs, "syscalldmp and modules jobs: max, nothing else");
	tap_run(hidden_and_walk_jobs, "hidden and walk jobs: fields checked, names kept");
	tap_run(round_changes, "run --changes: entries that came and went, failures once");
	tap_run(round_changes_in_place,
		"changes: credentials, modules and syscall entries changed in place");
	tap_run(wrong_types_and_values, "wrong types and values name the field");
	tap_run(addresses, "addresses: \"0x...\" strings or integers that fit");
	tap_run(lengths, "lengths are bounded");
	tap_run(engines, "engines: imee (the default), software, legacy");
	tap_run(too_many_jobs, "the number of jobs is bounded");
	tap_run(output_strings, "guest bytes become valid JSON strings");
	if (!imeectl) {
		printf("# no imeectl given (argv[1] or $IMEECTL): the CLI was not tested\n");
		tap_done();
		return 1;
	}
	tap_run(cli_bad_job_files_exit_2, "imeectl run: bad job files exit 2, nothing on stdout");
	tap_run(cli_usage_and_help, "imeectl: --help everywhere, usage errors exit 2");
	tap_run(cli_runtime_failure_exit_1, "imeectl: runtime failure exits 1; vms --json");
	tap_run(scan_files_and_usage, "imeectl scan: job files without a target, usage, no VM");
	return tap_done();
}
