// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a Linux guest for the structure walkers: the symbols they start
 * from (kallsyms) and the layouts they read by (BTF), or the same from the
 * cache when the guest's bytes show it is the build the cache entry was
 * made from.
 *
 * Cache soundness: an entry holds only what follows from the bytes it is
 * keyed by: the banner, the .BTF (its checksum) and the kallsyms tables
 * (names, markers, tokens, offsets: their checksums; not relative_base,
 * which KASLR changes at every boot). All of them are read from the guest
 * and compared on every use, so an entry made from one guest is used for
 * another only when their kernels are the same bytes, and then the results
 * are the same too. Symbols are kept relative to _text, which linux_banner
 * gives back at once (KASLR moves the whole image by one slide).
 *
 * Overrides (a System.map, a BTF file) bypass the cache both ways: their
 * bytes are not the guest's, so no checksum of the guest could vouch for
 * an entry made from them, nor they for an entry made from memory. They are
 * read at every open (a few milliseconds) and checked against the guest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_cache.h"
#include "linux_guest.h"

/* kallsyms tables larger than this are not checksummed (nor cached). */
#define KSYMS_RANGE_MAX (64ULL << 20)
#define SUM_CHUNK (1U << 20)
/* The kernel image starts at a 2 MiB boundary, however KASLR moves it. */
#define TEXT_ALIGN (2ULL << 20)
#define IMAGE_SPAN (IMEE_LINUX_KERNEL_IMAGE_END - IMEE_LINUX_KERNEL_IMAGE_START)

/* The checksum of [va, va + len) of guest memory, read a chunk at a time. */
static int vmem_checksum(const struct imee_vmem *vmem, uint64_t va, uint64_t len, uint64_t *sum_ret)
{
	uint64_t sum = IMEE_FNV1A_INIT, done = 0;
	unsigned char *buf = malloc(SUM_CHUNK);
	int err = 0;

	if (!buf)
		return imee_fail(-ENOMEM, "out of memory");
	while (done < len) {
		size_t n = len - done < SUM_CHUNK ? (size_t)(len - done) : SUM_CHUNK;

		err = imee_vmem_read(vmem, va + done, buf, n);
		if (err)
			break;
		sum = imee_fnv1a(sum, buf, n);
		done += n;
	}
	free(buf);
	if (!err)
		*sum_ret = sum;
	return err;
}

static int range_matches(const struct imee_vmem *vmem, uint64_t text,
			 const struct linux_range_sum *r, const char *what)
{
	uint64_t sum;
	int err;

	if (!r->len || r->len > KSYMS_RANGE_MAX || r->off > IMAGE_SPAN)
		return imee_fail(-EBADMSG, "cache: %s range implausible", what);
	err = vmem_checksum(vmem, text + r->off, r->len, &sum);
	if (err)
		return imee_fail_context(err, "cache: %s", what);
	if (sum != r->sum)
		return imee_fail(-ESTALE, "cache: the guest's %s differ", what);
	return 0;
}

/* Is the entry b the build the guest runs? 0 yes (lx->text set), else why not. */
static int check_entry(struct imee_linux *lx, const struct imee_vmem *vmem,
		       const struct imee_linux_banner *banner, const struct linux_build *b)
{
	unsigned char hdr[IMEE_LINUX_BTF_HDR_LEN];
	uint64_t text, sum;
	int err;

	if (strcmp(b->banner, banner->text))
		return imee_fail(-ESTALE, "cache: another kernel's entry");
	text = banner->va - b->sym.banner;
	if (b->sym.banner > IMAGE_SPAN || text % TEXT_ALIGN ||
	    text < IMEE_LINUX_KERNEL_IMAGE_START || text >= IMEE_LINUX_KERNEL_IMAGE_END)
		return imee_fail(-EBADMSG, "cache: linux_banner's offset implausible");
	if (b->sym.init_task > IMAGE_SPAN || b->sym.init_pid_ns > IMAGE_SPAN ||
	    b->sym.btf > IMAGE_SPAN || !b->sym.btf_size || b->sym.btf_size > IMEE_LINUX_BTF_MAX ||
	    b->sym.modules > IMAGE_SPAN || b->sym.top_pgt > IMAGE_SPAN)
		return imee_fail(-EBADMSG, "cache: symbol offsets implausible");
	err = linux_layout_check(&b->layout);
	if (err)
		return imee_fail_context(err, "cache");
	/* The .BTF: the header first (cheap), then every byte. */
	err = imee_vmem_read(vmem, text + b->sym.btf, hdr, sizeof(hdr));
	if (err)
		return imee_fail_context(err, "cache: .BTF");
	if ((hdr[0] | hdr[1] << 8) != IMEE_LINUX_BTF_MAGIC)
		return imee_fail(-ESTALE, "cache: no .BTF where the entry says");
	err = vmem_checksum(vmem, text + b->sym.btf, b->sym.btf_size, &sum);
	if (err)
		return imee_fail_context(err, "cache: .BTF");
	if (sum != b->btf_checksum)
		return imee_fail(-ESTALE, "cache: the guest's .BTF differs");
	err = range_matches(vmem, text, &b->ksyms_names, "kallsyms names");
	if (!err)
		err = range_matches(vmem, text, &b->ksyms_offsets, "kallsyms offsets");
	if (err)
		return err;
	lx->text = text;
	return 0;
}

static void note_cache_error(struct imee_linux *lx)
{
	snprintf(lx->info.cache_error, sizeof(lx->info.cache_error), "%s", imee_errmsg());
}

/* 0 on a hit; anything else is a miss (fatal errors are returned as such). */
static int try_cache(struct imee_linux *lx, const struct imee_vmem *vmem,
		     const struct imee_linux_banner *banner)
{
	struct linux_build b;
	char *text;
	size_t len;
	int err;

	err = linux_cache_read(lx->info.cache_path, &text, &len);
	if (err) {
		if (err != -ENOENT)
			note_cache_error(lx);
		return err;
	}
	err = linux_build_parse(text, len, &b);
	free(text);
	if (!err)
		err = check_entry(lx, vmem, banner, &b);
	if (err) {
		note_cache_error(lx);
		return err;
	}
	lx->build = b;
	return 0;
}

static int symbol(const struct imee_linux_kallsyms *ks, const char *name, bool required,
		  uint64_t *addr)
{
	struct imee_linux_ksym sym;
	int err = imee_linux_kallsyms_lookup_name(ks, name, &sym, NULL);

	if (err) {
		*addr = 0;
		return required ? imee_fail(-ENOENT, "kallsyms: the kernel has no %s", name) : 0;
	}
	*addr = sym.address;
	return 0;
}

/*
 * A global variable that static ones elsewhere may share the name of
 * ("modules"): the only one with an upper-case type, or 0 when there is
 * none, or no single one.
 */
static void global_symbol(const struct imee_linux_kallsyms *ks, const char *name, uint64_t *addr)
{
	struct imee_linux_ksym sym;
	size_t matches = 0, i, n, globals = 0;

	*addr = 0;
	if (imee_linux_kallsyms_lookup_name(ks, name, &sym, &matches))
		return;
	if (matches == 1) {
		*addr = sym.address;
		return;
	}
	n = imee_linux_kallsyms_count(ks);
	for (i = 0; i < n; i++) {
		if (imee_linux_kallsyms_get(ks, i, &sym) || strcmp(sym.name, name) ||
		    sym.type < 'A' || sym.type > 'Z')
			continue;
		*addr = sym.address;
		globals++;
	}
	if (globals != 1)
		*addr = 0;
}

/* addr - text, when addr lies in the kernel image at or after text. */
static int relative(uint64_t addr, uint64_t text, const char *name, uint64_t *off)
{
	if (addr < text || addr - text > IMAGE_SPAN)
		return imee_fail(-EBADMSG, "kallsyms: %s at 0x%" PRIx64 " is outside the image",
				 name, addr);
	*off = addr - text;
	return 0;
}

/* The kallsyms tables' build-constant bytes: their place and checksums. */
static int ksyms_ranges(const struct imee_vmem *vmem, const struct imee_linux_kallsyms *ks,
			uint64_t text, struct linux_build *b)
{
	struct imee_linux_kallsyms_info ki;
	uint64_t names_end;
	int err;

	imee_linux_kallsyms_info(ks, &ki);
	names_end = ki.token_index_va + 2 * 256;
	if (names_end <= ki.names_va || names_end - ki.names_va > KSYMS_RANGE_MAX ||
	    4 * ki.num_syms > KSYMS_RANGE_MAX)
		return imee_fail(-EPROTO, "kallsyms: tables implausible for the cache");
	err = relative(ki.names_va, text, "kallsyms_names", &b->ksyms_names.off);
	if (!err)
		err = relative(ki.offsets_va, text, "kallsyms_offsets", &b->ksyms_offsets.off);
	if (err)
		return err;
	b->ksyms_names.len = names_end - ki.names_va;
	b->ksyms_offsets.len = 4 * ki.num_syms;
	err = vmem_checksum(vmem, ki.names_va, b->ksyms_names.len, &b->ksyms_names.sum);
	if (!err)
		err = vmem_checksum(vmem, ki.offsets_va, b->ksyms_offsets.len,
				    &b->ksyms_offsets.sum);
	return err;
}

/* The kernel's symbols: from the System.map override, else from memory. */
static int load_symbols(const struct imee_linux_open_opts *o, struct imee_linux_kallsyms **ks_ret)
{
	if (o->system_map)
		return imee_linux_system_map_load(o->system_map, o->banner, ks_ret);
	if (!o->load_kallsyms)
		return imee_fail(-ENOENT, "kallsyms: no way to load them was given");
	return o->load_kallsyms(o->load_arg, ks_ret);
}

/*
 * An override made for another build would give wrong answers quietly. The
 * System.map's linux_banner was matched against the guest's already (see
 * imee_linux_system_map_parse()); what both overrides say together is
 * checked here, cheaply: init_task, where the symbols put it and read by
 * the layout in use, must have the comm the kernel gives its first task
 * ("swapper/0", or "swapper" while it boots).
 */
static int check_overrides(const struct imee_vmem *vmem, const struct imee_linux_open_opts *o,
			   const struct linux_layout *l, uint64_t init_task)
{
	const char *what = !o->system_map ? "the BTF file"
			   : o->btf	  ? "the System.map or the BTF file"
					  : "the System.map";
	char comm[IMEE_LINUX_COMM_LEN + 1];
	size_t i, n = l->task_comm.size < IMEE_LINUX_COMM_LEN ? (size_t)l->task_comm.size
							      : IMEE_LINUX_COMM_LEN;
	int err;

	memset(comm, 0, sizeof(comm));
	err = imee_vmem_read(vmem, init_task + l->task_comm.off, comm, n);
	if (err == -ESRCH || err == -ENODEV || err == -ENOMEM)
		return err;
	if (err)
		return imee_fail(
			-ESTALE,
			"%s does not match the guest's kernel: init_task's comm at 0x%" PRIx64
			" cannot be read",
			what, init_task + l->task_comm.off);
	if (!strncmp(comm, "swapper", 7))
		return 0;
	for (i = 0; i < n && comm[i]; i++)
		if (comm[i] < 0x20 || comm[i] > 0x7e)
			comm[i] = '?';
	return imee_fail(-ESTALE,
			 "%s does not match the guest's kernel: init_task's comm reads \"%s\", "
			 "not \"swapper/0\"",
			 what, comm);
}

/* A miss (or overrides): learn everything from the symbols and BTF. */
static int build(struct imee_linux *lx, const struct imee_vmem *vmem,
		 const struct imee_linux_open_opts *o)
{
	IMEE_OPTS(imee_linux_btf_find_opts, fo);
	struct imee_linux_kallsyms *ks = NULL;
	struct imee_linux_btf_info bi;
	struct linux_build *b = &lx->build;
	uint64_t text, init_task, init_pid_ns, stop_btf, end, modules, top_pgt = 0;
	int err;

	err = load_symbols(o, &ks);
	if (err)
		return err;
	err = symbol(ks, "_text", true, &text);
	if (!err)
		err = symbol(ks, "init_task", true, &init_task);
	if (!err)
		err = symbol(ks, "init_pid_ns", true, &init_pid_ns);
	if (!err)
		err = symbol(ks, "__start_BTF", false, &fo.start);
	if (!err)
		err = symbol(ks, "__stop_BTF", false, &stop_btf);
	if (!err)
		err = symbol(ks, "_end", false, &end);
	if (err)
		goto out;
	global_symbol(ks, "modules", &modules);
	global_symbol(ks, "init_top_pgt", &top_pgt);
	if (text % TEXT_ALIGN || text < IMEE_LINUX_KERNEL_IMAGE_START ||
	    text >= IMEE_LINUX_KERNEL_IMAGE_END) {
		err = imee_fail(-EBADMSG, "kallsyms: _text at 0x%" PRIx64 " is implausible", text);
		goto out;
	}
	if (fo.start && stop_btf > fo.start)
		fo.end = stop_btf;
	else
		fo.start = 0;
	/* Without the symbols, the image from _text to _end holds .BTF. */
	fo.scan_start = text;
	fo.scan_end = end > text && end - text <= IMAGE_SPAN ? end : IMEE_LINUX_KERNEL_IMAGE_END;
	if (o->btf)
		err = imee_linux_btf_load_file(o->btf, &lx->btf);
	else
		err = imee_linux_btf_load(vmem, &fo, &lx->btf);
	if (err)
		goto out;
	err = linux_layout_from_btf(lx->btf, &b->layout);
	if (err)
		goto out;
	imee_linux_btf_info(lx->btf, &bi);
	err = relative(init_task, text, "init_task", &b->sym.init_task);
	if (!err)
		err = relative(init_pid_ns, text, "init_pid_ns", &b->sym.init_pid_ns);
	if (!err)
		err = relative(o->banner->va, text, "linux_banner", &b->sym.banner);
	if (!err && !o->btf)
		err = relative(bi.va, text, "__start_BTF", &b->sym.btf);
	if (!err && modules)
		err = relative(modules, text, "modules", &b->sym.modules);
	if (!err && top_pgt)
		err = relative(top_pgt, text, "init_top_pgt", &b->sym.top_pgt);
	/* The cache's keys: not with overrides, which are never cached. */
	if (!err && !o->system_map && !o->btf)
		err = ksyms_ranges(vmem, ks, text, b);
	if (!err && (o->system_map || o->btf))
		err = check_overrides(vmem, o, &b->layout, init_task);
	if (err)
		goto out;
	b->sym.btf_size = bi.size;
	b->btf_checksum = bi.checksum;
	snprintf(b->banner, sizeof(b->banner), "%s", o->banner->text);
	lx->text = text;
out:
	imee_linux_kallsyms_free(ks);
	return err;
}

static bool banner_printable(const struct imee_linux_banner *banner)
{
	size_t i;

	if (!banner->len || banner->len >= IMEE_LINUX_BANNER_MAX ||
	    strnlen(banner->text, IMEE_LINUX_BANNER_MAX) != banner->len)
		return false;
	for (i = 0; i < banner->len; i++)
		if (banner->text[i] < 0x20 || banner->text[i] > 0x7e)
			return false;
	return true;
}

int imee_linux_open(const struct imee_vmem *vmem, const struct imee_linux_open_opts *opts,
		    struct imee_linux **lx_ret)
{
	struct imee_linux_open_opts o;
	struct imee_linux *lx;
	size_t dir_len = 0;
	bool cache;
	char *text;
	int err;

	if (!vmem || !opts || !lx_ret)
		return imee_fail(-EINVAL, "linux: bad arguments");
	if (!imee_opts_ok(opts, opts->sz, imee_offsetofend(struct imee_linux_open_opts, cache_dir),
			  sizeof(*opts)))
		return imee_fail(-EINVAL, "linux: bad options");
	memset(&o, 0, sizeof(o));
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.banner || !banner_printable(o.banner))
		return imee_fail(-EINVAL, "linux: a banner (imee_linux_find_banner()) is needed");
	lx = calloc(1, sizeof(*lx));
	if (!lx)
		return imee_fail(-ENOMEM, "out of memory");
	lx->paging = o.paging;

	/* What a file says is never cached, nor mixed with what memory said. */
	cache = !o.no_cache && !o.system_map && !o.btf && !linux_cache_disabled_by_env();
	if (cache && linux_cache_path(o.cache_dir, o.banner->text, lx->info.cache_path,
				      sizeof(lx->info.cache_path), &dir_len)) {
		note_cache_error(lx);
		lx->info.cache_path[0] = '\0';
		cache = false;
	}
	if (cache) {
		err = try_cache(lx, vmem, o.banner);
		if (!err) {
			lx->info.cache = IMEE_LINUX_CACHE_HIT;
			goto done;
		}
		if (err == -ESRCH || err == -ENODEV || err == -ENOMEM)
			goto fail;
	}
	err = build(lx, vmem, &o);
	if (err)
		goto fail;
	if (cache) {
		err = linux_build_format(&lx->build, &text);
		if (!err) {
			err = linux_cache_write(lx->info.cache_path, dir_len, text, strlen(text));
			free(text);
		}
		if (err)
			note_cache_error(lx);
		lx->info.cache = err ? IMEE_LINUX_CACHE_UNWRITABLE : IMEE_LINUX_CACHE_WRITTEN;
	}
done:
	lx->info.text = lx->text;
	lx->info.kaslr_slide = lx->text - IMEE_LINUX_TEXT_DEFAULT;
	lx->info.btf_va = o.btf ? 0 : lx->text + lx->build.sym.btf;
	lx->info.btf_size = (uint32_t)lx->build.sym.btf_size;
	lx->info.btf_checksum = lx->build.btf_checksum;
	lx->info.symbols_from_file = o.system_map != NULL;
	lx->info.btf_from_file = o.btf != NULL;
	*lx_ret = lx;
	return 0;
fail:
	imee_linux_close(lx);
	return err;
}

void imee_linux_close(struct imee_linux *lx)
{
	if (!lx)
		return;
	imee_linux_btf_free(lx->btf);
	free(lx);
}

void imee_linux_get_info(const struct imee_linux *lx, struct imee_linux_info *info_ret)
{
	if (lx && info_ret)
		*info_ret = lx->info;
}

int imee_linux_btf(struct imee_linux *lx, const struct imee_vmem *vmem,
		   const struct imee_linux_btf **btf_ret)
{
	IMEE_OPTS(imee_linux_btf_find_opts, fo);
	struct imee_linux_btf_info bi;
	struct imee_linux_btf *btf;
	int err;

	if (!lx || !btf_ret)
		return imee_fail(-EINVAL, "linux: bad arguments");
	if (!lx->btf) {
		fo.start = lx->info.btf_va;
		fo.end = lx->info.btf_va + lx->info.btf_size;
		fo.no_scan = true;
		err = imee_linux_btf_load(vmem, &fo, &btf);
		if (err)
			return err;
		imee_linux_btf_info(btf, &bi);
		if (bi.checksum != lx->build.btf_checksum) {
			imee_linux_btf_free(btf);
			return imee_fail(-ESTALE,
					 "BTF: the guest's .BTF changed since it was opened");
		}
		lx->btf = btf;
	}
	*btf_ret = lx->btf;
	return 0;
}

int imee_linux_kernel_cr3(const struct imee_linux *lx, const struct imee_mem *mem,
			  const struct imee_walk_opts *walk, const struct imee_linux_banner *banner,
			  uint64_t *cr3_ret)
{
	struct imee_walk_opts o;
	struct imee_walk w;
	uint64_t va, pa;
	int err;

	if (!lx || !mem || !walk || !banner || !cr3_ret)
		return imee_fail(-EINVAL, "kernel CR3: bad arguments");
	if (!lx->build.sym.top_pgt)
		return imee_fail(-ENOENT, "the kernel's init_top_pgt is not known");
	/* the kernel image is contiguous, physically as virtually */
	va = lx->text + lx->build.sym.top_pgt;
	if ((va > banner->va ? va - banner->va : banner->va - va) > IMAGE_SPAN)
		return imee_fail(-EBADMSG, "init_top_pgt at 0x%" PRIx64 " is implausible", va);
	pa = banner->pa + (va - banner->va);
	if (pa & 0xfff)
		return imee_fail(-EBADMSG, "init_top_pgt at 0x%" PRIx64 " is not page-aligned", pa);
	/* it must map the kernel as the vCPU's own table does */
	o = *walk;
	o.cr3 = pa;
	err = imee_walk(mem, &o, banner->va, &w);
	if (err)
		return err;
	if (w.fault != IMEE_FAULT_NONE || w.pa != banner->pa)
		return imee_fail(-EBADMSG,
				 "init_top_pgt at 0x%" PRIx64 " does not map linux_banner as the"
				 " vCPU's page table does",
				 pa);
	*cr3_ret = pa;
	return 0;
}
