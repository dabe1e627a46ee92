// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: imeectl's JSON encoding of guest bytes (output.c).
 * The input is what a guest holds where a string is expected (a comm, a
 * module name, a banner, a "string" read): any bytes, not NUL-terminated,
 * not UTF-8.
 *
 * out_c_string() promises that anything can be printed: it never fails
 * (but for memory), its value is the bytes up to the first NUL when they
 * are valid UTF-8 (jansson's own check is the reference) and otherwise
 * has U+FFFD in place of what is not, and the printed document reads
 * back to the same string. out_hex_bytes() and out_u64_words() must
 * decode back to the input.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "output.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD in UTF-8 */

static void check_c_string(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t in = nul ? (size_t)(nul - data) : size, n;
	json_t *v = out_c_string(data, size), *doc, *back, *ref;
	static FILE *devnull;
	const char *s;
	char *text;

	FUZZ_CHECK(v && json_is_string(v));
	s = json_string_value(v);
	n = json_string_length(v);
	FUZZ_CHECK(n <= 3 * in);
	FUZZ_CHECK(!memchr(s, 0, n));
	ref = json_stringn((const char *)data, in); /* NULL: not valid UTF-8 */
	if (ref) {
		FUZZ_CHECK(n == in && !memcmp(s, data, in));
		json_decref(ref);
	} else {
		FUZZ_CHECK(memmem(s, n, replacement, 3));
	}

	doc = out_object();
	out_set(doc, "comm", v);
	text = json_dumps(doc, JSON_COMPACT);
	FUZZ_CHECK(text);
	back = json_loads(text, 0, NULL);
	FUZZ_CHECK(back);
	v = json_object_get(back, "comm");
	FUZZ_CHECK(v && json_string_length(v) == n && !memcmp(json_string_value(v), s, n));
	json_decref(back);
	free(text);
	/* And the printers imeectl uses (their output is not looked at). */
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull);
	FUZZ_CHECK(out_print(doc, devnull) == 0);
	FUZZ_CHECK(out_print_line(doc, devnull) == 0);
	json_decref(doc);
}

static unsigned int hex_value(char c)
{
	FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
	return c <= '9' ? (unsigned int)(c - '0') : (unsigned int)(c - 'a' + 10);
}

static void check_hex(const uint8_t *data, size_t size)
{
	json_t *v = out_hex_bytes(data, size);
	const char *s;
	size_t i;

	FUZZ_CHECK(v && json_string_length(v) == 2 * size);
	s = json_string_value(v);
	for (i = 0; i < size; i++)
		FUZZ_CHECK((hex_value(s[2 * i]) << 4 | hex_value(s[2 * i + 1])) == data[i]);
	json_decref(v);
}

static uint64_t parse_hex(json_t *v)
{
	const char *s = json_string_value(v);
	char *end;
	uint64_t x;

	FUZZ_CHECK(s && s[0] == '0' && s[1] == 'x' && s[2]);
	x = strtoull(s + 2, &end, 16);
	FUZZ_CHECK(!*end);
	return x;
}

static void check_words(const uint8_t *data, size_t size)
{
	json_t *v = out_u64_words(data, size);
	uint64_t w;
	size_t i;

	FUZZ_CHECK(v);
	if (size == 8) {
		memcpy(&w, data, 8);
		FUZZ_CHECK(parse_hex(v) == le64toh(w));
	} else {
		FUZZ_CHECK(json_is_array(v) && json_array_size(v) == size / 8);
		for (i = 0; i < size / 8; i++) {
			memcpy(&w, data + 8 * i, 8);
			FUZZ_CHECK(parse_hex(json_array_get(v, i)) == le64toh(w));
		}
	}
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_c_string(data, size);
	check_hex(data, size);
	check_words(data, size);
	/* Building never failed: nothing was lost silently. */
	FUZZ_CHECK(!out_failed());
	return 0;
}
