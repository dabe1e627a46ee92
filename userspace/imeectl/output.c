// SPDX-License-Identifier: GPL-2.0
/*
 * Building and printing imeectl's JSON documents.
 */
#include "output.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool build_failed;

bool out_failed(void)
{
	return build_failed;
}

static json_t *remember(json_t *v)
{
	if (!v)
		build_failed = true;
	return v;
}

void out_set(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new() consumes value even when it fails. */
	if (!obj || !value || json_object_set_new(obj, key, value)) {
		if (!obj)
			json_decref(value);
		build_failed = true;
	}
}

void out_append(json_t *array, json_t *value)
{
	if (!array || !value || json_array_append_new(array, value)) {
		if (!array)
			json_decref(value);
		build_failed = true;
	}
}

json_t *out_object(void)
{
	return remember(json_object());
}

json_t *out_array(void)
{
	return remember(json_array());
}

json_t *out_hex(uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	return remember(json_string(buf));
}

json_t *out_hex_bytes(const void *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = buf;
	json_t *v;
	char *s;
	size_t i;

	if (len > (SIZE_MAX - 1) / 2)
		return remember(NULL);
	s = malloc(2 * len + 1);
	if (!s)
		return remember(NULL);
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xf];
	}
	v = json_stringn_nocheck(s, 2 * len);
	free(s);
	return remember(v);
}

json_t *out_u64_words(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	json_t *array;
	size_t i;

	if (len == sizeof(uint64_t)) {
		uint64_t w;

		memcpy(&w, p, sizeof(w));
		return out_hex(le64toh(w));
	}
	array = out_array();
	for (i = 0; array && i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		out_append(array, out_hex(le64toh(w)));
	}
	return array;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms and surrogates. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

json_t *out_c_string(const void *buf, size_t len)
{
	static const unsigned char replacement[] = { 0xef, 0xbf, 0xbd }; /* U+FFFD */
	const unsigned char *p = buf;
	const unsigned char *nul = memchr(p, 0, len);
	size_t n = nul ? (size_t)(nul - p) : len, i = 0, o = 0;
	unsigned char *s;
	json_t *v;

	/* Every input byte becomes at most 3 output bytes. */
	if (n > (SIZE_MAX - 1) / 3)
		return remember(NULL);
	s = malloc(3 * n + 1);
	if (!s)
		return remember(NULL);
	while (i < n) {
		size_t seq = utf8_seq(p + i, n - i);

		if (seq) {
			memcpy(s + o, p + i, seq);
			o += seq;
			i += seq;
		} else {
			memcpy(s + o, replacement, sizeof(replacement));
			o += sizeof(replacement);
			i++;
		}
	}
	v = json_stringn((const char *)s, o);
	free(s);
	return remember(v);
}

const char *out_error_code(const struct imee_error *e)
{
	if (e->fault != IMEE_FAULT_NONE)
		return imee_fault_name(e->fault);
	switch (-e->err) {
	case ENXIO:
		return "out-of-ram";
	case ESRCH:
		return "target-gone";
	case ENODEV:
		return "memory-removed";
	case EOPNOTSUPP:
		return "unsupported";
	case ENOENT:
		return "not-found";
	case EFAULT:
	case EIO:
		return "read-failed";
	case ENOMEM:
		return "out-of-memory";
	case EPROTO:
		return "bad-layout";
	case ELOOP:
		return "cycle"; /* a guest list loops without coming back to its head */
	case E2BIG:
		return "too-many"; /* a walk reached its bound */
	case EBADMSG:
		return "corrupt"; /* inconsistent guest data, or changed under a walk */
	case ESTALE:
		return "mismatch"; /* an override (System.map, BTF file) of another kernel */
	default:
		return "failed";
	}
}

json_t *out_error(const char *code, const char *message)
{
	json_t *e = out_object();

	out_set(e, "code", remember(json_string(code)));
	out_set(e, "message", remember(json_string(message)));
	return e;
}

json_t *out_last_error(void)
{
	const struct imee_error *last = imee_last_error();
	json_t *e = out_error(out_error_code(last), last->message);

	if (last->fault != IMEE_FAULT_NONE) {
		if (last->level)
			out_set(e, "level", remember(json_integer(last->level)));
		out_set(e, "address", out_hex(last->address));
	}
	return e;
}

static int print_doc(json_t *doc, FILE *f, size_t flags)
{
	if (build_failed || !doc) {
		fprintf(stderr, "imeectl: out of memory while building the output\n");
		return -1;
	}
	if (json_dumpf(doc, f, flags) || fputc('\n', f) == EOF || fflush(f)) {
		fprintf(stderr, "imeectl: cannot write the output: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int out_print(json_t *doc, FILE *f)
{
	return print_doc(doc, f, JSON_INDENT(2));
}

int out_print_line(json_t *doc, FILE *f)
{
	return print_doc(doc, f, JSON_COMPACT);
}
