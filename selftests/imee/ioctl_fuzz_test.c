// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded fuzzer of /dev/imee: several threads issue random and mutated
 * calls on a shared pool of file descriptors (the device, sessions on the
 * lab's targets, ImEE fds, closed numbers, files of other kinds): every
 * ioctl with valid, mutated and hostile arguments (wrong sizes, NULL,
 * unaligned, kernel and half-mapped pointers, huge lengths and counts),
 * agent programs mutated from valid ones, mmap/munmap of views and output
 * buffers with random offsets, lengths and protections, reads of mapped
 * views (a hole gives SIGBUS, which is expected), and close/reopen races.
 *
 * It asserts that the module survives: the calls complete (none hangs: the
 * harness bounds the test), every error is a plain errno, a clean session
 * still reads the guest's banner afterwards, and once every fd is closed
 * the module's reference count is back to zero (rmmod would work). The
 * run's dmesg check (run-in-lab) catches oopses and warnings.
 *
 * Environment: IMEE_FUZZ_SEED (default: time), IMEE_FUZZ_CALLS (default
 * 100000), IMEE_FUZZ_SECONDS (a bound on the whole run, default 900),
 * IMEE_FUZZ_THREADS (default 4), IMEE_FUZZ_ALL_TARGETS (set: sessions on
 * every lab target, not only the LA57 one). The seed is printed: a failure reproduces
 * with the same seed (modulo thread interleaving).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#include <linux/imee.h>

#include "kselftest_harness.h"
#include "lab.h"

/* IMEE_FUZZ_SECONDS bounds the calls; this bounds the whole test */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 1200

#define POOL_SIZE	48
#define MAX_THREADS	16
#define ARENA_PAGES	8
#define ARG_PAGE	4	/* the arena's page ioctl arguments are built in */
#define PAGE		4096UL

enum fd_kind { FD_NONE, FD_DEVICE, FD_SESSION, FD_EE, FD_OTHER };

/* What a call was, to count the ones that succeeded */
enum fuzz_op { OP_ATTACH, OP_INFO, OP_READ, OP_CREATE, OP_LOAD, OP_RUN, OP_MMAP, OP_OTHER, NR_OPS };
static const char *const op_names[NR_OPS] = {
	"attach", "info", "read_phys", "create", "load", "run", "mmap", "other",
};

struct pool_slot {
	int fd;
	enum fd_kind kind;
	void *map;		/* a mapping made through this fd, or NULL */
	size_t map_len;
};

/* Shared by the threads; the pool is guarded by pool_lock. */
static struct {
	pthread_mutex_t pool_lock;
	struct pool_slot pool[POOL_SIZE];
	pid_t pids[8];
	int nr_pids;
	atomic_ulong calls;
	atomic_ulong ok_calls;
	atomic_ulong ok_by_op[NR_OPS];
	atomic_ulong sigbus;
	atomic_ulong odd_errno;
	atomic_int odd_errno_value;
	unsigned long max_calls;
	time_t deadline;
} fz = { .pool_lock = PTHREAD_MUTEX_INITIALIZER };

struct fuzz_thread {
	pthread_t thread;
	uint64_t rng;
	/* arena: [0] PROT_NONE, [1..ARENA_PAGES-3] RW, [.. -2] RO, [-1] PROT_NONE */
	uint8_t *arena;
	struct imee_insn prog[256];
};

static __thread sigjmp_buf *fault_jmp;

/*
 * SIGBUS or SIGSEGV: expected while touching a view (back to the touch),
 * else a bug of the test or of the module: say where, then die of it. It
 * runs on an alternate stack (see use_alt_stack()), so a stack overflow is
 * reported too.
 */
static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	char msg[160];
	int len;

	if (fault_jmp)
		siglongjmp(*fault_jmp, 1);
	len = snprintf(msg, sizeof(msg), "# unexpected signal %d, code %d, address %p, rip 0x%llx\n",
		       sig, si->si_code, si->si_addr,
		       (unsigned long long)((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RIP]);
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
		len = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Give this thread an alternate signal stack (leaked: the process is the test's). */
static void use_alt_stack(void)
{
	stack_t ss = { .ss_size = 64 * 1024 };

	ss.ss_sp = malloc(ss.ss_size);
	if (ss.ss_sp)
		sigaltstack(&ss, NULL);
}

static uint64_t rnd(struct fuzz_thread *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct fuzz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct fuzz_thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

/* An "interesting" 64-bit value: limits, sizes, pointers of every kind. */
static uint64_t odd_value(struct fuzz_thread *t)
{
	static const uint64_t values[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256, 4095, 4096, 4097, 8192,
		65535, 65536, 65537, 1 << 20, 16 << 20, (16 << 20) + 4096,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~0ULL - 4095,
		0xffff888000000000ULL, 0xffffffff81000000ULL, 0x0000800000000000ULL,
		0x00007ffffffff000ULL, 0xfee00000, 0xc0000000, 0x100000,
	};

	if (chance(t, 30))
		return rnd(t);
	return values[below(t, sizeof(values) / sizeof(values[0]))];
}

/* A user pointer for a field or argument: mostly good, often not. */
static uint64_t odd_pointer(struct fuzz_thread *t, size_t len)
{
	uint8_t *rw = t->arena + PAGE;
	size_t rw_len = (ARENA_PAGES - 3) * PAGE;

	switch (below(t, 10)) {
	case 0:
		return 0;
	case 1:		/* the object runs into the guard page */
		return (uintptr_t)(t->arena + (ARENA_PAGES - 1) * PAGE - (len > 1 ? len / 2 : 1));
	case 2:		/* read-only: output fields fault */
		return (uintptr_t)(t->arena + (ARENA_PAGES - 2) * PAGE);
	case 3:
		return (uintptr_t)t->arena;	/* PROT_NONE */
	case 4:
		return odd_value(t);
	case 5:		/* unaligned */
		return (uintptr_t)(rw + 1 + below(t, 7));
	default:
		return (uintptr_t)(rw + (len < rw_len ? below(t, (rw_len - len) / 8) * 8 : 0));
	}
}

static void flip_bytes(struct fuzz_thread *t, void *p, size_t len)
{
	uint8_t *b = p;
	unsigned int n = below(t, 4);

	while (n--)
		b[below(t, len)] ^= (uint8_t)(1u << below(t, 8));
}

/* A valid little program (reads at r0, emits), then maybe mutated. */
static uint32_t make_program(struct fuzz_thread *t)
{
	struct imee_insn *p = t->prog;
	uint32_t n = 0, i;

	memset(t->prog, 0, sizeof(t->prog));
	switch (below(t, 4)) {
	case 0:	/* walk a list: r0 = *(r0 + off), emit, repeat r1 times */
		p[n++] = (struct imee_insn){ .op = IMEE_OP_LDF, .regs = IMEE_INSN_REGS(0, 0),
					     .size = 8, .off = (int32_t)below(t, 64), .imm = 3 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_EMIT, .regs = IMEE_INSN_REGS(0, 0), .size = 8 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_SUBK, .regs = IMEE_INSN_REGS(1, 0), .imm = 1 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_JNEK, .regs = IMEE_INSN_REGS(1, 0), .off = -4 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_EXIT };
		break;
	case 1:	/* copy r1 bytes from r0 (virtual or physical) */
		p[n++] = (struct imee_insn){ .op = chance(t, 50) ? IMEE_OP_COPYF : IMEE_OP_COPYPF,
					     .regs = IMEE_INSN_REGS(1, 0), .imm = 0 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_EXIT };
		break;
	case 2:	/* a loop that only the step limit ends */
		p[n++] = (struct imee_insn){ .op = IMEE_OP_ADDK, .regs = IMEE_INSN_REGS(2, 0), .imm = 1 };
		p[n++] = (struct imee_insn){ .op = IMEE_OP_JA, .off = -2 };
		break;
	default: /* random instructions with valid-looking ops */
		n = 1 + below(t, 64);
		for (i = 0; i < n; i++) {
			p[i].op = (uint8_t)(chance(t, 80) ? (below(t, 0x13) | (below(t, 4) == 0 ? 0x40 : 0))
							  : rnd(t));
			p[i].regs = (uint8_t)rnd(t);
			p[i].size = (uint8_t)(1u << below(t, 4));
			p[i].off = (int32_t)below(t, 9) - 4;
			p[i].imm = chance(t, 50) ? below(t, 16) : odd_value(t);
		}
		p[n - 1] = (struct imee_insn){ .op = IMEE_OP_EXIT };
		break;
	}
	if (chance(t, 20))
		flip_bytes(t, p, n * sizeof(*p));
	return n;
}

/* A pool fd of a kind (or any kind with FD_NONE); -1 if none. */
static int pick_fd(struct fuzz_thread *t, enum fd_kind want)
{
	int fd = -1, i, start = (int)below(t, POOL_SIZE);

	pthread_mutex_lock(&fz.pool_lock);
	for (i = 0; i < POOL_SIZE; i++) {
		struct pool_slot *s = &fz.pool[(start + i) % POOL_SIZE];

		if (s->kind != FD_NONE && (want == FD_NONE || s->kind == want)) {
			fd = s->fd;
			break;
		}
	}
	pthread_mutex_unlock(&fz.pool_lock);
	/* sometimes a number that is probably closed, or never was a file */
	if (chance(t, 3))
		fd = chance(t, 50) ? 1000 + (int)below(t, 100) : -1 - (int)below(t, 3);
	return fd;
}

static void pool_add(int fd, enum fd_kind kind)
{
	int i;

	if (fd < 0)
		return;
	pthread_mutex_lock(&fz.pool_lock);
	for (i = 0; i < POOL_SIZE; i++) {
		if (fz.pool[i].kind == FD_NONE) {
			fz.pool[i] = (struct pool_slot){ .fd = fd, .kind = kind };
			pthread_mutex_unlock(&fz.pool_lock);
			return;
		}
	}
	pthread_mutex_unlock(&fz.pool_lock);
	close(fd);
}

/* Close a random pool entry (and unmap what was mapped through it). */
static void pool_close_one(struct fuzz_thread *t)
{
	struct pool_slot s = { .kind = FD_NONE };
	int i = (int)below(t, POOL_SIZE);

	pthread_mutex_lock(&fz.pool_lock);
	if (fz.pool[i].kind != FD_NONE) {
		s = fz.pool[i];
		fz.pool[i].kind = FD_NONE;
		fz.pool[i].map = NULL;
	}
	pthread_mutex_unlock(&fz.pool_lock);
	if (s.kind == FD_NONE)
		return;
	/* an ImEE or session fd may still be in use by a racing ioctl: fine */
	if (s.map)
		munmap(s.map, s.map_len);
	close(s.fd);
}

static void note_errno(int err)
{
	/* what the module may answer; anything else is worth a look */
	switch (err) {
	case EINVAL: case EFAULT: case ENOTTY: case EBADF: case ESRCH: case ENOENT:
	case EPERM: case EACCES: case E2BIG: case EBUSY: case ENOMEM: case ENXIO:
	case EINTR: case ETIME: case ENODEV: case EOPNOTSUPP: case ENOTUNIQ: case EMFILE:
	case EAGAIN: case ENOSPC: case EOVERFLOW: case EIO:
		return;
	default:
		atomic_fetch_add(&fz.odd_errno, 1);
		atomic_store(&fz.odd_errno_value, err);
	}
}

static pid_t some_pid(struct fuzz_thread *t)
{
	if (chance(t, 80) && fz.nr_pids)
		return fz.pids[below(t, fz.nr_pids)];
	switch (below(t, 4)) {
	case 0:
		return getpid();
	case 1:
		return 1;
	case 2:
		return -(pid_t)below(t, 3);
	default:
		return (pid_t)rnd(t);
	}
}

/* The ioctl command: mostly right, else with a wrong size, nr or direction. */
static unsigned long mutate_cmd(struct fuzz_thread *t, unsigned long cmd)
{
	if (chance(t, 85))
		return cmd;
	switch (below(t, 3)) {
	case 0:
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd),
			    below(t, 2) ? below(t, 256) : _IOC_SIZE(cmd) + 8);
	case 1:
		return _IOC(_IOC_DIR(cmd), IMEE_IOCTL_MAGIC, below(t, 0x40), _IOC_SIZE(cmd));
	default:
		return _IOC(below(t, 4), IMEE_IOCTL_MAGIC, _IOC_NR(cmd), _IOC_SIZE(cmd));
	}
}

static void count_ok(enum fuzz_op op)
{
	atomic_fetch_add(&fz.ok_calls, 1);
	atomic_fetch_add(&fz.ok_by_op[op], 1);
}

/*
 * Issue cmd with arg (len bytes), or with a bad pointer, or with a few bits
 * of arg flipped. ptrs (nr_ptrs of them) are the offsets of arg's user
 * pointers: they are not flipped, as a flipped pointer may well land in
 * this process's own memory (another thread's stack), where the module
 * would rightly write. Which pointers are bad is chosen by the callers.
 */
static void do_ioctl(struct fuzz_thread *t, enum fuzz_op op, int fd, unsigned long cmd,
		     void *arg, size_t len, const size_t *ptrs, size_t nr_ptrs)
{
	uint64_t p = (uintptr_t)arg, saved[4];
	size_t i;

	if (chance(t, 5)) {
		p = odd_pointer(t, len);
	} else if (chance(t, 30)) {
		for (i = 0; i < nr_ptrs && i < 4; i++)
			memcpy(&saved[i], (uint8_t *)arg + ptrs[i], sizeof(saved[i]));
		flip_bytes(t, arg, len);
		for (i = 0; i < nr_ptrs && i < 4; i++)
			memcpy((uint8_t *)arg + ptrs[i], &saved[i], sizeof(saved[i]));
	}
	if (ioctl(fd, mutate_cmd(t, cmd), (void *)(uintptr_t)p) == 0)
		count_ok(op);
	else
		note_errno(errno);
	atomic_fetch_add(&fz.calls, 1);
}

/*
 * The argument of an ioctl, copied to a zeroed page of the arena: a mutated
 * command may be one whose struct is larger than this one, and the module
 * then reads and writes back that larger struct, as it should. (On the
 * stack, that write smashed the caller's frame: a bug of this test.)
 */
static void *arg_page(struct fuzz_thread *t, const void *arg, size_t len)
{
	uint8_t *page = t->arena + ARG_PAGE * PAGE;

	memset(page, 0, PAGE);
	memcpy(page, arg, len);
	return page;
}

/* The user pointers of the structs fuzzed (see do_ioctl()). */
static const size_t info_ptrs[] = { offsetof(struct imee_session_info, memslots),
				    offsetof(struct imee_session_info, vcpus) };
static const size_t read_ptrs[] = { offsetof(struct imee_read_phys, buf) };
static const size_t load_ptrs[] = { offsetof(struct imee_load, insns) };

static uint32_t odd_size(struct fuzz_thread *t, uint32_t size)
{
	if (chance(t, 85))
		return size;
	return chance(t, 50) ? (uint32_t)below(t, size + 16) : (uint32_t)odd_value(t);
}

static void fuzz_attach(struct fuzz_thread *t)
{
	struct imee_attach a = { .size = odd_size(t, sizeof(a)), .pid = some_pid(t) };
	int dev = pick_fd(t, FD_DEVICE), sfd;

	if (chance(t, 10)) {
		a.flags = chance(t, 50) ? IMEE_ATTACH_F_VM_FD : (uint32_t)rnd(t);
		a.vm_fd = (int32_t)below(t, 64);
	}
	if (chance(t, 5))
		a.reserved[below(t, 2)] = rnd(t);
	sfd = ioctl(dev, mutate_cmd(t, IMEE_ATTACH), arg_page(t, &a, sizeof(a)));
	atomic_fetch_add(&fz.calls, 1);
	if (sfd >= 0) {
		count_ok(OP_ATTACH);
		pool_add(sfd, FD_SESSION);
	} else {
		note_errno(errno);
	}
}

static void fuzz_info(struct fuzz_thread *t, int fd)
{
	uint8_t *rw = t->arena + PAGE;
	struct imee_session_info *info = (void *)rw;

	memset(info, 0, sizeof(*info) + 64);
	info->size = odd_size(t, sizeof(*info));
	info->memslots_cap = (uint32_t)(chance(t, 70) ? below(t, 16) : odd_value(t));
	info->memslots = chance(t, 70) ? (uintptr_t)(rw + 512) : odd_pointer(t, 32);
	info->vcpus_cap = (uint32_t)(chance(t, 70) ? below(t, 8) : odd_value(t));
	info->vcpus = chance(t, 70) ? (uintptr_t)(rw + 2048) : odd_pointer(t, 48);
	do_ioctl(t, OP_INFO, fd, IMEE_SESSION_INFO, info, sizeof(*info), info_ptrs, 2);
}

static void fuzz_read_phys(struct fuzz_thread *t, int fd)
{
	struct imee_read_phys rd = {
		.size = odd_size(t, sizeof(rd)),
		.gpa = chance(t, 60) ? below(t, 64 << 20) & ~7ULL : odd_value(t),
		.len = (uint32_t)(chance(t, 70) ? 1 + below(t, 4096) : odd_value(t)),
		.buf = chance(t, 80) ? (uintptr_t)(t->arena + PAGE) : odd_pointer(t, 4096),
	};

	if (chance(t, 5))
		rd.flags = (uint32_t)rnd(t);
	do_ioctl(t, OP_READ, fd, IMEE_READ_PHYS, arg_page(t, &rd, sizeof(rd)), sizeof(rd), read_ptrs,
		 1);
}

static void fuzz_create(struct fuzz_thread *t, int fd)
{
	struct imee_create c = { .size = odd_size(t, sizeof(c)) };
	int efd;

	c.out_size = (uint32_t)(chance(t, 70) ? below(t, 5) * PAGE : odd_value(t));
	if (chance(t, 5))
		c.flags = (uint32_t)rnd(t);
	if (chance(t, 5))
		c.reserved[below(t, 3)] = rnd(t);
	if (chance(t, 3))
		c.hw_flags = (uint32_t)rnd(t);
	if (chance(t, 3))
		c.reserved32 = (uint32_t)rnd(t);
	efd = ioctl(fd, mutate_cmd(t, IMEE_CREATE), arg_page(t, &c, sizeof(c)));
	atomic_fetch_add(&fz.calls, 1);
	if (efd >= 0) {
		count_ok(OP_CREATE);
		pool_add(efd, FD_EE);
	} else {
		note_errno(errno);
	}
}

static void fuzz_load(struct fuzz_thread *t, int fd)
{
	struct imee_load ld = { .size = odd_size(t, sizeof(ld)) };

	ld.nr_insns = make_program(t);
	ld.insns = (uintptr_t)t->prog;
	if (chance(t, 10))
		ld.nr_insns = (uint32_t)odd_value(t);
	if (chance(t, 10))
		ld.insns = odd_pointer(t, ld.nr_insns * sizeof(struct imee_insn));
	do_ioctl(t, OP_LOAD, fd, IMEE_LOAD, arg_page(t, &ld, sizeof(ld)), sizeof(ld), load_ptrs, 1);
}

static void fuzz_run(struct fuzz_thread *t, int fd)
{
	struct imee_run run = { .size = odd_size(t, sizeof(run)) };
	unsigned int i;

	run.flags = chance(t, 60) ? IMEE_RUN_F_VCPU_CR3 | IMEE_RUN_F_PTI_KERNEL
				  : (uint32_t)below(t, 8);
	run.vcpu = (uint32_t)(chance(t, 90) ? below(t, 3) : odd_value(t));
	run.levels = (uint32_t)(chance(t, 90) ? 4 + below(t, 2) : odd_value(t));
	run.cr3 = chance(t, 50) ? below(t, 64 << 20) & ~0xfffULL : odd_value(t);
	for (i = 0; i < 8; i++)
		run.args[i] = chance(t, 50) ? odd_value(t) : below(t, 64);
	/* a bounded number of steps: an unbounded loop runs into max_run_ms */
	run.max_steps = 1 + below(t, chance(t, 90) ? 1000 : 1 << 20);
	run.out_cap = chance(t, 80) ? below(t, 8192) : odd_value(t);
	do_ioctl(t, OP_RUN, fd, IMEE_RUN, arg_page(t, &run, sizeof(run)), sizeof(run), NULL, 0);
}

static void fuzz_mmap(struct fuzz_thread *t, int fd, enum fd_kind kind)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_EXEC, PROT_NONE };
	size_t len = chance(t, 80) ? (1 + below(t, 64)) * PAGE : odd_value(t);
	off_t off = chance(t, 80) ? (off_t)(below(t, 4096) * PAGE) : (off_t)odd_value(t);
	int flags = chance(t, 90) ? MAP_SHARED : MAP_PRIVATE;
	volatile uint8_t sink;
	sigjmp_buf env;
	void *map;
	int i;

	if (kind == FD_EE && chance(t, 70))
		off = 0;
	map = mmap(NULL, len, prots[below(t, 4)], flags, fd, off);
	atomic_fetch_add(&fz.calls, 1);
	if (map == MAP_FAILED) {
		note_errno(errno);
		return;
	}
	count_ok(OP_MMAP);
	/* touch a few pages: a hole in a view gives SIGBUS, that is expected */
	if (sigsetjmp(env, 1) == 0) {
		fault_jmp = &env;
		for (i = 0; i < 4; i++) {
			if (mprotect(map, len, PROT_READ))
				break;
			sink = ((volatile uint8_t *)map)[below(t, len / PAGE) * PAGE];
		}
	} else {
		atomic_fetch_add(&fz.sigbus, 1);
	}
	fault_jmp = NULL;
	(void)sink;
	/* sometimes keep it mapped across a close of its fd */
	if (chance(t, 20)) {
		int j = (int)below(t, POOL_SIZE);

		pthread_mutex_lock(&fz.pool_lock);
		if (fz.pool[j].fd == fd && fz.pool[j].kind != FD_NONE && !fz.pool[j].map) {
			fz.pool[j].map = map;
			fz.pool[j].map_len = len;
			map = NULL;
		}
		pthread_mutex_unlock(&fz.pool_lock);
	}
	if (map)
		munmap(map, len);
}

static void fuzz_one(struct fuzz_thread *t)
{
	unsigned int what = (unsigned int)below(t, 100);
	enum fd_kind kind;
	int fd;

	if (what < 3) {
		pool_close_one(t);
		return;
	}
	if (what < 6) {
		pool_add(open("/dev/imee", O_RDWR | O_CLOEXEC), FD_DEVICE);
		return;
	}
	if (what < 12) {
		fuzz_attach(t);
		return;
	}
	/* an ioctl that fits some fd, on an fd of the right kind or not */
	kind = (enum fd_kind)(1 + below(t, 4));
	fd = pick_fd(t, chance(t, 85) ? kind : FD_NONE);
	if (fd < 0 && chance(t, 50))
		return;
	switch (kind) {
	case FD_DEVICE:
		fuzz_attach(t);
		break;
	case FD_SESSION:
		switch (below(t, 4)) {
		case 0:
			fuzz_info(t, fd);
			break;
		case 1:
			fuzz_read_phys(t, fd);
			break;
		case 2:
			fuzz_create(t, fd);
			break;
		default:
			fuzz_mmap(t, fd, FD_SESSION);
		}
		break;
	case FD_EE:
		switch (below(t, 8)) {
		case 0:
		case 1:
			fuzz_load(t, fd);
			break;
		case 2:
			fuzz_mmap(t, fd, FD_EE);
			break;
		default:
			fuzz_run(t, fd);
		}
		break;
	default:
		/* any imee ioctl on any fd, arguments from the arena */
		{
			uint64_t junk[32];
			unsigned int i;

			/* random words: they are almost never a mapped user address */
			for (i = 0; i < 32; i++)
				junk[i] = rnd(t);
			do_ioctl(t, OP_OTHER, fd,
				 _IOC(below(t, 4), IMEE_IOCTL_MAGIC, below(t, 0x30), below(t, 256)),
				 arg_page(t, junk, sizeof(junk)), sizeof(junk), NULL, 0);
		}
	}
}

static void *fuzz_thread_main(void *arg)
{
	struct fuzz_thread *t = arg;

	use_alt_stack();
	while (atomic_load(&fz.calls) < fz.max_calls && time(NULL) < fz.deadline)
		fuzz_one(t);
	return NULL;
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static long module_refcount(void)
{
	FILE *f = fopen("/sys/module/imee/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* A fresh session still reads the guest's banner page: the module works. */
static bool module_still_reads(const char *target)
{
	int sfd = lab_attach_target(target);
	struct imee_read_phys rd = { .size = sizeof(rd), .len = 64 };
	uint8_t buf[64];
	int64_t code = lab_guest_kernel_code_phys(target);
	bool ok;

	if (sfd < 0 || code < 0) {
		if (sfd >= 0)
			close(sfd);
		return false;
	}
	rd.gpa = (uint64_t)code;
	rd.buf = (uintptr_t)buf;
	ok = ioctl(sfd, IMEE_READ_PHYS, &rd) == 0;
	close(sfd);
	return ok;
}

TEST(fuzz_ioctls_from_threads)
{
	unsigned long seed = env_ulong("IMEE_FUZZ_SEED", (unsigned long)time(NULL));
	unsigned long threads = env_ulong("IMEE_FUZZ_THREADS", 4);
	const char *const *targets = lab_targets();
	struct fuzz_thread th[MAX_THREADS];
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	long refs_before, refs_after;
	time_t started;
	unsigned long i;
	int others[3];

	fz.max_calls = env_ulong("IMEE_FUZZ_CALLS", 100000);
	fz.deadline = time(NULL) + (time_t)env_ulong("IMEE_FUZZ_SECONDS", 900);
	if (threads < 1 || threads > MAX_THREADS)
		threads = 4;
	started = time(NULL);
	TH_LOG("seed %lu, %lu threads, %lu calls", seed, threads, fz.max_calls);

	/*
	 * One target (the LA57 one, else all): its thousands of random
	 * activations are what the emulated lab's nested SVM likes least,
	 * and the other targets' tests come after (see the README).
	 */
	if (lab_target("LA57") && !getenv("IMEE_FUZZ_ALL_TARGETS")) {
		pid_t pid = lab_vmm_pid(lab_target("LA57"));

		if (pid > 0)
			fz.pids[fz.nr_pids++] = pid;
	}
	for (i = 0; !fz.nr_pids && targets && targets[i] && i < 8; i++) {
		pid_t pid = lab_vmm_pid(targets[i]);

		if (pid > 0)
			fz.pids[fz.nr_pids++] = pid;
	}
	ASSERT_GT(fz.nr_pids, 0) TH_LOG("no lab target to attach to");
	refs_before = module_refcount();
	ASSERT_EQ(refs_before, 0) TH_LOG("imee.ko is in use before the run");

	sigemptyset(&sa.sa_mask);
	use_alt_stack();
	ASSERT_EQ(sigaction(SIGBUS, &sa, NULL), 0);
	ASSERT_EQ(sigaction(SIGSEGV, &sa, NULL), 0);

	/* files of other kinds in the pool, and a few devices and sessions */
	others[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_EQ(pipe2(&others[1], O_CLOEXEC), 0);
	for (i = 0; i < 3; i++)
		pool_add(others[i], FD_OTHER);
	for (i = 0; i < 3; i++)
		pool_add(open("/dev/imee", O_RDWR | O_CLOEXEC), FD_DEVICE);

	for (i = 0; i < threads; i++) {
		th[i].rng = (seed + 1) * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL;
		th[i].arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(th[i].arena, MAP_FAILED);
		ASSERT_EQ(mprotect(th[i].arena, PAGE, PROT_NONE), 0);
		ASSERT_EQ(mprotect(th[i].arena + (ARENA_PAGES - 2) * PAGE, PAGE, PROT_READ), 0);
		ASSERT_EQ(mprotect(th[i].arena + (ARENA_PAGES - 1) * PAGE, PAGE, PROT_NONE), 0);
	}
	for (i = 0; i < threads; i++)
		ASSERT_EQ(pthread_create(&th[i].thread, NULL, fuzz_thread_main, &th[i]), 0);
	for (i = 0; i < threads; i++)
		pthread_join(th[i].thread, NULL);

	TH_LOG("%lu calls in %ld s (%lu succeeded), %lu SIGBUS on views, %lu unexpected errno (last %d)",
	       atomic_load(&fz.calls), (long)(time(NULL) - started), atomic_load(&fz.ok_calls),
	       atomic_load(&fz.sigbus), atomic_load(&fz.odd_errno), atomic_load(&fz.odd_errno_value));

	for (i = 0; i < POOL_SIZE; i++) {
		if (fz.pool[i].kind == FD_NONE)
			continue;
		if (fz.pool[i].map)
			munmap(fz.pool[i].map, fz.pool[i].map_len);
		close(fz.pool[i].fd);
		fz.pool[i].kind = FD_NONE;
	}
	for (i = 0; i < threads; i++)
		munmap(th[i].arena, ARENA_PAGES * PAGE);

	EXPECT_GE(atomic_load(&fz.calls), fz.max_calls)
		TH_LOG("the run hit its time bound before its calls");
	/* the fuzzer reached every path: each kind of call worked sometimes */
	for (i = 0; i < OP_OTHER; i++) {
		TH_LOG("%-9s %lu succeeded", op_names[i], atomic_load(&fz.ok_by_op[i]));
		EXPECT_GT(atomic_load(&fz.ok_by_op[i]), 0) TH_LOG("no %s call succeeded", op_names[i]);
	}
	EXPECT_EQ(atomic_load(&fz.odd_errno), 0)
		TH_LOG("an errno the module does not document: %d", atomic_load(&fz.odd_errno_value));
	EXPECT_TRUE(module_still_reads(lab_target("LA57")));
	/* every session, ImEE and mapping released: rmmod would succeed */
	refs_after = module_refcount();
	EXPECT_EQ(refs_after, 0);
}

TEST_HARNESS_MAIN
