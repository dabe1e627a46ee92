// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl bench: the three engines measured in one run on one target.
 *
 * For each engine: session launch (attach, plus building the ImEE for imee),
 * activation (an empty program: imee only), virtual reads of 4..1024 bytes
 * of the kernel's linux_banner, and a 1000-hop pointer chase along the
 * kernel's list of superblocks (super_blocks; s_list is the first member of
 * struct super_block, so each hop is one load). imee runs the chase as one
 * program in one activation; the others make 1000 dependent reads. Medians,
 * in microseconds, and the ratios legacy/imee and software/imee. The chase's
 * end pointer is checked to be the same on every engine.
 *
 * --read VA --chase VA measure the same on any guest, Linux or not: the
 * reads at the first address, the chase along a list whose nodes start with
 * the pointer to the next, at the second (no kallsyms needed).
 *
 * --vm PID (with --paper, repeatable) adds the paper's two many-VM rows: a
 * scan (one 64-byte read of linux_banner in every VM, --pid's and the
 * --vm ones, with their sessions warm) and a switch (one such read on a VM
 * other than the last one read).
 *
 * --paper adds the paper's introspection jobs, each a whole walk through the
 * engine's reader of virtual memory: syscalldmp (sys_call_table read and
 * named), pidlist (the pid IDR), pslist and credlist (the task list with
 * each task's credentials: one walk, timed twice), and prints a Markdown
 * table laid out as the paper's. --kernel FILE adds the paper's "kernel"
 * column: the same walks timed by the guest's own kernel (the lab's
 * imee_kbench.ko prints that file's JSON), and the ratios imee/kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "output.h"

static const char usage[] =
	"Usage: imeectl bench --pid PID [--vm-fd FD] [--rounds N]\n"
	"                     [--paper [--kernel FILE] [--vm PID]...] [--json]\n"
	"       imeectl bench --pid PID --read VA --chase VA [--vm-fd FD] [--rounds N] [--json]\n"
	"\n"
	"Measure, in one run and on the same target, each engine (imee, software,\n"
	"legacy): session launch, activation (imee), virtual reads of 4, 64, 128,\n"
	"512 and 1024 bytes, and a 1000-hop pointer chase in the guest kernel.\n"
	"Prints medians in microseconds and the ratios legacy/imee and\n"
	"software/imee. An engine the host cannot run is left out, with the reason.\n"
	"Absolute times depend on the host (an emulated lab is slow): compare the\n"
	"ratios.\n"
	"\n"
	"On a Linux guest, the reads are of the kernel's linux_banner and the chase\n"
	"follows its list of superblocks (found with the guest's kallsyms). On any\n"
	"guest, --read and --chase give them: 1024 readable bytes at the first, a\n"
	"list at the second whose every node starts with the address of the next\n"
	"(a ring, or long enough for 1000 hops). Addresses are translated with\n"
	"vCPU 0's page tables.\n"
	"\n"
	"  --pid PID     the VMM's pid\n"
	"  --vm-fd FD    the VMM's fd of the VM, if it owns several\n"
	"  --rounds N    repetitions per measurement, 3..1000 (default 25)\n"
	"  --read VA     read at VA (hex or decimal) instead of linux_banner\n"
	"  --chase VA    chase from VA instead of the kernel's super_blocks\n"
	"  --paper       also the paper's jobs (syscalldmp, pidlist, pslist,\n"
	"                credlist: whole walks) and a Markdown table laid out as\n"
	"                the paper's (with --json: in the JSON document)\n"
	"  --kernel FILE with --paper: the guest kernel's own times of the same walks,\n"
	"                a JSON object {\"rounds\": N, \"jobs_ns\": {\"syscalldmp\": NS,\n"
	"                \"pidlist\": NS, \"pslist\": NS, \"credlist\": NS}, \"jobs_entries\":\n"
	"                {...}} (what the lab's imee_kbench.ko prints in the guest),\n"
	"                shown as a \"kernel\" column with the ratios imee/kernel\n"
	"  --vm PID      with --paper: another VM (its VMM's pid; repeatable, up to\n"
	"                15) for the rows \"scan all VMs\" (a 64-byte read of each VM's\n"
	"                linux_banner, sessions warm) and \"switch VM\" (one such read\n"
	"                on another VM than the last)\n"
	"  --json        one JSON document instead of a table\n";

#define NR_ENGINES 3
#define MAX_VMS 16
#define SCAN_READ 64
#define NR_SIZES 5
#define CHASE_HOPS 1000

/* --paper: the jobs, in the paper's order */
enum paper_job { JOB_SYSCALLDMP, JOB_PIDLIST, JOB_PSLIST, JOB_CREDLIST, NR_JOBS };
static const char *const job_names[NR_JOBS] = { "syscalldmp", "pidlist", "pslist", "credlist" };

static const enum imee_engine engines[NR_ENGINES] = { IMEE_ENGINE_IMEE, IMEE_ENGINE_SOFTWARE,
						      IMEE_ENGINE_LEGACY };
static const size_t read_sizes[NR_SIZES] = { 4, 64, 128, 512, 1024 };

struct engine_result {
	bool available;
	char reason[IMEE_ERRMSG_MAX];
	double launch_us;
	double activation_us; /* imee only; < 0 otherwise */
	double read_us[NR_SIZES];
	double chase_us;
	uint64_t chase_end;
	double job_us[NR_JOBS]; /* --paper */
	size_t job_entries[NR_JOBS]; /* entries the last round read */
	double scan_us; /* --vm: every VM read once */
	double switch_us; /* --vm: one read on another VM than the last */
};

/* --vm: a VM of the scan, its kernel's page table and linux_banner */
struct bench_vm {
	pid_t pid;
	struct imee_walk_opts walk;
	uint64_t banner_va;
};

struct bench {
	pid_t pid;
	bool has_vm_fd;
	int vm_fd;
	unsigned int rounds;
	struct imee_walk_opts walk;
	uint64_t banner_va;
	uint64_t chase_start;
	bool given; /* --read and --chase: no kallsyms */
	bool paper;
	struct imee_linux *lx; /* --paper: the kernel's facts */
	struct imee_linux_kallsyms *ks; /* --paper: for syscalldmp */
	struct engine_result res[NR_ENGINES];
	struct bench_vm vms[MAX_VMS]; /* --vm: [0] is --pid's, once found */
	unsigned int nr_vms;
	bool has_kernel; /* --kernel */
	unsigned int kernel_rounds;
	double kernel_us[NR_JOBS];
	size_t kernel_entries[NR_JOBS];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
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

/*
 * --kernel FILE: the guest's own times. Every job must be there, as a
 * whole number of nanoseconds, with the entries it read; anything else in
 * the file is refused, so that a wrong file is not shown as figures.
 */
static bool load_kernel_times(const char *path, struct bench *b)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *ns, *ent, *v;
	unsigned int k;
	bool ok = false;

	if (!doc) {
		if (jerr.line > 0)
			cli_error("--kernel %s: line %d: %s", path, jerr.line, jerr.text);
		else
			cli_error("--kernel %s: %s", path, jerr.text);
		return false;
	}
	ns = json_object_get(doc, "jobs_ns");
	ent = json_object_get(doc, "jobs_entries");
	v = json_object_get(doc, "rounds");
	if (!json_is_object(doc) || json_object_size(doc) != 3 || !json_is_object(ns) ||
	    !json_is_object(ent) || !json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_object_size(ns) != NR_JOBS || json_object_size(ent) != NR_JOBS) {
		cli_error("--kernel %s: not {\"rounds\": N, \"jobs_ns\": {...}, "
			  "\"jobs_entries\": {...}} with the four jobs",
			  path);
		goto out;
	}
	b->kernel_rounds = (unsigned int)json_integer_value(v);
	for (k = 0; k < NR_JOBS; k++) {
		json_t *t = json_object_get(ns, job_names[k]),
		       *e = json_object_get(ent, job_names[k]);

		if (!json_is_integer(t) || json_integer_value(t) <= 0 || !json_is_integer(e) ||
		    json_integer_value(e) < 0) {
			cli_error("--kernel %s: %s: a positive number of nanoseconds and its "
				  "entries are needed",
				  path, job_names[k]);
			goto out;
		}
		b->kernel_us[k] = (double)json_integer_value(t) / 1e3;
		b->kernel_entries[k] = (size_t)json_integer_value(e);
	}
	b->has_kernel = true;
	ok = true;
out:
	json_decref(doc);
	return ok;
}

static int attach(const struct bench *b, struct imee_session **s)
{
	IMEE_OPTS(imee_attach_opts, opts, .pid = b->pid, .has_vm_fd = b->has_vm_fd,
		  .vm_fd = b->vm_fd);

	return imee_session_attach(&opts, s);
}

/*
 * --paper: the kernel's facts (from the cache, or kallsyms and BTF), and
 * from then on the kernel's own page table to walk with.
 */
static int open_kernel(struct bench *b, const struct imee_mem *mem)
{
	struct imee_linux_banner banner;
	struct imee_linux_kallsyms_from loader = { mem, &b->walk };
	IMEE_OPTS(imee_linux_open_opts, o, .banner = &banner,
		  .load_kallsyms = imee_linux_kallsyms_load_from, .load_arg = &loader,
		  .paging = b->walk.paging);
	struct imee_vmem vmem;
	uint64_t cr3;
	int err;

	err = imee_linux_find_banner(mem, &b->walk, &banner);
	if (!err)
		err = imee_vmem_from_walk(mem, &b->walk, &vmem);
	if (err)
		return err;
	err = imee_linux_open(&vmem, &o, &b->lx);
	imee_vmem_release(&vmem);
	if (!err && !imee_linux_kernel_cr3(b->lx, mem, &b->walk, &banner, &cr3))
		b->walk.cr3 = cr3;
	return err;
}

/*
 * --vm: where a VM's linux_banner is, and its kernel's own page table
 * (init_top_pgt, translated with vCPU 0's), which stays while processes
 * come and go.
 */
static int find_vm(struct bench_vm *vm)
{
	struct imee_linux_top_copy *copy = malloc(sizeof(*copy));
	IMEE_OPTS(imee_attach_opts, opts, .pid = vm->pid);
	const struct imee_vcpu_regs *vcpus;
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_linux_ksym sym;
	struct imee_session *s;
	struct imee_mem under, mem;
	struct imee_walk w;
	int err;

	if (!copy)
		return -ENOMEM;
	err = imee_session_attach(&opts, &s);
	if (err) {
		free(copy);
		return err;
	}
	err = imee_session_vcpus(s, &vcpus) ? 0 : -ENODEV;
	if (!err) {
		imee_walk_opts_from_vcpu(&vcpus[0], &vm->walk);
		err = imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &under);
	}
	if (!err)
		err = imee_linux_top_copy(copy, &under, &vm->walk, &mem);
	if (!err)
		err = imee_linux_kallsyms_load(&mem, &vm->walk, &ks);
	if (!err)
		err = imee_linux_kallsyms_lookup_name(ks, "linux_banner", &sym, NULL);
	vm->banner_va = sym.address;
	if (!err)
		err = imee_linux_kallsyms_lookup_name(ks, "init_top_pgt", &sym, NULL);
	if (!err)
		err = imee_walk(&mem, &vm->walk, sym.address, &w);
	if (!err)
		err = imee_walk_error(&w);
	if (!err)
		vm->walk.cr3 = w.pa;
	imee_linux_kallsyms_free(ks);
	imee_session_detach(s);
	free(copy);
	return err;
}

/* Where to read and chase, found once with the software engine. */
static int find_addresses(struct bench *b)
{
	struct imee_linux_top_copy *copy = malloc(sizeof(*copy));
	const struct imee_vcpu_regs *vcpus;
	struct imee_linux_kallsyms *ks;
	struct imee_linux_ksym sym;
	struct imee_session *s;
	struct imee_mem under, mem;
	int err;

	if (!copy)
		return -ENOMEM;
	err = attach(b, &s);
	if (err) {
		free(copy);
		return err;
	}
	if (!imee_session_vcpus(s, &vcpus)) {
		imee_session_detach(s);
		free(copy);
		return -ENODEV;
	}
	imee_walk_opts_from_vcpu(&vcpus[0], &b->walk);
	if (b->given) {
		imee_session_detach(s);
		free(copy);
		return 0;
	}
	/* the vCPU's table may be a process's, freed meanwhile: read a copy */
	err = imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &under);
	if (!err)
		err = imee_linux_top_copy(copy, &under, &b->walk, &mem);
	if (!err)
		err = imee_linux_kallsyms_load(&mem, &b->walk, &ks);
	if (!err) {
		err = imee_linux_kallsyms_lookup_name(ks, "linux_banner", &sym, NULL);
		b->banner_va = sym.address;
		if (!err)
			err = imee_linux_kallsyms_lookup_name(ks, "super_blocks", &sym, NULL);
		b->chase_start = sym.address;
		if (!err && b->paper) {
			b->ks = ks;
			ks = NULL;
			err = open_kernel(b, &mem);
		}
		imee_linux_kallsyms_free(ks);
	}
	imee_session_detach(s);
	free(copy);
	return err;
}

/* A reader of guest virtual memory through engine. */
static int open_vmem(struct imee_session *s, enum imee_engine engine,
		     const struct imee_walk_opts *walk, struct imee_vmem *vmem)
{
	struct imee_mem mem;
	int err;

	if (engine == IMEE_ENGINE_IMEE)
		return imee_ee_vmem(s, walk, vmem);
	err = imee_session_mem(s, engine, &mem);
	return err ? err : imee_vmem_from_walk(&mem, walk, vmem);
}

/*
 * --vm: every VM's session warm on this engine (for imee, its ImEE built),
 * then the scan (all VMs read once) and the switch (a read on the next VM).
 */
static int bench_vms(const struct bench *b, unsigned int e, struct engine_result *r,
		     double *samples)
{
	struct imee_session *s[MAX_VMS] = { 0 };
	struct imee_vmem vmem[MAX_VMS] = { 0 };
	unsigned char buf[SCAN_READ];
	unsigned int i, v, n = b->nr_vms;
	double t;
	int err = 0;

	for (v = 0; v < n && !err; v++) {
		IMEE_OPTS(imee_attach_opts, opts, .pid = b->vms[v].pid);

		err = imee_session_attach(&opts, &s[v]);
		if (!err)
			err = open_vmem(s[v], engines[e], &b->vms[v].walk, &vmem[v]);
		/* warm: the first read maps what the next ones use */
		if (!err)
			err = imee_vmem_read(&vmem[v], b->vms[v].banner_va, buf, sizeof(buf));
	}
	for (i = 0; i < b->rounds && !err; i++) {
		t = now_us();
		for (v = 0; v < n && !err; v++)
			err = imee_vmem_read(&vmem[v], b->vms[v].banner_va, buf, sizeof(buf));
		samples[i] = now_us() - t;
	}
	if (!err)
		r->scan_us = median(samples, b->rounds);
	/* read i is on VM i % n, the one before it on another */
	for (i = 0; i < b->rounds && !err; i++) {
		v = (i + 1) % n;
		t = now_us();
		err = imee_vmem_read(&vmem[v], b->vms[v].banner_va, buf, sizeof(buf));
		samples[i] = now_us() - t;
	}
	if (!err)
		r->switch_us = median(samples, b->rounds);
	if (err)
		snprintf(r->reason, sizeof(r->reason), "scanning the VMs: %s", imee_errmsg());
	for (v = 0; v < n; v++) {
		imee_vmem_release(&vmem[v]);
		imee_session_detach(s[v]);
	}
	return err ? -ECANCELED : 0;
}

static int chase_program(struct imee_session *s, const struct bench *b, uint64_t *end,
			 uint32_t *status)
{
	static const struct imee_insn prog[] = {
		{ .op = IMEE_OP_JEQK, .regs = IMEE_INSN_REGS(1, 0), .off = 3, .imm = 0 },
		{ .op = IMEE_OP_LD, .regs = IMEE_INSN_REGS(0, 0), .size = 8 },
		{ .op = IMEE_OP_SUBK, .regs = IMEE_INSN_REGS(1, 0), .imm = 1 },
		{ .op = IMEE_OP_JA, .off = -4 },
		{ .op = IMEE_OP_EXIT },
	};
	IMEE_OPTS(imee_ee_run_opts, opts);
	struct imee_ee *ee;
	struct imee_run run;
	int err;

	err = imee_session_ee(s, &ee);
	if (err)
		return err;
	opts.cr3 = b->given ? b->walk.cr3 : imee_linux_cr3_for(b->walk.cr3, b->chase_start);
	opts.cr3 &= 0x000ffffffffff000ULL;
	opts.levels = b->walk.paging == IMEE_PAGING_5LEVEL ? 5 : 4;
	opts.args[0] = b->chase_start;
	opts.args[1] = CHASE_HOPS;
	err = imee_ee_run(ee, prog, sizeof(prog) / sizeof(prog[0]), &opts, &run, NULL);
	if (err)
		return err;
	*status = run.status;
	if (run.status != IMEE_STATUS_OK)
		return -EPROTO;
	*end = run.regs[0];
	return 0;
}

static int chase_reads(const struct imee_vmem *vmem, const struct bench *b, uint64_t *end)
{
	uint64_t p = b->chase_start;
	int i, err;

	for (i = 0; i < CHASE_HOPS; i++) {
		err = imee_vmem_read(vmem, p, &p, sizeof(p));
		if (err)
			return err;
	}
	*end = p;
	return 0;
}

/* One run of a --paper job through vmem; *entries: what it read. */
static int run_paper_job(const struct bench *b, enum paper_job job, const struct imee_vmem *vmem,
			 size_t *entries, struct imee_error *error)
{
	int err;

	*error = *imee_last_error();

	switch (job) {
	case JOB_SYSCALLDMP: {
		IMEE_OPTS(imee_linux_syscalls_opts, o, .abi = IMEE_LINUX_SYSCALLS_X64, .lx = b->lx);
		struct imee_linux_syscall_table t;

		err = imee_linux_syscalls(b->ks, vmem, &o, &t);
		if (err) {
			*error = *imee_last_error();
			return err;
		}
		*entries = t.nr;
		err = t.err;
		*error = t.error;
		imee_linux_syscall_table_free(&t);
		return err;
	}
	case JOB_PIDLIST: {
		IMEE_OPTS(imee_linux_pids_opts, o);
		struct imee_linux_pid_list l;

		err = imee_linux_pids(b->lx, vmem, &o, &l);
		if (err) {
			*error = *imee_last_error();
			return err;
		}
		*entries = l.nr;
		err = l.err;
		*error = l.error;
		imee_linux_pid_list_free(&l);
		return err;
	}
	default: {
		IMEE_OPTS(imee_linux_tasks_opts, o);
		struct imee_linux_task_list l;

		err = imee_linux_tasks(b->lx, vmem, &o, &l);
		if (err) {
			*error = *imee_last_error();
			return err;
		}
		*entries = l.nr;
		err = l.err;
		*error = l.error;
		imee_linux_task_list_free(&l);
		return err;
	}
	}
}

/*
 * A walk that stops early because the guest changed under it (a process
 * exited) is tried again: at most this many failures per measurement.
 */
#define JOB_RETRIES 10

static int bench_jobs(const struct bench *b, struct engine_result *r, const struct imee_vmem *vmem,
		      double *samples)
{
	struct imee_error error;
	unsigned int i, failures;
	double t;
	int j, err = 0;

	for (j = 0; j < NR_JOBS; j++) {
		failures = 0;
		for (i = 0; i < b->rounds;) {
			t = now_us();
			err = run_paper_job(b, (enum paper_job)j, vmem, &r->job_entries[j], &error);
			samples[i] = now_us() - t;
			if (!err) {
				i++;
			} else if (++failures > JOB_RETRIES) {
				snprintf(r->reason, sizeof(r->reason), "%s: %.200s", job_names[j],
					 error.message);
				return -ECANCELED;
			}
		}
		r->job_us[j] = median(samples, b->rounds);
	}
	return 0;
}

static int bench_engine(struct bench *b, unsigned int e, double *samples)
{
	static const struct imee_insn empty[] = { { .op = IMEE_OP_EXIT } };
	struct engine_result *r = &b->res[e];
	enum imee_engine engine = engines[e];
	struct imee_session *s = NULL;
	struct imee_vmem vmem = { 0 };
	unsigned char buf[1024];
	uint32_t status = 0;
	unsigned int i, k;
	double t;
	int err = 0;

	r->activation_us = -1;
	/* launch: attach (and build the ImEE) */
	for (i = 0; i < b->rounds && !err; i++) {
		t = now_us();
		err = attach(b, &s);
		if (!err && engine == IMEE_ENGINE_IMEE)
			err = imee_session_ee(s, NULL);
		samples[i] = now_us() - t;
		if (i + 1 < b->rounds || err) {
			imee_session_detach(s);
			s = NULL;
		}
	}
	if (err)
		goto out;
	r->launch_us = median(samples, b->rounds);

	if (engine == IMEE_ENGINE_IMEE) {
		IMEE_OPTS(imee_ee_run_opts, opts, .use_vcpu_cr3 = true, .pti_kernel = true);
		struct imee_ee *ee;
		struct imee_run run;

		err = imee_session_ee(s, &ee);
		for (i = 0; i < b->rounds && !err; i++) {
			t = now_us();
			err = imee_ee_run(ee, empty, 1, &opts, &run, NULL);
			samples[i] = now_us() - t;
		}
		if (err)
			goto out;
		r->activation_us = median(samples, b->rounds);
	}

	err = open_vmem(s, engine, &b->walk, &vmem);
	for (k = 0; k < NR_SIZES && !err; k++) {
		for (i = 0; i < b->rounds && !err; i++) {
			t = now_us();
			err = imee_vmem_read(&vmem, b->banner_va, buf, read_sizes[k]);
			samples[i] = now_us() - t;
		}
		r->read_us[k] = median(samples, b->rounds);
	}
	for (i = 0; i < b->rounds && !err; i++) {
		t = now_us();
		if (engine == IMEE_ENGINE_IMEE)
			err = chase_program(s, b, &r->chase_end, &status);
		else
			err = chase_reads(&vmem, b, &r->chase_end);
		samples[i] = now_us() - t;
	}
	if (!err)
		r->chase_us = median(samples, b->rounds);
	if (!err && b->paper)
		err = bench_jobs(b, r, &vmem, samples);
	if (!err && b->nr_vms > 1)
		err = bench_vms(b, e, r, samples);
out:
	imee_vmem_release(&vmem);
	imee_session_detach(s);
	if (err == -EPROTO)
		snprintf(r->reason, sizeof(r->reason),
			 "the chase program ended with status %" PRIu32, status);
	else if (err && err != -ECANCELED)
		snprintf(r->reason, sizeof(r->reason), "%s", imee_errmsg());
	if (err)
		return err;
	r->available = true;
	return 0;
}

static json_t *ratios_json(const struct engine_result *num, const struct engine_result *den,
			   bool paper, bool vms)
{
	json_t *o = out_object(), *reads = out_object();
	unsigned int k;
	char key[16];

	if (paper) {
		json_t *jobs = out_object();

		for (k = 0; k < NR_JOBS; k++)
			out_set(jobs, job_names[k], json_real(num->job_us[k] / den->job_us[k]));
		out_set(o, "jobs", jobs);
	}
	if (vms) {
		out_set(o, "scan", json_real(num->scan_us / den->scan_us));
		out_set(o, "switch", json_real(num->switch_us / den->switch_us));
	}

	out_set(o, "launch", json_real(num->launch_us / den->launch_us));
	for (k = 0; k < NR_SIZES; k++) {
		snprintf(key, sizeof(key), "%zu", read_sizes[k]);
		out_set(reads, key, json_real(num->read_us[k] / den->read_us[k]));
	}
	out_set(o, "read", reads);
	out_set(o, "chase1000", json_real(num->chase_us / den->chase_us));
	return o;
}

static int print_json(const struct bench *b)
{
	json_t *doc = out_object(), *jeng = out_object(), *un = out_object(), *ratios;
	unsigned int e, k;
	char key[16];
	int ret;

	out_set(doc, "pid", json_integer(b->pid));
	out_set(doc, "rounds", json_integer(b->rounds));
	out_set(doc, "paging", json_string(imee_paging_name(b->walk.paging)));
	out_set(doc, "unit", json_string("us (medians)"));
	for (e = 0; e < NR_ENGINES; e++) {
		const struct engine_result *r = &b->res[e];
		json_t *o, *reads;

		if (!r->available) {
			out_set(un, imee_engine_name(engines[e]), json_string(r->reason));
			continue;
		}
		o = out_object();
		reads = out_object();
		out_set(o, "launch_us", json_real(r->launch_us));
		if (r->activation_us >= 0)
			out_set(o, "activation_us", json_real(r->activation_us));
		for (k = 0; k < NR_SIZES; k++) {
			snprintf(key, sizeof(key), "%zu", read_sizes[k]);
			out_set(reads, key, json_real(r->read_us[k]));
		}
		out_set(o, "read_us", reads);
		out_set(o, "chase1000_us", json_real(r->chase_us));
		out_set(o, "chase_end", out_hex(r->chase_end));
		if (b->paper) {
			json_t *jobs = out_object(), *entries = out_object();

			for (k = 0; k < NR_JOBS; k++) {
				out_set(jobs, job_names[k], json_real(r->job_us[k]));
				out_set(entries, job_names[k],
					json_integer((json_int_t)r->job_entries[k]));
			}
			out_set(o, "jobs_us", jobs);
			out_set(o, "jobs_entries", entries);
		}
		if (b->nr_vms > 1) {
			out_set(o, "scan_us", json_real(r->scan_us));
			out_set(o, "switch_us", json_real(r->switch_us));
		}
		out_set(jeng, imee_engine_name(engines[e]), o);
	}
	out_set(doc, "engines", jeng);
	out_set(doc, "unavailable", un);
	if (b->nr_vms > 1)
		out_set(doc, "vms", json_integer(b->nr_vms));
	if (b->has_kernel) {
		json_t *kern = out_object(), *jobs = out_object(), *entries = out_object();

		for (k = 0; k < NR_JOBS; k++) {
			out_set(jobs, job_names[k], json_real(b->kernel_us[k]));
			out_set(entries, job_names[k],
				json_integer((json_int_t)b->kernel_entries[k]));
		}
		out_set(kern, "rounds", json_integer(b->kernel_rounds));
		out_set(kern, "jobs_us", jobs);
		out_set(kern, "jobs_entries", entries);
		out_set(doc, "kernel", kern);
	}
	if (b->res[0].available) {
		ratios = out_object();
		if (b->res[2].available)
			out_set(ratios, "legacy/imee",
				ratios_json(&b->res[2], &b->res[0], b->paper, b->nr_vms > 1));
		if (b->res[1].available)
			out_set(ratios, "software/imee",
				ratios_json(&b->res[1], &b->res[0], b->paper, b->nr_vms > 1));
		if (b->has_kernel) {
			json_t *o = out_object(), *jobs = out_object();

			for (k = 0; k < NR_JOBS; k++)
				out_set(jobs, job_names[k],
					json_real(b->res[0].job_us[k] / b->kernel_us[k]));
			out_set(o, "jobs", jobs);
			out_set(ratios, "imee/kernel", o);
		}
		out_set(doc, "ratios", ratios);
	}
	ret = out_print(doc, stdout);
	json_decref(doc);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

static void print_cell(double v, int width, bool ratio)
{
	if (v < 0)
		printf("  %*s", width, "-");
	else if (ratio)
		printf("  %*.1fx", width - 1, v);
	else
		printf("  %*.1f", width, v);
}

static void print_row(const char *name, const double *v, bool have_imee)
{
	unsigned int e;

	printf("  %-14s", name);
	for (e = 0; e < NR_ENGINES; e++)
		print_cell(v[e], 12, false);
	if (have_imee && v[0] > 0) {
		print_cell(v[2] < 0 ? -1 : v[2] / v[0], 13, true);
		print_cell(v[1] < 0 ? -1 : v[1] / v[0], 15, true);
	}
	putchar('\n');
}

static void print_table(const struct bench *b)
{
	const struct engine_result *r = b->res;
	bool have_imee = r[0].available;
	double v[NR_ENGINES];
	unsigned int e, k;
	char name[32];

	printf("imee bench: pid %d, %s paging, %u rounds, medians in microseconds\n", (int)b->pid,
	       imee_paging_name(b->walk.paging), b->rounds);
	printf("  %-14s  %12s  %12s  %12s  %13s  %15s\n", "", "imee", "software", "legacy",
	       "legacy/imee", "software/imee");
#define ROW(label, field)                                                  \
	do {                                                               \
		for (e = 0; e < NR_ENGINES; e++)                           \
			v[e] = r[e].available ? (double)(r[e].field) : -1; \
		print_row(label, v, have_imee);                            \
	} while (0)
	ROW("launch", launch_us);
	ROW("activation", activation_us);
	for (k = 0; k < NR_SIZES; k++) {
		snprintf(name, sizeof(name), "read %zu B", read_sizes[k]);
		ROW(name, read_us[k]);
	}
	ROW("chase 1000", chase_us);
	for (k = 0; b->paper && k < NR_JOBS; k++)
		ROW(job_names[k], job_us[k]);
#undef ROW
	for (e = 0; e < NR_ENGINES; e++)
		if (!r[e].available)
			printf("  %s: not measured: %s\n", imee_engine_name(engines[e]),
			       r[e].reason);
}

static void md_cell(double v, bool ratio)
{
	if (v < 0)
		printf(" - |");
	else if (ratio)
		printf(v < 1 ? " %.2f times |" : " %.1f times |", v);
	else
		printf(" %.1f |", v);
}

/* A row: the engines, the ratios; with kernel_column, the kernel's time (< 0: none) and imee/kernel. */
static void md_row(const char *name, const double *v, bool kernel_column, double kernel)
{
	unsigned int e;

	printf("| %s |", name);
	for (e = 0; e < NR_ENGINES; e++)
		md_cell(v[e], false);
	md_cell(v[0] > 0 && v[2] >= 0 ? v[2] / v[0] : -1, true);
	md_cell(v[0] > 0 && v[1] >= 0 ? v[1] / v[0] : -1, true);
	if (kernel_column) {
		md_cell(kernel, false);
		md_cell(kernel > 0 && v[0] >= 0 ? v[0] / kernel : -1, true);
	}
	putchar('\n');
}

/* --paper: the paper's layout (its tables of launch, reads and jobs), as Markdown. */
static void print_markdown(const struct bench *b)
{
	const struct engine_result *r = b->res;
	double v[NR_ENGINES];
	unsigned int e, k;
	char name[32];

	printf("imee bench --paper: pid %d, %s paging, %u rounds, medians in microseconds\n\n",
	       (int)b->pid, imee_paging_name(b->walk.paging), b->rounds);
	printf("| | imee (us) | software (us) | legacy (us) | legacy/imee | software/imee |%s\n",
	       b->has_kernel ? " kernel (us) | imee/kernel |" : "");
	printf("|---|---|---|---|---|---|%s\n", b->has_kernel ? "---|---|" : "");
#define MD_ROW(label, field, kernel)                                       \
	do {                                                               \
		for (e = 0; e < NR_ENGINES; e++)                           \
			v[e] = r[e].available ? (double)(r[e].field) : -1; \
		md_row(label, v, b->has_kernel, kernel);                   \
	} while (0)
	MD_ROW("launch", launch_us, -1);
	MD_ROW("activation", activation_us, -1);
	for (k = 0; k < NR_SIZES; k++) {
		snprintf(name, sizeof(name), "read %zu B", read_sizes[k]);
		MD_ROW(name, read_us[k], -1);
	}
	MD_ROW("chase 1000 hops", chase_us, -1);
	for (k = 0; k < NR_JOBS; k++)
		MD_ROW(job_names[k], job_us[k], b->has_kernel ? b->kernel_us[k] : -1);
	if (b->nr_vms > 1) {
		snprintf(name, sizeof(name), "scan all VMs (%u)", b->nr_vms);
		MD_ROW(name, scan_us, -1);
		MD_ROW("switch VM", switch_us, -1);
	}
#undef MD_ROW
	for (e = 0; e < NR_ENGINES; e++) {
		if (!r[e].available)
			printf("\n%s: not measured: %s\n", imee_engine_name(engines[e]),
			       r[e].reason);
	}
	for (e = 0; e < NR_ENGINES; e++) {
		if (!r[e].available)
			continue;
		printf("%s%s read:", e ? "" : "\n", imee_engine_name(engines[e]));
		for (k = 0; k < NR_JOBS; k++)
			printf(" %s %zu%s", job_names[k], r[e].job_entries[k],
			       k + 1 < NR_JOBS ? "," : " entries\n");
	}
	if (b->has_kernel) {
		printf("kernel read (its own walks, %u rounds):", b->kernel_rounds);
		for (k = 0; k < NR_JOBS; k++)
			printf(" %s %zu%s", job_names[k], b->kernel_entries[k],
			       k + 1 < NR_JOBS ? "," : " entries\n");
	}
}

int cmd_bench(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "vm-fd", required_argument, NULL, 'f' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "paper", no_argument, NULL, 'P' },
		{ "read", required_argument, NULL, 'R' },
		{ "chase", required_argument, NULL, 'C' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "vm", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .rounds = 25, .vm_fd = -1 };
	struct cli_target target = { 0 };
	const char *kernel_file = NULL;
	bool handled;
	long v;
	bool json = false, any = false;
	double *samples;
	unsigned int e;
	int c, err, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'f':
			if (!cli_target_option(c, optarg, &target, &handled))
				return EXIT_USAGE;
			break;
		case 'r':
			if (!cli_parse_long(optarg, 3, 1000, &v)) {
				cli_error("--rounds: must be 3..1000");
				return EXIT_USAGE;
			}
			b.rounds = (unsigned int)v;
			break;
		case 'j':
			json = true;
			break;
		case 'P':
			b.paper = true;
			break;
		case 'K':
			kernel_file = optarg;
			break;
		case 'V':
			if (!cli_parse_long(optarg, 1, INT_MAX, &v)) {
				cli_error("--vm: '%s' is not a pid", optarg);
				return EXIT_USAGE;
			}
			if (b.nr_vms + 1 >= MAX_VMS) {
				cli_error("--vm: at most %d", MAX_VMS - 1);
				return EXIT_USAGE;
			}
			b.vms[++b.nr_vms].pid = (pid_t)v;
			break;
		case 'R':
		case 'C':
			if (!cli_parse_u64(optarg, c == 'R' ? &b.banner_va : &b.chase_start)) {
				cli_error("--%s: not an address: %s", c == 'R' ? "read" : "chase",
					  optarg);
				return EXIT_USAGE;
			}
			b.given = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!target.pid || optind != argc) {
		cli_error("bench needs --pid and nothing else");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (b.given && (!b.banner_va || !b.chase_start || b.paper)) {
		cli_error("--read and --chase go together, without --paper");
		return EXIT_USAGE;
	}
	if ((kernel_file || b.nr_vms) && !b.paper) {
		cli_error("--kernel and --vm go with --paper");
		return EXIT_USAGE;
	}
	if (kernel_file && !load_kernel_times(kernel_file, &b))
		return EXIT_USAGE;
	b.pid = target.pid;
	b.has_vm_fd = target.has_vm_fd;
	b.vm_fd = target.vm_fd;
	err = find_addresses(&b);
	if (err) {
		cli_error("%s%s: %s",
			  b.given ? "attaching" : "finding linux_banner and super_blocks",
			  b.paper ? " and the kernel's layouts" : "",
			  err == -ENOMEM   ? "out of memory"
			  : err == -ENODEV ? "the VM has no vCPU"
					   : imee_errmsg());
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (b.nr_vms) {
		unsigned int i;

		b.vms[0].pid = b.pid;
		b.nr_vms++;
		for (i = 0; i < b.nr_vms; i++) {
			err = find_vm(&b.vms[i]);
			if (err) {
				cli_error("--vm %d: finding its linux_banner and init_top_pgt: %s",
					  (int)b.vms[i].pid,
					  err == -ENOMEM   ? "out of memory"
					  : err == -ENODEV ? "the VM has no vCPU"
							   : imee_errmsg());
				ret = EXIT_RUNTIME;
				goto out;
			}
		}
	}
	samples = calloc(b.rounds, sizeof(*samples));
	if (!samples) {
		cli_error("out of memory");
		ret = EXIT_RUNTIME;
		goto out;
	}
	for (e = 0; e < NR_ENGINES; e++)
		any |= !bench_engine(&b, e, samples);
	free(samples);
	if (!any) {
		cli_error("no engine could be measured: %s", b.res[1].reason);
		ret = EXIT_RUNTIME;
		goto out;
	}
	for (e = 1; e < NR_ENGINES; e++)
		if (b.res[e].available && b.res[0].available &&
		    b.res[e].chase_end != b.res[0].chase_end) {
			cli_error("the engines disagree on the chase's end: %#" PRIx64
				  " vs %#" PRIx64,
				  b.res[e].chase_end, b.res[0].chase_end);
			ret = EXIT_RUNTIME;
			goto out;
		}
	if (json)
		ret = print_json(&b);
	else if (b.paper)
		print_markdown(&b);
	else
		print_table(&b);
out:
	imee_linux_close(b.lx);
	imee_linux_kallsyms_free(b.ks);
	return ret;
}
