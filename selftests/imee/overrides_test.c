// SPDX-License-Identifier: GPL-2.0
/*
 * The overrides of a job file ("system_map", "btf") on a real guest, against
 * what imee finds in the guest's memory alone:
 * - a System.map made from the guest's own /proc/kallsyms (its vmlinux
 *   symbols that the jobs use, and every __x64_sys_* handler; addresses
 *   already slid, so the slide found must be 0) gives the same _text, the
 *   same long-lived tasks (pid 1, kthreadd, the lab's workload) at the same
 *   addresses, and the same sys_call_table, entry for entry;
 * - the same map moved by 4 KiB is another kernel's: "mismatch";
 * - when L1 runs the very kernel build the target runs (the same banner:
 *   L1 always boots Debian's amd64 flavour), L1's /sys/kernel/btf/vmlinux
 *   is a BTF file for the target, and gives the same tasks too.
 * The BTF is not copied out of the guest: imee-lab-exec carries text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lab.h"

/* Ground truth comes through a slow serial line: a bound, not a timing test. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 900

/* The vmlinux symbols (three fields: no [module]) the Linux jobs look up. */
static const char map_cmd[] =
    "awk 'NF == 3 && ($3 ~ /^__x64_sys_/ || $3 ~ /^(_text|_stext|_etext|_end|"
    "linux_banner|init_task|init_pid_ns|modules|sys_call_table|ia32_sys_call_"
    "table|"
    "x64_sys_call|__start_BTF|__stop_BTF|vdso_mapping)$/)' /proc/kallsyms";

static uint64_t json_u64(json_t *v) {
  if (json_is_integer(v))
    return (uint64_t)json_integer_value(v);
  if (json_is_string(v))
    return strtoull(json_string_value(v), NULL, 0);
  return UINT64_MAX;
}

static const char *error_message(json_t *r) {
  const char *m = json_string_value(
      json_object_get(json_object_get(r, "error"), "message"));

  return m ? m : "(none)";
}

static bool result_ok(const char *target, json_t *doc, const char *id) {
  json_t *r = lab_result(doc, id);

  if (r && json_is_true(json_object_get(r, "ok")))
    return true;
  fprintf(stderr, "# %s: job %s failed: %s\n", target, id,
          r ? error_message(r) : "none");
  return false;
}

/* Write text to a new temporary file on L1; its path in path. */
static int write_temp(char *path, const char *text) {
  size_t n = strlen(text);
  int fd = mkstemp(path);

  if (fd < 0)
    return -1;
  if (write(fd, text, n) != (ssize_t)n) {
    close(fd);
    return -1;
  }
  return close(fd);
}

/* The same text with every address moved by delta (another build's map). */
static char *moved_map(const char *text, uint64_t delta) {
  char *out = malloc(strlen(text) * 2 + 1), *p = out;
  const char *line = text;

  if (!out)
    return NULL;
  while (*line) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *rest;
    unsigned long long a = strtoull(line, &rest, 16);

    p += sprintf(p, "%016llx%.*s\n", a + delta,
                 (int)(len - (size_t)(rest - line)), rest);
    line += len + (nl ? 1 : 0);
  }
  *p = '\0';
  return out;
}

/* Run pslist, syscalldmp and symbols with the overrides given (JSON members, or
 * ""). */
static json_t *run_with(const char *target, const char *overrides) {
  char *text = NULL;
  json_t *doc = NULL;

  if (asprintf(
          &text,
          "{\"target\": {\"pid\": %d}, \"cache\": false, %s \"jobs\": ["
          "{\"id\": \"ps\", \"type\": \"pslist\"},"
          "{\"id\": \"sc\", \"type\": \"syscalldmp\"},"
          "{\"id\": \"sym\", \"type\": \"symbols\", \"names\": [\"_text\", "
          "\"init_task\"]}]}",
          lab_vmm_pid(target), overrides) < 0)
    return NULL;
  if (lab_imeectl_run(text, &doc) != 0) {
    json_decref(doc);
    doc = NULL;
  }
  free(text);
  return doc;
}

/* The task with this pid in a pslist result, or NULL. */
static json_t *task(json_t *r, long long pid) {
  json_t *t;
  size_t i;

  json_array_foreach(json_object_get(r, "value"), i,
                     t) if (json_integer_value(json_object_get(t, "pid")) ==
                            pid) return t;
  return NULL;
}

static const char *task_comm(json_t *r, long long pid) {
  return json_string_value(json_object_get(task(r, pid), "comm"));
}

/* The workload's alpha process: a task whose comm is known, that lives all
 * along. */
static long long alpha_pid(json_t *r) {
  json_t *t;
  size_t i;

  json_array_foreach(json_object_get(r, "value"), i, t) {
    const char *c = json_string_value(json_object_get(t, "comm"));

    if (c && !strcmp(c, "imee-wl-alpha"))
      return json_integer_value(json_object_get(t, "pid"));
  }
  return -1;
}

/* Long-lived tasks read alike from two documents: same comm, same task_struct.
 */
static int same_tasks(const char *target, json_t *a, json_t *b) {
  long long pids[3] = {1, 2, alpha_pid(lab_result(a, "ps"))};
  json_t *ra = lab_result(a, "ps"), *rb = lab_result(b, "ps");
  int bad = 0;
  size_t i;

  for (i = 0; i < 3; i++) {
    json_t *ta = task(ra, pids[i]), *tb = task(rb, pids[i]);

    if (!ta || !tb ||
        strcmp(task_comm(ra, pids[i]) ?: "", task_comm(rb, pids[i]) ?: "") ||
        json_u64(json_object_get(ta, "address")) !=
            json_u64(json_object_get(tb, "address"))) {
      fprintf(stderr, "# %s: pid %lld differs (%s / %s)\n", target, pids[i],
              ta ? task_comm(ra, pids[i]) : "missing",
              tb ? task_comm(rb, pids[i]) : "missing");
      bad++;
    }
  }
  return bad;
}

/* sys_call_table: the same place, size and handlers, and nothing flagged that
 * was not. */
static int same_syscalls(const char *target, json_t *a, json_t *b) {
  json_t *ta = json_object_get(json_object_get(lab_result(a, "sc"), "value"),
                               "sys_call_table");
  json_t *tb = json_object_get(json_object_get(lab_result(b, "sc"), "value"),
                               "sys_call_table");
  json_t *ea = json_object_get(ta, "entries"),
         *eb = json_object_get(tb, "entries");
  int bad = 0;
  size_t i;

  if (json_u64(json_object_get(ta, "address")) !=
          json_u64(json_object_get(tb, "address")) ||
      json_array_size(ea) == 0 || json_array_size(ea) != json_array_size(eb)) {
    fprintf(stderr, "# %s: sys_call_table differs\n", target);
    return 1;
  }
  for (i = 0; i < json_array_size(ea); i++) {
    json_t *x = json_array_get(ea, i), *y = json_array_get(eb, i);

    if (json_u64(json_object_get(x, "handler")) !=
            json_u64(json_object_get(y, "handler")) ||
        json_is_true(json_object_get(x, "flagged")) !=
            json_is_true(json_object_get(y, "flagged")))
      bad++;
  }
  if (bad)
    fprintf(stderr, "# %s: %d sys_call_table entries differ\n", target, bad);
  return bad;
}

TEST(system_map_and_btf_files) {
  const char *const *t;

  for (t = lab_targets(); *t; t++) {
    char map_path[] = "/tmp/imee-selftest-map-XXXXXX";
    char moved_path[] = "/tmp/imee-selftest-moved-XXXXXX";
    char *map = NULL, *moved, *members = NULL, *l1_version = NULL, *version;
    json_t *mem, *over, *sym, *kernel;
    size_t lines = 0;
    const char *p;

    ASSERT_EQ(0, lab_guest(*t, map_cmd, &map));
    ASSERT_NE(NULL, map);
    for (p = map; (p = strchr(p, '\n')); p++)
      lines++;
    TH_LOG("%s: a System.map of %zu lines from /proc/kallsyms", *t, lines);
    ASSERT_LT(100, lines);
    ASSERT_EQ(0, write_temp(map_path, map));
    moved = moved_map(map, 0x1000);
    ASSERT_NE(NULL, moved);
    ASSERT_EQ(0, write_temp(moved_path, moved));
    free(moved);
    free(map);

    mem = run_with(*t, "");
    ASSERT_NE(NULL, mem);
    ASSERT_TRUE(result_ok(*t, mem, "ps"));
    ASSERT_TRUE(result_ok(*t, mem, "sc"));
    ASSERT_LE(0, asprintf(&members, "\"system_map\": \"%s\",", map_path));
    over = run_with(*t, members);
    free(members);
    ASSERT_NE(NULL, over);
    EXPECT_TRUE(result_ok(*t, over, "ps"));
    EXPECT_TRUE(result_ok(*t, over, "sc"));
    EXPECT_TRUE(result_ok(*t, over, "sym"));
    kernel = json_object_get(lab_result(over, "ps"), "kernel");
    EXPECT_EQ(json_u64(json_object_get(
                  json_object_get(lab_result(mem, "ps"), "kernel"), "text")),
              json_u64(json_object_get(kernel, "text")));
    EXPECT_STREQ(map_path,
                 json_string_value(json_object_get(kernel, "system_map")));
    EXPECT_STREQ("off", json_string_value(json_object_get(kernel, "cache")));
    /* /proc/kallsyms' addresses are slid already: nothing to add. */
    sym = json_object_get(lab_result(over, "sym"), "kallsyms");
    EXPECT_EQ(0, json_u64(json_object_get(sym, "kaslr_slide")));
    EXPECT_EQ(0, same_tasks(*t, mem, over));
    EXPECT_EQ(0, same_syscalls(*t, mem, over));
    json_decref(over);

    /* Another build's map. */
    ASSERT_LE(0, asprintf(&members, "\"system_map\": \"%s\",", moved_path));
    over = run_with(*t, members);
    free(members);
    ASSERT_NE(NULL, over);
    EXPECT_STREQ(
        "mismatch",
        json_string_value(json_object_get(
            json_object_get(lab_result(over, "ps"), "error"), "code")));
    TH_LOG("%s: moved map: %s", *t, error_message(lab_result(over, "ps")));
    json_decref(over);

    /* L1's own BTF, when L1 runs the target's kernel build. */
    version = lab_guest_proc_version(*t);
    if (lab_host("cat /proc/version", &l1_version) == 0 && version &&
        l1_version && !strncmp(version, l1_version, strlen(version))) {
      over = run_with(*t, "\"btf\": \"/sys/kernel/btf/vmlinux\",");
      ASSERT_NE(NULL, over);
      EXPECT_TRUE(result_ok(*t, over, "ps"));
      kernel = json_object_get(lab_result(over, "ps"), "kernel");
      EXPECT_STREQ("/sys/kernel/btf/vmlinux",
                   json_string_value(json_object_get(
                       json_object_get(kernel, "btf"), "file")));
      EXPECT_EQ(
          json_u64(json_object_get(
              json_object_get(json_object_get(lab_result(mem, "ps"), "kernel"),
                              "btf"),
              "checksum")),
          json_u64(
              json_object_get(json_object_get(kernel, "btf"), "checksum")));
      EXPECT_EQ(0, same_tasks(*t, mem, over));
      json_decref(over);
    } else {
      TH_LOG("%s: L1 runs another kernel: no BTF file to try", *t);
    }
    free(version);
    free(l1_version);
    json_decref(mem);
    unlink(map_path);
    unlink(moved_path);
  }
}

TEST_HARNESS_MAIN
