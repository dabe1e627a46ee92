// SPDX-License-Identifier: GPL-2.0
/*
 * syscalldmp and modules compared with what the guest itself says.
 *
 * syscalldmp: the guest's own /proc/kallsyms gives the table's address,
 * the symbol after it (the room the table may fill), and the address of
 * every __x64_sys_* (and __ia32_*, sys_ni_syscall) handler; every entry
 * imee reads must point exactly at the symbol it names, the well-known
 * numbers at their handlers (0 read, 1 write, 2 open, 3 close, 60 exit,
 * 231 exit_group), and nothing is flagged on the lab's clean guests. The
 * 32-bit table is null exactly when the guest has no ia32_sys_call_table
 * (Debian's 6.1 kernels dispatch through x64_sys_call()'s switch since the
 * 2024 hardening, and have no 32-bit table at all), and used_for_dispatch
 * says whether x64_sys_call exists.
 *
 * modules: the guest's /proc/modules, line by line and in its order (name,
 * size, reference count, state, address). The lab's targets load the
 * virtio modules their agent's channel needs (scripts/lab.d/l2-init), so
 * the list is not empty; were it empty, both sides would have to be.
 *
 * Each job runs on the three engines (software, legacy, imee) in one job
 * file, and the three values must be identical; then again through the
 * per-kernel cache, with the same values. And libimee sizes the table from
 * kallsyms alone (no BTF) as it does with BTF: its fallback, on the real
 * kernel's layout (the table is followed by alignment padding there).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imee/imee.h>

#include "lab.h"
#include "kselftest_harness.h"

/* Ground truth comes through a slow serial line: a bound, not a timing test. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 900

#define MAX_GSYMS 4096

/*
 * The table's address, the lowest address above it, and the handlers'
 * names and addresses, from the core kernel's lines of /proc/kallsyms
 * (three fields; modules' symbols have a fourth).
 */
static const char ksyms_cmd[] =
	"t=$(awk '$3 == \"sys_call_table\" { print $1 }' /proc/kallsyms);"
	" echo next $(awk -v t=\"$t\" 'NF == 3 && $1 > t && (n == \"\" || $1 < n) { n = $1 }"
	" END { print n }' /proc/kallsyms);"
	" awk 'NF == 3 && ($3 ~ /^(__x64_sys_|__ia32_sys_|__ia32_compat_sys_)/ ||"
	" $3 == \"sys_ni_syscall\" || $3 == \"sys_call_table\" ||"
	" $3 == \"ia32_sys_call_table\" || $3 == \"x64_sys_call\" || $3 == \"_stext\" ||"
	" $3 == \"_etext\") { print $1, $3 }' /proc/kallsyms";

struct gsym {
	uint64_t addr;
	char name[96];
};

struct gsyms {
	struct gsym s[MAX_GSYMS];
	int nr;
	uint64_t next; /* the lowest symbol address above sys_call_table */
};

static bool guest_ksyms(const char *target, struct gsyms *g)
{
	char *out = NULL, *line, *save = NULL;

	g->nr = 0;
	g->next = 0;
	if (lab_guest(target, ksyms_cmd, &out) != 0) {
		free(out);
		return false;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct gsym *s = &g->s[g->nr];

		if (!strncmp(line, "next ", 5)) {
			g->next = strtoull(line + 5, NULL, 16);
			continue;
		}
		if (g->nr < MAX_GSYMS && sscanf(line, "%" SCNx64 " %95s", &s->addr, s->name) == 2)
			g->nr++;
	}
	free(out);
	return g->nr > 0;
}

/* The address of name in the guest (the first), or 0. */
static uint64_t gaddr(const struct gsyms *g, const char *name)
{
	int i;

	for (i = 0; i < g->nr; i++)
		if (!strcmp(g->s[i].name, name))
			return g->s[i].addr;
	return 0;
}

/* Does the guest have a symbol called name at addr? */
static bool gat(const struct gsyms *g, const char *name, uint64_t addr)
{
	int i;

	for (i = 0; i < g->nr; i++)
		if (g->s[i].addr == addr && !strcmp(g->s[i].name, name))
			return true;
	return false;
}

static const char *const engines[] = { "software", "legacy", "imee" };
#define NR_ENGINES 3

/* syscalldmp and modules on every engine: ids "s-ENGINE" and "m-ENGINE". */
static json_t *run_jobs(const char *target)
{
	char *text = NULL;
	json_t *doc = NULL;

	if (asprintf(&text,
		     "{\"target\": {\"pid\": %d}, \"jobs\": ["
		     "{\"id\": \"s-software\", \"type\": \"syscalldmp\", \"engine\": \"software\"},"
		     " {\"id\": \"s-legacy\", \"type\": \"syscalldmp\", \"engine\": \"legacy\"},"
		     " {\"id\": \"s-imee\", \"type\": \"syscalldmp\", \"engine\": \"imee\"},"
		     " {\"id\": \"m-software\", \"type\": \"modules\", \"engine\": \"software\"},"
		     " {\"id\": \"m-legacy\", \"type\": \"modules\", \"engine\": \"legacy\"},"
		     " {\"id\": \"m-imee\", \"type\": \"modules\", \"engine\": \"imee\"}]}",
		     lab_vmm_pid(target)) < 0)
		return NULL;
	if (lab_imeectl_run(text, &doc) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	free(text);
	return doc;
}

/* The result's value if it is ok (else NULL, with its error logged). */
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

/* Every engine's value is the software engine's. */
static void engines_agree(struct __test_metadata *_metadata, json_t *doc, const char *prefix,
			  const char *target)
{
	char id[32];
	json_t *first;
	int e;

	snprintf(id, sizeof(id), "%s-%s", prefix, engines[0]);
	first = ok_value(doc, id, target);
	ASSERT_NE(NULL, first);
	for (e = 1; e < NR_ENGINES; e++) {
		json_t *v;

		snprintf(id, sizeof(id), "%s-%s", prefix, engines[e]);
		v = ok_value(doc, id, target);
		EXPECT_TRUE(v && json_equal(first, v))
		{
			TH_LOG("%s: %s differs from %s-%s", target, id, prefix, engines[0]);
		}
	}
}

static json_t *entry_nr(json_t *entries, int nr)
{
	json_t *e = json_array_get(entries, (size_t)nr);

	return e && json_integer_value(json_object_get(e, "nr")) == nr ? e : NULL;
}

static void check_syscalls(struct __test_metadata *_metadata, const char *target, json_t *value,
			   const struct gsyms *g)
{
	static const struct {
		int nr;
		const char *name;
	} known[] = { { 0, "__x64_sys_read" },	{ 1, "__x64_sys_write" },
		      { 2, "__x64_sys_open" },	{ 3, "__x64_sys_close" },
		      { 60, "__x64_sys_exit" }, { 231, "__x64_sys_exit_group" } };
	json_t *t = json_object_get(value, "sys_call_table"), *ia32, *entries, *e;
	uint64_t table = gaddr(g, "sys_call_table"), size;
	size_t i, named = 0;

	ASSERT_TRUE(json_is_object(t));
	ASSERT_NE(0, table);
	ASSERT_NE(0, g->next);
	EXPECT_EQ(table, lab_hex(json_object_get(t, "address")));
	size = (uint64_t)json_integer_value(json_object_get(t, "size"));
	entries = json_object_get(t, "entries");
	TH_LOG("%s: sys_call_table at 0x%" PRIx64 ", %" PRIu64 " entries (from %s), next symbol"
	       " at +%" PRIu64 " bytes, used for dispatch: %s",
	       target, table, size, json_string_value(json_object_get(t, "size_from")),
	       g->next - table,
	       json_is_true(json_object_get(t, "used_for_dispatch")) ? "yes" : "no");
	/* The table fills the room before the next symbol, but for alignment padding. */
	EXPECT_LE(8 * size, g->next - table);
	EXPECT_GT(8 * size + 64, g->next - table);
	EXPECT_LE(300, size);
	EXPECT_EQ(size, json_array_size(entries));
	/* Debian's kernels have BTF: NR_syscalls comes from it. */
	EXPECT_STREQ("btf", json_string_value(json_object_get(t, "size_from")));
	EXPECT_EQ(0, json_integer_value(json_object_get(t, "flagged")));
	EXPECT_EQ(!gaddr(g, "x64_sys_call"), json_is_true(json_object_get(t, "used_for_dispatch")));

	/* Every entry points exactly at the guest's symbol of the name imee gives it. */
	json_array_foreach(entries, i, e) {
		const char *sym = json_string_value(json_object_get(e, "symbol"));
		uint64_t h = lab_hex(json_object_get(e, "handler"));

		EXPECT_EQ((json_int_t)i, json_integer_value(json_object_get(e, "nr")));
		EXPECT_FALSE(json_is_true(json_object_get(e, "flagged")))
		{
			TH_LOG("%s: entry %zu flagged: %s", target, i,
			       json_string_value(json_object_get(e, "reason")));
		}
		EXPECT_TRUE(sym && gat(g, sym, h) &&
			    json_integer_value(json_object_get(e, "offset")) == 0)
		{
			TH_LOG("%s: entry %zu: 0x%" PRIx64 " named %s", target, i, h,
			       sym ? sym : "(none)");
		}
		named += sym && gat(g, sym, h);
	}
	EXPECT_EQ(size, named);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		e = entry_nr(entries, known[i].nr);
		ASSERT_NE(NULL, e);
		EXPECT_STREQ(known[i].name, json_string_value(json_object_get(e, "symbol")));
		EXPECT_EQ(gaddr(g, known[i].name), lab_hex(json_object_get(e, "handler")));
	}

	/* The 32-bit table: there exactly when the guest has one, and as clean. */
	ia32 = json_object_get(value, "ia32_sys_call_table");
	ASSERT_NE(NULL, ia32);
	EXPECT_EQ(!gaddr(g, "ia32_sys_call_table"), json_is_null(ia32));
	if (json_is_object(ia32)) {
		EXPECT_EQ(gaddr(g, "ia32_sys_call_table"), lab_hex(json_object_get(ia32, "address")));
		EXPECT_EQ(0, json_integer_value(json_object_get(ia32, "flagged")));
		json_array_foreach(json_object_get(ia32, "entries"), i, e) {
			const char *sym = json_string_value(json_object_get(e, "symbol"));

			EXPECT_TRUE(sym && gat(g, sym, lab_hex(json_object_get(e, "handler"))));
		}
	} else {
		TH_LOG("%s: no ia32_sys_call_table in the guest's kallsyms, null in imee's",
		       target);
	}
}

struct gmod {
	char name[64], state[16];
	long long size, refcount;
	uint64_t addr;
};

/* /proc/modules: "name size refcount deps state address", in the kernel's list order. */
static int guest_modules(const char *target, struct gmod *m, int max)
{
	char *out = NULL, *line, *save = NULL;
	int n = 0;

	if (lab_guest(target, "cat /proc/modules", &out) != 0) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char deps[512];

		if (sscanf(line, "%63s %lld %lld %511s %15s %" SCNx64, m[n].name, &m[n].size,
			   &m[n].refcount, deps, m[n].state, &m[n].addr) == 6)
			n++;
	}
	free(out);
	return n;
}

static const char *state_name(const char *proc_state)
{
	if (!strcmp(proc_state, "Live"))
		return "live";
	if (!strcmp(proc_state, "Loading"))
		return "coming";
	if (!strcmp(proc_state, "Unloading"))
		return "going";
	return "?";
}

static void check_modules(struct __test_metadata *_metadata, const char *target, json_t *value)
{
	struct gmod m[64];
	int n = guest_modules(target, m, 64), i;

	ASSERT_LE(0, n);
	ASSERT_TRUE(json_is_array(value));
	TH_LOG("%s: %d modules in /proc/modules, %zu in imee's list", target, n,
	       json_array_size(value));
	EXPECT_EQ((size_t)n, json_array_size(value));
	if (!n)
		TH_LOG("%s: no module loaded: both lists are empty", target);
	for (i = 0; i < n && i < (int)json_array_size(value); i++) {
		json_t *v = json_array_get(value, (size_t)i);

		EXPECT_STREQ(m[i].name, json_string_value(json_object_get(v, "name")));
		EXPECT_EQ(m[i].size, json_integer_value(json_object_get(v, "size")));
		EXPECT_EQ(m[i].refcount, json_integer_value(json_object_get(v, "refcount")));
		EXPECT_STREQ(state_name(m[i].state),
			     json_string_value(json_object_get(v, "state")));
		EXPECT_EQ(m[i].addr, lab_hex(json_object_get(v, "base")));
		/* struct module lies in the module area, as the walk checked. */
		EXPECT_LE(0xffffffffa0000000ULL, lab_hex(json_object_get(v, "address")));
	}
}

TEST(syscalldmp_and_modules_match_the_guest)
{
	const char *const *t;

	setenv("IMEE_CACHE", "0", 1);
	for (t = lab_targets(); *t; t++) {
		struct gsyms *g = calloc(1, sizeof(*g));
		json_t *doc;

		ASSERT_NE(NULL, g);
		ASSERT_TRUE(guest_ksyms(*t, g));
		doc = run_jobs(*t);
		ASSERT_NE(NULL, doc);
		engines_agree(_metadata, doc, "s", *t);
		engines_agree(_metadata, doc, "m", *t);
		if (ok_value(doc, "s-software", *t))
			check_syscalls(_metadata, *t, ok_value(doc, "s-software", *t), g);
		if (ok_value(doc, "m-software", *t))
			check_modules(_metadata, *t, ok_value(doc, "m-software", *t));
		json_decref(doc);
		free(g);
	}
	unsetenv("IMEE_CACHE");
}

/* A second attach takes the cache (the modules list head and layout), with the same values. */
TEST(cache_gives_the_same_values)
{
	const char *target = lab_targets()[0];
	char dir[] = "/tmp/imee-cache-test-XXXXXX";
	json_t *first, *second;
	int e;

	ASSERT_NE(NULL, target);
	ASSERT_NE(NULL, mkdtemp(dir));
	setenv("IMEE_CACHE_DIR", dir, 1);
	first = run_jobs(target);
	second = run_jobs(target);
	ASSERT_NE(NULL, first);
	ASSERT_NE(NULL, second);
	EXPECT_STREQ("hit", json_string_value(json_object_get(
				    json_object_get(lab_result(second, "m-software"), "kernel"),
				    "cache")));
	for (e = 0; e < NR_ENGINES; e++) {
		char id[32];

		snprintf(id, sizeof(id), "m-%s", engines[e]);
		EXPECT_TRUE(json_equal(ok_value(first, id, target), ok_value(second, id, target)));
		snprintf(id, sizeof(id), "s-%s", engines[e]);
		EXPECT_TRUE(json_equal(ok_value(first, id, target), ok_value(second, id, target)));
	}
	json_decref(first);
	json_decref(second);
	unsetenv("IMEE_CACHE_DIR");
	lab_host("rm -rf /tmp/imee-cache-test-*", NULL);
}

/* Without BTF, the room before the next symbol less its zero padding: the same table. */
TEST(kallsyms_alone_size_the_table_alike)
{
	const char *const *t;

	setenv("IMEE_CACHE", "0", 1);
	for (t = lab_targets(); *t; t++) {
		IMEE_OPTS(imee_attach_opts, ao, .pid = lab_vmm_pid(*t));
		IMEE_OPTS(imee_linux_syscalls_opts, so, .abi = IMEE_LINUX_SYSCALLS_X64);
		struct imee_linux_syscall_table table;
		struct imee_linux_kallsyms *ks = NULL;
		const struct imee_vcpu_regs *vcpus;
		struct imee_walk_opts opts;
		struct imee_session *s;
		struct imee_vmem vmem;
		struct imee_mem mem;
		json_t *doc, *v, *entries;
		size_t i;

		doc = run_jobs(*t);
		ASSERT_NE(NULL, doc);
		v = json_object_get(ok_value(doc, "s-software", *t), "sys_call_table");
		ASSERT_TRUE(json_is_object(v));
		ASSERT_EQ(0, imee_session_attach(&ao, &s));
		ASSERT_LT(0, imee_session_vcpus(s, &vcpus));
		imee_walk_opts_from_vcpu(&vcpus[0], &opts);
		ASSERT_EQ(0, imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &mem));
		ASSERT_EQ(0, imee_linux_kallsyms_load(&mem, &opts, &ks));
		ASSERT_EQ(0, imee_vmem_from_walk(&mem, &opts, &vmem));
		ASSERT_EQ(0, imee_linux_syscalls(ks, &vmem, &so, &table));
		TH_LOG("%s: from kallsyms alone %zu entries, from BTF %lld", *t, table.size,
		       json_integer_value(json_object_get(v, "size")));
		EXPECT_EQ(IMEE_LINUX_SYSCALL_COUNT_KALLSYMS, table.count_source);
		EXPECT_EQ(json_integer_value(json_object_get(v, "size")), (json_int_t)table.size);
		EXPECT_EQ(0, table.nr_flagged);
		entries = json_object_get(v, "entries");
		for (i = 0; i < table.nr && i < json_array_size(entries); i++) {
			json_t *e = json_array_get(entries, i);

			EXPECT_EQ(lab_hex(json_object_get(e, "handler")), table.entries[i].handler);
			EXPECT_STREQ(json_string_value(json_object_get(e, "symbol")),
				     table.entries[i].symbol);
		}
		imee_linux_syscall_table_free(&table);
		imee_vmem_release(&vmem);
		imee_linux_kallsyms_free(ks);
		imee_session_detach(s);
		json_decref(doc);
	}
	unsetenv("IMEE_CACHE");
}

TEST_HARNESS_MAIN
