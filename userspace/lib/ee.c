// SPDX-License-Identifier: GPL-2.0
/*
 * The imee engine: reads done by the agent inside the session's ImEE vCPU.
 *
 * Virtual reads run a COPY loop in the target's address space: every
 * address is translated by the CPU's MMU over the target's own page tables
 * (copied at each activation from the CR3 given). Physical reads run a COPYP
 * loop over the agent's map of the target's RAM. One activation reads up to
 * the output buffer's size.
 *
 * Faults are described like the software engine's: the software walker is
 * asked about the faulting address, so that both engines give the same
 * error for the same guest state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prefetch.h"
#include "session.h"

#define EINTR_RETRIES 16

struct imee_ee {
	int fd;
	void *out;
	size_t out_size;
	uint32_t hw;
	uint32_t hw_flags;
	uint64_t launch_ns;
	struct imee_insn *insns; /* the program loaded, or NULL */
	size_t nr_insns;
	struct imee_run last;
};

const char *imee_ee_hw_name(uint32_t hw)
{
	switch (hw) {
	case IMEE_HW_SVM_NPT:
		return "amd-svm-npt";
	case IMEE_HW_VMX_EPT:
		return "intel-vmx-ept";
	}
	return "none";
}

int imee_ee_create(struct imee_session *s, const struct imee_ee_opts *opts, struct imee_ee **ee_ret)
{
	struct imee_create cr;
	struct imee_ee *ee;
	int err;

	if (!s || !ee_ret)
		return imee_fail(-EINVAL, "ImEE: bad arguments");
	if (opts && !imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_ee_opts, out_size),
				  sizeof(*opts)))
		return imee_fail(-EINVAL, "ImEE: bad options");
	memset(&cr, 0, sizeof(cr));
	cr.size = sizeof(cr);
	cr.out_size = opts ? opts->out_size : 0;

	ee = calloc(1, sizeof(*ee));
	if (!ee)
		return imee_fail(-ENOMEM, "out of memory");
	ee->fd = ioctl(s->fd, IMEE_CREATE, &cr);
	if (ee->fd < 0) {
		err = -errno;
		free(ee);
		switch (err) {
		case -EOPNOTSUPP:
			return imee_fail(err, "this host cannot run an ImEE (no AMD SVM with "
					      "nested paging, no Intel VMX with EPT)");
		case -ENOTTY:
			return imee_fail(-EOPNOTSUPP, "imee.ko is too old for the ImEE");
		case -EBUSY:
			return imee_fail(err, "the session has an ImEE already");
		case -ESRCH:
			return imee_fail(err, "the target is gone (its VMM exited)");
		default:
			return imee_fail(err, "IMEE_CREATE: %s", strerror(-err));
		}
	}
	ee->out_size = cr.out_size ? cr.out_size : 1U << 20;
	ee->out = mmap(NULL, ee->out_size, PROT_READ, MAP_SHARED, ee->fd, 0);
	if (ee->out == MAP_FAILED) {
		err = imee_fail(-errno, "mapping the ImEE's output: %s", strerror(errno));
		close(ee->fd);
		free(ee);
		return err;
	}
	ee->hw = cr.hw;
	ee->hw_flags = cr.hw_flags;
	ee->launch_ns = cr.launch_ns;
	*ee_ret = ee;
	return 0;
}

void imee_ee_destroy(struct imee_ee *ee)
{
	if (!ee)
		return;
	munmap(ee->out, ee->out_size);
	close(ee->fd);
	free(ee->insns);
	free(ee);
}

uint32_t imee_ee_hw(const struct imee_ee *ee)
{
	return ee->hw;
}

uint32_t imee_ee_hw_flags(const struct imee_ee *ee)
{
	return ee->hw_flags;
}

uint64_t imee_ee_launch_ns(const struct imee_ee *ee)
{
	return ee->launch_ns;
}

size_t imee_ee_out_size(const struct imee_ee *ee)
{
	return ee->out_size;
}

const struct imee_run *imee_ee_last_run(const struct imee_ee *ee)
{
	return &ee->last;
}

static int ee_load(struct imee_ee *ee, const struct imee_insn *insns, size_t nr)
{
	struct imee_load ld;
	struct imee_insn *copy;

	if (ee->insns && ee->nr_insns == nr && !memcmp(ee->insns, insns, nr * sizeof(*insns)))
		return 0;
	if (!nr || nr > IMEE_PROG_MAX_INSNS)
		return imee_fail(-EINVAL, "a program has 1..%d instructions", IMEE_PROG_MAX_INSNS);
	copy = malloc(nr * sizeof(*insns));
	if (!copy)
		return imee_fail(-ENOMEM, "out of memory");
	memcpy(copy, insns, nr * sizeof(*insns));
	memset(&ld, 0, sizeof(ld));
	ld.size = sizeof(ld);
	ld.nr_insns = (uint32_t)nr;
	ld.insns = (uintptr_t)insns;
	if (ioctl(ee->fd, IMEE_LOAD, &ld)) {
		int err = -errno;

		free(copy);
		if (err == -EINVAL)
			return imee_fail(err,
					 "the module rejected the program at instruction %" PRIu32,
					 ld.bad_insn);
		return imee_fail(err, "IMEE_LOAD: %s", strerror(-err));
	}
	free(ee->insns);
	ee->insns = copy;
	ee->nr_insns = nr;
	return 0;
}

int imee_ee_run(struct imee_ee *ee, const struct imee_insn *insns, size_t nr,
		const struct imee_ee_run_opts *opts, struct imee_run *run_ret, const void **out_ret)
{
	struct imee_run run;
	int tries, err;

	if (!ee || !insns || !opts || !run_ret)
		return imee_fail(-EINVAL, "ImEE run: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_ee_run_opts, out_cap),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "ImEE run: bad options");
	err = ee_load(ee, insns, nr);
	if (err)
		return err;

	memset(&run, 0, sizeof(run));
	run.size = sizeof(run);
	if (opts->use_vcpu_cr3) {
		run.flags = IMEE_RUN_F_VCPU_CR3 | (opts->pti_kernel ? IMEE_RUN_F_PTI_KERNEL : 0);
		run.vcpu = opts->vcpu;
	} else {
		run.cr3 = opts->cr3;
		run.levels = opts->levels;
	}
	memcpy(run.args, opts->args, sizeof(run.args));
	run.max_steps = opts->max_steps;
	run.out_cap = opts->out_cap;
	err = -EINTR;
	for (tries = 0; tries < EINTR_RETRIES && err == -EINTR; tries++)
		err = ioctl(ee->fd, IMEE_RUN, &run) ? -errno : 0;
	if (err) {
		switch (err) {
		case -ESRCH:
			return imee_fail(err, "the target is gone (its VMM exited)");
		case -ETIME:
			return imee_fail(err, "the ImEE activation ran out of time");
		case -EFAULT:
			return imee_fail(err,
					 "the page table at CR3 0x%" PRIx64 " is not guest RAM",
					 opts->cr3);
		case -EIO:
			return imee_fail(err, "the ImEE vCPU failed (see the kernel log)");
		default:
			return imee_fail(err, "IMEE_RUN: %s", strerror(-err));
		}
	}
	ee->last = run;
	*run_ret = run;
	if (out_ret)
		*out_ret = ee->out;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reads through the ImEE                                              */
/* ------------------------------------------------------------------ */

#define INSN(o, d, s, sz, of, im)                                                               \
	{                                                                                       \
		.op = (o), .regs = IMEE_INSN_REGS(d, s), .size = (sz), .off = (of), .imm = (im) \
	}

/* r0 = address, r1 = length: copy it all to the output, a page at most per COPY. */
static void build_copy(struct imee_insn *prog, size_t *nr, uint8_t copy_op)
{
	size_t i = 0;

	prog[i++] = (struct imee_insn)INSN(IMEE_OP_MOVK, 3, 0, 0, 0, IMEE_PROG_MAX_COPY);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_JEQK, 1, 0, 0, 7, 0); /* -> EXIT */
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_MOV, 4, 1, 0, 0, 0);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_JLE, 4, 3, 0, 1, 0);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_MOV, 4, 3, 0, 0, 0);
	prog[i++] = (struct imee_insn)INSN(copy_op, 4, 0, 0, 0, 0);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_ADD, 0, 4, 0, 0, 0);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_SUB, 1, 4, 0, 0, 0);
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_JA, 0, 0, 0, -8, 0); /* -> 1 */
	prog[i++] = (struct imee_insn)INSN(IMEE_OP_EXIT, 0, 0, 0, 0, 0);
	*nr = i;
}

static struct imee_ee *session_ee(struct imee_session *s, int *err)
{
	if (!s->ee) {
		*err = imee_ee_create(s, NULL, &s->ee);
		if (*err)
			return NULL;
	}
	*err = 0;
	return s->ee;
}

int imee_session_ee(struct imee_session *s, struct imee_ee **ee_ret)
{
	struct imee_ee *ee;
	int err;

	if (!s)
		return imee_fail(-EINVAL, "no session");
	ee = session_ee(s, &err);
	if (ee && ee_ret)
		*ee_ret = ee;
	return err;
}

/*
 * Copy [addr, addr + len) through the ImEE, physical or virtual. On a fault,
 * *fault_ret and *fault_addr_ret say what and where, and -EFAULT is
 * returned without an error message (the caller describes it).
 */
static int ee_copy(struct imee_session *s, bool phys, const struct imee_ee_run_opts *base,
		   uint64_t addr, void *buf, size_t len, uint32_t *fault_ret,
		   uint64_t *fault_addr_ret)
{
	struct imee_insn prog[10];
	struct imee_ee_run_opts opts = *base;
	struct imee_ee *ee;
	struct imee_run run;
	const void *out;
	size_t nr, done = 0;
	int err;

	ee = session_ee(s, &err);
	if (!ee)
		return err;
	build_copy(prog, &nr, phys ? IMEE_OP_COPYP : IMEE_OP_COPY);
	while (done < len) {
		size_t chunk = len - done;

		if (chunk > ee->out_size)
			chunk = ee->out_size;
		opts.args[0] = addr + done;
		opts.args[1] = chunk;
		err = imee_ee_run(ee, prog, nr, &opts, &run, &out);
		if (err)
			return err;
		if (run.status == IMEE_STATUS_FAULT) {
			*fault_ret = run.fault;
			*fault_addr_ret = run.fault_addr;
			return -EFAULT;
		}
		if (run.status != IMEE_STATUS_OK || run.out_len != chunk)
			return imee_fail(-EIO, "the agent's read ended with status %" PRIu32,
					 run.status);
		memcpy((char *)buf + done, out, chunk);
		done += chunk;
	}
	return 0;
}

int imee_ee_read_phys(struct imee_session *s, uint64_t gpa, void *buf, size_t len)
{
	IMEE_OPTS(imee_ee_run_opts, opts);
	uint64_t fault_addr;
	uint32_t fault;
	int err;

	if (!imee_session_is_ram(s, gpa, len))
		return imee_fail(-ENXIO,
				 "guest-physical 0x%" PRIx64 "..0x%" PRIx64 " is not guest RAM",
				 gpa, gpa + len - 1);
	/* Any CR3 of guest RAM will do: physical reads do not use it. */
	if (!s->nr_vcpus)
		return imee_fail(-ENODEV, "the target has no vCPU");
	opts.use_vcpu_cr3 = true;
	opts.pti_kernel = true;
	err = ee_copy(s, true, &opts, gpa, buf, len, &fault, &fault_addr);
	if (err == -EFAULT)
		return imee_fail(-EFAULT,
				 "guest-physical 0x%" PRIx64 ": the ImEE could not read it",
				 fault_addr);
	return err;
}

/* imee_vmem over the ImEE: ctx is this. */
struct ee_vmem {
	struct imee_session *s;
	struct imee_walk_opts walk;
	struct imee_mem view; /* to describe faults as the software walker does */
	struct prefetch_cache cache; /* what was read ahead (kernel addresses) */
};

static int ee_vmem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct ee_vmem *v = ctx;
	IMEE_OPTS(imee_ee_run_opts, opts);
	struct imee_walk_opts wo = v->walk;
	struct imee_walk walk;
	uint64_t fault_addr;
	uint32_t fault;
	int err;

	if (prefetch_lookup(&v->cache, va, buf, len))
		return 0;

	wo.cr3 = imee_linux_cr3_for(v->walk.cr3, va);
	opts.cr3 = wo.cr3 & 0x000ffffffffff000ULL;
	opts.levels = v->walk.paging == IMEE_PAGING_5LEVEL ? 5 : 4;
	err = ee_copy(v->s, false, &opts, va, buf, len, &fault, &fault_addr);
	if (err != -EFAULT)
		return err;
	/* Describe the fault as the software walker sees it, if it agrees. */
	if (!imee_walk(&v->view, &wo, fault_addr, &walk) && walk.fault == (enum imee_fault)fault)
		return imee_walk_error(&walk);
	switch (fault) {
	case IMEE_PROG_FAULT_NOT_MAPPED:
	case IMEE_PROG_FAULT_NON_CANONICAL:
	case IMEE_PROG_FAULT_BAD_ENTRY:
	case IMEE_PROG_FAULT_OUT_OF_RAM:
		return imee_fail_fault(imee_fault_errno((enum imee_fault)fault),
				       (enum imee_fault)fault, 0, fault_addr,
				       "0x%" PRIx64 ": %s (seen by the ImEE)", fault_addr,
				       imee_fault_name((enum imee_fault)fault));
	default:
		return imee_fail_fault(-EFAULT, IMEE_FAULT_NOT_MAPPED, 0, fault_addr,
				       "0x%" PRIx64 ": inside the agent's own address range",
				       fault_addr);
	}
}

/*
 * One activation walks the whole list (through the kernel's half of the
 * page table: read-ahead is for kernel lists) and its output is kept. A
 * failure leaves the reads to go on one by one.
 */
static int ee_vmem_prefetch_list(void *ctx, const struct imee_vmem_list_spec *spec)
{
	struct ee_vmem *v = ctx;
	IMEE_OPTS(imee_ee_run_opts, opts);
	struct imee_insn *insns;
	struct imee_run run;
	struct imee_ee *ee;
	const void *out;
	size_t nr;
	int err;

	ee = session_ee(v->s, &err);
	if (!ee)
		return 0;
	err = prefetch_program(spec, &insns, &nr);
	if (err)
		return err;
	opts.cr3 = imee_linux_cr3_for(v->walk.cr3, 1ULL << 63) & 0x000ffffffffff000ULL;
	opts.levels = v->walk.paging == IMEE_PAGING_5LEVEL ? 5 : 4;
	/* parsed where the agent wrote it: a fault or a full output ends it early */
	err = imee_ee_run(ee, insns, nr, &opts, &run, &out);
	if (!err)
		err = prefetch_parse(spec, out, run.out_len, &v->cache);
	free(insns);
	return err == -ENOMEM ? err : 0;
}

static void ee_vmem_forget(void *ctx)
{
	struct ee_vmem *v = ctx;

	prefetch_forget(&v->cache);
}

static void ee_vmem_release(void *ctx)
{
	struct ee_vmem *v = ctx;

	prefetch_forget(&v->cache);
	free(v);
}

static const struct imee_vmem_ops ee_vmem_ops = {
	.read = ee_vmem_read,
	.release = ee_vmem_release,
	.prefetch_list = ee_vmem_prefetch_list,
	.forget = ee_vmem_forget,
};

int imee_ee_vmem(struct imee_session *s, const struct imee_walk_opts *opts,
		 struct imee_vmem *vmem_ret)
{
	struct ee_vmem *v;
	int err;

	if (!s || !opts || !vmem_ret)
		return imee_fail(-EINVAL, "ImEE reader: bad arguments");
	if (opts->paging != IMEE_PAGING_4LEVEL && opts->paging != IMEE_PAGING_5LEVEL)
		return imee_fail(-EOPNOTSUPP, "the ImEE runs on 4- and 5-level page tables only");
	if (!session_ee(s, &err))
		return err;
	v = calloc(1, sizeof(*v));
	if (!v)
		return imee_fail(-ENOMEM, "out of memory");
	v->s = s;
	v->walk = *opts;
	err = imee_session_mem(s, IMEE_ENGINE_SOFTWARE, &v->view);
	if (err) {
		free(v);
		return err;
	}
	vmem_ret->ops = &ee_vmem_ops;
	vmem_ret->ctx = v;
	return 0;
}

int imee_session_run_prog(struct imee_session *s, enum imee_engine engine,
			  const struct imee_walk_opts *opts, const struct imee_insn *insns,
			  size_t nr, const uint64_t args[8], uint64_t max_steps, void *out,
			  size_t out_cap, struct imee_prog_result *res)
{
	IMEE_OPTS(imee_ee_run_opts, ro);
	struct imee_mem mem;
	struct imee_ee *ee;
	struct imee_run run;
	const void *buf;
	int err;

	if (!s || !opts || !insns || !res || (!out && out_cap))
		return imee_fail(-EINVAL, "run program: bad arguments");
	if (engine != IMEE_ENGINE_IMEE) {
		err = imee_session_mem(s, engine, &mem);
		return err ? err
			   : imee_prog_run_mem(&mem, opts, insns, nr, args, max_steps, out, out_cap,
					       res);
	}
	if (opts->paging != IMEE_PAGING_4LEVEL && opts->paging != IMEE_PAGING_5LEVEL)
		return imee_fail(-EOPNOTSUPP, "the ImEE runs on 4- and 5-level page tables only");
	err = imee_prog_verify(insns, nr, NULL);
	if (err)
		return err;
	ee = session_ee(s, &err);
	if (!ee)
		return err;
	if (!out_cap)
		return imee_fail(-EINVAL, "the ImEE needs an output buffer");
	if (out_cap > ee->out_size)
		return imee_fail(-EINVAL, "the ImEE's output holds %zu bytes, not %zu",
				 ee->out_size, out_cap);
	ro.cr3 = opts->cr3 & 0x000ffffffffff000ULL;
	ro.levels = opts->paging == IMEE_PAGING_5LEVEL ? 5 : 4;
	if (args)
		memcpy(ro.args, args, sizeof(ro.args));
	ro.max_steps = max_steps;
	ro.out_cap = out_cap;
	err = imee_ee_run(ee, insns, nr, &ro, &run, &buf);
	if (err)
		return err;
	memset(res, 0, sizeof(*res));
	res->status = run.status;
	res->fault = run.fault;
	res->fault_addr = run.fault_addr;
	res->pc = run.pc;
	res->steps = run.steps;
	res->out_len = run.out_len;
	memcpy(res->regs, run.regs, sizeof(res->regs));
	memcpy(out, buf, run.out_len);
	return 0;
}
