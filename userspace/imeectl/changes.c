// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl run --repeat --changes and imeectl watch: what changed in a list
 * job's result between two rounds. Each entry has a key: pid and address
 * for pslist and pidlist (a pid used again by a new task is one entry gone
 * and one come), pid for credlist, name and address for modules, table and
 * number for syscalldmp. A key one round has and the other has not is an
 * entry that came or went; for credlist, modules and syscalldmp, an entry
 * under the same key with other contents changed (pslist's and pidlist's
 * entries change all the time, their state for one: not reported).
 */
#include "changes.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

#define KEY_MAX 96

enum kind { NOT_TRACKED, PSLIST, PIDLIST, CREDLIST, MODULES, SYSCALLDMP };

static enum kind kind_of(json_t *result)
{
	static const struct {
		const char *type;
		enum kind kind;
	} kinds[] = {
		{ "pslist", PSLIST },	{ "pidlist", PIDLIST },	      { "credlist", CREDLIST },
		{ "modules", MODULES }, { "syscalldmp", SYSCALLDMP },
	};
	const char *type = json_string_value(json_object_get(result, "type"));
	size_t i;

	for (i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(type, kinds[i].type))
			return kinds[i].kind;
	return NOT_TRACKED;
}

bool changes_tracked(json_t *result)
{
	return kind_of(result) != NOT_TRACKED;
}

/* The key of a list entry (false: it has none, and is not compared). */
static bool entry_key(enum kind kind, json_t *e, char *buf, size_t size)
{
	json_t *pid = json_object_get(e, "pid");
	const char *addr = json_string_value(json_object_get(e, "address"));
	const char *name = json_string_value(json_object_get(e, "name"));

	switch (kind) {
	case PSLIST:
	case PIDLIST:
		if (!json_is_integer(pid) || !addr)
			return false;
		snprintf(buf, size, "%lld@%.24s", (long long)json_integer_value(pid), addr);
		return true;
	case CREDLIST:
		if (!json_is_integer(pid))
			return false;
		snprintf(buf, size, "%lld", (long long)json_integer_value(pid));
		return true;
	case MODULES:
		if (!name || !addr)
			return false;
		snprintf(buf, size, "%.60s@%.24s", name, addr);
		return true;
	default:
		return false;
	}
}

/*
 * A result's entries, in order, as [key, entry] pairs (syscalldmp's with
 * the table's name added), and an index key -> entry. Entries without a
 * key, and keys seen before, are left out.
 */
struct entries {
	json_t *list;
	json_t *idx;
};

static void add_entry(struct entries *es, const char *key, json_t *e)
{
	json_t *pair;

	if (json_object_get(es->idx, key)) {
		json_decref(e);
		return;
	}
	json_object_set(es->idx, key, e);
	pair = out_array();
	out_append(pair, json_string(key));
	out_append(pair, e);
	out_append(es->list, pair);
}

static void entries_of(json_t *result, enum kind kind, struct entries *es)
{
	json_t *value = json_object_get(result, "value"), *e, *table;
	const char *name;
	char key[KEY_MAX];
	size_t i;

	es->list = out_array();
	es->idx = out_object();
	if (!result)
		return;
	if (kind != SYSCALLDMP) {
		json_array_foreach(value, i, e)
			if (entry_key(kind, e, key, sizeof(key)))
				add_entry(es, key, json_incref(e));
		return;
	}
	json_object_foreach(value, name, table) {
		json_array_foreach(json_object_get(table, "entries"), i, e) {
			json_t *nr = json_object_get(e, "nr"), *copy;

			if (!json_is_integer(nr))
				continue;
			snprintf(key, sizeof(key), "%.40s[%lld]", name,
				 (long long)json_integer_value(nr));
			copy = json_copy(e);
			if (!copy)
				continue;
			out_set(copy, "table", json_string(name));
			add_entry(es, key, copy);
		}
	}
}

static void entries_free(struct entries *es)
{
	json_decref(es->list);
	json_decref(es->idx);
}

/* The entries of a that b has not, in a's order. */
static json_t *missing_in(const struct entries *a, const struct entries *b)
{
	json_t *out = out_array(), *pair;
	size_t i;

	json_array_foreach(a->list, i, pair)
		if (!json_object_get(b->idx, json_string_value(json_array_get(pair, 0))))
			out_append(out, json_incref(json_array_get(pair, 1)));
	return out;
}

/* The entries of cur whose contents differ in prev: {"before", "after"}. */
static json_t *changed_in(const struct entries *prev, const struct entries *cur)
{
	json_t *out = out_array(), *pair, *before, *after, *c;
	size_t i;

	json_array_foreach(cur->list, i, pair) {
		before = json_object_get(prev->idx, json_string_value(json_array_get(pair, 0)));
		after = json_array_get(pair, 1);
		if (!before || json_equal(before, after))
			continue;
		c = out_object();
		out_set(c, "before", json_incref(before));
		out_set(c, "after", json_incref(after));
		out_append(out, c);
	}
	return out;
}

static bool ok(json_t *r)
{
	return r && json_is_true(json_object_get(r, "ok"));
}

json_t *changes_between(json_t *prev, json_t *cur)
{
	enum kind kind = kind_of(cur);
	json_t *c, *appeared, *disappeared, *changed = NULL;
	struct entries pe, ce;
	bool same;

	if (!ok(cur)) {
		if (prev && !ok(prev) &&
		    json_equal(json_object_get(prev, "error"), json_object_get(cur, "error")))
			return NULL;
		c = out_object();
		out_set(c, "id", json_incref(json_object_get(cur, "id")));
		out_set(c, "type", json_incref(json_object_get(cur, "type")));
		out_set(c, "ok", json_false());
		out_set(c, "error", json_incref(json_object_get(cur, "error")));
		return c;
	}
	entries_of(ok(prev) ? prev : NULL, kind, &pe);
	entries_of(cur, kind, &ce);
	appeared = missing_in(&ce, &pe);
	disappeared = missing_in(&pe, &ce);
	same = !json_array_size(appeared) && !json_array_size(disappeared);
	if (kind == CREDLIST || kind == MODULES || kind == SYSCALLDMP) {
		changed = changed_in(&pe, &ce);
		same &= !json_array_size(changed);
	}
	entries_free(&pe);
	entries_free(&ce);
	if (same && ok(prev)) {
		json_decref(appeared);
		json_decref(disappeared);
		json_decref(changed);
		return NULL;
	}
	c = out_object();
	out_set(c, "id", json_incref(json_object_get(cur, "id")));
	out_set(c, "type", json_incref(json_object_get(cur, "type")));
	out_set(c, "ok", json_true());
	out_set(c, "appeared", appeared);
	out_set(c, "disappeared", disappeared);
	if (changed)
		out_set(c, "changed", changed);
	return c;
}
