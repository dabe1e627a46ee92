// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms decoded from guest memory by a "symbols" job, compared with the
 * guest's own /proc/kallsyms: the same address and the same type letter
 * (exactly: vmlinux symbols are shown with the letter kallsyms_names holds),
 * and no more vmlinux symbols than /proc/kallsyms lists in all.
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
#define TEST_TIMEOUT_DEFAULT 600

#define MAX_PICKS 32

/*
 * About 20 vmlinux symbols (three fields: no [module]) of the types asked
 * for, each with a name no other vmlinux symbol has, spread over the table;
 * then _text, then the total number of lines. All counting is done in the
 * guest so that little crosses the serial line.
 */
static const char pick_cmd[] =
	"awk 'NF == 3 && $2 ~ /^[TDtdRr]$/ { n[$3]++; a[$3] = $1; y[$3] = $2;"
	" if (n[$3] == 1) o[++k] = $3 }"
	" END { s = int(k / 20); if (s < 1) s = 1;"
	" for (i = 1; i <= k; i += s) if (n[o[i]] == 1) print a[o[i]], y[o[i]], o[i];"
	" print a[\"_text\"], y[\"_text\"], \"_text\"; print \"total\", NR }' /proc/kallsyms";

struct pick {
	uint64_t address;
	char type;
	char name[128];
};

static uint64_t json_u64(json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 0);
	return UINT64_MAX;
}

TEST(symbols_match_proc_kallsyms)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		struct pick picks[MAX_PICKS];
		char *out = NULL, *line, *save = NULL, *jobs = NULL, *doc_text = NULL;
		size_t nr = 0, i, used = 0, cap = 8192;
		unsigned long long total = 0;
		json_t *doc = NULL, *r, *value, *c;
		uint64_t text = 0;

		ASSERT_EQ(0, lab_guest(*t, pick_cmd, &out));
		ASSERT_NE(NULL, out);
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char addr[40], type[4], name[128];

			if (sscanf(line, "total %llu", &total) == 1)
				continue;
			if (nr >= MAX_PICKS ||
			    sscanf(line, "%39s %3s %127s", addr, type, name) != 3)
				continue;
			picks[nr].address = strtoull(addr, NULL, 16);
			picks[nr].type = type[0];
			snprintf(picks[nr].name, sizeof(picks[nr].name), "%s", name);
			if (!strcmp(name, "_text"))
				text = picks[nr].address;
			nr++;
		}
		free(out);
		TH_LOG("%s: %zu symbols picked, /proc/kallsyms has %llu lines", *t, nr, total);
		ASSERT_LE(10, nr);
		ASSERT_LT(0, total);
		ASSERT_NE(0, text); /* run as root: addresses are not hidden */

		jobs = malloc(cap);
		ASSERT_NE(NULL, jobs);
		used = (size_t)snprintf(jobs, cap,
					"{\"id\": \"c\", \"type\": \"symbols\"},"
					" {\"id\": \"s\", \"type\": \"symbols\", \"names\": [");
		for (i = 0; i < nr; i++)
			used += (size_t)snprintf(jobs + used, cap - used, "%s\"%s\"", i ? ", " : "",
						 picks[i].name);
		ASSERT_GT(cap, used + 3);
		strcat(jobs, "]}");
		ASSERT_LE(0, asprintf(&doc_text, "{\"target\": {\"pid\": %d}, \"jobs\": [%s]}",
				      lab_vmm_pid(*t), jobs));
		free(jobs);
		ASSERT_EQ(0, lab_imeectl_run(doc_text, &doc));
		free(doc_text);
		ASSERT_NE(NULL, doc);

		r = lab_result(doc, "c");
		ASSERT_NE(NULL, r);
		if (!json_is_true(json_object_get(r, "ok")))
			TH_LOG("%s: %s", *t,
			       json_string_value(json_object_get(json_object_get(r, "error"),
								 "message")));
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
		value = json_object_get(r, "value");
		c = json_object_get(value, "count");
		TH_LOG("%s: %lld vmlinux symbols decoded, _text 0x%" PRIx64, *t,
		       (long long)json_integer_value(c), text);
		ASSERT_TRUE(json_is_integer(c));
		EXPECT_LT(1000, json_integer_value(c));
		EXPECT_GE((long long)total, json_integer_value(c));
		EXPECT_EQ(text, json_u64(json_object_get(value, "base")));
		EXPECT_EQ(text - 0xffffffff81000000ULL,
			  json_u64(json_object_get(value, "kaslr_slide")));

		r = lab_result(doc, "s");
		ASSERT_NE(NULL, r);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
		value = json_object_get(r, "value");
		for (i = 0; i < nr; i++) {
			json_t *sym = json_object_get(value, picks[i].name);
			const char *type = json_string_value(json_object_get(sym, "type"));

			if (!json_is_object(sym)) {
				TH_LOG("%s: %s not found", *t, picks[i].name);
				EXPECT_TRUE(json_is_object(sym));
				continue;
			}
			EXPECT_EQ(picks[i].address, json_u64(json_object_get(sym, "address")))
			{
				TH_LOG("%s: %s at 0x%" PRIx64, *t, picks[i].name, picks[i].address);
			}
			ASSERT_NE(NULL, type);
			EXPECT_EQ(picks[i].type, type[0])
			{
				TH_LOG("%s: %s has type %c, guest says %c", *t, picks[i].name,
				       type[0], picks[i].type);
			}
		}
		json_decref(doc);
	}
}

TEST(unknown_symbol_is_null)
{
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		char *doc_text = NULL;
		json_t *doc = NULL, *r, *value;

		ASSERT_LE(0, asprintf(&doc_text,
				      "{\"target\": {\"pid\": %d}, \"jobs\": [{\"id\": \"s\","
				      " \"type\": \"symbols\", \"names\": [\"linux_banner\","
				      " \"no_such_symbol_imee\"]}]}",
				      lab_vmm_pid(*t)));
		ASSERT_EQ(0, lab_imeectl_run(doc_text, &doc));
		free(doc_text);
		ASSERT_NE(NULL, doc);
		r = lab_result(doc, "s");
		ASSERT_NE(NULL, r);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
		value = json_object_get(r, "value");
		EXPECT_TRUE(json_is_null(json_object_get(value, "no_such_symbol_imee")));
		EXPECT_EQ(lab_guest_symbol(*t, "linux_banner"),
			  json_u64(json_object_get(json_object_get(value, "linux_banner"),
						   "address")));
		json_decref(doc);
	}
}

TEST_HARNESS_MAIN
