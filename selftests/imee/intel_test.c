// SPDX-License-Identifier: GPL-2.0
/*
 * intel_test: drive the ImEE directly through the uapi against tinyvm and
 * check what it reads, with the activation counters (VM exits, nested page
 * faults, A/D copies) of each run. Built static by scripts/lab-intel.
 *
 *   intel_test FACTS [RUNS]
 *
 * FACTS is tinyvm's stdout (key=value). One agent program walks tinyvm's
 * list (id and value of every record, next pointers followed by the
 * agent), copies the string, loads the first word of the aliased page
 * through both of its addresses and a word of the 2 MiB page. It runs RUNS
 * times (default 3) on the vCPU's CR3. Prints one "INTEL-TEST run=N ..."
 * line per run and "INTEL-TEST result=pass|fail"; exit status 0 on pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/imee.h>

#define MAX_RECS 64

static struct {
	long pid;
	uint64_t list_head, str_va, alias_va1, alias_va2, big_va, big_word;
	char str[256];
	unsigned int nr;
	uint64_t id[MAX_RECS], value[MAX_RECS];
} f;

static void read_facts(const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "r");
	unsigned int i;

	if (!fp) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), fp)) {
		char *v = strchr(line, '=');
		unsigned long long id, value;

		if (!v)
			continue;
		*v++ = 0;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "pid"))
			f.pid = strtol(v, NULL, 0);
		else if (!strcmp(line, "list_head"))
			f.list_head = strtoull(v, NULL, 0);
		else if (!strcmp(line, "str_va"))
			f.str_va = strtoull(v, NULL, 0);
		else if (!strcmp(line, "str"))
			snprintf(f.str, sizeof(f.str), "%s", v);
		else if (!strcmp(line, "alias_va1"))
			f.alias_va1 = strtoull(v, NULL, 0);
		else if (!strcmp(line, "alias_va2"))
			f.alias_va2 = strtoull(v, NULL, 0);
		else if (!strcmp(line, "big_va"))
			f.big_va = strtoull(v, NULL, 0);
		else if (!strcmp(line, "big_word_0x123000"))
			f.big_word = strtoull(v, NULL, 0);
		else if (sscanf(line, "rec%u", &i) == 1 && i < MAX_RECS &&
			 sscanf(v, "va:%*x id:%llu value:%llx", &id, &value) == 2) {
			f.id[i] = id;
			f.value[i] = value;
			if (i + 1 > f.nr)
				f.nr = i + 1;
		}
	}
	fclose(fp);
	if (!f.pid || !f.list_head || !f.nr) {
		fprintf(stderr, "intel_test: %s: not tinyvm's facts\n", path);
		exit(2);
	}
}

#define I(o, d, s, sz, of, im) \
	((struct imee_insn){ .op = (o), .regs = IMEE_INSN_REGS(d, s), .size = (sz), \
			     .off = (of), .imm = (im) })

int main(int argc, char **argv)
{
	struct imee_insn prog[32];
	struct imee_attach at = { .size = sizeof(at) };
	struct imee_create cr = { .size = sizeof(cr) };
	struct imee_load ld = { .size = sizeof(ld) };
	unsigned int n = 0, runs = 3, r, i, fails = 0;
	size_t slen;
	int dev, sfd, efd;
	uint8_t *out;

	if (argc < 2) {
		fprintf(stderr, "usage: intel_test FACTS [RUNS]\n");
		return 2;
	}
	read_facts(argv[1]);
	if (argc > 2)
		runs = atoi(argv[2]);
	slen = strlen(f.str);

	/* r0 = list head: emit id, value of each record, follow next */
	prog[n++] = I(IMEE_OP_JEQK, 0, 0, 0, 6, 0);		/* 0: r0 == 0 -> 7 */
	prog[n++] = I(IMEE_OP_LD, 2, 0, 8, 8, 0);		/* r2 = id */
	prog[n++] = I(IMEE_OP_EMIT, 2, 0, 8, 0, 0);
	prog[n++] = I(IMEE_OP_LD, 2, 0, 8, 16, 0);		/* r2 = value */
	prog[n++] = I(IMEE_OP_EMIT, 2, 0, 8, 0, 0);
	prog[n++] = I(IMEE_OP_LD, 0, 0, 8, 0, 0);		/* r0 = next */
	prog[n++] = I(IMEE_OP_JA, 0, 0, 0, -7, 0);		/* 6: back to 0 */
	prog[n++] = I(IMEE_OP_MOVK, 3, 0, 0, 0, slen);		/* 7 */
	prog[n++] = I(IMEE_OP_COPY, 3, 1, 0, 0, 0);		/* string at r1 */
	prog[n++] = I(IMEE_OP_LD, 2, 4, 8, 0, 0);		/* alias 1 (r4) */
	prog[n++] = I(IMEE_OP_EMIT, 2, 0, 8, 0, 0);
	prog[n++] = I(IMEE_OP_LD, 2, 5, 8, 0, 0);		/* alias 2 (r5) */
	prog[n++] = I(IMEE_OP_EMIT, 2, 0, 8, 0, 0);
	prog[n++] = I(IMEE_OP_LD, 2, 6, 8, 0x123000, 0);	/* big page (r6) */
	prog[n++] = I(IMEE_OP_EMIT, 2, 0, 8, 0, 0);
	prog[n++] = I(IMEE_OP_EXIT, 0, 0, 0, 0, 0);

	dev = open("/dev/imee", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("/dev/imee");
		return 1;
	}
	at.pid = f.pid;
	sfd = ioctl(dev, IMEE_ATTACH, &at);
	if (sfd < 0) {
		perror("IMEE_ATTACH");
		return 1;
	}
	efd = ioctl(sfd, IMEE_CREATE, &cr);
	if (efd < 0) {
		perror("IMEE_CREATE");
		return 1;
	}
	printf("INTEL-TEST create hw=%u launch_ns=%llu\n", cr.hw,
	       (unsigned long long)cr.launch_ns);
	out = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, efd, 0);
	if (out == MAP_FAILED) {
		perror("mmap ImEE output");
		return 1;
	}
	ld.nr_insns = n;
	ld.insns = (uintptr_t)prog;
	if (ioctl(efd, IMEE_LOAD, &ld) < 0) {
		fprintf(stderr, "IMEE_LOAD: %s (insn %u)\n", strerror(errno), ld.bad_insn);
		return 1;
	}

	for (r = 0; r < runs; r++) {
		struct imee_run run = {
			.size = sizeof(run),
			.flags = IMEE_RUN_F_VCPU_CR3,
			.args = { f.list_head, f.str_va, 0, 0, f.alias_va1, f.alias_va2, f.big_va },
		};
		const uint8_t *p = out;
		uint64_t w, a1;
		int ok = 1;

		if (ioctl(efd, IMEE_RUN, &run) < 0) {
			printf("INTEL-TEST run=%u IMEE_RUN failed: %s\n", r, strerror(errno));
			fails++;
			continue;
		}
		if (run.status != IMEE_STATUS_OK ||
		    run.out_len != f.nr * 16 + slen + 24)
			ok = 0;
		for (i = 0; ok && i < f.nr; i++) {
			memcpy(&w, p, 8);
			ok &= w == f.id[i];
			memcpy(&w, p + 8, 8);
			ok &= w == f.value[i];
			p += 16;
		}
		if (ok) {
			ok &= !memcmp(p, f.str, slen);
			p += slen;
			memcpy(&a1, p, 8);
			memcpy(&w, p + 8, 8);
			ok &= a1 == w && !memcmp(&a1, "imee-tin", 8);
			memcpy(&w, p + 16, 8);
			ok &= w == f.big_word;
		}
		printf("INTEL-TEST run=%u status=%u fault=%u out_len=%llu steps=%llu exits=%u "
		       "npt_faults=%u ad_copies=%u irq_exits=%u traps=%u run_ns=%llu guest_ns=%llu "
		       "cr3=0x%llx ok=%d\n", r, run.status, run.fault,
		       (unsigned long long)run.out_len, (unsigned long long)run.steps,
		       run.exits, run.npt_faults, run.ad_copies, run.irq_exits, run.traps,
		       (unsigned long long)run.run_ns, (unsigned long long)run.guest_ns,
		       (unsigned long long)run.cr3_used, ok);
		fails += !ok;
	}
	printf("INTEL-TEST result=%s\n", fails ? "fail" : "pass");
	close(efd);
	close(sfd);
	close(dev);
	return fails ? 1 : 0;
}
