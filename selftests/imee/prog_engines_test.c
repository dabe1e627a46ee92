// SPDX-License-Identifier: GPL-2.0
/*
 * Agent programs give the same result on every engine: the ImEE (the agent
 * in the target's address space, the CPU's MMU translating) and libimee's
 * interpreter over the software and legacy engines. Checked on each lab
 * target with a walk of a kernel list, physical loads, and faults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imee/imee.h>

#include "lab.h"
#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#define OUT_CAP 16384

static const enum imee_engine engines[] = { IMEE_ENGINE_IMEE, IMEE_ENGINE_SOFTWARE,
					    IMEE_ENGINE_LEGACY };

struct outcome {
	struct imee_prog_result res;
	unsigned char out[OUT_CAP];
};

static void run_everywhere(struct __test_metadata *_metadata, struct imee_session *s,
			   const struct imee_walk_opts *opts, const struct imee_insn *prog,
			   size_t nr, const uint64_t args[8], size_t out_cap, const char *what)
{
	static struct outcome o[3];
	size_t e;

	for (e = 0; e < 3; e++) {
		memset(&o[e], 0, sizeof(o[e]));
		int err = imee_session_run_prog(s, engines[e], opts, prog, nr, args, 0, o[e].out,
						out_cap, &o[e].res);

		if (err)
			TH_LOG("%s on %s: %s", what, imee_engine_name(engines[e]), imee_errmsg());
		ASSERT_EQ(0, err);
	}
	for (e = 1; e < 3; e++) {
		if (memcmp(&o[0].res, &o[e].res, sizeof(o[0].res)))
			TH_LOG("%s: imee status %u fault %u at %#" PRIx64 " pc %" PRIu64
			       " steps %" PRIu64 " out %" PRIu64 "; %s status %u fault %u at %#" PRIx64
			       " pc %" PRIu64 " steps %" PRIu64 " out %" PRIu64,
			       what, o[0].res.status, o[0].res.fault, o[0].res.fault_addr, o[0].res.pc,
			       o[0].res.steps, o[0].res.out_len, imee_engine_name(engines[e]),
			       o[e].res.status, o[e].res.fault, o[e].res.fault_addr, o[e].res.pc,
			       o[e].res.steps, o[e].res.out_len);
		EXPECT_EQ(0, memcmp(&o[0].res, &o[e].res, sizeof(o[0].res)));
		EXPECT_EQ(0, memcmp(o[0].out, o[e].out, o[0].res.out_len));
	}
}

TEST(programs_identical_on_every_engine)
{
	/* r0: a list head; walk 1000 hops, emitting every pointer */
	static const struct imee_insn chase[] = {
		IMEE_MOVK(1, 1000),
		IMEE_JEQK(1, 0, 4),
		IMEE_LD(0, 0, 0, 8),
		IMEE_EMIT(0, 8),
		IMEE_SUBK(1, 1),
		IMEE_JA(-5),
		IMEE_EXIT(),
	};
	/* faults: handled (F variants), then one that stops the program */
	static const struct imee_insn faults[] = {
		IMEE_MOVK(1, 0x10),
		IMEE_LDF(2, 1, 0, 8, 1),
		IMEE_EXIT(),
		IMEE_EMIT(2, 1),
		IMEE_MOVK(1, 0x8000000000000000ULL),
		IMEE_LDF(3, 1, 0, 8, 1),
		IMEE_EXIT(),
		IMEE_EMIT(3, 1),
		IMEE_MOVK(1, 0x7fff00000000ULL),
		IMEE_LDPF(4, 1, 0, 8, 1),
		IMEE_EXIT(),
		IMEE_EMIT(4, 1),
		IMEE_LD(5, 1, 0, 8),
		IMEE_EXIT(),
	};
	/* physical: r0 = an address in RAM, copy a page and load a word */
	static const struct imee_insn phys[] = {
		IMEE_MOVK(1, 4096),
		IMEE_COPYP(1, 0, 0),
		IMEE_LDP(2, 0, 8, 8),
		IMEE_EMIT(2, 8),
		IMEE_EXIT(),
	};
	const char *const *t;

	for (t = lab_targets(); *t; t++) {
		IMEE_OPTS(imee_attach_opts, ao, .pid = lab_vmm_pid(*t));
		uint64_t head = lab_guest_symbol(*t, "super_blocks");
		const struct imee_vcpu_regs *vcpus;
		uint64_t args[8] = { 0 };
		struct imee_walk_opts opts;
		struct imee_session *s;

		ASSERT_NE(0, head);
		ASSERT_EQ(0, imee_session_attach(&ao, &s));
		ASSERT_LT(0, imee_session_vcpus(s, &vcpus));
		imee_walk_opts_from_vcpu(&vcpus[0], &opts);
		opts.cr3 = imee_linux_cr3_for(opts.cr3, head);

		args[0] = head;
		run_everywhere(_metadata, s, &opts, chase, sizeof(chase) / sizeof(chase[0]), args,
			       OUT_CAP, "chase");
		/* the same walk with a small output buffer stops full */
		run_everywhere(_metadata, s, &opts, chase, sizeof(chase) / sizeof(chase[0]), args,
			       100, "chase, output full");
		run_everywhere(_metadata, s, &opts, faults, sizeof(faults) / sizeof(faults[0]),
			       args, OUT_CAP, "faults");
		args[0] = 0x100000;
		run_everywhere(_metadata, s, &opts, phys, sizeof(phys) / sizeof(phys[0]), args,
			       OUT_CAP, "physical");
		imee_session_detach(s);
	}
}

TEST_HARNESS_MAIN
