// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl end to end, against the fake /dev/imee of fake_device.c (the
 * imeectl-fake binary next to this test): the JSON document of 'run' for
 * every job type and both engines, failures that leave the other jobs
 * alone, 5-level paging, many vCPUs, a target that dies (SIGBUS in the
 * view), attach errors, and 'info'.
 */
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fake_guest.h"
#include "subproc.h"
#include "tap.h"

#define KERNEL_PGD "0x10000" /* the fake's first page-table allocation */

static char fake[PATH_MAX];
static struct subproc_result res;
static json_t *doc;

/* Run 'imeectl-fake run -' on target (JSON members) and jobs; parse stdout. */
static json_t *run_target(const char *target, const char *jobs, const char *const *env)
{
	static const char *const args[] = { "run", "-", NULL };
	char text[16384];
	json_error_t jerr;

	snprintf(text, sizeof(text), "{\"target\": {%s}, \"jobs\": [%s]}", target, jobs);
	json_decref(doc);
	doc = NULL;
	subproc_run(fake, args, env, text, &res);
	if (res.status == 0)
		doc = json_loads(res.out, 0, &jerr);
	if (res.status != 0)
		printf("# imeectl exited with %d: %.*s\n", res.status, (int)strcspn(res.err, "\n"),
		       res.err);
	return doc;
}

static json_t *run_jobs(const char *jobs, const char *const *env)
{
	char target[64];

	snprintf(target, sizeof(target), "\"pid\": %d", FG_PID);
	return run_target(target, jobs, env);
}

static json_t *result(const char *id)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(doc, "results"), i, r) {
		const char *rid = json_string_value(json_object_get(r, "id"));

		if (rid && !strcmp(rid, id))
			return r;
	}
	printf("# no result \"%s\"\n", id);
	return NULL;
}

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static long long num(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static bool ok(json_t *r)
{
	if (json_is_true(json_object_get(r, "ok")))
		return true;
	printf("# %s failed: %s\n", str(r, "id"),
	       str(json_object_get(r, "error"), "message") ?: "(no message)");
	return false;
}

static const char *code(json_t *r)
{
	return str(json_object_get(r, "error"), "code");
}

static void banner_and_target(void)
{
	json_t *t, *b;

	REQUIRE(run_jobs("{\"id\": \"b\", \"type\": \"banner\"},"
			 "{\"id\": \"bl\", \"type\": \"banner\", \"engine\": \"legacy\"}",
			 NULL));
	t = json_object_get(doc, "target");
	EXPECT_INT(num(t, "pid"), FG_PID);
	EXPECT_STR(str(t, "paging"), "4-level");
	EXPECT_INT(num(t, "vcpus"), 2);
	EXPECT_INT(num(t, "memslots"), 2);
	EXPECT_INT(num(t, "ram"), 32 << 20);
	EXPECT_STR(str(t, "engine"), "software");
	b = result("b");
	REQUIRE(b && ok(b));
	EXPECT_STR(str(b, "value"), FG_BANNER);
	EXPECT_STR(str(b, "address"), "0xffffffff81200100");
	EXPECT_STR(str(b, "physical"), "0x2200100");
	EXPECT_STR(str(b, "engine"), "software");
	b = result("bl");
	REQUIRE(b && ok(b));
	EXPECT_STR(str(b, "value"), FG_BANNER);
	EXPECT_STR(str(b, "engine"), "legacy");
}

static void translations(void)
{
	json_t *r, *steps;

	REQUIRE(run_jobs(
		"{\"id\": \"t\", \"type\": \"translate\", \"address\": "
		"\"0xffffffff81001234\", \"verbose\": true},"
		"{\"id\": \"tl\", \"type\": \"translate\", \"engine\": \"legacy\","
		" \"address\": \"0xffffffff81001234\"},"
		"{\"id\": \"d\", \"type\": \"translate\", \"address\": \"0xffffffff82000800\"},"
		"{\"id\": \"u\", \"type\": \"translate\", \"address\": 4194304},"
		"{\"id\": \"c\", \"type\": \"translate\", \"address\": \"0xffffffff81001234\","
		" \"cr3\": \"0x11000\"}",
		NULL));
	r = result("t");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "physical"), "0x2001234");
	EXPECT_INT(num(r, "page_size"), 2 << 20);
	EXPECT_INT(num(r, "level"), 2);
	EXPECT(json_is_false(json_object_get(r, "writable")));
	EXPECT(json_is_false(json_object_get(r, "user")));
	EXPECT(json_is_false(json_object_get(r, "nx")));
	/* vCPU 0 runs user code under PTI: the kernel half of its pair is used. */
	EXPECT_STR(str(r, "cr3"), "0x11801");
	EXPECT_STR(str(r, "root"), KERNEL_PGD);
	steps = json_object_get(r, "steps");
	REQUIRE(json_array_size(steps) == 3);
	EXPECT_STR(str(json_array_get(steps, 0), "name"), "PML4E");
	EXPECT_STR(str(json_array_get(steps, 0), "table"), KERNEL_PGD);
	EXPECT_INT(num(json_array_get(steps, 0), "index"), 511);
	EXPECT_STR(str(json_array_get(steps, 2), "name"), "PDE");
	EXPECT_INT(num(json_array_get(steps, 2), "index"), 8);
	r = result("tl");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "physical"), "0x2001234");
	EXPECT(!json_object_get(r, "steps"));
	r = result("d");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "physical"), "0x300800");
	EXPECT(json_is_true(json_object_get(r, "writable")));
	EXPECT(json_is_true(json_object_get(r, "nx")));
	r = result("u");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "physical"), "0x500000");
	EXPECT(json_is_true(json_object_get(r, "user")));
	EXPECT_STR(str(r, "root"), "0x11000"); /* user addresses keep the user half */
	r = result("c");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "root"), KERNEL_PGD);
}

static void reads(void)
{
	json_t *r;

	REQUIRE(run_jobs(
		"{\"id\": \"p\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0xffffffff82000800\", \"length\": 8, \"format\": \"u64\"},"
		"{\"id\": \"pl\", \"type\": \"read\", \"space\": \"virtual\", \"engine\":"
		" \"legacy\", \"address\": \"0xffffffff82000800\", \"length\": 8,"
		" \"format\": \"u64\"},"
		"{\"id\": \"s\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0xffffffff81200100\", \"length\": 200, \"format\": \"string\"},"
		"{\"id\": \"h\", \"type\": \"read\", \"space\": \"physical\","
		" \"address\": \"0x2200100\", \"length\": 5},"
		"{\"id\": \"w\", \"type\": \"read\", \"space\": \"physical\", \"engine\": \"legacy\","
		" \"address\": \"0x2200100\", \"length\": 16, \"format\": \"u64\"},"
		"{\"id\": \"big\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0xffffffff81000000\", \"length\": 1048576}",
		NULL));
	r = result("p");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), "0x8000");
	r = result("pl");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), "0x8000");
	r = result("s");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), FG_BANNER "\n"); /* up to the NUL */
	r = result("h");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), "4c696e7578");
	r = result("w");
	REQUIRE(r && ok(r));
	EXPECT_INT(json_array_size(json_object_get(r, "value")), 2);
	EXPECT_STR(json_string_value(json_array_get(json_object_get(r, "value"), 0)),
		   "0x65762078756e694c");
	r = result("big");
	REQUIRE(r && ok(r));
	EXPECT_INT(strlen(str(r, "value")), 2 << 20);
}

static void failures_leave_others_alone(void)
{
	json_t *r, *e;

	REQUIRE(run_jobs(
		"{\"id\": \"nc\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0x0000800000000000\", \"length\": 8},"
		"{\"id\": \"nm\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0xffffffff90000000\", \"length\": 8},"
		"{\"id\": \"hole\", \"type\": \"read\", \"space\": \"physical\","
		" \"address\": \"0x1000000\", \"length\": 8},"
		"{\"id\": \"holel\", \"type\": \"read\", \"space\": \"physical\","
		" \"engine\": \"legacy\", \"address\": \"0x1000000\", \"length\": 8},"
		"{\"id\": \"far\", \"type\": \"read\", \"space\": \"physical\","
		" \"address\": \"0xfffffffffff000\", \"length\": 8},"
		"{\"id\": \"tv\", \"type\": \"translate\", \"address\": \"0xffffffff90000000\","
		" \"verbose\": true},"
		"{\"id\": \"b\", \"type\": \"banner\"}",
		NULL));
	r = result("nc");
	REQUIRE(r);
	EXPECT(json_is_false(json_object_get(r, "ok")));
	EXPECT_STR(code(r), "non-canonical");
	r = result("nm");
	REQUIRE(r);
	EXPECT_STR(code(r), "not-mapped");
	e = json_object_get(r, "error");
	EXPECT_INT(num(e, "level"), 2); /* the PDE of 0xffffffff90000000 is empty */
	EXPECT_STR(str(e, "address"), "0xffffffff90000000");
	EXPECT_HAS(str(e, "message"), "PDE");
	EXPECT_STR(code(result("hole")), "out-of-ram");
	EXPECT_STR(code(result("holel")), "out-of-ram");
	EXPECT_STR(code(result("far")), "out-of-ram");
	r = result("tv");
	REQUIRE(r);
	EXPECT_STR(code(r), "not-mapped");
	EXPECT_INT(json_array_size(json_object_get(r, "steps")), 3); /* where it stopped */
	r = result("b");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), FG_BANNER);
}

static void five_level(void)
{
	static const char *const env[] = { "IMEE_FAKE_LA57=1", NULL };
	json_t *r;

	REQUIRE(run_jobs("{\"id\": \"b\", \"type\": \"banner\"},"
			 "{\"id\": \"t\", \"type\": \"translate\", \"engine\": \"legacy\","
			 " \"address\": \"0xffffffff81001234\", \"verbose\": true}",
			 env));
	EXPECT_STR(str(json_object_get(doc, "target"), "paging"), "5-level");
	r = result("b");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "value"), FG_BANNER);
	r = result("t");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "physical"), "0x2001234");
	EXPECT_INT(json_array_size(json_object_get(r, "steps")), 4);
	EXPECT_STR(str(json_array_get(json_object_get(r, "steps"), 0), "name"), "PML5E");
}

static void many_vcpus_and_vcpu_choice(void)
{
	static const char *const env[] = { "IMEE_FAKE_VCPUS=40", NULL };
	char target[64];
	json_t *t, *r;

	/* More vCPUs than the first info call has room for: grown and retried. */
	snprintf(target, sizeof(target), "\"pid\": %d, \"vcpu\": 39", FG_PID);
	REQUIRE(run_target(target,
			   "{\"id\": \"t\", \"type\": \"translate\", \"address\": "
			   "\"0xffffffff81001234\"}",
			   env));
	t = json_object_get(doc, "target");
	EXPECT_INT(num(t, "vcpus"), 40);
	EXPECT_INT(num(t, "vcpu"), 39);
	EXPECT_STR(str(t, "cr3"), KERNEL_PGD); /* vCPU 39 runs the kernel */
	r = result("t");
	REQUIRE(r && ok(r));

	snprintf(target, sizeof(target), "\"pid\": %d, \"vcpu\": 99", FG_PID);
	EXPECT(!run_target(target, "", env));
	EXPECT_INT(res.status, 1);
	EXPECT_HAS(res.err, "no vCPU 99");
}

static void target_dies(void)
{
	static const char *const env[] = { "IMEE_FAKE_DIE=1", NULL };
	json_t *r;

	/* The view faults (SIGBUS): caught, and the session says the target is gone. */
	REQUIRE(run_jobs("{\"id\": \"b\", \"type\": \"banner\"},"
			 "{\"id\": \"p\", \"type\": \"read\", \"space\": \"physical\","
			 " \"address\": \"0x2200100\", \"length\": 8},"
			 "{\"id\": \"l\", \"type\": \"read\", \"space\": \"physical\","
			 " \"engine\": \"legacy\", \"address\": \"0x2200100\", \"length\": 8}",
			 env));
	r = result("b");
	REQUIRE(r);
	EXPECT_STR(code(r), "target-gone");
	EXPECT_STR(code(result("p")), "target-gone");
	EXPECT_STR(code(result("l")), "target-gone");
}

static void attach_errors(void)
{
	static const char *const nodev[] = { "IMEE_FAKE_NODEV=1", NULL };
	char target[64];

	EXPECT(!run_jobs("", nodev));
	EXPECT_INT(res.status, 1);
	EXPECT_STR(res.out, "");
	EXPECT_HAS(res.err, "imee.ko");
	EXPECT(!run_target("\"pid\": 1", "", NULL));
	EXPECT_INT(res.status, 1);
	EXPECT_HAS(res.err, "no process 1");
	snprintf(target, sizeof(target), "\"pid\": %d, \"vm_fd\": 8", FG_PID);
	EXPECT(!run_target(target, "", NULL));
	EXPECT_HAS(res.err, "fd 8 is not open in process");
	snprintf(target, sizeof(target), "\"pid\": %d, \"vm_fd\": %d", FG_PID, FG_VM_FD);
	REQUIRE(run_target(target, "", NULL));
	EXPECT_INT(num(json_object_get(doc, "target"), "vm_fd"), FG_VM_FD);
}

static void info_command(void)
{
	static const char *const text_args[] = { "info", "--pid", "4242", NULL };
	static const char *const json_args[] = { "info", "--pid", "4242", "--json", NULL };
	json_t *info, *slots, *vcpus;
	json_error_t jerr;

	EXPECT_INT(subproc_run(fake, text_args, NULL, NULL, &res), 0);
	EXPECT_HAS(res.out, "0x0000000000000000-0x0000000000ffffff");
	EXPECT_HAS(res.out, "0x0000000002000000-0x0000000002ffffff");
	EXPECT_HAS(res.out, "4-level");
	EXPECT_HAS(res.out, "cr3-current");
	EXPECT_INT(subproc_run(fake, json_args, NULL, NULL, &res), 0);
	info = json_loads(res.out, 0, &jerr);
	REQUIRE(info);
	slots = json_object_get(info, "memslots");
	vcpus = json_object_get(info, "vcpus");
	EXPECT_INT(json_array_size(slots), 2);
	EXPECT_STR(str(json_array_get(slots, 0), "gpa"), "0x0"); /* sorted */
	EXPECT_INT(num(json_array_get(slots, 1), "size"), 16 << 20);
	EXPECT_INT(json_array_size(vcpus), 2);
	EXPECT_STR(str(json_array_get(vcpus, 1), "paging"), "4-level");
	EXPECT_STR(json_string_value(
			   json_array_get(json_object_get(json_array_get(vcpus, 0), "flags"), 0)),
		   "cr3-current");
	EXPECT(json_is_false(json_object_get(info, "target_dead")));
	json_decref(info);
}

static void check_ksym(json_t *value, const char *name, uint64_t address, const char *type)
{
	json_t *sym = json_object_get(value, name);
	char want[24];

	snprintf(want, sizeof(want), "0x%" PRIx64, address);
	if (!EXPECT(json_is_object(sym))) {
		printf("# %s\n", name);
		return;
	}
	EXPECT_STR(str(sym, "address"), want);
	EXPECT_STR(str(sym, "type"), type);
}

static void symbols(void)
{
	static const char *const args[] = { "symbols", "--pid",	  "4242",   "--engine",
					    "legacy",  "pid_max", "nosuch", NULL };
	static const char *const no_pid[] = { "symbols", "linux_banner", NULL };
	json_t *r, *v;
	json_error_t jerr;

	REQUIRE(run_jobs("{\"id\": \"s\", \"type\": \"symbols\", \"names\": [\"_text\","
			 " \"linux_banner\", \"func_007\", \"fixed_percpu_data\", \"nosuch\"]},"
			 "{\"id\": \"c\", \"type\": \"symbols\", \"engine\": \"legacy\"}",
			 NULL));
	r = result("s");
	REQUIRE(r && ok(r));
	EXPECT_INT(num(r, "count"), FG_NR_KSYMS);
	v = json_object_get(r, "value");
	check_ksym(v, "_text", FG_TEXT_VA, "T");
	check_ksym(v, "linux_banner", FG_BANNER_VA, "D");
	check_ksym(v, "func_007", FG_FUNC_VA(7), "t");
	check_ksym(v, "fixed_percpu_data", 0, "A");
	EXPECT(json_is_null(json_object_get(v, "nosuch")));
	EXPECT(json_object_get(v, "nosuch") != NULL);
	EXPECT(json_is_true(json_object_get(json_object_get(r, "kallsyms"), "seqs_of_names")));
	r = result("c");
	REQUIRE(r && ok(r));
	v = json_object_get(r, "value");
	EXPECT_INT(num(v, "count"), FG_NR_KSYMS);
	EXPECT_STR(str(v, "base"), "0xffffffff81000000");
	EXPECT_STR(str(v, "kaslr_slide"), "0x0");

	/* The command: the same document, for one job with id "symbols". */
	json_decref(doc);
	doc = NULL;
	subproc_run(fake, args, NULL, NULL, &res);
	REQUIRE(res.status == 0);
	doc = json_loads(res.out, 0, &jerr);
	REQUIRE(doc);
	r = result("symbols");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(r, "engine"), "legacy");
	v = json_object_get(r, "value");
	check_ksym(v, "pid_max", FG_PIDMAX_VA, "d");
	EXPECT(json_is_null(json_object_get(v, "nosuch")));
	subproc_run(fake, no_pid, NULL, NULL, &res);
	EXPECT_INT(res.status, 2);
	EXPECT_HAS(res.err, "--pid");
}

static void check_sct_entry(json_t *e, unsigned int nr, uint64_t handler, const char *symbol,
			    const char *reason)
{
	char want[24];

	snprintf(want, sizeof(want), "0x%" PRIx64, handler);
	EXPECT_INT(num(e, "nr"), nr);
	EXPECT_STR(str(e, "handler"), want);
	if (symbol) {
		EXPECT_STR(str(e, "symbol"), symbol);
		EXPECT_INT(num(e, "offset"), 0);
	} else {
		EXPECT(json_is_null(json_object_get(e, "symbol")));
	}
	EXPECT(json_is_boolean(json_object_get(e, "flagged")));
	EXPECT(json_is_true(json_object_get(e, "flagged")) == (reason != NULL));
	if (reason)
		EXPECT_STR(str(e, "reason"), reason);
	else
		EXPECT(!json_object_get(e, "reason"));
}

/* syscalldmp from kallsyms alone (this guest has no BTF); modules needs more. */
static void syscalldmp_and_modules(void)
{
	const char *engines[] = { "s", "l" };
	json_t *r, *v, *t, *entries;
	unsigned int i;

	REQUIRE(run_jobs("{\"id\": \"s\", \"type\": \"syscalldmp\"},"
			 "{\"id\": \"l\", \"type\": \"syscalldmp\", \"engine\": \"legacy\"},"
			 "{\"id\": \"x\", \"type\": \"syscalldmp\", \"max\": 2},"
			 "{\"id\": \"m\", \"type\": \"modules\"},"
			 "{\"id\": \"b\", \"type\": \"banner\"}",
			 NULL));
	for (i = 0; i < 2; i++) {
		r = result(engines[i]);
		REQUIRE(r);
		EXPECT(ok(r));
		EXPECT(json_is_true(json_object_get(r, "complete")));
		EXPECT_INT(num(r, "count"), FG_NR_SYSCALLS);
		EXPECT_INT(num(r, "flagged"), 2);
		EXPECT_STR(str(json_object_get(r, "kernel"), "text"), "0xffffffff81000000");
		v = json_object_get(r, "value");
		EXPECT(json_is_null(json_object_get(v, "ia32_sys_call_table")));
		EXPECT(json_object_get(v, "ia32_sys_call_table") != NULL);
		t = json_object_get(v, "sys_call_table");
		REQUIRE(json_is_object(t));
		EXPECT_STR(str(t, "address"), "0xffffffff82000900");
		EXPECT_INT(num(t, "size"), FG_NR_SYSCALLS);
		EXPECT_STR(str(t, "size_from"), "kallsyms");
		EXPECT(json_is_true(json_object_get(t, "used_for_dispatch")));
		EXPECT_INT(num(t, "flagged"), 2);
		entries = json_object_get(t, "entries");
		REQUIRE(json_array_size(entries) == FG_NR_SYSCALLS);
		check_sct_entry(json_array_get(entries, 0), 0, FG_SYS_READ_VA, "__x64_sys_read",
				NULL);
		check_sct_entry(json_array_get(entries, 1), 1, FG_FUNC_VA(3), "func_003",
				"not-a-handler");
		check_sct_entry(json_array_get(entries, 2), 2, FG_SCT_HOOK, NULL, "outside-text");
		check_sct_entry(json_array_get(entries, 3), 3, FG_SYS_NI_VA, "__x64_sys_ni_syscall",
				NULL);
	}
	/* The bound: what was read, and the error. */
	r = result("x");
	REQUIRE(r);
	EXPECT(!ok(r));
	EXPECT(json_is_false(json_object_get(r, "complete")));
	EXPECT_STR(str(json_object_get(r, "error"), "code"), "too-many");
	EXPECT_INT(
		json_array_size(json_object_get(
			json_object_get(json_object_get(r, "value"), "sys_call_table"), "entries")),
		2);
	/* A kernel too bare for the Linux jobs: modules names what is missing; the others ran. */
	r = result("m");
	REQUIRE(r);
	EXPECT(!ok(r));
	EXPECT_STR(str(json_object_get(r, "error"), "code"), "not-found");
	EXPECT_HAS(str(json_object_get(r, "error"), "message"), "init_task");
	r = result("b");
	REQUIRE(r);
	EXPECT(ok(r));
}

/* Run a whole job file with the overrides given (NULL: none), on the fake's pid. */
static json_t *run_overrides(const char *system_map, const char *btf, const char *jobs)
{
	static const char *const args[] = { "run", "-", NULL };
	char text[8192], sm[600] = "", bt[600] = "";
	json_error_t jerr;

	if (system_map)
		snprintf(sm, sizeof(sm), "\"system_map\": \"%s\", ", system_map);
	if (btf)
		snprintf(bt, sizeof(bt), "\"btf\": \"%s\", ", btf);
	snprintf(text, sizeof(text), "{\"target\": {\"pid\": %d}, %s%s\"jobs\": [%s]}", FG_PID, sm,
		 bt, jobs);
	json_decref(doc);
	doc = NULL;
	subproc_run(fake, args, NULL, text, &res);
	if (res.status == 0)
		doc = json_loads(res.out, 0, &jerr);
	else
		printf("# imeectl exited with %d: %.*s\n", res.status, (int)strcspn(res.err, "\n"),
		       res.err);
	return doc;
}

/* A System.map line for the symbol at va in the guest, linked at link_text. */
static void map_sym(FILE *f, uint64_t link_text, uint64_t va, char type, const char *name)
{
	fprintf(f, "%016" PRIx64 " %c %s\n", va - (uint64_t)FG_TEXT_VA + link_text, type, name);
}

/* The fake kernel's System.map, linked 4 MiB below where it runs (plus skew). */
static void write_system_map(char *path, size_t size, uint64_t skew)
{
	const uint64_t link = (uint64_t)FG_TEXT_VA - 0x400000 + skew;
	FILE *f;
	int fd;

	snprintf(path, size, "/tmp/imee-test-System.map-XXXXXX");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		abort();
	fprintf(f, "0000000000000000 A fixed_percpu_data\n");
	map_sym(f, link, FG_TEXT_VA, 'T', "_text");
	map_sym(f, link, FG_TEXT_VA, 'T', "_stext");
	map_sym(f, link, FG_FUNC_VA(3), 't', "func_003");
	map_sym(f, link, FG_SYS_READ_VA, 'T', "__x64_sys_read");
	map_sym(f, link, FG_SYS_NI_VA, 'T', "__x64_sys_ni_syscall");
	map_sym(f, link, FG_ETEXT_VA, 'T', "_etext");
	map_sym(f, link, FG_BANNER_VA, 'D', "linux_banner");
	map_sym(f, link, FG_DATA_VA, 'D', "init_task");
	map_sym(f, link, FG_DATA_VA + 0x100, 'D', "init_pid_ns");
	map_sym(f, link, FG_PIDMAX_VA, 'd', "pid_max");
	map_sym(f, link, FG_SCT_VA, 'D', "sys_call_table");
	map_sym(f, link, FG_SCT_VA + 8 * FG_NR_SYSCALLS + 8, 'D', "vdso_image_64");
	map_sym(f, link, FG_DATA_VA + 0x1000, 'B', "_end");
	if (fclose(f))
		abort();
}

/*
 * "system_map": the symbols job and syscalldmp read the file's symbols,
 * slid to the guest (4 MiB), as kallsyms gives them from memory; this
 * guest has no BTF, which the Linux jobs name with the way out. A map of
 * another kernel is a "mismatch"; a missing one is named; neither stops
 * the other jobs.
 */
static void overrides(void)
{
	char map[64], skewed[64];
	json_t *r, *v, *t, *entries;

	write_system_map(map, sizeof(map), 0);
	write_system_map(skewed, sizeof(skewed), 0x3000);
	REQUIRE(run_overrides(map, NULL,
			      "{\"id\": \"s\", \"type\": \"symbols\", \"names\": [\"_text\", "
			      "\"pid_max\", \"fixed_percpu_data\", \"func_007\"]},"
			      "{\"id\": \"c\", \"type\": \"symbols\"},"
			      "{\"id\": \"sc\", \"type\": \"syscalldmp\"},"
			      "{\"id\": \"p\", \"type\": \"pslist\"}"));
	r = result("s");
	REQUIRE(r && ok(r));
	v = json_object_get(r, "value");
	check_ksym(v, "_text", FG_TEXT_VA, "T");
	check_ksym(v, "pid_max", FG_PIDMAX_VA, "d");
	check_ksym(v, "fixed_percpu_data", 0, "A");
	EXPECT(json_is_null(json_object_get(v, "func_007"))); /* not in this map */
	EXPECT_STR(str(json_object_get(r, "kallsyms"), "system_map"), map);
	EXPECT_STR(str(json_object_get(r, "kallsyms"), "kaslr_slide"), "0x400000");
	r = result("c");
	REQUIRE(r && ok(r));
	EXPECT_STR(str(json_object_get(r, "value"), "base"), "0xffffffff81000000");
	EXPECT_INT(num(json_object_get(r, "value"), "count"), 14);
	r = result("sc");
	REQUIRE(r && ok(r));
	EXPECT_INT(num(r, "flagged"), 2);
	t = json_object_get(json_object_get(r, "value"), "sys_call_table");
	EXPECT_STR(str(t, "address"), "0xffffffff82000900");
	entries = json_object_get(t, "entries");
	REQUIRE(json_array_size(entries) == FG_NR_SYSCALLS);
	check_sct_entry(json_array_get(entries, 0), 0, FG_SYS_READ_VA, "__x64_sys_read", NULL);
	check_sct_entry(json_array_get(entries, 1), 1, FG_FUNC_VA(3), "func_003", "not-a-handler");
	check_sct_entry(json_array_get(entries, 2), 2, FG_SCT_HOOK, NULL, "outside-text");
	check_sct_entry(json_array_get(entries, 3), 3, FG_SYS_NI_VA, "__x64_sys_ni_syscall", NULL);
	r = result("p");
	REQUIRE(r);
	EXPECT(!json_is_true(json_object_get(r, "ok")));
	EXPECT_STR(code(r), "not-found");
	EXPECT_HAS(str(json_object_get(r, "error"), "message"),
		   "the guest kernel's BTF was not found in memory");
	EXPECT_HAS(str(json_object_get(r, "error"), "message"), "give a BTF file as \"btf\"");

	/* Another kernel's map; a missing file (with the BTF file missing too). */
	REQUIRE(run_overrides(skewed, NULL,
			      "{\"id\": \"s\", \"type\": \"symbols\"},"
			      "{\"id\": \"p\", \"type\": \"pslist\"},"
			      "{\"id\": \"b\", \"type\": \"banner\"}"));
	EXPECT_STR(code(result("s")), "mismatch");
	EXPECT_HAS(str(json_object_get(result("s"), "error"), "message"),
		   "the System.map does not match the guest's kernel");
	EXPECT_STR(code(result("p")), "mismatch");
	EXPECT(ok(result("b")));
	REQUIRE(run_overrides("/nonexistent/System.map", "/nonexistent/btf",
			      "{\"id\": \"sc\", \"type\": \"syscalldmp\"},"
			      "{\"id\": \"p\", \"type\": \"pslist\"}"));
	EXPECT_STR(code(result("sc")), "not-found");
	EXPECT_HAS(str(json_object_get(result("sc"), "error"), "message"),
		   "System.map /nonexistent/System.map: No such file");
	EXPECT_HAS(str(json_object_get(result("p"), "error"), "message"), "/nonexistent/");
	EXPECT_INT(res.status, 0);

	/* The symbols command takes it too. */
	{
		const char *args[] = { "symbols", "--pid", "4242", "--system-map",
				       map,	  "_text", NULL };
		json_error_t jerr;

		json_decref(doc);
		subproc_run(fake, args, NULL, NULL, &res);
		REQUIRE(res.status == 0);
		doc = json_loads(res.out, 0, &jerr);
		REQUIRE(doc);
		r = result("symbols");
		REQUIRE(r && ok(r));
		check_ksym(json_object_get(r, "value"), "_text", FG_TEXT_VA, "T");
		EXPECT_STR(str(json_object_get(r, "kallsyms"), "system_map"), map);
	}
	unlink(map);
	unlink(skewed);
}

/* --repeat: one line per round over one attach; --changes: the first in full, then changes. */
static void repeat_rounds(void)
{
	static const char text[] = "{\"target\": {\"pid\": 4242}, \"jobs\": ["
				   "{\"id\": \"b\", \"type\": \"banner\"},"
				   "{\"id\": \"p\", \"type\": \"pslist\"}]}";
	static const char *const args[] = {
		"run", "--repeat", "3", "--interval-ms", "1", "-", NULL
	};
	static const char *const changes[] = { "run", "--repeat", "4", "--changes", "-", NULL };
	char *line, *save = NULL;
	unsigned int n = 0;

	subproc_run(fake, args, NULL, text, &res);
	REQUIRE(res.status == 0);
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *d = json_loads(line, 0, NULL), *b;

		REQUIRE(d);
		n++;
		EXPECT_INT(num(d, "round"), n);
		b = json_array_get(json_object_get(d, "results"), 0);
		EXPECT_STR(str(b, "value"), FG_BANNER);
		json_decref(d);
	}
	EXPECT_INT(n, 3);
	/*
	 * This guest has no task list: pslist fails alike every round, so only
	 * the first round and the end are printed.
	 */
	subproc_run(fake, changes, NULL, text, &res);
	REQUIRE(res.status == 0);
	save = NULL;
	n = 0;
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *d = json_loads(line, 0, NULL);

		REQUIRE(d);
		if (!n++)
			EXPECT_INT(num(d, "round"), 1);
		else
			EXPECT(json_is_true(json_object_get(d, "done")) && num(d, "rounds") == 4);
		json_decref(d);
	}
	EXPECT_INT(n, 2);
}

/* watch: the first round in full, then changes only, then why it stopped. */
static void watch_rounds(void)
{
	static const char text[] = "{\"target\": {\"pid\": 4242}, \"jobs\": ["
				   "{\"id\": \"p\", \"type\": \"pslist\"},"
				   "{\"id\": \"s\", \"type\": \"syscalldmp\"}]}";
	static const char banner[] = "{\"target\": {\"pid\": 4242}, \"jobs\": ["
				     "{\"id\": \"b\", \"type\": \"banner\"}]}";
	static const char *const args[] = { "watch", "--rounds", "3", "--interval-us",
					    "10",    "-",	 NULL };
	static const char *const zero[] = { "watch", "--rounds", "0", "-", NULL };
	static const char *const plain[] = { "watch", "-", NULL };
	char *line, *save = NULL;
	unsigned int n = 0;

	subproc_run(fake, args, NULL, text, &res);
	REQUIRE(res.status == 0);
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *d = json_loads(line, 0, NULL);

		REQUIRE(d);
		if (!n++) {
			EXPECT_INT(num(d, "round"), 1);
			EXPECT(str(d, "time") && strlen(str(d, "time")) == 27);
			EXPECT_INT(json_array_size(json_object_get(d, "results")), 2);
		} else {
			/* the jobs fail alike every round: nothing changes */
			EXPECT(json_is_true(json_object_get(d, "done")));
			EXPECT_STR(str(d, "reason"), "rounds");
			EXPECT_INT(num(d, "rounds"), 3);
			EXPECT(json_is_real(json_object_get(d, "rounds_per_second")));
		}
		json_decref(d);
	}
	EXPECT_INT(n, 2);
	subproc_run(fake, plain, NULL, banner, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "watch runs pslist"));
	subproc_run(fake, zero, NULL, text, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "--rounds must be"));
}

/* bench's arguments: refused with a reason before anything is attached. */
static void bench_arguments(void)
{
	static const char good[] = "{\"rounds\": 5, \"jobs_ns\": {\"syscalldmp\": 9, "
				   "\"pidlist\": 8, \"pslist\": 7, \"credlist\": 6}, "
				   "\"jobs_entries\": {\"syscalldmp\": 451, \"pidlist\": 80, "
				   "\"pslist\": 60, \"credlist\": 60}}";
	static const char *const no_paper[] = { "bench",    "--pid",	  "4242",
						"--kernel", "/dev/stdin", NULL };
	static const char *const kernel[] = { "bench",	  "--pid",	"4242", "--paper",
					      "--kernel", "/dev/stdin", NULL };
	static const char *const chase_only[] = { "bench",   "--pid",  "4242",
						  "--chase", "0x1000", NULL };
	static const char *const bad_va[] = { "bench", "--pid",	  "4242",   "--read",
					      "-1",    "--chase", "0x2000", NULL };
	static const char *const paper[] = { "bench",	"--pid",  "4242",    "--read", "0x1000",
					     "--chase", "0x2000", "--paper", NULL };

	subproc_run(fake, no_paper, NULL, good, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "--kernel and --vm go with --paper"));
	/* one job missing, one time not positive, not JSON */
	subproc_run(fake, kernel, NULL,
		    "{\"rounds\": 5, \"jobs_ns\": {\"syscalldmp\": 9, \"pidlist\": 8, "
		    "\"pslist\": 7}, \"jobs_entries\": {}}",
		    &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "with the four jobs"));
	subproc_run(fake, kernel, NULL,
		    "{\"rounds\": 5, \"jobs_ns\": {\"syscalldmp\": 9, \"pidlist\": 8, "
		    "\"pslist\": 7, \"credlist\": 0}, \"jobs_entries\": {\"syscalldmp\": 1, "
		    "\"pidlist\": 1, \"pslist\": 1, \"credlist\": 1}}",
		    &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "credlist: a positive number"));
	subproc_run(fake, kernel, NULL, "{\"rounds\": ", &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "--kernel /dev/stdin: line 1"));
	subproc_run(fake, chase_only, NULL, NULL, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "--read and --chase go together"));
	subproc_run(fake, bad_va, NULL, NULL, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "--read: not an address: -1"));
	subproc_run(fake, paper, NULL, NULL, &res);
	EXPECT_INT(res.status, 2);
	EXPECT(strstr(res.err, "without --paper"));
}

/* walk and hidden need the kernel's symbols and BTF: this guest has neither. */
static void walk_and_hidden_name_what_is_missing(void)
{
	json_t *r;

	REQUIRE(run_jobs("{\"id\": \"h\", \"type\": \"hidden\"},"
			 "{\"id\": \"w\", \"type\": \"walk\", \"struct\": \"task_struct\","
			 " \"list\": \"tasks\", \"head\": \"init_task\", \"head_is\": \"entry\","
			 " \"fields\": [\"pid\"]}",
			 NULL));
	r = result("h");
	REQUIRE(r);
	EXPECT(!json_is_true(json_object_get(r, "ok")));
	EXPECT_STR(code(r), "not-found");
	r = result("w");
	REQUIRE(r);
	EXPECT(!json_is_true(json_object_get(r, "ok")));
	EXPECT_STR(code(r), "not-found");
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(fake, sizeof(fake), "%s/imeectl-fake", dirname(self));
	tap_run(banner_and_target, "run: banner (both engines) and the target object");
	tap_run(translations, "run: translate, verbose steps, PTI root, cr3 override");
	tap_run(reads, "run: virtual and physical reads in every format, 1 MiB");
	tap_run(failures_leave_others_alone, "run: failed jobs give error codes, others run");
	tap_run(five_level, "run: 5-level paging");
	tap_run(many_vcpus_and_vcpu_choice, "run: 40 vCPUs (info grown), target.vcpu");
	tap_run(target_dies, "run: a dead target's view faults: target-gone");
	tap_run(attach_errors, "run: attach errors exit 1 with a reason");
	tap_run(info_command, "info: text and JSON");
	tap_run(symbols, "run: symbols by name and count (both engines); the symbols command");
	tap_run(syscalldmp_and_modules, "run: syscalldmp (both engines, max); modules without BTF");
	tap_run(overrides, "run: system_map for symbols and syscalldmp; mismatch, missing, no BTF");
	tap_run(repeat_rounds, "run --repeat: a line per round; --changes: only changes");
	tap_run(watch_rounds, "watch: the first round, changes, the end; list jobs only");
	tap_run(bench_arguments, "bench: --kernel, --read and --chase refused with reasons");
	tap_run(walk_and_hidden_name_what_is_missing,
		"run: walk and hidden without BTF: not-found");
	json_decref(doc);
	return tap_done();
}
