// SPDX-License-Identifier: GPL-2.0
/*
 * BTF from guest memory: the synthetic kernel BTF of kbtf_build.c parsed
 * and looked up by dotted paths (nested, anonymous, typedef'd, indexed
 * members, bitfields), hostile headers and corrupted type sections refused
 * without a crash, the blob found in a synthetic guest at its symbols or by
 * scanning, the layout the Linux jobs use resolved from it, and the cache
 * file's form round-tripped and refused when corrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imee/imee.h>

#include "fake_linux.h"
#include "kbtf_build.h"
#include "linux_layout.h"
#include "tap.h"

static void *blob;
static size_t blob_len;

static struct imee_linux_btf *parse_ok(void)
{
	struct imee_linux_btf *btf = NULL;

	if (!EXPECT_INT(imee_linux_btf_parse(blob, blob_len, &btf), 0))
		printf("# %s\n", imee_errmsg());
	return btf;
}

static uint64_t off(const struct imee_linux_btf *btf, const char *path)
{
	uint64_t o = ~0ULL;

	if (imee_linux_btf_offset(btf, path, &o))
		printf("# %s: %s\n", path, imee_errmsg());
	return o;
}

static void lookups(void)
{
	struct imee_linux_btf *btf = parse_ok();
	struct imee_linux_btf_member m;
	struct imee_linux_btf_info info;
	uint64_t size = 0;
	int64_t v = -1;

	REQUIRE(btf);
	imee_linux_btf_info(btf, &info);
	EXPECT_INT(info.size, blob_len);
	EXPECT(info.nr_types > 40);
	EXPECT_U64(info.va, 0);
	REQUIRE(imee_linux_btf_type_size(btf, "task_struct", &size) == 0);
	EXPECT_U64(size, KT_SIZE);
	REQUIRE(imee_linux_btf_type_size(btf, "kuid_t", &size) == 0); /* a typedef'd struct */
	EXPECT_U64(size, 4);
	EXPECT_INT(imee_linux_btf_type_size(btf, "no_such_struct", &size), -ENOENT);

	EXPECT_U64(off(btf, "task_struct.tasks"), KT_TASKS);
	EXPECT_U64(off(btf, "task_struct.tasks.prev"), KT_TASKS + 8);
	EXPECT_U64(off(btf, "task_struct.comm"), KT_COMM);
	EXPECT_U64(off(btf, "cred.uid"), KC_UID);
	EXPECT_U64(off(btf, "cred.uid.val"), KC_UID); /* through a typedef'd anonymous struct */
	EXPECT_U64(off(btf, "cred.cap_effective.cap[1]"), KC_CAP_EFFECTIVE + 4);
	EXPECT_U64(off(btf, "pid_namespace.idr.idr_rt.xa_head"), KN_XA_HEAD);
	EXPECT_U64(off(btf, "pid.numbers[0].nr"), KP_NUMBERS + KU_NR);
	EXPECT_U64(off(btf, "pid.tasks[3].first"), KP_TASKS + 3 * 8);
	/* pid_links lies in an anonymous struct; bits_pad in an anonymous union. */
	EXPECT_U64(off(btf, "task_struct.pid_links[2].pprev"), KT_PID_LINKS + 2 * 16 + 8);
	EXPECT_U64(off(btf, "task_struct.bits_pad"), KT_BITFIELD);

	REQUIRE(imee_linux_btf_member(btf, "task_struct.pid_links", &m) == 0);
	EXPECT_U64(m.offset, KT_PID_LINKS);
	EXPECT_U64(m.size, 64);
	EXPECT_INT(m.nelems, 4);
	EXPECT_U64(m.elem_size, 16);
	EXPECT_INT(m.kind, IMEE_LINUX_BTF_ARRAY);
	REQUIRE(imee_linux_btf_member(btf, "task_struct.real_cred", &m) == 0);
	EXPECT_INT(m.kind, IMEE_LINUX_BTF_PTR);
	EXPECT_U64(m.size, 8);
	REQUIRE(imee_linux_btf_member(btf, "task_struct.pid", &m) == 0);
	EXPECT_INT(m.kind, IMEE_LINUX_BTF_INT); /* pid_t resolved */
	EXPECT_U64(m.size, 4);

	/* Bitfields: described, but they have no byte offset. */
	REQUIRE(imee_linux_btf_member(btf, "task_struct.in_iowait", &m) == 0);
	EXPECT_U64(m.offset, KT_BITFIELD);
	EXPECT_INT(m.bit_offset, 1);
	EXPECT_INT(m.bit_size, 1);
	EXPECT_INT(imee_linux_btf_offset(btf, "task_struct.in_iowait", &size), -EOPNOTSUPP);

	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.nope", &m), -ENOENT);
	EXPECT_INT(imee_linux_btf_member(btf, "nope.pid", &m), -ENOENT);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.real_parent.pid", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.pid_links[4]", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.comm[x]", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.pid[0]", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct..pid", &m), -EINVAL);
	EXPECT_INT(imee_linux_btf_member(btf, "task_struct.in_iowait.x", &m), -EINVAL);

	REQUIRE(imee_linux_btf_enum_value(btf, "PIDTYPE_SID", &v) == 0);
	EXPECT_INT(v, 3);
	EXPECT_INT(imee_linux_btf_enum_value(btf, "PIDTYPE_NOPE", &v), -ENOENT);
	imee_linux_btf_free(btf);
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A copy of the blob with header word at byte off set to v must be refused. */
static void refuse_header(size_t at, uint32_t v, size_t len, const char *what)
{
	unsigned char *b = malloc(blob_len);
	struct imee_linux_btf *btf = NULL;

	if (!b)
		abort();
	memcpy(b, blob, blob_len);
	if (at < IMEE_LINUX_BTF_HDR_LEN)
		put32(b + at, v);
	if (!EXPECT_INT(imee_linux_btf_parse(b, len, &btf), -EBADMSG))
		printf("# %s was accepted\n", what);
	imee_linux_btf_free(btf);
	free(b);
}

static void hostile_headers(void)
{
	struct imee_linux_btf *btf = NULL;

	refuse_header(0, 0x0001eb9e, blob_len, "bad magic");
	refuse_header(0, 0x0002eb9f, blob_len, "version 2");
	refuse_header(4, 32, blob_len, "a longer header");
	refuse_header(12, 0xfffffff0, blob_len, "types wrapping");
	refuse_header(16, 4, blob_len, "strings inside the types");
	refuse_header(20, 0, blob_len, "no strings");
	refuse_header(20, 0x7fffffff, blob_len, "strings beyond the limit");
	refuse_header(8, 2, blob_len, "misaligned types");
	refuse_header(99, 0, blob_len - 1, "a truncated blob");
	refuse_header(99, 0, 10, "shorter than a header");
	EXPECT_INT(imee_linux_btf_parse(blob, blob_len, NULL), -EINVAL);
	EXPECT_INT(imee_linux_btf_parse(NULL, blob_len, &btf), -EINVAL);
}

/*
 * Random corruption of the type and string sections: every result is a
 * clean parse or -EBADMSG, and lookups on what parses stay in bounds (the
 * sanitizer build checks that).
 */
static void corrupted_types(void)
{
	unsigned char *b = malloc(blob_len);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	unsigned int round, parsed = 0, refused = 0;

	REQUIRE(b);
	for (round = 0; round < 3000; round++) {
		struct imee_linux_btf *btf = NULL;
		struct linux_layout l;
		unsigned int k;
		int err;

		memcpy(b, blob, blob_len);
		for (k = 0; k < 1 + round % 4; k++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			b[IMEE_LINUX_BTF_HDR_LEN +
			  (rng >> 33) % (blob_len - IMEE_LINUX_BTF_HDR_LEN)] ^=
				(unsigned char)(1U << ((rng >> 20) & 7));
		}
		err = imee_linux_btf_parse(b, blob_len, &btf);
		if (err) {
			refused++;
			if (!EXPECT_INT(err, -EBADMSG))
				break;
			continue;
		}
		parsed++;
		linux_layout_from_btf(btf, &l);
		imee_linux_btf_free(btf);
	}
	printf("# %u corrupted blobs parsed, %u refused\n", parsed, refused);
	EXPECT(refused > 0);
	free(b);
}

static void found_in_guest(void)
{
	struct fake_linux g;
	struct imee_linux_btf *btf = NULL;
	struct imee_linux_btf_info info;
	IMEE_OPTS(imee_linux_btf_find_opts, fo, .start = FL_BTF_VA);

	fl_init(&g, false);
	/* At its symbols. */
	fo.end = FL_BTF_VA + g.btf_len;
	REQUIRE(imee_linux_btf_load(&g.vmem, &fo, &btf) == 0);
	imee_linux_btf_info(btf, &info);
	EXPECT_U64(info.va, FL_BTF_VA);
	EXPECT_INT(info.size, g.btf_len);
	EXPECT(!info.scanned);
	imee_linux_btf_free(btf);

	/* Symbols that disagree with the header: refused, then found by the scan. */
	fo.end = FL_BTF_VA + g.btf_len + 8;
	fo.no_scan = true;
	EXPECT_INT(imee_linux_btf_load(&g.vmem, &fo, &btf), -EBADMSG);
	fo.no_scan = false;
	/* A decoy header before it: plausible lengths, garbage types. */
	{
		unsigned char decoy[64] = { 0x9f, 0xeb, 0x01, 0x00, 24 };

		put32(decoy + 12, 16);
		put32(decoy + 16, 16);
		put32(decoy + 20, 8);
		memset(decoy + 24, 0xee, 16);
		fl_write(&g, FL_TEXT_VA + 0x280000, decoy, sizeof(decoy));
	}
	REQUIRE(imee_linux_btf_load(&g.vmem, &fo, &btf) == 0);
	imee_linux_btf_info(btf, &info);
	EXPECT_U64(info.va, FL_BTF_VA);
	EXPECT(info.scanned);
	imee_linux_btf_free(btf);

	/* Nothing known: the whole kernel image range (mostly unmapped) is scanned. */
	fo.start = fo.end = 0;
	REQUIRE(imee_linux_btf_load(&g.vmem, &fo, &btf) == 0);
	imee_linux_btf_info(btf, &info);
	EXPECT_U64(info.va, FL_BTF_VA);
	imee_linux_btf_free(btf);

	/* No BTF at all. */
	fl_w32(&g, FL_BTF_VA, 0);
	if (!EXPECT_INT(imee_linux_btf_load(&g.vmem, &fo, &btf), -ENOENT)) {
		imee_linux_btf_info(btf, &info);
		printf("# found at 0x%llx\n", (unsigned long long)info.va);
		imee_linux_btf_free(btf);
	}
	EXPECT_HAS(imee_errmsg(), "CONFIG_DEBUG_INFO_BTF");
	fl_free(&g);
}

static void layout_from_btf(void)
{
	struct imee_linux_btf *btf = parse_ok();
	struct linux_layout l;
	void *bad;
	size_t bad_len;

	REQUIRE(btf);
	REQUIRE(linux_layout_from_btf(btf, &l) == 0);
	EXPECT_U64(l.task_size, KT_SIZE);
	EXPECT_U64(l.task_tasks.off, KT_TASKS);
	EXPECT_U64(l.task_pid.off, KT_PID);
	EXPECT_U64(l.task_state.off, KT_STATE);
	EXPECT_U64(l.task_pid_link.off, KT_PID_LINKS);
	EXPECT_U64(l.task_comm.size, 16);
	EXPECT_U64(l.cred_uid.off, KC_UID);
	EXPECT_U64(l.cred_cap_effective.off, KC_CAP_EFFECTIVE);
	EXPECT_U64(l.pid_task_head.off, KP_TASKS);
	EXPECT_U64(l.pidns_xa_head.off, KN_XA_HEAD);
	EXPECT_U64(l.xa_slots.off, KX_SLOTS);
	EXPECT_U64(l.xa_slots.size, 8 * KX_NR_SLOTS);
	EXPECT_INT(l.pidtype_pid, 0);
	imee_linux_btf_free(btf);

	/* A pid_t of 8 bytes is not the kernel the jobs know how to read. */
	bad = kbtf_build(&bad_len, KBTF_BAD_PID_SIZE);
	REQUIRE(imee_linux_btf_parse(bad, bad_len, &btf) == 0);
	EXPECT_INT(linux_layout_from_btf(btf, &l), -EPROTO);
	EXPECT_HAS(imee_errmsg(), "task_struct.pid");
	imee_linux_btf_free(btf);
	free(bad);
}

static void cache_form(void)
{
	struct imee_linux_btf *btf = parse_ok();
	struct linux_build b, back;
	char *text, *copy;
	size_t len, i;

	REQUIRE(btf);
	memset(&b, 0, sizeof(b));
	snprintf(b.banner, sizeof(b.banner), "%s", FL_BANNER);
	b.btf_checksum = 0x1234;
	b.ksyms_names = (struct linux_range_sum){ 0x240000, 0x1000, 0xabc };
	b.sym.init_task = 0x400000;
	b.sym.btf_size = 99;
	REQUIRE(linux_layout_from_btf(btf, &b.layout) == 0);
	imee_linux_btf_free(btf);
	REQUIRE(linux_build_format(&b, &text) == 0);
	len = strlen(text);
	REQUIRE(linux_build_parse(text, len, &back) == 0);
	EXPECT(!memcmp(&b, &back, sizeof(b)));

	copy = malloc(len + 1);
	REQUIRE(copy);
	/* Any changed byte, a truncation, or a missing line is refused. */
	for (i = 0; i < len; i += 7) {
		memcpy(copy, text, len + 1);
		copy[i] ^= 0x01;
		if (!EXPECT_INT(linux_build_parse(copy, len, &back), -EBADMSG))
			break;
	}
	EXPECT_INT(linux_build_parse(text, len / 2, &back), -EBADMSG);
	EXPECT_INT(linux_build_parse(text, 0, &back), -EBADMSG);
	EXPECT_INT(linux_build_parse("imee-linux-cache 1\nchecksum 0x0\n", 32, &back), -EBADMSG);
	free(copy);
	free(text);
}

int main(void)
{
	blob = kbtf_build(&blob_len, 0);
	tap_run(lookups, "members by dotted path: nested, anonymous, indexed, bitfields");
	tap_run(hostile_headers, "hostile headers are refused before libbpf sees them");
	tap_run(corrupted_types, "corrupted type sections: parsed or refused, never a crash");
	tap_run(found_in_guest, "found in guest memory at __start_BTF, else by scanning");
	tap_run(layout_from_btf, "the jobs' layout comes from BTF, and is checked");
	tap_run(cache_form, "cache entries round-trip; corrupt ones are refused");
	free(blob);
	return tap_done();
}
