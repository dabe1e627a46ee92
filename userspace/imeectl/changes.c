// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl run --repeat --changes: entries of a pslist or pidlist result
 * are keyed by pid and address; a key that one round has and the next has
 * not is a process that went (or came) in between.
 */
#include "changes.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

bool changes_tracked(json_t *result)
{
	const char *type = json_string_value(json_object_get(result, "type"));

	return type && (!strcmp(type, "pslist") || !strcmp(type, "pidlist"));
}

/* "pid@address": the key of an entry (an entry without them has none). */
static bool entry_key(json_t *e, char *buf, size_t size)
{
	json_t *pid = json_object_get(e, "pid");
	const char *addr = json_string_value(json_object_get(e, "address"));

	if (!json_is_integer(pid) || !addr)
		return false;
	snprintf(buf, size, "%lld@%.24s", (long long)json_integer_value(pid), addr);
	return true;
}

/* The keys of a result's entries, as an object key -> entry (borrowed values). */
static json_t *index_entries(json_t *result)
{
	json_t *idx = json_object(), *e;
	char key[48];
	size_t i;

	if (!idx)
		return NULL;
	json_array_foreach(json_object_get(result, "value"), i, e)
		if (entry_key(e, key, sizeof(key)))
			json_object_set(idx, key, e);
	return idx;
}

/* The entries of a that b does not have, in a's order. */
static json_t *missing_in(json_t *a, json_t *b_idx)
{
	json_t *out = out_array(), *e;
	char key[48];
	size_t i;

	json_array_foreach(json_object_get(a, "value"), i, e)
		if (entry_key(e, key, sizeof(key)) && !json_object_get(b_idx, key))
			out_append(out, json_incref(e));
	return out;
}

static bool ok(json_t *r)
{
	return r && json_is_true(json_object_get(r, "ok"));
}

json_t *changes_between(json_t *prev, json_t *cur)
{
	json_t *c, *pidx, *cidx, *appeared, *disappeared;

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
	pidx = index_entries(ok(prev) ? prev : NULL);
	cidx = index_entries(cur);
	appeared = missing_in(cur, pidx);
	disappeared = ok(prev) ? missing_in(prev, cidx) : out_array();
	json_decref(pidx);
	json_decref(cidx);
	if (!json_array_size(appeared) && !json_array_size(disappeared) && ok(prev)) {
		json_decref(appeared);
		json_decref(disappeared);
		return NULL;
	}
	c = out_object();
	out_set(c, "id", json_incref(json_object_get(cur, "id")));
	out_set(c, "type", json_incref(json_object_get(cur, "type")));
	out_set(c, "ok", json_true());
	out_set(c, "appeared", appeared);
	out_set(c, "disappeared", disappeared);
	return c;
}
