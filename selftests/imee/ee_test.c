// SPDX-License-Identifier: GPL-2.0
/*
 * The ImEE: a module-owned vCPU that runs agent programs in the target's
 * address space. Checked against the guests themselves (/proc/version,
 * /proc/kallsyms, values the guest changes), against the software engine
 * (the same jobs give the same results), and for what must never happen:
 * a change to the target's memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lab.h"
#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#define INSN(o, d, s, sz, of, im)                                                  \
	((struct imee_insn){ .op = (o), .regs = IMEE_INSN_REGS(d, s), .size = (sz), \
			     .off = (of), .imm = (im) })

static int ee_create(int sfd, struct imee_create *cr)
{
	memset(cr, 0, sizeof(*cr));
	cr->size = sizeof(*cr);
	return ioctl(sfd, IMEE_CREATE, cr);
}

static int ee_load(int efd, const struct imee_insn *insns, uint32_t nr, uint32_t *bad)
{
	struct imee_load ld = { .size = sizeof(ld), .nr_insns = nr, .insns = (uintptr_t)insns };
	int ret = ioctl(efd, IMEE_LOAD, &ld);

	if (bad)
		*bad = ld.bad_insn;
	return ret ? -errno : 0;
}

/* Run on vCPU 0's current page tables (the kernel half under PTI). */
static int ee_run(int efd, const uint64_t *args, uint64_t max_steps, struct imee_run *run)
{
	memset(run, 0, sizeof(*run));
	run->size = sizeof(*run);
	run->flags = IMEE_RUN_F_VCPU_CR3 | IMEE_RUN_F_PTI_KERNEL;
	if (args)
		memcpy(run->args, args, sizeof(run->args));
	run->max_steps = max_steps;
	return ioctl(efd, IMEE_RUN, run) ? -errno : 0;
}

static json_t *run_jobs(struct __test_metadata *_metadata, const char *target,
			const char *engine, const char *jobs)
{
	char *text = NULL;
	json_t *doc = NULL;
	int rc;

	ASSERT_LE(0, asprintf(&text, "{\"target\": {\"pid\": %d}, \"engine\": \"%s\", "
				     "\"jobs\": [%s]}",
			      lab_vmm_pid(target), engine, jobs));
	rc = lab_imeectl_run(text, &doc);
	free(text);
	if (rc || !doc) {
		TH_LOG("imeectl run (%s) failed on %s: status %d", engine, target, rc);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

TEST(create_reports_the_hardware_and_is_one_per_session)
{
	const char *target = lab_target("LA57");
	struct imee_create cr, cr2;
	int sfd, efd, efd2;

	ASSERT_NE(NULL, target);
	sfd = lab_attach_target(target);
	ASSERT_LE(0, sfd);
	efd = ee_create(sfd, &cr);
	ASSERT_LE(0, efd);
	EXPECT_EQ(IMEE_HW_SVM_NPT, cr.hw);
	/* AMD: one nested page table, readable code, KVM's ASIDs */
	EXPECT_EQ(0, cr.hw_flags);
	EXPECT_LT(0, cr.launch_ns);
	EXPECT_EQ(-1, ee_create(sfd, &cr2));
	EXPECT_EQ(EBUSY, errno);
	close(efd);
	efd2 = ee_create(sfd, &cr2);
	EXPECT_LE(0, efd2);
	close(efd2);

	/* bad arguments */
	memset(&cr, 0, sizeof(cr));
	cr.size = sizeof(cr);
	cr.out_size = 1000;
	EXPECT_EQ(-1, ioctl(sfd, IMEE_CREATE, &cr));
	EXPECT_EQ(EINVAL, errno);
	cr.out_size = 0;
	cr.flags = 1;
	EXPECT_EQ(-1, ioctl(sfd, IMEE_CREATE, &cr));
	EXPECT_EQ(EINVAL, errno);
	cr.flags = 0;
	cr.hw_flags = IMEE_HW_F_VIEWS;	/* an output */
	EXPECT_EQ(-1, ioctl(sfd, IMEE_CREATE, &cr));
	EXPECT_EQ(EINVAL, errno);
	cr.hw_flags = 0;
	cr.reserved32 = 1;
	EXPECT_EQ(-1, ioctl(sfd, IMEE_CREATE, &cr));
	EXPECT_EQ(EINVAL, errno);
	close(sfd);
}

/* Set one of imee.ko's parameters (in /sys/module/imee/parameters/). */
static int set_imee_param(const char *name, unsigned int value)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/imee/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%u\n", value) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/* max_run_ms: the longest activation. */
static int set_max_run_ms(unsigned int ms)
{
	return set_imee_param("max_run_ms", ms);
}

TEST(programs_are_checked_and_bounded)
{
	const char *target = lab_target("LA57");
	struct imee_insn prog[4];
	uint64_t args[8] = { 40, 2 };
	struct imee_create cr;
	struct imee_run run;
	const uint64_t *out;
	uint32_t bad = 0;
	int sfd, efd;

	ASSERT_NE(NULL, target);
	sfd = lab_attach_target(target);
	ASSERT_LE(0, sfd);
	efd = ee_create(sfd, &cr);
	ASSERT_LE(0, efd);
	out = mmap(NULL, 4096, PROT_READ, MAP_SHARED, efd, 0);
	ASSERT_NE(MAP_FAILED, out);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0));

	/* nothing loaded yet */
	EXPECT_EQ(-ENOENT, ee_run(efd, args, 0, &run));

	/* an unknown opcode at 1, a jump out of the program at 2 */
	prog[0] = INSN(IMEE_OP_MOVK, 0, 0, 0, 0, 1);
	prog[1] = INSN(0x7f, 0, 0, 0, 0, 0);
	prog[2] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	EXPECT_EQ(-EINVAL, ee_load(efd, prog, 3, &bad));
	EXPECT_EQ(1, bad);
	prog[1] = INSN(IMEE_OP_JA, 0, 0, 0, 5, 0);
	EXPECT_EQ(-EINVAL, ee_load(efd, prog, 3, &bad));
	EXPECT_EQ(1, bad);
	EXPECT_EQ(-EINVAL, ee_load(efd, prog, 0, &bad));

	/* r0 + r1, emitted */
	prog[0] = INSN(IMEE_OP_ADD, 0, 1, 0, 0, 0);
	prog[1] = INSN(IMEE_OP_EMIT, 0, 0, 8, 0, 0);
	prog[2] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	ASSERT_EQ(0, ee_load(efd, prog, 3, NULL));
	ASSERT_EQ(0, ee_run(efd, args, 0, &run));
	EXPECT_EQ(IMEE_STATUS_OK, run.status);
	EXPECT_EQ(8, run.out_len);
	EXPECT_EQ(42, out[0]);
	EXPECT_EQ(42, run.regs[0]);
	EXPECT_EQ(3, run.steps);
	EXPECT_LT(0, run.exits);
	EXPECT_NE(0, run.cr3_used);
	/* what it holds: more than its 1 MiB output (256 pages); pins: at least the top table */
	EXPECT_LT(256, run.mem_pages);
	EXPECT_LE(1, run.pinned);
	EXPECT_GT(512 * 256, run.pinned);	/* no more than the 512 MiB target has */

	/* an endless loop stops at its step limit */
	prog[0] = INSN(IMEE_OP_ADDK, 5, 0, 0, 0, 1);
	prog[1] = INSN(IMEE_OP_JA, 0, 0, 0, -2, 0);
	ASSERT_EQ(0, ee_load(efd, prog, 2, NULL));
	ASSERT_EQ(0, ee_run(efd, args, 100000, &run));
	EXPECT_EQ(IMEE_STATUS_STEP_LIMIT, run.status);
	EXPECT_EQ(100000, run.steps);
	EXPECT_EQ(50000, run.regs[5]);

	/*
	 * Without a step limit (2^32 steps), max_run_ms ends it: host
	 * interrupts must reach the host while the ImEE runs (the run makes
	 * no other exit), or the activation would hold the CPU for all its
	 * steps with interrupts held off.
	 */
	if (set_max_run_ms(300) == 0) {
		EXPECT_EQ(-ETIME, ee_run(efd, args, 0, &run));
		EXPECT_EQ(0, set_max_run_ms(10000));
	} else {
		TH_LOG("cannot set imee's max_run_ms: not checked");
	}

	/* a non-canonical load faults, an F load jumps with the fault code */
	prog[0] = INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 0x8000000000000000ULL);
	prog[1] = INSN(IMEE_OP_LDF, 2, 1, 8, 0, 1);
	prog[2] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	prog[3] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	ASSERT_EQ(0, ee_load(efd, prog, 4, NULL));
	ASSERT_EQ(0, ee_run(efd, args, 0, &run));
	EXPECT_EQ(IMEE_STATUS_OK, run.status);
	EXPECT_EQ(IMEE_PROG_FAULT_NON_CANONICAL, run.regs[2]);
	EXPECT_EQ(3, run.pc);

	/* a load from an unmapped user address: not mapped */
	prog[0] = INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 0x1000);
	prog[1] = INSN(IMEE_OP_LD, 2, 1, 8, 0, 0);
	prog[2] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	ASSERT_EQ(0, ee_load(efd, prog, 3, NULL));
	ASSERT_EQ(0, ee_run(efd, args, 0, &run));
	if (run.status == IMEE_STATUS_FAULT) {
		EXPECT_EQ(IMEE_PROG_FAULT_NOT_MAPPED, run.fault);
		EXPECT_EQ(0x1000, run.fault_addr);
	} else {
		/* vCPU 0 ran a process with page 0x1000 mapped: also fine */
		EXPECT_EQ(IMEE_STATUS_OK, run.status);
	}

	munmap((void *)out, 4096);
	close(efd);
	close(sfd);
}

/* test_restarts: activations started over (fault injection). */
static int set_test_restarts(unsigned int n)
{
	return set_imee_param("test_restarts", n);
}

/*
 * An activation whose vCPU state is lost starts over (see ee_exit() in
 * module/ee.c): it must end exactly as one that ran once. The module's
 * test_restarts parameter takes that path after every activation.
 */
TEST(restarted_activations_end_as_if_run_once)
{
	const char *target = lab_target("LA57");
	struct imee_run once, again;
	struct imee_insn prog[8];
	uint64_t args[8] = { 0 };
	struct imee_create cr;
	const uint8_t *out;
	uint8_t first[64];
	char *version;
	json_t *doc;
	int sfd, efd;

	ASSERT_NE(NULL, target);
	args[0] = lab_guest_symbol(target, "linux_banner");
	ASSERT_NE(0, args[0]);
	sfd = lab_attach_target(target);
	ASSERT_LE(0, sfd);
	efd = ee_create(sfd, &cr);
	ASSERT_LE(0, efd);
	out = mmap(NULL, 4096, PROT_READ, MAP_SHARED, efd, 0);
	ASSERT_NE(MAP_FAILED, out);

	/*
	 * 64 bytes of the banner, a load that traps (a slot of the 5-level
	 * top-level table Linux leaves empty), a sum
	 */
	prog[0] = INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 64);
	prog[1] = INSN(IMEE_OP_COPY, 1, 0, 0, 0, 0);
	prog[2] = INSN(IMEE_OP_MOVK, 3, 0, 0, 0, 0xff01000000000000ULL);
	prog[3] = INSN(IMEE_OP_LDF, 4, 3, 8, 0, 1);
	prog[4] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	prog[5] = INSN(IMEE_OP_ADDK, 4, 0, 0, 0, 1000);
	prog[6] = INSN(IMEE_OP_EMIT, 4, 0, 8, 0, 0);
	prog[7] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	ASSERT_EQ(0, ee_load(efd, prog, 8, NULL));

	ASSERT_EQ(0, set_test_restarts(0))
		TH_LOG("imee has no test_restarts parameter");
	ASSERT_EQ(0, ee_run(efd, args, 0, &once));
	EXPECT_EQ(IMEE_STATUS_OK, once.status);
	EXPECT_EQ(0, once.restarts);
	EXPECT_EQ(1, once.traps);
	ASSERT_EQ(72, once.out_len);
	EXPECT_EQ(IMEE_PROG_FAULT_NOT_MAPPED + 1000, *(const uint64_t *)(out + 64));
	memcpy(first, out, sizeof(first));

	ASSERT_EQ(0, set_test_restarts(2));
	EXPECT_EQ(0, ee_run(efd, args, 0, &again));
	set_test_restarts(0);
	EXPECT_EQ(2, again.restarts);
	EXPECT_EQ(once.status, again.status);
	EXPECT_EQ(once.steps, again.steps);
	EXPECT_EQ(once.pc, again.pc);
	EXPECT_EQ(once.traps, again.traps);
	EXPECT_EQ(once.out_len, again.out_len);
	EXPECT_EQ(0, memcmp(once.regs, again.regs, sizeof(once.regs)));
	EXPECT_EQ(0, memcmp(first, out, sizeof(first)));
	EXPECT_EQ(IMEE_PROG_FAULT_NOT_MAPPED + 1000, *(const uint64_t *)(out + 64));
	munmap((void *)out, 4096);
	close(efd);
	close(sfd);

	/* whole jobs too: the banner, as the guest prints it */
	version = lab_guest_proc_version(target);
	ASSERT_NE(NULL, version);
	/*
	 * Two of the three restarts an activation may take: the emulated lab's
	 * own glitches (see the README) may need the third in a job of
	 * thousands of activations.
	 */
	ASSERT_EQ(0, set_test_restarts(2));
	doc = run_jobs(_metadata, target, "imee", "{\"id\": \"b\", \"type\": \"banner\"}");
	set_test_restarts(0);
	ASSERT_NE(NULL, doc);
	{
		json_t *b = lab_result(doc, "b");
		const char *value = json_string_value(json_object_get(b, "value"));

		EXPECT_NE(NULL, value)
		{
			char *e = json_dumps(b, JSON_COMPACT);

			TH_LOG("the banner job, restarted: %.400s", e ? e : "?");
			free(e);
		}
		if (value)
			EXPECT_STREQ(version, value);
	}
	json_decref(doc);
	free(version);
}

/* Every job gives the same result on the imee and software engines. */
TEST(jobs_identical_on_imee_and_software)
{
	static const char jobs[] =
		"{\"id\": \"b\", \"type\": \"banner\"},"
		"{\"id\": \"s\", \"type\": \"symbols\", \"names\": [\"_text\", \"init_task\","
		" \"sys_call_table\", \"pid_max\"]},"
		"{\"id\": \"t\", \"type\": \"translate\", \"address\": \"0xffffffff81000000\"},"
		"{\"id\": \"rv\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0xffffffff81000000\", \"length\": 8192},"
		"{\"id\": \"bad\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0x10\", \"length\": 8},"
		"{\"id\": \"nc\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0x8000000000000000\", \"length\": 8},"
		"{\"id\": \"rp\", \"type\": \"read\", \"space\": \"physical\","
		" \"address\": \"0x1000\", \"length\": 4096}";
	static const char *const ids[] = { "b", "s", "t", "rv", "bad", "nc", "rp" };
	const char *const *t;
	size_t i;

	for (t = lab_targets(); *t; t++) {
		json_t *sw = run_jobs(_metadata, *t, "software", jobs);
		json_t *ee = run_jobs(_metadata, *t, "imee", jobs);
		char *version = lab_guest_proc_version(*t);

		ASSERT_NE(NULL, sw);
		ASSERT_NE(NULL, ee);
		ASSERT_NE(NULL, version);
		ASSERT_NE(NULL, json_string_value(json_object_get(lab_result(ee, "b"), "value")))
		{
			char *e = json_dumps(lab_result(ee, "b"), JSON_COMPACT);

			TH_LOG("%s: the banner job on the ImEE: %.400s", *t, e ? e : "?");
			free(e);
		}
		EXPECT_STREQ(version,
			     json_string_value(json_object_get(lab_result(ee, "b"), "value")));
		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			json_t *a = json_deep_copy(lab_result(sw, ids[i]));
			json_t *b = json_deep_copy(lab_result(ee, ids[i]));
			char *as, *bs;

			ASSERT_NE(NULL, a);
			ASSERT_NE(NULL, b);
			json_object_del(a, "engine");
			json_object_del(b, "engine");
			json_object_del(a, "time_ns");
			json_object_del(b, "time_ns");
			as = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
			bs = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
			if (strcmp(as, bs))
				TH_LOG("%s, job %s: software %.300s, imee %.300s", *t, ids[i], as,
				       bs);
			EXPECT_STREQ(as, bs);
			free(as);
			free(bs);
			json_decref(a);
			json_decref(b);
		}
		/* the fault cases did fault */
		EXPECT_TRUE(json_is_false(json_object_get(lab_result(ee, "nc"), "ok")));
		json_decref(sw);
		json_decref(ee);
		free(version);
	}
}

/* A value the guest keeps changing is read fresh by every activation. */
TEST(activations_see_guest_changes)
{
	static const unsigned int values[] = { 32768, 99999, 4194304 };
	const char *const *t;
	size_t i;

	for (t = lab_targets(); *t; t++) {
		uint64_t va = lab_guest_symbol(*t, "pid_max");
		char job[256];

		ASSERT_NE(0, va);
		snprintf(job, sizeof(job),
			 "{\"id\": \"p\", \"type\": \"read\", \"space\": \"virtual\","
			 " \"address\": \"0x%" PRIx64 "\", \"length\": 4, \"format\": \"hex\"}",
			 va);
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			char cmd[128], expect[16];
			json_t *doc;

			snprintf(cmd, sizeof(cmd), "echo %u > /proc/sys/kernel/pid_max", values[i]);
			ASSERT_EQ(0, lab_guest(*t, cmd, NULL));
			doc = run_jobs(_metadata, *t, "imee", job);
			ASSERT_NE(NULL, doc);
			ASSERT_NE(NULL, json_string_value(json_object_get(lab_result(doc, "p"),
									  "value")));
			snprintf(expect, sizeof(expect), "%02x%02x%02x%02x", values[i] & 0xff,
				 (values[i] >> 8) & 0xff, (values[i] >> 16) & 0xff, values[i] >> 24);
			EXPECT_STREQ(expect, json_string_value(json_object_get(lab_result(doc, "p"),
									      "value")));
			json_decref(doc);
		}
	}
}

/*
 * Does the top page of the user stack seen through vCPU 0's current page
 * tables (a busy process's, on a 1-vCPU guest) hold needle?
 */
static bool stack_top_has(struct __test_metadata *_metadata, int efd, const char *out,
			  const char *needle)
{
	uint64_t args[8] = { 0x7fffffffe000ULL };
	struct imee_run run;

	memset(&run, 0, sizeof(run));
	run.size = sizeof(run);
	run.flags = IMEE_RUN_F_VCPU_CR3;
	memcpy(run.args, args, sizeof(args));
	EXPECT_EQ(0, ioctl(efd, IMEE_RUN, &run));
	return run.status == IMEE_STATUS_OK && memmem(out, run.out_len, needle, strlen(needle));
}

/* Start a busy process in the guest with a mark in its environment; its pid. */
static long start_marked(const char *target, const char *mark)
{
	char cmd[256], *out = NULL;
	long pid = -1;

	snprintf(cmd, sizeof(cmd),
		 "env -i IMEE_MARK=%s sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $!", mark);
	if (!lab_guest(target, cmd, &out) && out)
		pid = strtol(out, NULL, 10);
	free(out);
	return pid;
}

static void kill_marked(const char *target, long pid)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "kill -9 %ld; while kill -0 %ld 2>/dev/null; do :; done", pid,
		 pid);
	lab_guest(target, cmd, NULL);
}

/*
 * Mappings the guest removes and creates between activations: a busy
 * process (its stack at a fixed address, address-space randomisation off)
 * is killed and another starts with other contents there. Once the guest
 * says the first is gone, no activation may see its page (a stale
 * translation would), and the new one's is seen.
 */
TEST(removed_mappings_are_not_seen_new_ones_are)
{
	const char *target = lab_target("4LEVEL");
	static const struct imee_insn copy_page[] = {
		INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 4096),
		INSN(IMEE_OP_COPY, 1, 0, 0, 0, 0),
		INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	bool seen_a = false, seen_b = false, stale = false;
	struct imee_create cr;
	long pid_a, pid_b;
	const char *out;
	int sfd, efd, i;

	if (!target)
		SKIP(return, "needs the 1-vCPU 4-level target");
	ASSERT_EQ(0, lab_guest(target, "echo 0 > /proc/sys/kernel/randomize_va_space", NULL));
	sfd = lab_attach_target(target);
	ASSERT_LE(0, sfd);
	efd = ee_create(sfd, &cr);
	ASSERT_LE(0, efd);
	out = mmap(NULL, 4096, PROT_READ, MAP_SHARED, efd, 0);
	ASSERT_NE(MAP_FAILED, out);
	ASSERT_EQ(0, ee_load(efd, copy_page, 3, NULL));

	pid_a = start_marked(target, "imee-mark-A");
	ASSERT_LT(0, pid_a);
	/* bounded: the busy process owns the vCPU nearly all the time */
	for (i = 0; i < 500 && !seen_a; i++)
		seen_a = stack_top_has(_metadata, efd, out, "IMEE_MARK=imee-mark-A");
	kill_marked(target, pid_a);
	pid_b = start_marked(target, "imee-mark-B");
	ASSERT_LT(0, pid_b);
	for (i = 0; i < 500 && (!seen_b || i < 50); i++) {
		stale |= stack_top_has(_metadata, efd, out, "IMEE_MARK=imee-mark-A");
		seen_b |= stack_top_has(_metadata, efd, out, "IMEE_MARK=imee-mark-B");
	}
	kill_marked(target, pid_b);
	lab_guest(target, "echo 2 > /proc/sys/kernel/randomize_va_space", NULL);
	munmap((void *)out, 4096);
	close(efd);
	close(sfd);
	EXPECT_TRUE(seen_a);
	EXPECT_TRUE(seen_b);
	EXPECT_FALSE(stale);
}

/* FNV-1a over every memslot of the target, through the zero-copy view. */
static uint64_t hash_guest(struct __test_metadata *_metadata, int sfd)
{
	static struct lab_info li;
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *view;
	uint32_t i;

	EXPECT_EQ(0, lab_session_info(sfd, &li));
	view = mmap(NULL, li.info.view_size, PROT_READ, MAP_SHARED, sfd, 0);
	EXPECT_NE(MAP_FAILED, view);
	if (view == MAP_FAILED)
		return 0;
	for (i = 0; i < li.info.nr_memslots && i < LAB_MAX_SLOTS; i++) {
		const unsigned char *p = view + li.slots[i].gpa;
		uint64_t n;

		for (n = 0; n < li.slots[i].size; n++)
			h = (h ^ p[n]) * 0x100000001b3ULL;
	}
	munmap((void *)view, li.info.view_size);
	return h;
}

/* The ImEE never writes the target: its RAM hashes the same before and after. */
TEST(target_memory_unchanged_by_a_session)
{
	const char *target = lab_target("LA57");
	static const char jobs[] =
		"{\"id\": \"b\", \"type\": \"banner\"},"
		"{\"id\": \"s\", \"type\": \"symbols\"},"
		"{\"id\": \"u\", \"type\": \"read\", \"space\": \"virtual\","
		" \"address\": \"0x400000\", \"length\": 4096}";
	static const struct imee_insn copy64[] = {
		INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 64),
		INSN(IMEE_OP_COPY, 1, 0, 0, 0, 0),
		INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	uint64_t before, after, banner, args[8] = { 0 };
	unsigned int ad_copies = 0, i;
	struct imee_create cr;
	struct imee_run run;
	char cmd[256];
	json_t *doc;
	int sfd, efd;

	ASSERT_NE(NULL, target);
	banner = lab_guest_symbol(target, "linux_banner");
	ASSERT_NE(0, banner);
	sfd = lab_attach_target(target);
	ASSERT_LE(0, sfd);
	snprintf(cmd, sizeof(cmd), "imee-lab-qmp %s stop", target);
	ASSERT_EQ(0, lab_host(cmd, NULL));
	before = hash_guest(_metadata, sfd);
	doc = run_jobs(_metadata, target, "imee", jobs);
	/*
	 * Reading the banner makes the CPU set accessed bits in page-table
	 * entries of this kernel that have them clear (Debian's 6.1 kernel
	 * in the lab has such entries): those writes went to private copies.
	 */
	efd = ee_create(sfd, &cr);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ee_load(efd, copy64, 3, NULL));
	args[0] = banner;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ee_run(efd, args, 0, &run));
		ASSERT_EQ(IMEE_STATUS_OK, run.status);
		ad_copies += run.ad_copies;
	}
	close(efd);
	TH_LOG("pages copied for accessed/dirty bits: %u", ad_copies);
	EXPECT_LT(0, ad_copies);
	after = hash_guest(_metadata, sfd);
	snprintf(cmd, sizeof(cmd), "imee-lab-qmp %s cont", target);
	EXPECT_EQ(0, lab_host(cmd, NULL));
	ASSERT_NE(NULL, doc);
	EXPECT_TRUE(json_is_true(json_object_get(lab_result(doc, "s"), "ok")));
	EXPECT_EQ(before, after);
	json_decref(doc);
	close(sfd);
}

/* Two targets, two ImEEs, used in turns: each reads its own guest. */
TEST(two_targets_at_once)
{
	const char *a = lab_target("LA57"), *b = lab_target("4LEVEL");
	const char *names[2] = { a, b };
	struct imee_insn prog[3];
	uint64_t args[8] = { 0 };
	int sfd[2], efd[2], round, k;
	const char *out[2];
	struct imee_create cr;
	struct imee_run run;
	uint64_t va[2];
	char *version[2];

	if (!a || !b)
		SKIP(return, "needs a 5-level and a 4-level target");
	prog[0] = INSN(IMEE_OP_MOVK, 1, 0, 0, 0, 64);
	prog[1] = INSN(IMEE_OP_COPY, 1, 0, 0, 0, 0);
	prog[2] = INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	for (k = 0; k < 2; k++) {
		version[k] = lab_guest_proc_version(names[k]);
		ASSERT_NE(NULL, version[k]);
		va[k] = lab_guest_symbol(names[k], "linux_banner");
		ASSERT_NE(0, va[k]);
		sfd[k] = lab_attach_target(names[k]);
		ASSERT_LE(0, sfd[k]);
		efd[k] = ee_create(sfd[k], &cr);
		ASSERT_LE(0, efd[k]);
		out[k] = mmap(NULL, 4096, PROT_READ, MAP_SHARED, efd[k], 0);
		ASSERT_NE(MAP_FAILED, out[k]);
		ASSERT_EQ(0, ee_load(efd[k], prog, 3, NULL));
	}
	for (round = 0; round < 20; round++) {
		k = round % 2;
		args[0] = va[k];
		ASSERT_EQ(0, ee_run(efd[k], args, 0, &run));
		ASSERT_EQ(IMEE_STATUS_OK, run.status);
		ASSERT_EQ(64, run.out_len);
		EXPECT_EQ(0, memcmp(out[k], version[k], 64));
	}
	for (k = 0; k < 2; k++) {
		munmap((void *)out[k], 4096);
		close(efd[k]);
		close(sfd[k]);
		free(version[k]);
	}
}

TEST_HARNESS_MAIN
