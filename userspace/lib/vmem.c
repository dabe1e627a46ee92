// SPDX-License-Identifier: GPL-2.0
/*
 * Guest virtual memory behind one small interface (struct imee_vmem), so
 * that the code that interprets guest structures does not care which engine
 * reads them. The first implementation walks the guest's page tables in
 * software (imee_virt_read()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prefetch.h"

int imee_vmem_read(const struct imee_vmem *vmem, uint64_t va, void *buf, size_t len)
{
	if (!vmem || !vmem->ops || !vmem->ops->read || (!buf && len))
		return imee_fail(-EINVAL, "virtual read: bad arguments");
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - va)
		return imee_fail(-EINVAL, "virtual range 0x%" PRIx64 " + %zu wraps around", va,
				 len);
	return vmem->ops->read(vmem->ctx, va, buf, len);
}

int imee_vmem_prefetch_list(const struct imee_vmem *vmem, const struct imee_vmem_list_spec *spec)
{
	int err;

	if (!vmem || !vmem->ops || !spec)
		return imee_fail(-EINVAL, "read-ahead: bad arguments");
	err = prefetch_spec_check(spec);
	if (err || !vmem->ops->prefetch_list)
		return err;
	return vmem->ops->prefetch_list(vmem->ctx, spec);
}

void imee_vmem_forget(const struct imee_vmem *vmem)
{
	if (vmem && vmem->ops && vmem->ops->forget)
		vmem->ops->forget(vmem->ctx);
}

void imee_vmem_release(struct imee_vmem *vmem)
{
	if (!vmem)
		return;
	if (vmem->ops && vmem->ops->release)
		vmem->ops->release(vmem->ctx);
	vmem->ops = NULL;
	vmem->ctx = NULL;
}

struct walk_vmem {
	struct imee_mem mem;
	struct imee_walk_opts opts;
};

static int walk_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	const struct walk_vmem *w = ctx;
	struct imee_walk_opts opts = w->opts;

	/* A range never crosses halves: the non-canonical hole lies between. */
	opts.cr3 = imee_linux_cr3_for(w->opts.cr3, va);
	return imee_virt_read(&w->mem, &opts, va, buf, len);
}

static void walk_release(void *ctx)
{
	free(ctx);
}

static const struct imee_vmem_ops walk_ops = {
	.read = walk_read,
	.release = walk_release,
};

int imee_vmem_from_walk(const struct imee_mem *mem, const struct imee_walk_opts *opts,
			struct imee_vmem *vmem_ret)
{
	struct walk_vmem *w;

	if (!mem || !mem->ops || !mem->ops->read || !opts || !vmem_ret)
		return imee_fail(-EINVAL, "virtual memory: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_walk_opts, flags),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "bad page-walk options");
	w = calloc(1, sizeof(*w));
	if (!w)
		return imee_fail(-ENOMEM, "out of memory");
	w->mem = *mem;
	/* Copy no more than the caller's struct holds; newer fields stay zero. */
	memcpy(&w->opts, opts, opts->sz < sizeof(w->opts) ? opts->sz : sizeof(w->opts));
	w->opts.sz = sizeof(w->opts);
	vmem_ret->ops = &walk_ops;
	vmem_ret->ctx = w;
	return 0;
}
