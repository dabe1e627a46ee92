/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imeectl run --repeat --changes: what appeared in and disappeared from a
 * list job's result (pslist, pidlist) between two rounds.
 */
#ifndef IMEECTL_CHANGES_H
#define IMEECTL_CHANGES_H

#include <stdbool.h>

#include <jansson.h>

/* Does this job's result have entries --changes compares (pslist, pidlist)? */
bool changes_tracked(json_t *result);

/*
 * The change of one job between two rounds: NULL when nothing changed,
 * else {"id", "type", "appeared": [...], "disappeared": [...]} (entries
 * compared by their "pid" and "address": a pid used again by a new task is
 * one entry gone and one come), or, when either round's result failed,
 * {"id", "type", "ok": false, "error"} for the current one (or nothing if
 * both failed alike). prev may be NULL (the job had no result before).
 */
json_t *changes_between(json_t *prev, json_t *cur);

#endif /* IMEECTL_CHANGES_H */
