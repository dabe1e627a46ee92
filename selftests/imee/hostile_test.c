// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest, read from the host (issue 6). The lab's targets carry
 * scripts/lab.d/attack/imee_hostile.c (/attack/imee_hostile.ko in the
 * guest): loaded with the pid of imee-wl-alpha (a process that never exits)
 * and the addresses of tasklist_lock and sys_call_table from the guest's
 * /proc/kallsyms, it makes one hostile shape at a time in the guest
 * kernel's memory on "echo NAME > .../parameters/scenario", and undoes it
 * on "echo off". Each test here turns one scenario on, runs the jobs that
 * read that structure on the imee engine and on the software engine (one
 * imeectl run each), turns it off again and checks:
 *
 *  - imeectl exits with a documented status (0, or 1 for a run that could
 *    not start), not by a signal, and within a bound (no hang);
 *  - each job ends either in a clear error ("ok": false, an error code of
 *    those `imeectl run --help` lists and a message) or in a correct
 *    result: for the task list, the real processes up to the splice point
 *    (imee-wl-alpha) as the guest's own /proc has them, then only the
 *    module's fake tasks; for the module list, only modules the guest's
 *    /proc/modules has; for sys_call_table, the garbage entries flagged;
 *  - the fake objects' bytes are as the module made them (its checksum
 *    parameter, read before and after the jobs): imee only reads;
 *  - the guest is alive afterwards (its /proc/version reads).
 *
 * One "outcome:" line per scenario, engine and job goes to the log, for the
 * README's table.
 *
 * While a task list scenario is on, nothing in the guest may walk the task
 * list: the first test turns the guest's hung task detector (which does)
 * off, the last one turns it back on and unloads the module. The guest's
 * /proc/modules is read only while no scenario is on ("modlist" points the
 * module list into the task list). The guest is the LA57 target (or the
 * 4LEVEL one, or the first).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "kselftest_harness.h"

/* Ground truth comes through a slow serial line: a bound, not a timing test. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 900

/* imeectl's bound: a run that takes longer is reported as a hang. */
#define IMEECTL_LIMIT_S 240

/* What imee_hostile.c makes. */
#define FAKE_PID 4194001
#define NR_FAKES 2
#define FIRST_NR 181
#define NR_ENTRIES 3
static const char *const fake_comms[NR_FAKES] = { "imee-fake-A", "imee-fake-B" };
static const char comm16[] = "IMEEFAKE16CHARSX";
static const uint64_t garbage_calls[NR_ENTRIES] = { 0, 0x4141414141414141ULL, 0x401000 };

#define PARAMS "/sys/module/imee_hostile/parameters"

static const char *const engines[] = { "imee", "software" };

/* The error codes `imeectl run --help` documents. */
static const char *const error_codes[] = {
	"not-mapped", "non-canonical", "bad-entry", "out-of-ram", "target-gone",
	"memory-removed", "read-failed", "unsupported", "not-found", "no-vcpu",
	"bad-layout", "cycle", "too-many", "corrupt", "mismatch", "failed",
};

struct hst {
	const char *target;
	pid_t vmm;
	int alpha;
	uint64_t table, tasklist_lock;
};

#define MAX_PROCS 4096
#define MAX_MODULES 256

/* What the guest says, from one command (see guest_state()). */
struct gstate {
	int nr_procs;
	int pids[MAX_PROCS];
	char comms[MAX_PROCS][32];
	int nr_modules;
	char modules[MAX_MODULES][64];
	int rc;			/* the status of echo NAME > scenario */
	char checksum[32];
	char version[256];
};

static const char *hostile_target(void)
{
	const char *t = lab_target("LA57");

	if (!t)
		t = lab_target("4LEVEL");
	if (!t)
		t = lab_targets()[0];
	return t;
}

static const char facts_cmd[] =
	"set -- $(pidof imee-wl-alpha) 0; printf '%s ' $1;"
	" echo $(awk '$3 == \"sys_call_table\" { print $1 }' /proc/kallsyms)"
	" $(awk '$3 == \"tasklist_lock\" { print $1 }' /proc/kallsyms)";

static bool guest_facts(struct hst *h)
{
	char *out = NULL;
	bool ok;

	memset(h, 0, sizeof(*h));
	h->target = hostile_target();
	if (!h->target)
		return false;
	h->vmm = lab_vmm_pid(h->target);
	ok = lab_guest(h->target, facts_cmd, &out) == 0 &&
	     sscanf(out, "%d %" SCNx64 " %" SCNx64, &h->alpha, &h->table,
		    &h->tasklist_lock) == 3;
	free(out);
	return ok && h->vmm > 0 && h->alpha > 0;
}

#define NEED_FACTS(h)                                                                  \
	do {                                                                           \
		if (!hostile_target())                                                 \
			SKIP(return, "no target (IMEE_LAB_TARGETS is empty)");         \
		ASSERT_TRUE(guest_facts(h));                                           \
	} while (0)

/*
 * The guest's processes ("P pid comm") and modules ("M name"): by the pid
 * IDR and the module list, so never while "modlist" is on.
 */
#define LISTING                                                                   \
	"for d in /proc/[0-9]*; do read -r c <$d/comm 2>/dev/null &&"              \
	" echo \"P ${d#/proc/} $c\"; done;"                                        \
	" while read -r m rest; do echo \"M $m\"; done </proc/modules"

/*
 * Run cmd in the guest and parse its lines: "P", "M" (LISTING), "RC n"
 * (the status of the scenario's switch), "CK" (the checksum), "V"
 * (/proc/version).
 */
static bool guest_state(const char *target, const char *cmd, struct gstate *g)
{
	char *out = NULL, *line, *save = NULL;
	int rc;

	memset(g, 0, sizeof(*g));
	g->rc = -1;
	rc = lab_guest(target, cmd, &out);
	if (rc != 0 || !out) {
		free(out);
		return false;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "P ", 2) && g->nr_procs < MAX_PROCS) {
			char *comm = NULL;
			int pid = (int)strtol(line + 2, &comm, 10);

			if (comm && *comm == ' ') {
				g->pids[g->nr_procs] = pid;
				snprintf(g->comms[g->nr_procs], sizeof(g->comms[0]), "%s", comm + 1);
				g->nr_procs++;
			}
		} else if (!strncmp(line, "M ", 2) && g->nr_modules < MAX_MODULES) {
			snprintf(g->modules[g->nr_modules++], sizeof(g->modules[0]), "%s", line + 2);
		} else if (!strncmp(line, "RC ", 3)) {
			g->rc = atoi(line + 3);
		} else if (!strncmp(line, "CK ", 3)) {
			snprintf(g->checksum, sizeof(g->checksum), "%s", line + 3);
		} else if (!strncmp(line, "V ", 2)) {
			snprintf(g->version, sizeof(g->version), "%s", line + 2);
		}
	}
	free(out);
	return true;
}

static const char *proc_comm(const struct gstate *g, int pid)
{
	int i;

	for (i = 0; i < g->nr_procs; i++)
		if (g->pids[i] == pid)
			return g->comms[i];
	return NULL;
}

static bool has_module(const struct gstate *g, const char *name)
{
	int i;

	for (i = 0; i < g->nr_modules; i++)
		if (!strcmp(g->modules[i], name))
			return true;
	return false;
}

/*
 * imeectl run on a job file, bounded by timeout(1). Returns its exit
 * status (124 or 137: it did not end in time; above 128: a signal) and
 * the parsed output in *doc.
 */
static int imeectl(const char *job, json_t **doc)
{
	char path[] = "/tmp/imee-hostile-job-XXXXXX";
	char *cmd = NULL, *out = NULL;
	size_t n = strlen(job);
	int fd, rc;

	*doc = NULL;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, job, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	if (asprintf(&cmd, "timeout -k 10 %d imeectl run %s", IMEECTL_LIMIT_S, path) < 0) {
		unlink(path);
		return -1;
	}
	rc = lab_host(cmd, &out);
	unlink(path);
	free(cmd);
	if (out && *out) {
		*doc = json_loads(out, 0, NULL);
		if (!*doc)
			fprintf(stderr, "# imeectl printed no JSON: %.300s\n", out);
	}
	free(out);
	return rc;
}

static bool documented_code(const char *code)
{
	size_t i;

	for (i = 0; code && i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (!strcmp(code, error_codes[i]))
			return true;
	return false;
}

static int fake_index(json_t *e)
{
	long long pid = json_integer_value(json_object_get(e, "pid"));

	return pid >= FAKE_PID && pid < FAKE_PID + NR_FAKES ? (int)(pid - FAKE_PID) : -1;
}

/* Is a fake task's comm what the module wrote (16 bytes, no NUL: a prefix)? */
static bool fake_comm_ok(json_t *e, int idx, bool is_comm16)
{
	const char *comm = json_string_value(json_object_get(e, "comm"));

	if (!comm)
		return false;
	if (is_comm16 && idx == 0)
		return strlen(comm) >= 15 && strlen(comm) <= 16 &&
		       !strncmp(comm, comm16, strlen(comm));
	return !strcmp(comm, fake_comms[idx]);
}

/*
 * A task list job's value: the real tasks up to imee-wl-alpha, then fakes
 * only. Real leaders must be in the guest's /proc (before or after) with
 * the same comm (a prefix: /proc adds a kworker's workqueue), and every
 * process older than alpha that the guest had before and after must be
 * there. Returns what was seen for the log.
 */
static void check_tasks(struct __test_metadata *_metadata, const struct hst *h, json_t *value,
			const struct gstate *before, const struct gstate *after,
			bool is_comm16, bool complete, char *seen, size_t seen_len)
{
	bool past_alpha = false;
	int nr_real = 0, nr_fake = 0, missing = 0, i;
	json_t *e;
	size_t k;

	json_array_foreach(value, k, e) {
		int pid = (int)json_integer_value(json_object_get(e, "pid"));
		int tgid = (int)json_integer_value(json_object_get(e, "tgid"));
		const char *comm = json_string_value(json_object_get(e, "comm"));
		int idx = fake_index(e);

		if (idx >= 0) {
			if (is_comm16 && idx == 0)
				TH_LOG("the fake task with a 16-byte comm reads as \"%s\"",
				       comm ?: "(none)");
			nr_fake++;
			EXPECT_TRUE(past_alpha)
				TH_LOG("fake pid %d before imee-wl-alpha", pid);
			EXPECT_TRUE(fake_comm_ok(e, idx, is_comm16))
				TH_LOG("fake pid %d: comm \"%s\"", pid, comm ?: "(none)");
			continue;
		}
		if (pid == 0)
			continue; /* init_task, where imee lists it */
		nr_real++;
		EXPECT_FALSE(past_alpha && tgid != h->alpha)
			TH_LOG("real pid %d (%s) after the splice point", pid, comm ?: "?");
		if (pid == h->alpha)
			past_alpha = true;
		if (pid == tgid) {
			const char *pc = proc_comm(before, pid) ?: proc_comm(after, pid);

			EXPECT_NE(NULL, pc)
				TH_LOG("pid %d (%s) is not in the guest's /proc", pid, comm ?: "?");
			if (pc && comm) {
				EXPECT_EQ(0, strncmp(pc, comm, strlen(comm)))
					TH_LOG("pid %d: comm \"%s\", /proc says \"%s\"", pid, comm, pc);
			}
		}
	}
	/* Pids are given in fork order, as the list is: the older ones come first. */
	for (i = 0; i < before->nr_procs; i++) {
		int pid = before->pids[i];

		if (pid > h->alpha || !proc_comm(after, pid))
			continue;
		if (!lab_find_pid(value, pid)) {
			missing++;
			TH_LOG("pid %d (%s), older than imee-wl-alpha, is missing", pid,
			       before->comms[i]);
		}
	}
	snprintf(seen, seen_len, "%d real up to imee-wl-alpha%s, %d fake", nr_real,
		 past_alpha ? "" : " (alpha not reached)", nr_fake);
	/* A complete walk of a broken list is wrong; a partial one stops before. */
	EXPECT_FALSE(complete);
	if (past_alpha)
		EXPECT_EQ(0, missing);
}

/* The ok/error shape every result must have; true if ok. */
static bool check_shape(struct __test_metadata *_metadata, json_t *r, char *what, size_t len)
{
	json_t *err = json_object_get(r, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));

	EXPECT_TRUE(json_is_boolean(json_object_get(r, "ok")));
	if (json_is_true(json_object_get(r, "ok"))) {
		snprintf(what, len, "ok");
		return true;
	}
	EXPECT_TRUE(documented_code(code))
		TH_LOG("undocumented error code \"%s\"", code ?: "(none)");
	EXPECT_TRUE(msg && *msg);
	snprintf(what, len, "error %s: %s", code ?: "?", msg ?: "?");
	return false;
}

enum kind { TASKS, MODLIST, SYSCALLS };

static const char *jobs_of(enum kind kind)
{
	switch (kind) {
	case TASKS:
		return "{\"id\": \"ps\", \"type\": \"pslist\"},"
		       " {\"id\": \"pst\", \"type\": \"pslist\", \"threads\": true},"
		       " {\"id\": \"cred\", \"type\": \"credlist\"},"
		       " {\"id\": \"hidden\", \"type\": \"hidden\"}";
	case MODLIST:
		return "{\"id\": \"mods\", \"type\": \"modules\"}";
	case SYSCALLS:
		return "{\"id\": \"sc\", \"type\": \"syscalldmp\"}";
	}
	return "";
}

/*
 * "cred": fake A's cred pointers are garbage. A is listed (the walk reaches
 * it before the splice's end), credlist gives it an error of its own and
 * pslist no uid; the walk does not fail for it.
 */
static void check_bad_cred(struct __test_metadata *_metadata, const char *id, json_t *value)
{
	json_t *a = NULL, *e, *err;
	size_t k;

	json_array_foreach(value, k, e)
		if (fake_index(e) == 0)
			a = e;
	ASSERT_NE(NULL, a) TH_LOG("%s: the fake task with bad credentials is not listed", id);
	if (!strcmp(id, "cred")) {
		err = json_object_get(a, "error");
		EXPECT_TRUE(documented_code(json_string_value(json_object_get(err, "code"))))
			TH_LOG("credlist: the fake task has no error of a documented code");
		EXPECT_EQ(NULL, json_object_get(a, "uid"));
	} else {
		EXPECT_TRUE(json_is_null(json_object_get(a, "uid")))
			TH_LOG("%s: the fake task's uid is not null", id);
	}
}

static void check_result(struct __test_metadata *_metadata, const struct hst *h,
			 const char *scn, const char *engine, enum kind kind, json_t *r,
			 const struct gstate *before, const struct gstate *after)
{
	const char *id = json_string_value(json_object_get(r, "id"));
	json_t *value = json_object_get(r, "value");
	char what[512], seen[160] = "";
	bool ok = check_shape(_metadata, r, what, sizeof(what));
	json_t *e = NULL;
	size_t k;

	if (kind == TASKS && id && strcmp(id, "hidden")) {
		check_tasks(_metadata, h, value, before, after, !strcmp(scn, "comm16"),
			    json_is_true(json_object_get(r, "complete")) || ok, seen,
			    sizeof(seen));
		if (!strcmp(scn, "cred"))
			check_bad_cred(_metadata, id, value);
	} else if (kind == TASKS) {
		/* the cross-view check: a failed view fails it; else fakes only */
		json_array_foreach(value, k, e) {
			EXPECT_LE(0, fake_index(e))
				TH_LOG("hidden: pid %lld (%s) reported",
				       json_integer_value(json_object_get(e, "pid")),
				       json_string_value(json_object_get(e, "comm")) ?: "?");
		}
		snprintf(seen, sizeof(seen), "%zu reported", json_array_size(value));
	} else if (kind == MODLIST) {
		json_array_foreach(value, k, e) {
			const char *name = json_string_value(json_object_get(e, "name"));

			EXPECT_TRUE(name && has_module(before, name))
				TH_LOG("modules: \"%s\" is not in the guest's /proc/modules",
				       name ?: "(none)");
		}
		EXPECT_FALSE(ok);
		snprintf(seen, sizeof(seen), "%zu modules", json_array_size(value));
	} else if (ok) {
		json_t *entries = json_object_get(json_object_get(value, "sys_call_table"),
						  "entries");
		int i, flagged = 0;

		for (i = 0; i < NR_ENTRIES; i++) {
			e = json_array_get(entries, FIRST_NR + i);
			EXPECT_EQ(FIRST_NR + i, json_integer_value(json_object_get(e, "nr")));
			EXPECT_EQ(garbage_calls[i], lab_hex(json_object_get(e, "handler")));
			EXPECT_TRUE(json_is_true(json_object_get(e, "flagged")));
			flagged += json_is_true(json_object_get(e, "flagged"));
			TH_LOG("%s: entry %d: handler %s, flagged %s (%s)", engine, FIRST_NR + i,
			       json_string_value(json_object_get(e, "handler")) ?: "null",
			       json_is_true(json_object_get(e, "flagged")) ? "yes" : "no",
			       json_string_value(json_object_get(e, "reason")) ?: "-");
		}
		snprintf(seen, sizeof(seen), "%d of %d garbage entries flagged", flagged,
			 NR_ENTRIES);
	}
	TH_LOG("outcome: %s %s %s: %s%s%s", scn, engine, id ?: "?", what, *seen ? "; " : "",
	       seen);
}

/* One scenario: on, the jobs on both engines, off, and the checks. */
static void run_scenario(struct __test_metadata *_metadata, const char *scn, enum kind kind)
{
	struct gstate *on = calloc(1, sizeof(*on)), *off = calloc(1, sizeof(*off));
	json_t *docs[sizeof(engines) / sizeof(engines[0])] = { NULL };
	int rcs[sizeof(engines) / sizeof(engines[0])];
	char *cmd = NULL;
	struct hst h;
	size_t e;

	ASSERT_NE(NULL, on);
	ASSERT_NE(NULL, off);
	NEED_FACTS(&h);
	/* the guest's lists before, then on, then the checksum of what it made */
	ASSERT_LT(0, asprintf(&cmd, LISTING "; echo %s >" PARAMS "/scenario; echo \"RC $?\";"
			      " echo \"CK $(cat " PARAMS "/checksum)\"", scn));
	ASSERT_TRUE(guest_state(h.target, cmd, on));
	free(cmd);
	ASSERT_EQ(0, on->rc)
		TH_LOG("%s: the scenario did not start (see the guest's dmesg)", scn);
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		char *job = NULL;

		ASSERT_LT(0, asprintf(&job, "{\"target\": {\"pid\": %d}, \"engine\": \"%s\","
				      " \"jobs\": [%s]}", h.vmm, engines[e], jobs_of(kind)));
		rcs[e] = imeectl(job, &docs[e]);
		free(job);
	}
	/* the checksum, off, the guest alive, and its lists after */
	ASSERT_TRUE(guest_state(h.target,
				"echo \"CK $(cat " PARAMS "/checksum)\"; echo off >" PARAMS
				"/scenario; echo \"RC $?\"; echo \"V $(cat /proc/version)\"; "
				LISTING, off));
	EXPECT_EQ(0, off->rc);
	EXPECT_STREQ(on->checksum, off->checksum);
	EXPECT_EQ(0, strncmp(off->version, "Linux version ", 14))
		TH_LOG("the guest's /proc/version: \"%s\"", off->version);
	TH_LOG("%s: checksum %s on, %s after the jobs; the guest: %.40s...", scn, on->checksum,
	       off->checksum, off->version);
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		json_t *r;
		size_t i;

		if (rcs[e] != 0)
			TH_LOG("outcome: %s %s imeectl: exit status %d%s", scn, engines[e],
			       rcs[e], rcs[e] == 124 || rcs[e] == 137 ? " (did not end in time)" : "");
		/* 0: a document; 1: a run that could not start; nothing else */
		EXPECT_TRUE(rcs[e] == 0 || rcs[e] == 1);
		if (rcs[e] == 0)
			EXPECT_NE(NULL, docs[e]);
		json_array_foreach(json_object_get(docs[e], "results"), i, r)
			check_result(_metadata, &h, scn, engines[e], kind, r, on, off);
		json_decref(docs[e]);
	}
	free(on);
	free(off);
}

TEST(hostile_module_loads)
{
	char cmd[512], *out = NULL;
	struct hst h;
	int rc;

	NEED_FACTS(&h);
	ASSERT_NE(0, h.table);
	ASSERT_NE(0, h.tasklist_lock);
	TH_LOG("%s: imee-wl-alpha is pid %d", h.target, h.alpha);
	/* Left over from an interrupted run: its unload undoes the scenario. */
	lab_guest(h.target, "[ ! -e " PARAMS "/scenario ] || echo off >" PARAMS "/scenario;"
		  " rmmod imee_hostile 2>/dev/null", NULL);
	/* The hung task detector walks the task list: off while this test runs. */
	lab_guest(h.target, "f=/proc/sys/kernel/hung_task_timeout_secs; [ ! -e $f ] ||"
		  " [ -e /tmp/imee-hostile-hung ] || cp $f /tmp/imee-hostile-hung;"
		  " [ ! -e $f ] || echo 0 >$f", NULL);
	snprintf(cmd, sizeof(cmd),
		 "insmod /attack/imee_hostile.ko anchor_pid=%d tasklist_lock=0x%" PRIx64
		 " syscall_table=0x%" PRIx64 " 2>&1; rc=$?;"
		 " dmesg | grep 'imee_hostile: ' | tail -n 2; exit $rc",
		 h.alpha, h.tasklist_lock, h.table);
	rc = lab_guest(h.target, cmd, &out);
	TH_LOG("%s: insmod: %d\n%s", h.target, rc, out ? out : "");
	free(out);
	ASSERT_EQ(0, rc);
}

TEST(scenario_cycle)
{
	run_scenario(_metadata, "cycle", TASKS);
}

TEST(scenario_noncanonical)
{
	run_scenario(_metadata, "noncanonical", TASKS);
}

TEST(scenario_unmapped)
{
	run_scenario(_metadata, "unmapped", TASKS);
}

TEST(scenario_user)
{
	run_scenario(_metadata, "user", TASKS);
}

TEST(scenario_flip)
{
	run_scenario(_metadata, "flip", TASKS);
}

/*
 * anchor -> A -> init_task: the walk reaches the head and would stop there,
 * as if the list were whole, did it not check that the head's prev names
 * the last task it read. This test found that it did not: pslist read as
 * complete without every process after imee-wl-alpha, and the hidden job
 * reported them all.
 */
TEST(scenario_truncate)
{
	run_scenario(_metadata, "truncate", TASKS);
}

TEST(scenario_comm16)
{
	run_scenario(_metadata, "comm16", TASKS);
}

TEST(scenario_beyond_ram)
{
	run_scenario(_metadata, "beyond-ram", TASKS);
}

TEST(scenario_mmio)
{
	run_scenario(_metadata, "mmio", TASKS);
}

TEST(scenario_cred)
{
	run_scenario(_metadata, "cred", TASKS);
}

TEST(scenario_threads)
{
	run_scenario(_metadata, "threads", TASKS);
}

TEST(scenario_modlist)
{
	run_scenario(_metadata, "modlist", MODLIST);
}

TEST(scenario_syscalls)
{
	run_scenario(_metadata, "syscalls", SYSCALLS);
}

/*
 * Last: unloaded while "flip" is on, the hung task detector back; the guest
 * reads clean on both engines.
 */
TEST(unloading_restores_the_guest)
{
	static const char jobs[] =
		"{\"id\": \"ps\", \"type\": \"pslist\"},"
		" {\"id\": \"mods\", \"type\": \"modules\"},"
		" {\"id\": \"sc\", \"type\": \"syscalldmp\"}";
	struct hst h;
	size_t e;
	char *out = NULL;
	int rc;

	NEED_FACTS(&h);
	/* unloaded with a scenario on (the kthread's): the unload undoes it */
	rc = lab_guest(h.target, "echo flip >" PARAMS "/scenario; rmmod imee_hostile 2>&1;"
		       " rc=$?; f=/proc/sys/kernel/hung_task_timeout_secs;"
		       " [ ! -e /tmp/imee-hostile-hung ] || { cat /tmp/imee-hostile-hung >$f;"
		       " rm /tmp/imee-hostile-hung; }; exit $rc", &out);
	TH_LOG("%s: rmmod: %d %s", h.target, rc, out ? out : "");
	free(out);
	ASSERT_EQ(0, rc);
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		char *job = NULL;
		json_t *doc = NULL, *r, *t;
		size_t i;

		ASSERT_LT(0, asprintf(&job, "{\"target\": {\"pid\": %d}, \"engine\": \"%s\","
				      " \"jobs\": [%s]}", h.vmm, engines[e], jobs));
		rc = imeectl(job, &doc);
		free(job);
		ASSERT_EQ(0, rc);
		ASSERT_NE(NULL, doc);
		json_array_foreach(json_object_get(doc, "results"), i, r) {
			EXPECT_TRUE(json_is_true(json_object_get(r, "ok")))
				TH_LOG("%s: %s failed after the unload", engines[e],
				       json_string_value(json_object_get(r, "id")));
		}
		EXPECT_NE(NULL, lab_find_pid(json_object_get(lab_result(doc, "ps"), "value"),
					     h.alpha));
		for (i = 0; i < NR_FAKES; i++)
			EXPECT_EQ(NULL, lab_find_pid(json_object_get(lab_result(doc, "ps"),
								     "value"),
						     (int)(FAKE_PID + i)));
		t = json_object_get(json_object_get(lab_result(doc, "sc"), "value"),
				    "sys_call_table");
		for (i = 0; i < NR_ENTRIES; i++)
			EXPECT_FALSE(json_is_true(json_object_get(
				json_array_get(json_object_get(t, "entries"), FIRST_NR + i),
				"flagged")));
		json_decref(doc);
	}
}

TEST_HARNESS_MAIN
