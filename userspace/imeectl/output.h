/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON output. 64-bit addresses and values are "0x..." strings (JSON
 * numbers are not exact beyond 2^53 in many readers); sizes and counts are
 * numbers. Building never aborts halfway: a failed allocation is remembered
 * and reported when the document is printed.
 */
#ifndef IMEECTL_OUTPUT_H
#define IMEECTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <imee/imee.h>

/* obj[key] = value (value is consumed; NULL means it could not be made). */
void out_set(json_t *obj, const char *key, json_t *value);

/* array += value (consumed). */
void out_append(json_t *array, json_t *value);

/* A new object or array (NULL on failure, remembered). */
json_t *out_object(void);
json_t *out_array(void);

/* "0x1234" */
json_t *out_hex(uint64_t value);

/* Bytes as one lowercase hex string, two digits per byte. */
json_t *out_hex_bytes(const void *buf, size_t len);

/* Little-endian 64-bit words: one "0x..." string for 8 bytes, else an array. */
json_t *out_u64_words(const void *buf, size_t len);

/*
 * The bytes up to the first NUL as a JSON string. Bytes that are not valid
 * UTF-8 become U+FFFD, so anything the guest holds can be printed.
 */
json_t *out_c_string(const void *buf, size_t len);

/*
 * The error code of a failed library call: the fault name for page walks
 * ("not-mapped", ...), else from the errno: "out-of-ram", "target-gone",
 * "memory-removed", "unsupported", "not-found", "read-failed",
 * "out-of-memory", "bad-layout" (-EPROTO), "cycle" (-ELOOP), "too-many"
 * (-E2BIG), "corrupt" (-EBADMSG), or "failed".
 */
const char *out_error_code(const struct imee_error *e);

/* {"code": ..., "message": ..., ["level": n]} for the last library error. */
json_t *out_last_error(void);

/* {"code": code, "message": message} */
json_t *out_error(const char *code, const char *message);

/* Was something lost while building? */
bool out_failed(void);

/*
 * Print one JSON document (indented, newline-terminated). Returns 0, or -1
 * when building it had failed or it could not be written.
 */
int out_print(json_t *doc, FILE *f);

/* The same on one line (JSON Lines: imeectl run --repeat). */
int out_print_line(json_t *doc, FILE *f);

#endif /* IMEECTL_OUTPUT_H */
