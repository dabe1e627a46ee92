// SPDX-License-Identifier: GPL-2.0
/*
 * tinyvm: a small static VMM for imee's tests, cheap enough for emulated
 * hosts (the Intel lab under bochs). It uses the KVM API directly: one
 * memslot, long mode set up by the VMM with page tables of its own, and
 * known data at known virtual addresses:
 *
 *  - a string (not page aligned),
 *  - a linked list of records spread over two pages whose virtual order is
 *    the reverse of their physical order,
 *  - a page mapped at two virtual addresses (one user, one kernel-half),
 *  - a 2 MiB page (a PDE with PS set) with a pattern in every 4 KiB,
 *  - a counter the guest increments before every HLT,
 *  - a "flip" page whose mapping tinyvm changes on SIGUSR1 (between two
 *    frames, A and B) together with the value of the list's first record:
 *    a reader must see the new mapping and value, never the stale ones,
 *  - a ring of RING_NODES pointers over four pages, for pointer chases.
 *
 * The entries on the guest's own path (the identity-mapped first 2 MiB) have
 * their accessed and dirty bits set up front, so that the guest's CPU writes
 * nothing but its counter: when tinyvm ends (SIGTERM, SIGINT or --seconds) it
 * compares all of its memory with a copy taken after the first entry and
 * prints "unchanged=yes" or "unchanged=no first=GPA bytes=N" (a reader such
 * as imee must not have changed anything, A/D bits in its tables included).
 *
 * The guest runs "inc counter; hlt; jmp" forever; without an in-kernel
 * irqchip every HLT exits to us, and we enter it again after a short sleep,
 * so it keeps running (and its counter moves) while imee attaches.
 *
 * Usage: tinyvm [--seconds N] [--levels 4|5] [--jobs DIR]
 * Prints its facts on stdout as key=value lines, then "ready", then runs
 * for N seconds (default: until killed). After each SIGUSR1 it prints
 * "flipped=N" (N flips so far; odd N: frame B and value rec0_value + N)
 * once the change is made. --jobs DIR writes imeectl job files
 * for these facts: DIR/software.json and DIR/imee.json (the same jobs on the
 * two engines) and DIR/expect.txt (the values the reads must give).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE	0x800000ULL	/* 8 MiB, one memslot at 0 */
#define PAGE		0x1000ULL

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_NX		(1ULL << 63)

/* guest-physical layout */
#define CODE_GPA	0x10000ULL
#define COUNTER_GPA	0x11000ULL
#define STACK_GPA	0x12000ULL
#define STR_GPA		0x20123ULL
#define LIST_GPA0	0x32000ULL	/* first virtual page */
#define LIST_GPA1	0x30000ULL	/* second virtual page */
#define ALIAS_GPA	0x40000ULL
#define FLIP_GPA_A	0x50000ULL
#define FLIP_GPA_B	0x51000ULL
#define RING_GPA	0x60000ULL	/* four pages */
#define PT_POOL_GPA	0x80000ULL	/* page tables from here */
#define PT_POOL_END	0x100000ULL
#define BIG_GPA		0x400000ULL	/* 2 MiB aligned */

/* virtual layout (4-level canonical; also valid under 5-level) */
#define CODE_VA		CODE_GPA	/* identity, first 2 MiB */
#define COUNTER_VA	COUNTER_GPA
#define STR_VA		0x00007f0000001123ULL
#define LIST_VA		0xffff888000100000ULL
#define ALIAS_VA1	0x00007f0000002000ULL
#define ALIAS_VA2	0xffff888000200000ULL
#define BIG_VA		0xffff888040000000ULL
#define FLIP_VA		0xffff888000300000ULL
#define RING_VA		0xffff888000400000ULL
#define RING_NODES	64
#define CHASE_HOPS	1000

#define NR_RECORDS	6
static const char tinyvm_string[] =
	"imee-tinyvm: the quick brown fox jumps over the lazy dog";

struct record {
	uint64_t next;		/* virtual address of the next record, 0 ends */
	uint64_t id;
	uint64_t value;
	char name[8];
};

static uint8_t *mem;
static uint64_t pt_next = PT_POOL_GPA;
static uint64_t cr3;
static int levels = 4;
static volatile sig_atomic_t stop, flip_req;
static unsigned int flips;

static void die(const char *what)
{
	fprintf(stderr, "tinyvm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t *gpa_ptr(uint64_t gpa)
{
	return (uint64_t *)(mem + gpa);
}

static uint64_t pt_alloc(void)
{
	uint64_t gpa = pt_next;

	if (gpa >= PT_POOL_END) {
		fprintf(stderr, "tinyvm: out of page-table pages\n");
		exit(1);
	}
	pt_next += PAGE;
	memset(mem + gpa, 0, PAGE);
	return gpa;
}

/* Map va -> gpa: a 4 KiB page (level 1) or a 2 MiB one (level 2). */
static void map(uint64_t va, uint64_t gpa, int leaf_level, uint64_t flags)
{
	uint64_t table = cr3;
	int level;

	for (level = levels; level > leaf_level; level--) {
		unsigned int idx = (va >> (12 + 9 * (level - 1))) & 511;
		uint64_t *e = gpa_ptr(table) + idx;

		if (!(*e & PTE_P))
			*e = pt_alloc() | PTE_P | PTE_W | PTE_U;
		table = *e & 0x000ffffffffff000ULL;
	}
	gpa_ptr(table)[(va >> (12 + 9 * (leaf_level - 1))) & 511] =
		gpa | flags | PTE_P | (leaf_level == 2 ? PTE_PS : 0);
}

/* Set the A bits on the way to va and A and D in its (4 KiB) leaf. */
static void touch(uint64_t va)
{
	uint64_t table = cr3;
	int level;

	for (level = levels; level >= 1; level--) {
		uint64_t *e = gpa_ptr(table) + ((va >> (12 + 9 * (level - 1))) & 511);

		*e |= PTE_A | (level == 1 ? PTE_D : 0);
		table = *e & 0x000ffffffffff000ULL;
	}
}

/* The PTE of a 4 KiB mapping (the tables on its way must exist). */
static uint64_t *pte_of(uint8_t *m, uint64_t va)
{
	uint64_t table = cr3;
	int level;

	for (level = levels; level > 1; level--)
		table = ((uint64_t *)(m + table))[(va >> (12 + 9 * (level - 1))) & 511] &
			0x000ffffffffff000ULL;
	return (uint64_t *)(m + table) + ((va >> 12) & 511);
}

/* The ring: node i (16 bytes: next VA, index) on page i % 4. */
static uint64_t ring_node_va(unsigned int i)
{
	i %= RING_NODES;
	return RING_VA + (i % 4) * PAGE + 0x80 + (i / 4) * 0x40;
}

static uint64_t big_word(unsigned int page)
{
	return 0xb16b00b500000000ULL | page;
}

static void build_guest(void)
{
	/* inc qword [rip+0xff9] (the counter); hlt; jmp back */
	static const uint8_t code[] = {
		0x48, 0xff, 0x05, 0xf9, 0x0f, 0x00, 0x00, 0xf4, 0xeb, 0xf6,
	};
	struct record *r;
	uint64_t va;
	unsigned int i;

	cr3 = pt_alloc();
	/* identity map of the first 2 MiB in 4 KiB pages (code, stack, tables) */
	for (va = PAGE; va < 0x200000; va += PAGE) {
		map(va, va, 1, PTE_W);
		touch(va);
	}
	memcpy(mem + CODE_GPA, code, sizeof(code));

	strcpy((char *)mem + STR_GPA, tinyvm_string);
	map(STR_VA & ~(PAGE - 1), STR_GPA & ~(PAGE - 1), 1, PTE_U | PTE_NX);

	/* the list: records alternate between the two virtual pages */
	map(LIST_VA, LIST_GPA0, 1, PTE_W | PTE_NX);
	map(LIST_VA + PAGE, LIST_GPA1, 1, PTE_W | PTE_NX);
	for (i = 0; i < NR_RECORDS; i++) {
		uint64_t off = (i & 1) * PAGE + 0x40 + i * 0x100;
		uint64_t gpa = (i & 1 ? LIST_GPA1 : LIST_GPA0) + off - (i & 1) * PAGE;

		r = (struct record *)(mem + gpa);
		r->id = 100 + i;
		r->value = 0x1111111111111111ULL * (i + 1);
		snprintf(r->name, sizeof(r->name), "rec%u", i);
		if (i + 1 < NR_RECORDS) {
			uint64_t noff = ((i + 1) & 1) * PAGE + 0x40 + (i + 1) * 0x100;

			r->next = LIST_VA + noff;
		}
	}

	/* one page at two virtual addresses */
	snprintf((char *)mem + ALIAS_GPA, 64, "imee-tinyvm alias page");
	for (i = 8; i < PAGE / 8; i++)
		gpa_ptr(ALIAS_GPA)[i] = 0xa11a5000ULL + i;
	map(ALIAS_VA1, ALIAS_GPA, 1, PTE_U | PTE_NX);
	map(ALIAS_VA2, ALIAS_GPA, 1, PTE_W | PTE_NX);

	/* the flip page: frame A now, B after a SIGUSR1 */
	snprintf((char *)mem + FLIP_GPA_A, 64, "imee-tinyvm flip frame A");
	snprintf((char *)mem + FLIP_GPA_B, 64, "imee-tinyvm flip frame B");
	map(FLIP_VA, FLIP_GPA_A, 1, PTE_W | PTE_NX);

	/* the ring */
	for (i = 0; i < 4; i++)
		map(RING_VA + i * PAGE, RING_GPA + i * PAGE, 1, PTE_NX);
	for (i = 0; i < RING_NODES; i++) {
		uint64_t *node = (uint64_t *)(mem + RING_GPA + (ring_node_va(i) - RING_VA));

		node[0] = ring_node_va(i + 1);
		node[1] = i;
	}

	/* a 2 MiB page */
	for (i = 0; i < 512; i++)
		gpa_ptr(BIG_GPA + i * PAGE)[0] = big_word(i);
	strcpy((char *)mem + BIG_GPA + 0x1ff800, "imee-tinyvm big page end");
	map(BIG_VA, BIG_GPA, 2, PTE_W | PTE_NX);
}

static void set_seg(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->present = 1;
	s->s = 1;
	s->l = code;
	s->db = !code;
	s->g = 1;
}

static void setup_vcpu(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	set_seg(&sregs.cs, 0x08, 1);
	set_seg(&sregs.ds, 0x10, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr3 = cr3;
	sregs.cr4 = (1 << 5) | (levels == 5 ? 1 << 12 : 0);	/* PAE, LA57 */
	sregs.cr0 = 0x80050033;	/* PG WP AM NE ET MP PE */
	sregs.efer = 0xd00;	/* NXE LMA LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_VA;
	regs.rsp = STACK_GPA + PAGE;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

static void hex(FILE *f, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		fprintf(f, "%02x", *b++);
}

static void facts(FILE *f, int vm_fd)
{
	unsigned int i;

	fprintf(f, "pid=%d\nvm_fd=%d\nlevels=%d\ncr3=0x%" PRIx64 "\n",
		getpid(), vm_fd, levels, cr3);
	fprintf(f, "counter_va=0x%llx\nstr_va=0x%llx\nstr_gpa=0x%llx\nstr=%s\n",
		COUNTER_VA, STR_VA, STR_GPA, tinyvm_string);
	fprintf(f, "list_head=0x%llx\nlist_count=%d\n", LIST_VA + 0x40, NR_RECORDS);
	for (i = 0; i < NR_RECORDS; i++) {
		uint64_t off = (i & 1) * PAGE + 0x40 + i * 0x100;

		fprintf(f, "rec%u=va:0x%llx id:%u value:0x%llx name:rec%u\n", i,
			(unsigned long long)(LIST_VA + off), 100 + i,
			0x1111111111111111ULL * (i + 1), i);
	}
	fprintf(f, "alias_va1=0x%llx\nalias_va2=0x%llx\nalias_gpa=0x%llx\n",
		ALIAS_VA1, ALIAS_VA2, ALIAS_GPA);
	fprintf(f, "big_va=0x%llx\nbig_gpa=0x%llx\nbig_end_str=imee-tinyvm big page end\n",
		BIG_VA, BIG_GPA);
	fprintf(f, "big_word_0x%x=0x%llx\n", 0x123000,
		(unsigned long long)big_word(0x123));
	fprintf(f, "flip_va=0x%llx\nflip_gpa_a=0x%llx\nflip_gpa_b=0x%llx\n",
		FLIP_VA, FLIP_GPA_A, FLIP_GPA_B);
	fprintf(f, "ring_head=0x%llx\nring_nodes=%d\nchase_hops=%d\nchase_end=0x%llx\n",
		(unsigned long long)ring_node_va(0), RING_NODES, CHASE_HOPS,
		(unsigned long long)ring_node_va(CHASE_HOPS));
}

/* imeectl job files for the facts, one per engine, and what they must give. */
static void write_jobs(const char *dir)
{
	static const char *const engines[] = { "software", "imee" };
	char path[4096];
	unsigned int e, i;
	FILE *f;

	for (e = 0; e < 2; e++) {
		snprintf(path, sizeof(path), "%s/%s.json", dir, engines[e]);
		f = fopen(path, "w");
		if (!f)
			die(path);
		fprintf(f, "{\"target\": {\"pid\": %d}, \"engine\": \"%s\", \"cache\": false,\n"
			" \"jobs\": [\n", getpid(), engines[e]);
		fprintf(f, "  {\"id\": \"str\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": %zu, \"format\": \"string\"},\n",
			STR_VA, sizeof(tinyvm_string));
		for (i = 0; i < NR_RECORDS; i++) {
			uint64_t off = (i & 1) * PAGE + 0x40 + i * 0x100;

			fprintf(f, "  {\"id\": \"rec%u\", \"type\": \"read\", \"space\": \"virtual\", "
				"\"address\": \"0x%llx\", \"length\": 24, \"format\": \"u64\"},\n",
				i, (unsigned long long)(LIST_VA + off));
		}
		fprintf(f, "  {\"id\": \"alias1\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": 64, \"format\": \"hex\"},\n", ALIAS_VA1);
		fprintf(f, "  {\"id\": \"alias2\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": 64, \"format\": \"hex\"},\n", ALIAS_VA2);
		fprintf(f, "  {\"id\": \"big\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": 8, \"format\": \"u64\"},\n",
			BIG_VA + 0x123000);
		fprintf(f, "  {\"id\": \"bigend\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": 32, \"format\": \"string\"},\n",
			BIG_VA + 0x1ff800);
		fprintf(f, "  {\"id\": \"cross\", \"type\": \"read\", \"space\": \"virtual\", "
			"\"address\": \"0x%llx\", \"length\": 64, \"format\": \"hex\"},\n",
			LIST_VA + PAGE - 32);
		fprintf(f, "  {\"id\": \"t_str\", \"type\": \"translate\", \"address\": \"0x%llx\"},\n",
			STR_VA);
		fprintf(f, "  {\"id\": \"t_alias2\", \"type\": \"translate\", \"address\": \"0x%llx\"},\n",
			ALIAS_VA2);
		fprintf(f, "  {\"id\": \"t_big\", \"type\": \"translate\", \"address\": \"0x%llx\", "
			"\"verbose\": true}\n", BIG_VA + 0x123456);
		fprintf(f, " ]}\n");
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/expect.txt", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "str %s\n", tinyvm_string);
	for (i = 0; i < NR_RECORDS; i++) {
		uint64_t off = (i & 1) * PAGE + 0x40 + i * 0x100;
		struct record *r = (struct record *)(mem + (i & 1 ? LIST_GPA1 : LIST_GPA0) +
						     off - (i & 1) * PAGE);

		fprintf(f, "rec%u 0x%" PRIx64 " %" PRIu64 " 0x%" PRIx64 "\n", i,
			r->next, r->id, r->value);
	}
	fprintf(f, "alias ");
	hex(f, mem + ALIAS_GPA, 64);
	fprintf(f, "\nbig 0x%llx\nbigend imee-tinyvm big page end\n",
		(unsigned long long)big_word(0x123));
	fprintf(f, "cross ");
	hex(f, mem + LIST_GPA0 + PAGE - 32, 32);
	hex(f, mem + LIST_GPA1, 32);
	fprintf(f, "\nt_str 0x%llx\nt_alias2 0x%llx\nt_big 0x%llx\n",
		STR_GPA, ALIAS_GPA, BIG_GPA + 0x123456);
	fclose(f);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		flip_req = 1;
	else
		stop = 1;
}

/*
 * Remap the flip page to the other frame and set rec0's value to the base
 * plus the number of flips, in memory and in the copy that the end's check
 * compares with (these are tinyvm's own changes, not a reader's).
 */
static void flip(uint8_t *snap)
{
	uint64_t rec0 = LIST_GPA0 + 0x40 + offsetof(struct record, value);
	uint64_t frame, *pte;

	flips++;
	frame = flips & 1 ? FLIP_GPA_B : FLIP_GPA_A;
	pte = pte_of(mem, FLIP_VA);
	*pte = (*pte & ~0x000ffffffffff000ULL) | frame;
	*pte_of(snap, FLIP_VA) = *pte;
	*gpa_ptr(rec0) = 0x1111111111111111ULL + flips;
	memcpy(snap + rec0, mem + rec0, 8);
	printf("flipped=%u\n", flips);
	fflush(stdout);
}

/* Compare memory with the copy, the counter's page aside. */
static void check_unchanged(const uint8_t *snap)
{
	uint64_t gpa, first = 0, n = 0;

	for (gpa = 0; gpa < MEM_SIZE; gpa++) {
		if (!(gpa & (PAGE - 1)) &&
		    (gpa == COUNTER_GPA || !memcmp(mem + gpa, snap + gpa, PAGE))) {
			gpa += PAGE - 1;
			continue;
		}
		if (mem[gpa] != snap[gpa]) {
			if (!n)
				first = gpa;
			n++;
		}
	}
	if (n)
		printf("unchanged=no first=0x%" PRIx64 " bytes=%" PRIu64 "\n", first, n);
	else
		printf("unchanged=yes\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint8_t *snap;
	struct kvm_userspace_memory_region region;
	const char *jobs = NULL;
	struct kvm_run *run;
	struct timespec t0, now;
	long seconds = -1;
	int kvm, vm, vcpu, i, run_size;
	unsigned long long hlts = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = strtol(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--levels") && i + 1 < argc) {
			levels = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) {
			jobs = argv[++i];
		} else {
			fprintf(stderr, "usage: tinyvm [--seconds N] [--levels 4|5] [--jobs DIR]\n");
			return 2;
		}
	}
	if (levels != 4 && levels != 5) {
		fprintf(stderr, "tinyvm: --levels 4 or 5\n");
		return 2;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	build_guest();
	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	setup_vcpu(vcpu);

	/* one entry before telling anyone: the guest is known to run */
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "tinyvm: first exit %u, not HLT\n", run->exit_reason);
		return 1;
	}
	snap = malloc(MEM_SIZE);
	if (!snap)
		die("malloc");
	memcpy(snap, mem, MEM_SIZE);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	facts(stdout, vm);
	if (jobs)
		write_jobs(jobs);
	printf("counter=%" PRIu64 "\nready\n", *gpa_ptr(COUNTER_GPA));
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		if (flip_req) {
			flip_req = 0;
			flip(snap);
		}
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_HLT) {
			fprintf(stderr, "tinyvm: exit %u at hlt %llu\n", run->exit_reason, hlts);
			return 1;
		}
		hlts++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds >= 0 && now.tv_sec - t0.tv_sec >= seconds)
			break;
		usleep(20000);
	}
	check_unchanged(snap);
	fprintf(stderr, "tinyvm: done, %llu halts, counter %" PRIu64 "\n",
		hlts, *gpa_ptr(COUNTER_GPA));
	return 0;
}
