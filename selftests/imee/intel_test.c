// SPDX-License-Identifier: GPL-2.0
/*
 * intel_test: drive the ImEE directly through the uapi against tinyvm and
 * check what it reads, with the activation counters (VM exits, nested page
 * faults, A/D copies) of each run. Built static by scripts/lab-intel.
 *
 *   intel_test FACTS [RUNS]
 *   intel_test --flip FACTS
 *   intel_test --dead FACTS
 *   intel_test --attach-dead PID
 *   intel_test --bench FACTS [ROUNDS]
 *
 * FACTS is tinyvm's stdout (key=value). One agent program walks tinyvm's
 * list (id and value of every record, next pointers followed by the
 * agent), copies the string, loads the first word of the aliased page
 * through both of its addresses and a word of the 2 MiB page. It runs RUNS
 * times (default 3) on the vCPU's CR3. Prints one "INTEL-TEST run=N ..."
 * line per run and "INTEL-TEST result=pass|fail"; exit status 0 on pass.
 *
 * --flip: consistency across activations. One ImEE reads the flip page and
 * rec0's value; tinyvm is sent SIGUSR1 (it remaps the page to its other
 * frame and changes the value, then prints "flipped=N" to FACTS), and the
 * next activation must see the new frame and value, never the stale ones;
 * four flips (A, B, A, B, A).
 * --dead: an activation works, then tinyvm is sent SIGTERM; IMEE_RUN on the
 * same ImEE must then fail with ESRCH (within 60 s), as must IMEE_CREATE on
 * a second session attached before.
 * --attach-dead PID: IMEE_ATTACH to PID (a VMM that has exited and been
 * reaped) must fail with ESRCH.
 * --bench: launch (attach and IMEE_CREATE), an empty activation, virtual
 * reads of 4..1024 bytes and a 1000-hop pointer chase along tinyvm's ring,
 * on the ImEE (one activation per read or chase), on a software page walk
 * over the session's zero-copy view, and on the copying read (one
 * IMEE_READ_PHYS per table entry and page: the legacy way); medians in
 * microseconds, one JSON line "INTEL-BENCH {...}".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/imee.h>

#define MAX_RECS 64

static struct {
	long pid;
	uint64_t list_head, str_va, alias_va1, alias_va2, big_va, big_word;
	uint64_t flip_va, ring_head, chase_end;
	unsigned int chase_hops;
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
		else if (!strcmp(line, "flip_va"))
			f.flip_va = strtoull(v, NULL, 0);
		else if (!strcmp(line, "ring_head"))
			f.ring_head = strtoull(v, NULL, 0);
		else if (!strcmp(line, "chase_end"))
			f.chase_end = strtoull(v, NULL, 0);
		else if (!strcmp(line, "chase_hops"))
			f.chase_hops = strtoul(v, NULL, 0);
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

static int walk_test(int argc, char **argv);
static int bench(unsigned int rounds);

static const char *facts_path;
static int dev = -1;

/* A session on tinyvm with its ImEE; the output buffer mapped at *out. */
static int open_ee(int *sfd, const uint8_t **out)
{
	struct imee_attach at = { .size = sizeof(at), .pid = f.pid };
	struct imee_create cr = { .size = sizeof(cr) };
	void *p;
	int efd;

	*sfd = ioctl(dev, IMEE_ATTACH, &at);
	if (*sfd < 0) {
		perror("IMEE_ATTACH");
		exit(1);
	}
	efd = ioctl(*sfd, IMEE_CREATE, &cr);
	if (efd < 0) {
		perror("IMEE_CREATE");
		exit(1);
	}
	p = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, efd, 0);
	if (p == MAP_FAILED) {
		perror("mmap ImEE output");
		exit(1);
	}
	*out = p;
	return efd;
}

static void load(int efd, const struct imee_insn *prog, unsigned int n)
{
	struct imee_load ld = { .size = sizeof(ld), .nr_insns = n, .insns = (uintptr_t)prog };

	if (ioctl(efd, IMEE_LOAD, &ld) < 0) {
		fprintf(stderr, "IMEE_LOAD: %s (insn %u)\n", strerror(errno), ld.bad_insn);
		exit(1);
	}
}

static int run_ee(int efd, struct imee_run *run, uint64_t a0, uint64_t a1, uint64_t a2)
{
	memset(run, 0, sizeof(*run));
	run->size = sizeof(*run);
	run->flags = IMEE_RUN_F_VCPU_CR3;
	run->args[0] = a0;
	run->args[1] = a1;
	run->args[2] = a2;
	return ioctl(efd, IMEE_RUN, run);
}

/* Wait until tinyvm has printed "flipped=N" to the facts file. */
static int wait_flipped(unsigned int n)
{
	char want[32], line[512];
	int i;

	snprintf(want, sizeof(want), "flipped=%u\n", n);
	for (i = 0; i < 300; i++) {
		FILE *fp = fopen(facts_path, "r");

		while (fp && fgets(line, sizeof(line), fp))
			if (!strcmp(line, want)) {
				fclose(fp);
				return 0;
			}
		if (fp)
			fclose(fp);
		usleep(100000);
	}
	return -1;
}

static int test_flip(void)
{
	static const struct imee_insn prog[] = {
		I(IMEE_OP_MOVK, 3, 0, 0, 0, 24),
		I(IMEE_OP_COPY, 3, 0, 0, 0, 0),		/* 24 bytes of the flip page */
		I(IMEE_OP_LD, 2, 1, 8, 16, 0),		/* rec0's value */
		I(IMEE_OP_EMIT, 2, 0, 8, 0, 0),
		I(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	const uint8_t *out;
	unsigned int k, fails = 0;
	int sfd, efd;

	if (!f.flip_va) {
		fprintf(stderr, "intel_test: no flip_va in the facts\n");
		return 1;
	}
	efd = open_ee(&sfd, &out);
	load(efd, prog, sizeof(prog) / sizeof(prog[0]));
	for (k = 0; k <= 4; k++) {
		const char *want = k & 1 ? "imee-tinyvm flip frame B" : "imee-tinyvm flip frame A";
		uint64_t want_value = f.value[0] + k, value = 0;
		struct imee_run run;
		int ok;

		if (k && (kill(f.pid, SIGUSR1) || wait_flipped(k))) {
			printf("INTEL-TEST flip=%u tinyvm did not flip\n", k);
			return 1;
		}
		if (run_ee(efd, &run, f.flip_va, f.list_head, 0) < 0) {
			printf("INTEL-TEST flip=%u IMEE_RUN failed: %s\n", k, strerror(errno));
			return 1;
		}
		ok = run.status == IMEE_STATUS_OK && run.out_len == 32;
		if (ok) {
			memcpy(&value, out + 24, 8);
			ok = !memcmp(out, want, 24) && value == want_value;
		}
		printf("INTEL-TEST flip=%u frame=%.24s value=0x%llx want=%.24s/0x%llx exits=%u "
		       "npt_faults=%u ad_copies=%u ok=%d\n", k, run.out_len >= 24 ? (const char *)out : "-",
		       (unsigned long long)value, want, (unsigned long long)want_value,
		       run.exits, run.npt_faults, run.ad_copies, ok);
		fails += !ok;
	}
	close(efd);
	close(sfd);
	printf("INTEL-TEST flip result=%s\n", fails ? "fail" : "pass");
	return fails ? 1 : 0;
}

static int test_dead(void)
{
	static const struct imee_insn prog[] = {
		I(IMEE_OP_LD, 2, 0, 8, 8, 0),		/* rec0's id */
		I(IMEE_OP_EMIT, 2, 0, 8, 0, 0),
		I(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	struct imee_attach at = { .size = sizeof(at), .pid = f.pid };
	struct imee_create cr = { .size = sizeof(cr) };
	const uint8_t *out;
	struct imee_run run;
	int sfd, efd, sfd2, i, err = 0, fails = 0;

	efd = open_ee(&sfd, &out);
	load(efd, prog, sizeof(prog) / sizeof(prog[0]));
	sfd2 = ioctl(dev, IMEE_ATTACH, &at);
	if (sfd2 < 0 || run_ee(efd, &run, f.list_head, 0, 0) < 0 ||
	    run.status != IMEE_STATUS_OK) {
		printf("INTEL-TEST dead: the first activation failed: %s\n", strerror(errno));
		return 1;
	}
	if (kill(f.pid, SIGTERM)) {
		perror("kill tinyvm");
		return 1;
	}
	for (i = 0; i < 600; i++) {
		if (run_ee(efd, &run, f.list_head, 0, 0) < 0) {
			err = errno;
			break;
		}
		usleep(100000);
	}
	printf("INTEL-TEST dead: IMEE_RUN after tinyvm exited: %s after %d.%d s\n",
	       err ? strerror(err) : "still succeeds", i / 10, i % 10);
	fails += err != ESRCH;
	err = ioctl(sfd2, IMEE_CREATE, &cr) < 0 ? errno : 0;
	printf("INTEL-TEST dead: IMEE_CREATE on a session of the dead VM: %s\n",
	       err ? strerror(err) : "succeeded");
	fails += err != ESRCH;
	close(efd);
	close(sfd);
	close(sfd2);
	printf("INTEL-TEST dead result=%s\n", fails ? "fail" : "pass");
	return fails ? 1 : 0;
}

static int test_attach_dead(long pid)
{
	struct imee_attach at = { .size = sizeof(at), .pid = pid };
	int sfd = ioctl(dev, IMEE_ATTACH, &at), err = sfd < 0 ? errno : 0;

	printf("INTEL-TEST attach-dead pid=%ld: %s\n", pid, err ? strerror(err) : "attached");
	printf("INTEL-TEST attach-dead result=%s\n", err == ESRCH ? "pass" : "fail");
	return err == ESRCH ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--attach-dead")) {
		dev = open("/dev/imee", O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			perror("/dev/imee");
			return 1;
		}
		return test_attach_dead(strtol(argv[2], NULL, 0));
	}
	if (argc >= 3 && argv[1][0] == '-' && argv[1][1] == '-') {
		facts_path = argv[2];
		read_facts(facts_path);
		dev = open("/dev/imee", O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			perror("/dev/imee");
			return 1;
		}
		if (!strcmp(argv[1], "--flip"))
			return test_flip();
		if (!strcmp(argv[1], "--dead"))
			return test_dead();
		if (!strcmp(argv[1], "--bench"))
			return bench(argc > 3 ? atoi(argv[3]) : 25);
		fprintf(stderr, "intel_test: unknown mode %s\n", argv[1]);
		return 2;
	}
	return walk_test(argc, argv);
}

static int walk_test(int argc, char **argv)
{
	struct imee_insn prog[32];
	struct imee_attach at = { .size = sizeof(at) };
	struct imee_create cr = { .size = sizeof(cr) };
	struct imee_load ld = { .size = sizeof(ld) };
	unsigned int n = 0, runs = 3, r, i, fails = 0;
	size_t slen;
	int sfd, efd;
	uint8_t *out;

	if (argc < 2 || argv[1][0] == '-') {
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

/* --bench: the ImEE, a software walk over the view, and the copying read. */

#define NR_SIZES 5
static const unsigned int read_sizes[NR_SIZES] = { 4, 64, 128, 512, 1024 };

struct reader {
	int sfd;
	const uint8_t *view;	/* NULL: the copying read */
	uint64_t view_size;
	uint64_t cr3;
	int levels;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Guest-physical bytes within one page. */
static int rd_phys(const struct reader *r, uint64_t gpa, void *buf, unsigned int len)
{
	struct imee_read_phys rp = { .size = sizeof(rp), .gpa = gpa, .len = len,
				     .buf = (uintptr_t)buf };

	if (r->view) {
		if (gpa + len > r->view_size)
			return -1;
		memcpy(buf, r->view + gpa, len);
		return 0;
	}
	return ioctl(r->sfd, IMEE_READ_PHYS, &rp);
}

/* A 4- or 5-level walk in software, one table entry read at a time. */
static int translate(const struct reader *r, uint64_t va, uint64_t *gpa)
{
	uint64_t table = r->cr3 & 0x000ffffffffff000ULL, e;
	int level;

	for (level = r->levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		if (rd_phys(r, table + ((va >> shift) & 511) * 8, &e, 8) || !(e & 1))
			return -1;
		if (level == 1 || (level <= 3 && (e & 0x80))) {
			uint64_t mask = (1ULL << shift) - 1;

			*gpa = (e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
			return 0;
		}
		table = e & 0x000ffffffffff000ULL;
	}
	return -1;
}

static int vread(const struct reader *r, uint64_t va, void *buf, unsigned int len)
{
	uint8_t *b = buf;

	while (len) {
		unsigned int n = 4096 - (va & 4095);
		uint64_t gpa;

		if (n > len)
			n = len;
		if (translate(r, va, &gpa) || rd_phys(r, gpa, b, n))
			return -1;
		va += n;
		b += n;
		len -= n;
	}
	return 0;
}

static int bench(unsigned int rounds)
{
	static const struct imee_insn empty[] = { I(IMEE_OP_EXIT, 0, 0, 0, 0, 0) };
	static const struct imee_insn copy[] = {
		I(IMEE_OP_COPY, 2, 0, 0, 0, 0),
		I(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	static const struct imee_insn chase[] = {
		I(IMEE_OP_JEQK, 1, 0, 0, 3, 0),
		I(IMEE_OP_LD, 0, 0, 8, 0, 0),
		I(IMEE_OP_SUBK, 1, 0, 0, 0, 1),
		I(IMEE_OP_JA, 0, 0, 0, -4, 0),
		I(IMEE_OP_EXIT, 0, 0, 0, 0, 0),
	};
	static const char *const names[3] = { "imee", "software", "legacy" };
	struct imee_vcpu_regs vcpu;
	struct imee_session_info info = { .size = sizeof(info), .vcpus_cap = 1,
					  .vcpus = (uintptr_t)&vcpu };
	double *t = calloc(rounds, sizeof(*t)), launch[3], act = 0, rd[3][NR_SIZES], ch[3];
	uint64_t end[3] = { 0 }, va = f.big_va + 0x10000;
	struct reader r = { 0 };
	const uint8_t *out;
	struct imee_run run;
	uint8_t buf[1024];
	unsigned int e, i, k;
	int sfd, efd, fails = 0;

	if (!t || rounds < 3 || !f.ring_head || !f.chase_hops) {
		fprintf(stderr, "intel_test: --bench needs ROUNDS >= 3 and ring facts\n");
		return 2;
	}
	/* launch: attach (and IMEE_CREATE for the ImEE) */
	for (e = 0; e < 3; e++) {
		for (i = 0; i < rounds; i++) {
			struct imee_attach at = { .size = sizeof(at), .pid = f.pid };
			struct imee_create cr = { .size = sizeof(cr) };
			double t0 = now_us();

			sfd = ioctl(dev, IMEE_ATTACH, &at);
			efd = e == 0 && sfd >= 0 ? ioctl(sfd, IMEE_CREATE, &cr) : -1;
			t[i] = now_us() - t0;
			if (sfd < 0 || (e == 0 && efd < 0)) {
				perror("bench: attach/create");
				return 1;
			}
			if (efd >= 0)
				close(efd);
			close(sfd);
		}
		launch[e] = median(t, rounds);
	}

	efd = open_ee(&sfd, &out);
	load(efd, empty, 1);
	for (i = 0; i < rounds; i++) {
		double t0 = now_us();

		if (run_ee(efd, &run, 0, 0, 0) < 0)
			return 1;
		t[i] = now_us() - t0;
	}
	act = median(t, rounds);
	load(efd, copy, 2);
	for (k = 0; k < NR_SIZES; k++) {
		for (i = 0; i < rounds; i++) {
			double t0 = now_us();

			if (run_ee(efd, &run, va, 0, read_sizes[k]) < 0 ||
			    run.status != IMEE_STATUS_OK)
				return 1;
			t[i] = now_us() - t0;
		}
		rd[0][k] = median(t, rounds);
	}
	load(efd, chase, 5);
	for (i = 0; i < rounds; i++) {
		double t0 = now_us();

		if (run_ee(efd, &run, f.ring_head, f.chase_hops, 0) < 0 ||
		    run.status != IMEE_STATUS_OK)
			return 1;
		t[i] = now_us() - t0;
		end[0] = run.regs[0];
	}
	ch[0] = median(t, rounds);

	/* software (the view) and legacy (IMEE_READ_PHYS) on the vCPU's CR3 */
	if (ioctl(sfd, IMEE_SESSION_INFO, &info) < 0 || !info.nr_vcpus) {
		perror("IMEE_SESSION_INFO");
		return 1;
	}
	r.sfd = sfd;
	r.cr3 = vcpu.cr3;
	r.levels = vcpu.cr4 & (1 << 12) ? 5 : 4;
	r.view_size = info.view_size;
	for (e = 1; e < 3; e++) {
		if (e == 1) {
			void *v = mmap(NULL, info.view_size, PROT_READ, MAP_SHARED, sfd, 0);

			if (v == MAP_FAILED) {
				perror("mmap view");
				return 1;
			}
			r.view = v;
		} else {
			r.view = NULL;
		}
		for (k = 0; k < NR_SIZES; k++) {
			for (i = 0; i < rounds; i++) {
				double t0 = now_us();

				if (vread(&r, va, buf, read_sizes[k]))
					return 1;
				t[i] = now_us() - t0;
			}
			rd[e][k] = median(t, rounds);
		}
		for (i = 0; i < rounds; i++) {
			double t0 = now_us();
			uint64_t p = f.ring_head;
			unsigned int h;

			for (h = 0; h < f.chase_hops; h++)
				if (vread(&r, p, &p, 8))
					return 1;
			t[i] = now_us() - t0;
			end[e] = p;
		}
		ch[e] = median(t, rounds);
	}
	for (e = 0; e < 3; e++)
		fails += end[e] != f.chase_end;

	printf("INTEL-BENCH {\"rounds\": %u, \"unit\": \"us (medians)\", \"levels\": %d, "
	       "\"engines\": {", rounds, r.levels);
	for (e = 0; e < 3; e++) {
		printf("%s\"%s\": {\"launch_us\": %.1f, ", e ? ", " : "", names[e], launch[e]);
		if (!e)
			printf("\"activation_us\": %.1f, ", act);
		printf("\"read_us\": {");
		for (k = 0; k < NR_SIZES; k++)
			printf("%s\"%u\": %.1f", k ? ", " : "", read_sizes[k], rd[e][k]);
		printf("}, \"chase%u_us\": %.1f, \"chase_end\": \"0x%llx\"}", f.chase_hops, ch[e],
		       (unsigned long long)end[e]);
	}
	printf("}, \"ratios\": {\"legacy/imee\": {\"read1024\": %.2f, \"chase\": %.2f}, "
	       "\"software/imee\": {\"read1024\": %.2f, \"chase\": %.2f}}}\n",
	       rd[2][4] / rd[0][4], ch[2] / ch[0], rd[1][4] / rd[0][4], ch[1] / ch[0]);
	printf("INTEL-TEST bench result=%s (chase ends: want 0x%llx)\n", fails ? "fail" : "pass",
	       (unsigned long long)f.chase_end);
	close(efd);
	close(sfd);
	free(t);
	return fails ? 1 : 0;
}
