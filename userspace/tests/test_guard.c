// SPDX-License-Identifier: GPL-2.0
/*
 * The software engine without a kernel: a session whose "view" is an
 * ordinary file. Reading past the end of a shared file mapping raises
 * SIGBUS exactly as a hole or a dead target does in the real view, so the
 * fault guard, the memslot checks and the chaining to a previous SIGBUS
 * handler can all be tested here.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#include "fakemem.h"
#include "tap.h"

#define FILE_SIZE (64 * 1024)
#define VIEW_SIZE (128 * 1024) /* the second half SIGBUSes */

static int file_fd = -1;
static unsigned char pattern[FILE_SIZE];

/* The handler that was there before libimee's: it must still see its faults. */
static sigjmp_buf test_env;
static volatile sig_atomic_t test_handler_calls;

static void test_handler(int sig)
{
	(void)sig;
	test_handler_calls++;
	siglongjmp(test_env, 1);
}

static int make_file(void)
{
	char path[] = "/tmp/imee-guard-XXXXXX";
	size_t i;
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + (i >> 12));
	if (write(fd, pattern, sizeof(pattern)) != (ssize_t)sizeof(pattern)) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct imee_session *session(const struct imee_memslot *slots, size_t nr)
{
	struct imee_session *s = NULL;

	if (imee_session_from_view_fd(file_fd, slots, nr, VIEW_SIZE, &s))
		printf("# session: %s\n", imee_errmsg());
	return s;
}

static void reads_through_the_view(void)
{
	const struct imee_memslot slots[] = {
		{ .gpa = 0, .size = FILE_SIZE / 2, .slot = 0 },
		{ .gpa = FILE_SIZE / 2, .size = FILE_SIZE / 2, .slot = 1 },
	};
	struct imee_session *s = session(slots, 2);
	unsigned char buf[256];

	REQUIRE(s);
	/* Across the boundary of two adjacent slots. */
	REQUIRE(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, FILE_SIZE / 2 - 100, buf,
				       sizeof(buf)) == 0);
	EXPECT(!memcmp(buf, pattern + FILE_SIZE / 2 - 100, sizeof(buf)));
	EXPECT(imee_session_is_ram(s, 0, FILE_SIZE));
	EXPECT(!imee_session_is_ram(s, 0, FILE_SIZE + 1));
	imee_session_detach(s);
}

static void holes_are_checked_before_touching(void)
{
	const struct imee_memslot slots[] = {
		{ .gpa = 0, .size = 0x1000 },
		{ .gpa = 0x3000, .size = 0x1000 },
		{ .gpa = 0x10000, .size = VIEW_SIZE - 0x10000 }, /* partly beyond the file */
	};
	struct imee_session *s = session(slots, 3);
	unsigned char buf[16];

	REQUIRE(s);
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, 0x1000, buf, 8), -ENXIO);
	EXPECT_HAS(imee_errmsg(), "not guest RAM");
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, 0xff8, buf, 16), -ENXIO);
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, VIEW_SIZE, buf, 1), -ENXIO);
	/* 64-bit overflow of gpa + len. */
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, UINT64_MAX - 4, buf, 16),
		   -EINVAL);
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, 0x3000, buf, 16), 0);
	EXPECT(!memcmp(buf, pattern + 0x3000, 16));
	imee_session_detach(s);
}

static void fault_becomes_efault(void)
{
	const struct imee_memslot slots[] = { { .gpa = 0, .size = VIEW_SIZE } };
	struct imee_session *s = session(slots, 1);
	unsigned char buf[64];
	uint64_t word;
	struct imee_mem mem;
	int round;

	REQUIRE(s);
	/* Memslots say RAM, the mapping faults: a caught fault, twice (re-armed). */
	for (round = 0; round < 2; round++) {
		EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, FILE_SIZE + 0x100, buf,
						  sizeof(buf)),
			   -EFAULT);
		EXPECT_HAS(imee_errmsg(), "faulted");
	}
	/* A read that runs from good memory into the fault. */
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, FILE_SIZE - 8, buf, 16),
		   -EFAULT);
	/* The page walker's u64 reads go through the same guard. */
	REQUIRE(imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &mem) == 0);
	EXPECT_INT(mem.ops->read_u64(mem.ctx, FILE_SIZE + 8, &word), -EFAULT);
	REQUIRE(mem.ops->read_u64(mem.ctx, 8, &word) == 0);
	EXPECT(!memcmp(&word, pattern + 8, 8));
	/* And the process goes on reading good memory. */
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, 0, buf, sizeof(buf)), 0);
	EXPECT(!memcmp(buf, pattern, sizeof(buf)));
	imee_session_detach(s);
}

static void other_faults_reach_the_previous_handler(void)
{
	const struct imee_memslot slots[] = { { .gpa = 0, .size = VIEW_SIZE } };
	struct imee_session *s = session(slots, 1);
	volatile unsigned char *other;
	unsigned char buf[8];
	void *p;

	REQUIRE(s);
	/* Make sure libimee's handler is installed (on top of the test's). */
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, FILE_SIZE, buf, 8), -EFAULT);

	/* A fault outside any guarded copy, in a mapping that is not the view. */
	p = mmap(NULL, VIEW_SIZE, PROT_READ, MAP_SHARED, file_fd, 0);
	REQUIRE(p != MAP_FAILED);
	other = p;
	test_handler_calls = 0;
	if (!sigsetjmp(test_env, 1))
		(void)other[FILE_SIZE + 16];
	EXPECT_INT(test_handler_calls, 1);

	/* A SIGBUS sent by kill() goes there too. */
	if (!sigsetjmp(test_env, 1))
		raise(SIGBUS);
	EXPECT_INT(test_handler_calls, 2);
	munmap(p, VIEW_SIZE);

	/* And the guard still works afterwards. */
	EXPECT_INT(imee_session_read_phys(s, IMEE_ENGINE_SOFTWARE, FILE_SIZE, buf, 8), -EFAULT);
	imee_session_detach(s);
}

static void walk_over_the_view(void)
{
	const struct imee_memslot slots[] = { { .gpa = 0, .size = FILE_SIZE } };
	const uint64_t va = 0xffffffff81000000ULL, pml4 = 0x1000, pdpt = 0x2000, pd = 0x3000,
		       pt = 0x4000;
	IMEE_OPTS(imee_walk_opts, o, .paging = IMEE_PAGING_4LEVEL, .cr3 = pml4);
	struct imee_session *s;
	struct imee_walk w;
	struct imee_mem mem;
	uint64_t e;
	char text[8];

	/* Tables written into the file: the view is all the walker sees. */
	e = pdpt | PTE_TABLE;
	REQUIRE(pwrite(file_fd, &e, 8, pml4 + 8 * 511) == 8);
	e = pd | PTE_TABLE;
	REQUIRE(pwrite(file_fd, &e, 8, pdpt + 8 * 510) == 8);
	e = pt | PTE_TABLE;
	REQUIRE(pwrite(file_fd, &e, 8, pd + 8 * 8) == 8);
	e = 0x9000 | PTE_P;
	REQUIRE(pwrite(file_fd, &e, 8, pt) == 8);
	REQUIRE(pwrite(file_fd, "guest!", 7, 0x9010) == 7);

	s = session(slots, 1);
	REQUIRE(s);
	REQUIRE(imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &mem) == 0);
	REQUIRE(imee_walk(&mem, &o, va + 0x10, &w) == 0);
	EXPECT_INT(w.fault, IMEE_FAULT_NONE);
	EXPECT_U64(w.pa, 0x9010);
	REQUIRE(imee_virt_read(&mem, &o, va + 0x10, text, 7) == 0);
	EXPECT_STR(text, "guest!");

	/* The legacy engine needs the real device: a regular file refuses the ioctl. */
	REQUIRE(imee_session_mem(s, IMEE_ENGINE_LEGACY, &mem) == 0);
	EXPECT_INT(imee_walk(&mem, &o, va, &w), -ENOTTY);
	imee_session_detach(s);
}

static void bad_memslots_are_refused(void)
{
	const struct imee_memslot unaligned[] = { { .gpa = 0x800, .size = 0x1000 } };
	const struct imee_memslot beyond[] = { { .gpa = 0, .size = VIEW_SIZE + 0x1000 } };
	const struct imee_memslot wraps[] = { { .gpa = 0xfffffffffffff000ULL, .size = 0x2000 } };
	struct imee_session *s = NULL;

	EXPECT_INT(imee_session_from_view_fd(file_fd, unaligned, 1, VIEW_SIZE, &s), -EPROTO);
	EXPECT_INT(imee_session_from_view_fd(file_fd, beyond, 1, VIEW_SIZE, &s), -EPROTO);
	EXPECT_INT(imee_session_from_view_fd(file_fd, wraps, 1, VIEW_SIZE, &s), -EPROTO);
	EXPECT(s == NULL);
}

static void attach_without_device(void)
{
	IMEE_OPTS(imee_attach_opts, o, .device = "/nonexistent/imee", .pid = 1);
	struct imee_session *s = NULL;

	EXPECT_INT(imee_session_attach(&o, &s), -ENOENT);
	EXPECT_HAS(imee_errmsg(), "imee.ko");
	EXPECT(s == NULL);
	o.pid = 0;
	EXPECT_INT(imee_session_attach(&o, &s), -EINVAL);
	o.pid = 1;
	o.sz = sizeof(o) + 8; /* a newer caller's struct: fine only if the tail is zero */
	{
		struct {
			struct imee_attach_opts o;
			uint64_t extra;
		} newer = { .o = o, .extra = 1 };

		EXPECT_INT(imee_session_attach(&newer.o, &s), -EINVAL);
		newer.extra = 0;
		EXPECT_INT(imee_session_attach(&newer.o, &s), -ENOENT);
	}
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = test_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);

	file_fd = make_file();
	if (file_fd < 0) {
		printf("Bail out! cannot create a temporary file\n");
		return 1;
	}
	tap_run(reads_through_the_view, "software reads through the view, across slots");
	tap_run(holes_are_checked_before_touching, "holes and overflows are refused before loads");
	tap_run(fault_becomes_efault, "a SIGBUS in the view becomes -EFAULT for that call");
	tap_run(other_faults_reach_the_previous_handler,
		"other SIGBUSes reach the previous handler");
	tap_run(walk_over_the_view, "page walk and virtual read over the view");
	tap_run(bad_memslots_are_refused, "malformed memslots are refused");
	tap_run(attach_without_device, "attach without /dev/imee; options size check");
	close(file_fd);
	return tap_done();
}
