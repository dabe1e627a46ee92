/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imeectl run --repeat --changes and imeectl watch: what appeared in,
 * disappeared from or changed in a list job's result (pslist, pidlist,
 * credlist, modules, syscalldmp) between two rounds.
 */
#ifndef IMEECTL_CHANGES_H
#define IMEECTL_CHANGES_H

#include <stdbool.h>

#include <jansson.h>

/* Does this job's result have entries that are compared (see above)? */
bool changes_tracked(json_t *result);

/*
 * The change of one job between two rounds: NULL when nothing changed,
 * else {"id", "type", "ok": true, "appeared": [...], "disappeared": [...]}
 * and, for credlist, modules and syscalldmp, "changed": [{"before",
 * "after"}] (entries keyed as changes.c says; syscalldmp's entries carry
 * their "table"), or, when either round's result failed,
 * {"id", "type", "ok": false, "error"} for the current one (or nothing if
 * both failed alike). prev may be NULL (the job had no result before).
 */
json_t *changes_between(json_t *prev, json_t *cur);

#endif /* IMEECTL_CHANGES_H */
