// SPDX-License-Identifier: GPL-2.0
/*
 * pslist, pidlist and credlist compared with what the guest itself says:
 * every task's /proc/PID/task/TID/status (Name, State, Tgid, Pid, PPid, the
 * four uids and gids, the five capability sets) and /proc/PID/stat's start
 * time, read inside the guest through imee-lab-exec.
 *
 * The guest runs while both views are taken, a few seconds apart (the
 * ground truth crosses a slow emulated channel): the command imee-lab-exec
 * runs, and kernel workers, come and go in between. So the comparison is
 * exact on the tasks that cannot change: pid 1 and kthreadd, the lab's
 * workload (imee-wl-alpha as root, imee-wl-beta as uid/gid 1000,
 * imee-wl-gamma with its threads imee-wl-gamma-1 and -2) and the per-CPU
 * kernel threads created at boot that never exit. Each of those must be in
 * both views with the same fields; every other task need only be in most
 * of both (a bound on the churn, so a walk that misses half the list
 * fails).
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

#define MAX_TASKS 1024
#define USER_HZ 100

/*
 * One line per task: tid tgid ppid state uid euid suid fsuid gid egid sgid
 * fsgid capinh capprm capeff capbnd capamb starttime name. cat skips the
 * tasks that exit under it; awk splits the files at each "Name:" line.
 */
static const char status_cmd[] =
	"cat /proc/[0-9]*/task/[0-9]*/status 2>/dev/null | awk '"
	"function out() { if (pid != \"\") print pid, tgid, ppid, st, u, g, ci, cp, ce, cb, ca, name }"
	" /^Name:/ { out(); name = substr($0, 7); pid = \"\" }"
	" /^State:/ { st = $2 } /^Tgid:/ { tgid = $2 } /^Pid:/ { pid = $2 }"
	" /^PPid:/ { ppid = $2 } /^Uid:/ { u = $2 \" \" $3 \" \" $4 \" \" $5 }"
	" /^Gid:/ { g = $2 \" \" $3 \" \" $4 \" \" $5 } /^CapInh:/ { ci = $2 }"
	" /^CapPrm:/ { cp = $2 } /^CapEff:/ { ce = $2 } /^CapBnd:/ { cb = $2 }"
	" /^CapAmb:/ { ca = $2 } END { out() }'";

/* The start times (clock ticks) of the workload's processes: "pid ticks". */
static const char start_cmd[] =
	"for p in $(pidof imee-wl-alpha imee-wl-beta imee-wl-gamma); do"
	" echo $p $(cut -d' ' -f22 /proc/$p/stat); done";

struct gtask {
	int pid, tgid, ppid;
	char state;
	unsigned long uid[4], gid[4];
	unsigned long long cap[5];
	long long start; /* clock ticks, workload only, else -1 */
	char name[64];
};

struct guest {
	struct gtask t[MAX_TASKS];
	int nr;
};

static int parse_guest(char *out, struct guest *g)
{
	char *line, *save = NULL;

	g->nr = 0;
	for (line = strtok_r(out, "\n", &save); line && g->nr < MAX_TASKS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct gtask *t = &g->t[g->nr];
		char st[4];
		int n = 0;

		if (sscanf(line, "%d %d %d %3s %lu %lu %lu %lu %lu %lu %lu %lu %llx %llx %llx %llx %llx %n",
			   &t->pid, &t->tgid, &t->ppid, st, &t->uid[0], &t->uid[1], &t->uid[2],
			   &t->uid[3], &t->gid[0], &t->gid[1], &t->gid[2], &t->gid[3], &t->cap[0],
			   &t->cap[1], &t->cap[2], &t->cap[3], &t->cap[4], &n) < 17 ||
		    !n)
			continue;
		t->state = st[0];
		t->start = -1;
		snprintf(t->name, sizeof(t->name), "%s", line + n);
		g->nr++;
	}
	return g->nr;
}

static bool guest_tasks(const char *target, struct guest *g)
{
	char *out = NULL, *line, *save = NULL;
	int i;

	if (lab_guest(target, status_cmd, &out) != 0 || parse_guest(out, g) < 10) {
		free(out);
		return false;
	}
	free(out);
	out = NULL;
	if (lab_guest(target, start_cmd, &out) != 0) {
		free(out);
		return false;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int pid;
		long long ticks;

		if (sscanf(line, "%d %lld", &pid, &ticks) != 2)
			continue;
		for (i = 0; i < g->nr; i++)
			if (g->t[i].pid == pid)
				g->t[i].start = ticks;
	}
	free(out);
	return true;
}

/* Tasks that exist for the guest's whole life, whose fields do not change. */
static bool stable(const struct gtask *t)
{
	static const char *const prefixes[] = { "imee-wl-", "ksoftirqd/", "migration/", "cpuhp/",
						 "kdevtmpfs", "oom_reaper", "khungtaskd" };
	size_t i;

	if (t->pid <= 2)
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(t->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool is_workload(const char *name)
{
	return !strncmp(name, "imee-wl-", 8);
}

/* Run the Linux jobs once: pslist (leaders, threads), pidlist, credlist. */
static json_t *run_jobs(const char *target, const char *engine)
{
	char *doc_text = NULL;
	json_t *doc = NULL;

	if (asprintf(&doc_text,
		     "{\"target\": {\"pid\": %d}, \"engine\": \"%s\", \"jobs\": ["
		     "{\"id\": \"ps\", \"type\": \"pslist\"},"
		     " {\"id\": \"pst\", \"type\": \"pslist\", \"threads\": true},"
		     " {\"id\": \"pid\", \"type\": \"pidlist\"},"
		     " {\"id\": \"cred\", \"type\": \"credlist\", \"threads\": true}]}",
		     lab_vmm_pid(target), engine) < 0)
		return NULL;
	if (lab_imeectl_run(doc_text, &doc) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	free(doc_text);
	return doc;
}

static json_t *ok_value(json_t *doc, const char *id, const char *target)
{
	json_t *r = lab_result(doc, id);

	if (!r)
		return NULL;
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "# %s: %s: %s\n", target, id,
			json_string_value(json_object_get(json_object_get(r, "error"), "message")));
		return NULL;
	}
	return json_object_get(r, "value");
}

/* How many of the guest's tasks (threads too, or leaders only) are in value. */
static int seen_in(const struct guest *g, json_t *value, bool threads)
{
	int i, n = 0;

	for (i = 0; i < g->nr; i++)
		if ((threads || g->t[i].pid == g->t[i].tgid) && lab_find_pid(value, g->t[i].pid))
			n++;
	return n;
}

static void check_target(struct __test_metadata *_metadata, const char *target,
			 const char *engine)
{
	struct guest *g = calloc(1, sizeof(*g));
	json_t *doc, *ps, *pst, *pids, *cred;
	int i, leaders = 0, stable_checked = 0, workload = 0;

	ASSERT_NE(NULL, g);
	ASSERT_TRUE(guest_tasks(target, g));
	doc = run_jobs(target, engine);
	ASSERT_NE(NULL, doc);
	ps = ok_value(doc, "ps", target);
	pst = ok_value(doc, "pst", target);
	pids = ok_value(doc, "pid", target);
	cred = ok_value(doc, "cred", target);
	ASSERT_NE(NULL, ps);
	ASSERT_NE(NULL, pst);
	ASSERT_NE(NULL, pids);
	ASSERT_NE(NULL, cred);
	for (i = 0; i < g->nr; i++)
		leaders += g->t[i].pid == g->t[i].tgid;
	TH_LOG("%s (%s): guest %d tasks (%d processes); pslist %zu, with threads %zu, pidlist %zu",
	       target, engine, g->nr, leaders, json_array_size(ps), json_array_size(pst),
	       json_array_size(pids));

	for (i = 0; i < g->nr; i++) {
		const struct gtask *t = &g->t[i];
		bool leader = t->pid == t->tgid;
		json_t *p = lab_find_pid(pst, t->pid), *q = lab_find_pid(ps, t->pid);
		json_t *c = lab_find_pid(cred, t->pid), *d = lab_find_pid(pids, t->pid);
		static const char *const caps[] = { "cap_inheritable", "cap_permitted",
						    "cap_effective", "cap_bset", "cap_ambient" };
		static const char *const uids[] = { "uid", "euid", "suid", "fsuid" };
		static const char *const gids[] = { "gid", "egid", "sgid", "fsgid" };
		int k;

		if (!stable(t))
			continue;
		stable_checked++;
		workload += is_workload(t->name);
		/* In pslist with threads; in pslist without only if a leader. */
		if (!p || !c || !d || (leader != (q != NULL))) {
			TH_LOG("%s: %d %s missing: pslist %d, threads %d, credlist %d, pidlist %d",
			       target, t->pid, t->name, q != NULL, p != NULL, c != NULL, d != NULL);
			EXPECT_TRUE(false);
			continue;
		}
		EXPECT_STREQ(t->name, json_string_value(json_object_get(p, "comm")));
		EXPECT_EQ(t->tgid, json_integer_value(json_object_get(p, "tgid")));
		EXPECT_EQ(t->ppid, json_integer_value(json_object_get(p, "ppid")));
		EXPECT_EQ((long long)t->uid[0], json_integer_value(json_object_get(p, "uid")));
		EXPECT_EQ((long long)t->gid[0], json_integer_value(json_object_get(p, "gid")));
		EXPECT_EQ(t->pid != 1 && !is_workload(t->name),
			  json_is_true(json_object_get(p, "kthread")));
		/* The workload sleeps in pause(): a state that holds still. */
		if (is_workload(t->name))
			EXPECT_EQ(t->state, json_string_value(json_object_get(p, "state"))[0]);
		if (t->start >= 0)
			EXPECT_EQ(t->start, json_integer_value(json_object_get(
						    p, "start_boottime_ns")) /
						    (1000000000 / USER_HZ));
		for (k = 0; k < 4; k++) {
			EXPECT_EQ((long long)t->uid[k], json_integer_value(json_object_get(c, uids[k])));
			EXPECT_EQ((long long)t->gid[k], json_integer_value(json_object_get(c, gids[k])));
		}
		for (k = 0; k < 5; k++)
			EXPECT_EQ(t->cap[k], lab_hex(json_object_get(c, caps[k])))
			{
				TH_LOG("%s: %d %s %s", target, t->pid, t->name, caps[k]);
			}
		EXPECT_STREQ(t->name, json_string_value(json_object_get(d, "comm")));
		EXPECT_EQ(t->tgid, json_integer_value(json_object_get(d, "tgid")));
		EXPECT_EQ(lab_hex(json_object_get(p, "address")), lab_hex(json_object_get(d, "task")));
	}
	/* alpha, beta, gamma and gamma's two threads. */
	EXPECT_EQ(5, workload);
	EXPECT_LE(10, stable_checked);
	/* Everything else: most of it in both views (churn is a few tasks). */
	EXPECT_LE(leaders - 5, seen_in(g, ps, false));
	EXPECT_LE(g->nr - 8, seen_in(g, pst, true));
	EXPECT_LE(g->nr - 8, seen_in(g, pids, true));
	EXPECT_GE(leaders + 5, (int)json_array_size(ps));
	json_decref(doc);
	free(g);
}

TEST(linux_jobs_match_the_guest)
{
	const char *const *t;

	unsetenv("IMEE_CACHE_DIR");
	setenv("IMEE_CACHE", "0", 1);
	for (t = lab_targets(); *t; t++)
		check_target(_metadata, *t, "software");
	unsetenv("IMEE_CACHE");
}

TEST(legacy_engine_agrees)
{
	const char *target = lab_target("4LEVEL") ? lab_target("4LEVEL") : lab_targets()[0];

	ASSERT_NE(NULL, target);
	setenv("IMEE_CACHE", "0", 1);
	check_target(_metadata, target, "legacy");
	unsetenv("IMEE_CACHE");
}

/* A second attach to the same kernel takes the cache, with the same results. */
/* The ImEE engine: every read by the agent, translated by the CPU's MMU. */
TEST(imee_engine_agrees)
{
	static const char *const roles[] = { "LA57", "4LEVEL" };
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const char *target = lab_target(roles[i]);

		if (!target)
			continue;
		check_target(_metadata, target, "imee");
	}
}

/*
 * walk over init_task's tasks list, emitting pid and comm, is pslist
 * (without threads) by another road: the same pids with the same comms,
 * up to the few processes that come and go between the two walks. hidden
 * on a target nothing has tampered with reports nothing.
 */
static void check_walk_and_hidden(struct __test_metadata *_metadata, const char *target,
				  const char *engine)
{
	char *text = NULL;
	json_t *doc = NULL, *ps, *w, *h, *v;
	size_t i;
	int same = 0, differ = 0, only_ps = 0, only_walk = 0;

	ASSERT_LT(0, asprintf(&text,
			      "{\"target\": {\"pid\": %d}, \"engine\": \"%s\", \"jobs\": ["
			      "{\"id\": \"ps\", \"type\": \"pslist\"},"
			      " {\"id\": \"w\", \"type\": \"walk\", \"struct\": \"task_struct\","
			      " \"list\": \"tasks\", \"head\": \"init_task\", \"head_is\": \"entry\","
			      " \"fields\": [\"pid\", \"comm\", \"real_cred->uid.val\"]},"
			      " {\"id\": \"h\", \"type\": \"hidden\"}]}",
			      lab_vmm_pid(target), engine));
	ASSERT_EQ(0, lab_imeectl_run(text, &doc));
	free(text);
	ps = ok_value(doc, "ps", target);
	w = ok_value(doc, "w", target);
	h = ok_value(doc, "h", target);
	ASSERT_NE(NULL, ps);
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, h);
	json_array_foreach(w, i, v) {
		json_t *f = json_object_get(v, "fields");
		json_t *p = lab_find_pid(ps, (int)json_integer_value(json_object_get(f, "pid")));

		if (!p) {
			only_walk++;
			continue;
		}
		if (!strcmp(json_string_value(json_object_get(f, "comm")) ?: "",
			    json_string_value(json_object_get(p, "comm")) ?: "") &&
		    json_integer_value(json_object_get(f, "real_cred->uid.val")) ==
			    json_integer_value(json_object_get(p, "uid")) &&
		    lab_hex(json_object_get(v, "address")) == lab_hex(json_object_get(p, "address")))
			same++;
		else
			differ++;
	}
	json_array_foreach(ps, i, v) {
		bool found = false;
		size_t k;
		json_t *e;

		json_array_foreach(w, k, e)
			found |= json_integer_value(json_object_get(json_object_get(e, "fields"),
								    "pid")) ==
				 json_integer_value(json_object_get(v, "pid"));
		only_ps += !found;
	}
	TH_LOG("%s (%s): pslist %zu, walk %zu: %d the same, %d differ, %d only in pslist,"
	       " %d only in walk; hidden %zu (views: pslist %lld, pidlist %lld)",
	       target, engine, json_array_size(ps), json_array_size(w), same, differ, only_ps,
	       only_walk, json_array_size(h),
	       json_integer_value(json_object_get(json_object_get(lab_result(doc, "h"), "views"),
						  "pslist")),
	       json_integer_value(json_object_get(json_object_get(lab_result(doc, "h"), "views"),
						  "pidlist")));
	EXPECT_LE(10, same);
	/* A task's pid, comm, uid and address do not change under one walk. */
	EXPECT_EQ(0, differ);
	/* Churn between the walks: a few processes (imee-lab-exec's, workers). */
	EXPECT_GE(3, only_ps + only_walk);
	EXPECT_TRUE(json_is_true(json_object_get(lab_result(doc, "w"), "complete")));
	/* Nothing hidden: every difference of the views must persist three rounds. */
	json_array_foreach(h, i, v)
		TH_LOG("%s: hidden? %s", target, json_dumps(v, JSON_COMPACT));
	EXPECT_EQ(0, json_array_size(h));
	json_decref(doc);
}

TEST(walk_is_pslist_and_nothing_is_hidden)
{
	static const char *const engines[] = { "imee", "software" };
	const char *const *t;
	size_t e;

	setenv("IMEE_CACHE", "0", 1);
	for (t = lab_targets(); *t; t++)
		for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++)
			check_walk_and_hidden(_metadata, *t, engines[e]);
	unsetenv("IMEE_CACHE");
}

TEST(cache_hit_gives_the_same_layout)
{
	const char *const *t;
	char dir[] = "/tmp/imee-cache-test-XXXXXX";

	ASSERT_NE(NULL, mkdtemp(dir));
	setenv("IMEE_CACHE_DIR", dir, 1);
	for (t = lab_targets(); *t; t++) {
		json_t *first = run_jobs(*t, "software"), *second, *k1, *k2, *a, *b;
		long long t1, t2;

		ASSERT_NE(NULL, first);
		second = run_jobs(*t, "software");
		ASSERT_NE(NULL, second);
		k1 = json_object_get(lab_result(first, "ps"), "kernel");
		k2 = json_object_get(lab_result(second, "ps"), "kernel");
		t1 = json_integer_value(json_object_get(lab_result(first, "ps"), "time_ns"));
		t2 = json_integer_value(json_object_get(lab_result(second, "ps"), "time_ns"));
		TH_LOG("%s: first pslist %lld ms (cache %s), second %lld ms (cache %s)", *t,
		       t1 / 1000000, json_string_value(json_object_get(k1, "cache")), t2 / 1000000,
		       json_string_value(json_object_get(k2, "cache")));
		/* The other targets run the same kernel: the first may hit already. */
		EXPECT_NE(NULL, json_string_value(json_object_get(k1, "cache")));
		EXPECT_STREQ("hit", json_string_value(json_object_get(k2, "cache")));
		EXPECT_TRUE(json_equal(json_object_get(k1, "btf"), json_object_get(k2, "btf")));
		EXPECT_STREQ(json_string_value(json_object_get(k1, "text")),
			     json_string_value(json_object_get(k2, "text")));
		/* The workload's processes read the same through the cached layout. */
		a = json_object_get(lab_result(first, "cred"), "value");
		b = json_object_get(lab_result(second, "cred"), "value");
		{
			size_t i;
			json_t *v;
			int same = 0;

			json_array_foreach(a, i, v) {
				const char *comm = json_string_value(json_object_get(v, "comm"));
				json_t *w = lab_find_pid(b, (int)json_integer_value(json_object_get(v, "pid")));

				if (comm && is_workload(comm)) {
					EXPECT_TRUE(w && json_equal(v, w));
					same++;
				}
			}
			EXPECT_EQ(5, same);
		}
		json_decref(first);
		json_decref(second);
	}
	unsetenv("IMEE_CACHE_DIR");
	lab_host("rm -rf /tmp/imee-cache-test-*", NULL);
}

TEST_HARNESS_MAIN
