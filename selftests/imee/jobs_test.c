// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl job files against live guests: every value is compared with what
 * the guest itself reports (/proc/version, /proc/kallsyms, /proc/iomem,
 * /proc/sys, /proc/cpuinfo).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "kselftest_harness.h"

/*
 * Ground truth comes from the guests through an emulated serial line, a
 * second or more per question in the nested lab: a generous bound on each
 * test, not a timing assertion.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

/* An address or number in a result: "0x..." strings or JSON integers. */
static uint64_t json_u64(json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 0);
	return UINT64_MAX;
}

static json_t *run_jobs(struct __test_metadata *_metadata, const char *target,
			const char *jobs)
{
	char *doc_text = NULL;
	json_t *doc = NULL;
	int rc;

	ASSERT_LE(0, asprintf(&doc_text, "{\"target\": {\"pid\": %d}, \"jobs\": [%s]}",
			      lab_vmm_pid(target), jobs));
	rc = lab_imeectl_run(doc_text, &doc);
	free(doc_text);
	if (rc != 0 || !doc) {
		TH_LOG("imeectl run failed on %s: status %d", target, rc);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static const char *result_ok_value(json_t *doc, const char *id)
{
	json_t *r = lab_result(doc, id);

	if (!r || !json_is_true(json_object_get(r, "ok"))) {
		char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

		fprintf(stderr, "# job %s failed: %.400s\n", id, text ? text : "(no result)");
		free(text);
		return NULL;
	}
	return json_string_value(json_object_get(r, "value"));
}

TEST(banner_matches_proc_version)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		char *version = lab_guest_proc_version(*t);
		json_t *doc;

		ASSERT_NE(NULL, version);
		doc = run_jobs(_metadata, *t, "{\"id\": \"b\", \"type\": \"banner\"}");
		ASSERT_NE(NULL, doc);
		ASSERT_NE(NULL, result_ok_value(doc, "b"));
		EXPECT_STREQ(version, result_ok_value(doc, "b"));
		json_decref(doc);
		free(version);
	}
}

TEST(linux_banner_by_virtual_address)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		char *version = lab_guest_proc_version(*t);
		uint64_t va = lab_guest_symbol(*t, "linux_banner");
		char jobs[512];
		const char *engines[] = { "software", "legacy" };
		int e;

		ASSERT_NE(NULL, version);
		ASSERT_NE(0, va);
		for (e = 0; e < 2; e++) {
			json_t *doc;
			const char *v;

			snprintf(jobs, sizeof(jobs),
				 "{\"id\": \"r\", \"type\": \"read\", \"engine\": \"%s\","
				 " \"space\": \"virtual\", \"address\": \"%#" PRIx64 "\","
				 " \"length\": %zu, \"format\": \"string\"}",
				 engines[e], va, strlen(version));
			doc = run_jobs(_metadata, *t, jobs);
			ASSERT_NE(NULL, doc);
			v = result_ok_value(doc, "r");
			ASSERT_NE(NULL, v);
			EXPECT_STREQ(version, v);
			json_decref(doc);
		}
		free(version);
	}
}

TEST(translate_kernel_text_matches_iomem)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		uint64_t text = lab_guest_symbol(*t, "_text");
		int64_t code = lab_guest_kernel_code_phys(*t);
		char jobs[512];
		json_t *doc, *r;

		ASSERT_NE(0, text);
		ASSERT_GT(code, 0);
		snprintf(jobs, sizeof(jobs),
			 "{\"id\": \"t\", \"type\": \"translate\", \"address\": \"%#" PRIx64 "\"},"
			 "{\"id\": \"l\", \"type\": \"translate\", \"engine\": \"legacy\","
			 " \"address\": \"%#" PRIx64 "\"}", text, text);
		doc = run_jobs(_metadata, *t, jobs);
		ASSERT_NE(NULL, doc);
		r = lab_result(doc, "t");
		ASSERT_NE(NULL, r);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
		EXPECT_EQ((uint64_t)code, json_u64(json_object_get(r, "physical")));
		/* kernel text is not user-accessible and is executable */
		EXPECT_TRUE(json_is_false(json_object_get(r, "user")));
		EXPECT_TRUE(json_is_false(json_object_get(r, "nx")));
		r = lab_result(doc, "l");
		ASSERT_NE(NULL, r);
		EXPECT_EQ((uint64_t)code, json_u64(json_object_get(r, "physical")));
		json_decref(doc);
	}
}

/* A kernel variable the guest lets us change and print: pid_max. */
TEST(kernel_variable_follows_the_guest)
{
	const char *target = lab_targets()[0];
	uint64_t va;
	int round;

	ASSERT_NE(NULL, target);
	va = lab_guest_symbol(target, "pid_max");
	ASSERT_NE(0, va);
	for (round = 0; round < 2; round++) {
		char cmd[128], jobs[512], *out = NULL;
		unsigned int want = round ? 54321 : 40000;
		json_t *doc, *r;
		long guest;

		snprintf(cmd, sizeof(cmd),
			 "echo %u > /proc/sys/kernel/pid_max && cat /proc/sys/kernel/pid_max",
			 want);
		ASSERT_EQ(0, lab_guest(target, cmd, &out));
		guest = strtol(out, NULL, 10);
		free(out);
		ASSERT_EQ(want, guest);
		snprintf(jobs, sizeof(jobs),
			 "{\"id\": \"p\", \"type\": \"read\", \"space\": \"virtual\","
			 " \"address\": \"%#" PRIx64 "\", \"length\": 8, \"format\": \"u64\"}",
			 va);
		doc = run_jobs(_metadata, target, jobs);
		ASSERT_NE(NULL, doc);
		r = lab_result(doc, "p");
		ASSERT_NE(NULL, r);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
		/* pid_max is an int: the low 32 bits of the u64 */
		EXPECT_EQ((uint64_t)guest,
			  json_u64(json_object_get(r, "value")) & 0xffffffffULL);
		json_decref(doc);
	}
	lab_guest(target, "echo 4194304 > /proc/sys/kernel/pid_max", NULL);
}

TEST(paging_mode_matches_guest)
{
	const char *const *t;
	int seen[2] = { 0, 0 };

	for (t = lab_targets(); *t; t++) {
		char *out = NULL;
		const char *paging;
		json_t *doc;
		int la57;

		ASSERT_LE(0, lab_guest(*t, "grep -c -w la57 /proc/cpuinfo", &out));
		la57 = atoi(out) > 0;
		free(out);
		doc = run_jobs(_metadata, *t, "{\"id\": \"b\", \"type\": \"banner\"}");
		ASSERT_NE(NULL, doc);
		paging = json_string_value(json_object_get(json_object_get(doc, "target"),
							   "paging"));
		ASSERT_NE(NULL, paging);
		EXPECT_STREQ(la57 ? "5-level" : "4-level", paging);
		seen[la57] = 1;
		json_decref(doc);
	}
	/* the lab is meant to run both kinds */
	if (!seen[0] || !seen[1])
		TH_LOG("note: the lab ran only %s targets", seen[1] ? "5-level" : "4-level");
}

TEST(failed_job_does_not_stop_others)
{
	const char *target = lab_targets()[0];
	char *version;
	json_t *doc, *r, *err;

	ASSERT_NE(NULL, target);
	version = lab_guest_proc_version(target);
	ASSERT_NE(NULL, version);
	doc = run_jobs(_metadata, target,
		       "{\"id\": \"bad\", \"type\": \"read\", \"space\": \"virtual\","
		       " \"address\": \"0x0000800000000000\", \"length\": 8, \"format\": \"hex\"},"
		       "{\"id\": \"hole\", \"type\": \"read\", \"space\": \"physical\","
		       " \"address\": \"0xfffffffffff000\", \"length\": 8, \"format\": \"hex\"},"
		       "{\"id\": \"b\", \"type\": \"banner\"}");
	ASSERT_NE(NULL, doc);
	r = lab_result(doc, "bad");
	ASSERT_NE(NULL, r);
	EXPECT_TRUE(json_is_false(json_object_get(r, "ok")));
	err = json_object_get(r, "error");
	ASSERT_NE(NULL, json_string_value(json_object_get(err, "code")));
	ASSERT_NE(NULL, json_string_value(json_object_get(err, "message")));
	r = lab_result(doc, "hole");
	ASSERT_NE(NULL, r);
	EXPECT_TRUE(json_is_false(json_object_get(r, "ok")));
	ASSERT_NE(NULL, result_ok_value(doc, "b"));
	EXPECT_STREQ(version, result_ok_value(doc, "b"));
	json_decref(doc);
	free(version);
}

TEST(bad_job_file_exit_status)
{
	json_t *doc = NULL;

	/* malformed JSON, an unknown field: nothing runs, status 2 */
	EXPECT_EQ(2, lab_imeectl_run("{\"target\": {\"pid\": 1}, \"jobs\": [", &doc));
	json_decref(doc);
	EXPECT_EQ(2, lab_imeectl_run("{\"target\": {\"pid\": 1}, \"jobs\": [],"
				     " \"bogus\": 1}", &doc));
	json_decref(doc);
}

/*
 * imeectl scan: the job on every VM of the host, one line each; every lab
 * target's line has its own banner, as its /proc/version says. --pid
 * restricts the scan to that VMM.
 */
TEST(scan_runs_the_job_on_every_vm)
{
	char path[] = "/tmp/imee-selftest-scan-XXXXXX";
	static const char job[] = "{\"jobs\": [{\"id\": \"b\", \"type\": \"banner\"}]}";
	const char *const *t;
	char *cmd = NULL, *out = NULL, *line, *save = NULL;
	int fd, rc, seen = 0, nr_targets = 0;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(job), write(fd, job, strlen(job)));
	close(fd);
	ASSERT_LT(0, asprintf(&cmd, "imeectl scan %s 2>/dev/null", path));
	rc = lab_host(cmd, &out);
	free(cmd);
	EXPECT_EQ(0, rc);
	ASSERT_NE(NULL, out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *doc = json_loads(line, 0, NULL);
		pid_t pid;

		ASSERT_NE(NULL, doc)
			TH_LOG("not a JSON line: %.200s", line);
		pid = (pid_t)json_integer_value(json_object_get(json_object_get(doc, "target"),
								 "pid"));
		for (t = lab_targets(); *t; t++) {
			char *version;

			if (lab_vmm_pid(*t) != pid)
				continue;
			version = lab_guest_proc_version(*t);
			ASSERT_NE(NULL, version);
			EXPECT_STREQ(version, result_ok_value(doc, "b"));
			TH_LOG("%s (pid %d): %.60s", *t, (int)pid, version);
			free(version);
			seen++;
		}
		json_decref(doc);
	}
	free(out);
	out = NULL;
	for (t = lab_targets(); *t; t++)
		if (lab_vmm_pid(*t) > 0 && !kill(lab_vmm_pid(*t), 0))
			nr_targets++;
	EXPECT_EQ(nr_targets, seen);

	/* one VMM only */
	ASSERT_NE(NULL, lab_targets()[0]);
	ASSERT_LT(0, asprintf(&cmd, "imeectl scan --pid %d %s 2>/dev/null",
			      (int)lab_vmm_pid(lab_targets()[0]), path));
	rc = lab_host(cmd, &out);
	free(cmd);
	EXPECT_EQ(0, rc);
	ASSERT_NE(NULL, out);
	{
		int lines = 0;
		const char *c;

		for (c = out; *c; c++)
			lines += *c == '\n';
		EXPECT_EQ(1, lines)
			TH_LOG("not one line: %.300s", out);
	}
	free(out);
	unlink(path);
}

TEST(vms_lists_every_target)
{
	const char *const *t;
	char *out = NULL;

	ASSERT_EQ(0, lab_host("imeectl vms", &out));
	for (t = lab_targets(); *t; t++) {
		char pid[32];
		pid_t p = lab_vmm_pid(*t);

		if (p <= 0 || kill(p, 0))
			continue;
		snprintf(pid, sizeof(pid), "%d", p);
		if (!strstr(out, pid))
			TH_LOG("imeectl vms output: %s", out);
		EXPECT_NE(NULL, strstr(out, pid));
	}
	free(out);
}

/* An entry count of the guest's, from its shell (-1 if it cannot be had). */
static long guest_count(const char *target, const char *cmd)
{
	char *out = NULL;
	long n = -1;

	if (lab_guest(target, cmd, &out) == 0 && out)
		n = strtol(out, NULL, 10);
	free(out);
	return n;
}

/*
 * The guest kernel's own times of the --paper walks: imee_kbench.ko in the
 * guest prints them as one JSON line; written to a file for --kernel.
 * Returns the file's path (to free and unlink) or NULL.
 */
static char *guest_kernel_times(struct __test_metadata *_metadata, const char *target)
{
	uint64_t table = lab_guest_symbol(target, "sys_call_table");
	char cmd[256], *out = NULL, *path;
	FILE *f;
	int fd;

	if (!table)
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "insmod /attack/imee_kbench.ko syscall_table=0x%" PRIx64 " rounds=5 && "
		 "dmesg | grep -o 'imee_kbench: {.*}' | tail -n 1 | cut -d' ' -f2-; "
		 "rmmod imee_kbench",
		 table);
	if (lab_guest(target, cmd, &out) || !out || out[0] != '{') {
		TH_LOG("imee_kbench in %s: %s", target, out ? out : "(nothing)");
		free(out);
		return NULL;
	}
	path = strdup("/tmp/imee-kbench-XXXXXX");
	fd = path ? mkstemp(path) : -1;
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fputs(out, f) < 0 || fclose(f)) {
		free(out);
		free(path);
		return NULL;
	}
	TH_LOG("the guest's own walks: %s", out);
	free(out);
	return path;
}

/*
 * imeectl bench --paper: every engine measured, and what each job read
 * agrees with the guest: pslist its processes (/proc's numeric entries),
 * pidlist its tasks (the entries of /proc/PID/task), syscalldmp the same number of
 * entries on every engine. The "kernel" column (--kernel) comes from the
 * guest's own kernel (imee_kbench.ko), whose walks read as much. Its times
 * are not asserted (emulated lab).
 */
TEST(bench_paper_measures_every_engine)
{
	static const char *const names[] = { "imee", "software", "legacy" };
	const char *target = lab_target("LA57");
	const char *const *all = lab_targets();
	long procs, tasks;
	json_t *doc, *eng, *e, *jobs, *ent, *kern;
	char cmd[512], vms[256] = "", *out = NULL, *ktimes;
	size_t i, nr_vms = 1, len = 0;

	ASSERT_NE(NULL, target);
	ktimes = guest_kernel_times(_metadata, target);
	ASSERT_NE(NULL, ktimes);
	/* every other target joins the scan and the switch */
	for (i = 0; all[i]; i++) {
		if (!strcmp(all[i], target))
			continue;
		len += snprintf(vms + len, sizeof(vms) - len, " --vm %d", (int)lab_vmm_pid(all[i]));
		nr_vms++;
	}
	snprintf(cmd, sizeof(cmd), "imeectl bench --pid %d --rounds 3 --paper --kernel %s%s --json",
		 (int)lab_vmm_pid(target), ktimes, vms);
	procs = guest_count(target, "ls -d /proc/[0-9]* | wc -l");
	tasks = guest_count(target, "ls -d /proc/[0-9]*/task/[0-9]* | wc -l");
	ASSERT_EQ(0, lab_host(cmd, &out));
	doc = json_loads(out ? out : "", 0, NULL);
	ASSERT_NE(NULL, doc) TH_LOG("bench printed: %.300s", out ? out : "");
	free(out);
	eng = json_object_get(doc, "engines");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		e = json_object_get(eng, names[i]);
		ASSERT_NE(NULL, e) TH_LOG("%s was not measured", names[i]);
		jobs = json_object_get(e, "jobs_us");
		ent = json_object_get(e, "jobs_entries");
		EXPECT_LT(0.0, json_real_value(json_object_get(jobs, "pslist")));
		EXPECT_LT(0.0, json_real_value(json_object_get(jobs, "syscalldmp")));
		if (nr_vms > 1) {
			EXPECT_LT(0.0, json_real_value(json_object_get(e, "scan_us")));
			EXPECT_LT(0.0, json_real_value(json_object_get(e, "switch_us")));
		}
		TH_LOG("%s: pslist %lld processes (the guest: %ld), pidlist %lld pids (%ld tasks),"
		       " syscalldmp %lld entries",
		       names[i], json_integer_value(json_object_get(ent, "pslist")), procs,
		       json_integer_value(json_object_get(ent, "pidlist")), tasks,
		       json_integer_value(json_object_get(ent, "syscalldmp")));
		/* the guest is quiet, but its shell runs (the count counts it): a few come and go */
		EXPECT_GE(5, labs(json_integer_value(json_object_get(ent, "pslist")) - procs));
		EXPECT_GE(5, labs(json_integer_value(json_object_get(ent, "pidlist")) - tasks));
		EXPECT_EQ(json_integer_value(json_object_get(
				  json_object_get(json_object_get(eng, "imee"), "jobs_entries"),
				  "syscalldmp")),
			  json_integer_value(json_object_get(ent, "syscalldmp")));
	}
	EXPECT_LT(300, json_integer_value(json_object_get(
			       json_object_get(json_object_get(eng, "imee"), "jobs_entries"),
			       "syscalldmp")));
	EXPECT_NE(NULL, json_object_get(json_object_get(json_object_get(doc, "ratios"),
							"legacy/imee"),
					"jobs"));
	if (nr_vms > 1)
		EXPECT_EQ((json_int_t)nr_vms, json_integer_value(json_object_get(doc, "vms")));
	/* the kernel's own walks read what imee's did, and are in the ratios */
	kern = json_object_get(json_object_get(doc, "kernel"), "jobs_entries");
	EXPECT_GE(5, labs(json_integer_value(json_object_get(kern, "pslist")) - procs));
	EXPECT_GE(5, labs(json_integer_value(json_object_get(kern, "pidlist")) - tasks));
	EXPECT_EQ(json_integer_value(json_object_get(
			  json_object_get(json_object_get(eng, "imee"), "jobs_entries"),
			  "syscalldmp")),
		  json_integer_value(json_object_get(kern, "syscalldmp")));
	EXPECT_LT(0.0, json_real_value(json_object_get(
			       json_object_get(json_object_get(json_object_get(doc, "ratios"),
							       "imee/kernel"),
					       "jobs"),
			       "pslist")));
	json_decref(doc);

	/* the Markdown table: a row per job, a cell per engine and ratio, the kernel's */
	snprintf(cmd, sizeof(cmd), "imeectl bench --pid %d --rounds 3 --paper --kernel %s%s",
		 (int)lab_vmm_pid(target), ktimes, vms);
	ASSERT_EQ(0, lab_host(cmd, &out));
	for (i = 0; i < (nr_vms > 1 ? 6 : 4); i++) {
		static const char *const rows[] = { "| syscalldmp |", "| pidlist |", "| pslist |",
						    "| credlist |",   "| scan all VMs (", "| switch VM |" };
		const char *row = strstr(out ? out : "", rows[i]);
		int bars = 0;

		EXPECT_NE(NULL, row) TH_LOG("no row %s in: %.500s", rows[i], out ? out : "");
		for (; row && *row && *row != '\n'; row++)
			bars += *row == '|';
		EXPECT_EQ(9, bars);
	}
	TH_LOG("%s", out ? out : "");
	free(out);
	unlink(ktimes);
	free(ktimes);
}

TEST_HARNESS_MAIN
