// SPDX-License-Identifier: GPL-2.0
/*
 * imeectl run: run a job file against one target, print one JSON document.
 *
 * The whole file is validated first (exit 2, nothing runs). Then every job
 * runs, and a job that fails yields an error object in its result while the
 * others still run.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"
#include "cli.h"
#include "job.h"
#include "output.h"
#include "run_linux.h"

static const char usage[] =
	"Usage: imeectl run [--repeat N [--interval-ms MS] [--changes]] JOB.json | -\n"
	"\n"
	"Run the jobs of a JSON job file ('-': read it from stdin) against one KVM\n"
	"guest and print one JSON document with a result per job on stdout.\n"
	"\n"
	"  --repeat N         run the whole job file N times (1..1000000) over one\n"
	"                     attach (the kernel's symbols and layouts are learned\n"
	"                     once) and print one document per round, each on one\n"
	"                     line (JSON Lines) with \"round\": 1..N. Each round reads\n"
	"                     the guest as it is then: a process that lives between\n"
	"                     two rounds only is missed; the rounds' time_ns say how\n"
	"                     fine the sampling was.\n"
	"  --interval-ms MS   sleep MS milliseconds (0..3600000, default 0) between\n"
	"                     rounds\n"
	"  --changes          with --repeat: the first round's document in full, then\n"
	"                     for each later round in which something changed only\n"
	"                     {\"round\", \"changes\": [{\"id\", \"type\", \"ok\",\n"
	"                     \"appeared\": [...], \"disappeared\": [...]}]}: the\n"
	"                     entries of pslist, pidlist, credlist, modules and\n"
	"                     syscalldmp jobs that came or went since the round\n"
	"                     before (and, for the last three, \"changed\":\n"
	"                     [{\"before\", \"after\"}]), and jobs that failed (with\n"
	"                     their error). Other job types are run but not reported\n"
	"                     after the first round. A last line {\"rounds\": N,\n"
	"                     \"done\": true} ends the output. See also imeectl watch.\n"
	"\n"
	"Job file:\n"
	"  {\"target\": {\"pid\": 1234},\n"
	"   \"jobs\": [{\"id\": \"b\", \"type\": \"banner\"},\n"
	"            {\"id\": \"r\", \"type\": \"read\", \"space\": \"virtual\",\n"
	"             \"address\": \"0xffffffff81000000\", \"length\": 64, \"format\": \"hex\"},\n"
	"            {\"id\": \"t\", \"type\": \"translate\", \"address\": \"0xffffffff81000000\",\n"
	"             \"verbose\": true}]}\n"
	"\n"
	"  target.pid         the VMM's pid (required)\n"
	"  target.vm_fd       the VMM's fd of the VM, if it owns several\n"
	"  target.vcpu        the KVM vCPU id whose registers (CR3, paging mode) virtual\n"
	"                     addresses are walked with (default: the first vCPU)\n"
	"  target.maxphyaddr  the guest CPU's MAXPHYADDR, 32..52 (default 52)\n"
	"  engine             top level or per job: \"imee\" (the default where the host\n"
	"                     can run an ImEE: reads by an agent inside an ImEE vCPU,\n"
	"                     virtual addresses translated by the CPU over the guest's\n"
	"                     own page tables; else \"software\", with a notice),\n"
	"                     \"software\" (page walks and reads through the zero-copy\n"
	"                     view) or \"legacy\" (through the copying ioctl, one\n"
	"                     request per page)\n"
	"  jobs[].id          your name for the job (unique); results carry it\n"
	"  jobs[].type        \"banner\": the kernel's linux_banner, found through the\n"
	"                       guest's page tables (value, address, physical)\n"
	"                     \"read\": space \"virtual\" or \"physical\", address,\n"
	"                       length 1..1048576, format \"hex\" (default), \"u64\"\n"
	"                       (little-endian words; one word is a string, more an\n"
	"                       array) or \"string\" (up to the first NUL)\n"
	"                     \"translate\": address; optional \"cr3\" instead of the\n"
	"                       vCPU's, \"verbose\": true for every level of the walk\n"
	"                     \"symbols\": the kernel's kallsyms, found and decoded from\n"
	"                       guest memory (no System.map). With \"names\": [\"_text\",\n"
	"                       ...] (1..4096 distinct names), value is an object with\n"
	"                       each name: {\"address\": \"0x...\", \"type\": \"T\"} (the\n"
	"                       letter /proc/kallsyms shows; \"matches\": N is added when\n"
	"                       N symbols share the name, and the lowest address is\n"
	"                       given), or null when the kernel has no such symbol.\n"
	"                       Without names, value is {\"count\": symbols, \"base\": _text,\n"
	"                       \"kaslr_slide\": _text - 0xffffffff81000000}. Both add\n"
	"                       \"count\" and \"kallsyms\" (where the tables are).\n"
	"                     \"pslist\": the task list from init_task: value is an array\n"
	"                       of {pid, tgid, ppid (real_parent's tgid), comm, state\n"
	"                       (the letter /proc shows), uid, gid, kthread,\n"
	"                       start_time_ns (monotonic), start_boottime_ns (what\n"
	"                       /proc/PID/stat's starttime counts), address}.\n"
	"                       \"threads\": true adds every thread after its leader.\n"
	"                     \"pidlist\": every pid of the initial pid namespace, from\n"
	"                       its IDR (independent of the task list): {pid, address\n"
	"                       (struct pid), task (or null), tgid, comm}.\n"
	"                     \"credlist\": per task (\"threads\" as pslist): {pid, tgid,\n"
	"                       comm, uid, euid, suid, fsuid, gid, egid, sgid, fsgid,\n"
	"                       cap_inheritable, cap_permitted, cap_effective, cap_bset,\n"
	"                       cap_ambient, cred, overridden (cred is not real_cred)}.\n"
	"                     \"modules\": the loaded modules, from the kernel's \"modules\"\n"
	"                       list, newest first as /proc/modules: {name, state\n"
	"                       (\"live\", \"coming\", \"going\", \"unformed\"), base (where\n"
	"                       its code starts), size (all its memory, as\n"
	"                       /proc/modules), refcount (or null), address (struct\n"
	"                       module)}.\n"
	"                     \"hidden\": the cross-view check: the pids of the IDR that\n"
	"                       have a task against the task list with threads. value is\n"
	"                       [{pid, tgid, comm, task, seen_in: [\"pidlist\"],\n"
	"                       missing_from: [\"pslist\"]} (or the reverse)]; \"views\"\n"
	"                       gives both views' sizes. A difference must persist over\n"
	"                       up to 3 rounds of both walks (\"rounds\") to be reported:\n"
	"                       the guest runs between the walks. Either view failing\n"
	"                       or stopping early fails the job with its error.\n"
	"                     \"walk\": a list of any struct, by names from the BTF:\n"
	"                       \"struct\" (\"task_struct\"), \"list\" (its struct\n"
	"                       list_head member linking the entries: \"tasks\",\n"
	"                       \"se.group_node\"), \"head\" (a symbol or an address),\n"
	"                       \"head_is\" \"list_head\" (default: head is a struct\n"
	"                       list_head) or \"entry\" (head is an entry whose list member\n"
	"                       is the head, like init_task; it is not reported),\n"
	"                       \"fields\" (1..32 member paths: \"pid\", \"comm\",\n"
	"                       \"se.load.weight\", \"pid_links[0].next\", and through up\n"
	"                       to 4 pointers \"real_cred->uid.val\"). value is\n"
	"                       [{address, fields: {PATH: value}, errors: {PATH: error}\n"
	"                       (only if any)}]: integers and enums are numbers (an\n"
	"                       unsigned 64-bit one from 2^63 a \"0x...\" string), pointers\n"
	"                       \"0x...\", char arrays strings, other arrays arrays; null\n"
	"                       when a pointer on the way is NULL. An unknown struct or\n"
	"                       member, or a field that is a struct, fails the job first.\n"
	"                     These six take \"max\" (1..4194304, default 65536 entries)\n"
	"                       and add \"count\", \"complete\" and \"kernel\" (_text, the\n"
	"                       KASLR slide, the .BTF found, and the cache: \"hit\",\n"
	"                       \"written\", \"unwritable\" or \"off\"). Field offsets come\n"
	"                       from the guest's BTF, symbols from its kallsyms. A walk\n"
	"                       that meets a cycle, a bad pointer or its bound stops:\n"
	"                       \"ok\" false, the error, and the entries read before.\n"
	"                     \"syscalldmp\": the system call tables: value has\n"
	"                       \"sys_call_table\" and \"ia32_sys_call_table\" (null when\n"
	"                       the kernel has none), each {address, size, size_from\n"
	"                       (\"btf\": NR_syscalls from the BTF, or \"kallsyms\": the room\n"
	"                       before the next symbol), used_for_dispatch (false when\n"
	"                       the kernel calls handlers through x64_sys_call()'s\n"
	"                       switch instead), flagged, entries: [{nr, handler, symbol\n"
	"                       (the kernel symbol at or below it, or null), offset,\n"
	"                       flagged, reason}]}. An entry is flagged \"outside-text\"\n"
	"                       (not in _stext.._etext) or \"not-a-handler\" (not the\n"
	"                       start of a __x64_sys_* symbol, resp. __ia32_sys_* or\n"
	"                       __ia32_compat_sys_*, or sys_ni_syscall). \"max\" 1..1024\n"
	"                       entries per table; adds \"count\", \"flagged\", \"complete\".\n"
	"  cache              top level: false to neither read nor write the per-kernel\n"
	"                     cache of symbols and layouts (default true: in\n"
	"                     $IMEE_CACHE_DIR, $XDG_CACHE_HOME/imee or ~/.cache/imee;\n"
	"                     IMEE_CACHE=0 in the environment disables it too)\n"
	"  system_map         top level: the kernel's System.map (\"ADDRESS TYPE NAME\"\n"
	"                     lines, link-time addresses: slid to the guest's banner)\n"
	"                     for a kernel whose kallsyms imee cannot decode; every job\n"
	"                     takes its symbols from it\n"
	"  btf                top level: a BTF file (raw, as /sys/kernel/btf/vmlinux,\n"
	"                     or a vmlinux with .BTF) for a kernel without BTF in\n"
	"                     memory. With either, the cache is off, and an override of\n"
	"                     another kernel is refused (error code \"mismatch\")\n"
	"  Addresses are \"0x...\" strings or integers. Unknown fields are errors.\n"
	"  Kernel-half addresses are walked with the kernel's page tables even when\n"
	"  the vCPU runs a user process under page-table isolation.\n"
	"\n"
	"Output:\n"
	"  {\"target\": {\"pid\": 1234, \"paging\": \"4-level\", ...},\n"
	"   \"results\": [{\"id\": \"b\", \"type\": \"banner\", \"ok\": true, \"value\": \"Linux ...\"},\n"
	"               {\"id\": \"r\", \"type\": \"read\", \"ok\": false,\n"
	"                \"error\": {\"code\": \"not-mapped\", \"message\": \"...\"}}]}\n"
	"  Error codes: not-mapped, non-canonical, bad-entry, out-of-ram, target-gone,\n"
	"  memory-removed, read-failed, unsupported, not-found, no-vcpu, bad-layout\n"
	"  (symbols: kallsyms tables in a layout not recognised), cycle, too-many,\n"
	"  corrupt (Linux jobs: a list that loops, a walk's bound reached, guest data\n"
	"  that is inconsistent or changed under the walk), mismatch (a System.map or\n"
	"  BTF file of another kernel), failed.\n"
	"\n"
	"Exit status: 0 the document was printed (single jobs may have failed: see\n"
	"their \"ok\"), 1 runtime failure (cannot attach, ...), 2 usage error or bad\n"
	"job file (reported with its line and column, or the field's path; nothing\n"
	"was run).\n";

struct runner {
	struct imee_session *session;
	const struct job_file *jf;
	const struct imee_vcpu_regs *vcpu; /* NULL when the target has none */
	struct imee_walk_opts walk; /* from vcpu, and the job file's maxphyaddr */
	struct run_linux *linux_jobs; /* what the Linux jobs share (run_linux.c) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void fail_last(json_t *result)
{
	out_set(result, "ok", json_false());
	out_set(result, "error", out_last_error());
}

static void fail_with(json_t *result, const char *code, const char *message)
{
	out_set(result, "ok", json_false());
	out_set(result, "error", out_error(code, message));
}

/* Virtual addresses need a vCPU's CR3 and paging mode. */
static bool have_vcpu(const struct runner *r, json_t *result)
{
	if (r->vcpu)
		return true;
	fail_with(result, "no-vcpu", "the target has no vCPU to take CR3 and the paging mode from");
	return false;
}

static bool get_mem(const struct runner *r, const struct job *job, struct imee_mem *mem,
		    json_t *result)
{
	if (imee_session_mem(r->session, job->engine, mem)) {
		fail_last(result);
		return false;
	}
	return true;
}

/*
 * The memory a search of the kernel (banner, kallsyms) reads: the job
 * engine's, with the kernel half of the vCPU's top-level table copied
 * first, as the table may be a process's, freed if it exits meanwhile (see
 * imee_linux_top_copy()). copy must outlive mem.
 */
static bool get_kernel_mem(const struct runner *r, const struct job *job,
			   struct imee_linux_top_copy *copy, struct imee_mem *mem, json_t *result)
{
	struct imee_mem under;

	if (!have_vcpu(r, result) || !get_mem(r, job, &under, result))
		return false;
	if (imee_linux_top_copy(copy, &under, &r->walk, mem)) {
		fail_last(result);
		return false;
	}
	return true;
}

static void run_banner(const struct runner *r, const struct job *job, json_t *result)
{
	struct imee_linux_top_copy copy;
	struct imee_linux_banner banner;
	struct imee_mem mem;

	if (!get_kernel_mem(r, job, &copy, &mem, result))
		return;
	if (imee_linux_find_banner(&mem, &r->walk, &banner)) {
		fail_last(result);
		return;
	}
	out_set(result, "ok", json_true());
	out_set(result, "value", out_c_string(banner.text, banner.len));
	out_set(result, "address", out_hex(banner.va));
	out_set(result, "physical", out_hex(banner.pa));
}

static json_t *format_bytes(const struct job *job, const unsigned char *buf)
{
	switch (job->format) {
	case FORMAT_HEX:
		return out_hex_bytes(buf, job->length);
	case FORMAT_U64:
		return out_u64_words(buf, job->length);
	case FORMAT_STRING:
		return out_c_string(buf, job->length);
	}
	return NULL;
}

/* A virtual read through the ImEE: the CPU's MMU translates. */
static int read_virt_imee(const struct runner *r, const struct imee_walk_opts *opts, uint64_t va,
			  void *buf, size_t len)
{
	struct imee_vmem vmem;
	int err = imee_ee_vmem(r->session, opts, &vmem);

	if (err)
		return err;
	err = imee_vmem_read(&vmem, va, buf, len);
	imee_vmem_release(&vmem);
	return err;
}

static void run_read(const struct runner *r, const struct job *job, json_t *result)
{
	struct imee_walk_opts opts;
	unsigned char *buf;
	struct imee_mem mem;
	int err;

	out_set(result, "space", json_string(job_space_name(job->space)));
	out_set(result, "address", out_hex(job->address));
	out_set(result, "length", json_integer(job->length));
	if (job->space == SPACE_VIRTUAL) {
		if (!have_vcpu(r, result) || !get_mem(r, job, &mem, result))
			return;
		opts = r->walk;
		opts.cr3 = imee_linux_cr3_for(r->vcpu->cr3, job->address);
	}
	/* length is at most JOB_READ_MAX: the parser checked it. */
	buf = malloc(job->length);
	if (!buf) {
		fail_with(result, "out-of-memory", "out of memory");
		return;
	}
	if (job->space == SPACE_PHYSICAL)
		err = imee_session_read_phys(r->session, job->engine, job->address, buf,
					     job->length);
	else if (job->engine == IMEE_ENGINE_IMEE)
		err = read_virt_imee(r, &opts, job->address, buf, job->length);
	else
		err = imee_virt_read(&mem, &opts, job->address, buf, job->length);
	if (err) {
		fail_last(result);
	} else {
		out_set(result, "ok", json_true());
		out_set(result, "format", json_string(job_format_name(job->format)));
		out_set(result, "value", format_bytes(job, buf));
	}
	free(buf);
}

static json_t *walk_steps(const struct imee_walk *w)
{
	json_t *steps = out_array();
	unsigned int i;

	for (i = 0; i < w->nr_steps && i < IMEE_WALK_MAX_LEVELS; i++) {
		const struct imee_walk_step *st = &w->steps[i];
		json_t *s = out_object();

		out_set(s, "level", json_integer(st->level));
		out_set(s, "name", json_string(imee_walk_level_name(st->level)));
		out_set(s, "table", out_hex(st->table));
		out_set(s, "index", json_integer(st->index));
		out_set(s, "entry", out_hex(st->entry));
		out_append(steps, s);
	}
	return steps;
}

static void run_translate(const struct runner *r, const struct job *job, json_t *result)
{
	struct imee_walk_opts opts = r->walk;
	struct imee_mem mem;
	struct imee_walk w;
	uint64_t cr3;

	out_set(result, "address", out_hex(job->address));
	if (!have_vcpu(r, result) || !get_mem(r, job, &mem, result))
		return;
	cr3 = job->has_cr3 ? job->cr3 : r->vcpu->cr3;
	opts.cr3 = imee_linux_cr3_for(cr3, job->address);
	out_set(result, "cr3", out_hex(cr3));
	/* The table the walk starts from, after the PTI rule and masking. */
	out_set(result, "root", out_hex(opts.cr3 & 0x000ffffffffff000ULL));
	if (imee_walk(&mem, &opts, job->address, &w)) {
		fail_last(result);
		return;
	}
	if (w.fault) {
		imee_walk_error(&w);
		fail_last(result);
	} else {
		out_set(result, "ok", json_true());
		out_set(result, "physical", out_hex(w.pa));
		out_set(result, "page_size", json_integer((json_int_t)w.page_size));
		out_set(result, "level", json_integer(w.level));
		out_set(result, "writable", json_boolean(w.writable));
		out_set(result, "user", json_boolean(w.user));
		out_set(result, "nx", json_boolean(w.nx));
	}
	/* A failed walk's steps show where it stopped: as useful as a good one's. */
	if (job->verbose)
		out_set(result, "steps", walk_steps(&w));
}

static json_t *ksym_json(const struct imee_linux_ksym *sym, size_t matches)
{
	char type[2] = { sym->type, '\0' };
	json_t *v = out_object();

	out_set(v, "address", out_hex(sym->address));
	out_set(v, "type", out_c_string(type, 1));
	if (matches > 1)
		out_set(v, "matches", json_integer((json_int_t)matches));
	return v;
}

static void run_symbols(const struct runner *r, const struct job *job, json_t *result)
{
	struct imee_linux_kallsyms_info info;
	struct imee_linux_top_copy copy;
	struct imee_linux_kallsyms *ks;
	struct imee_linux_ksym sym;
	struct imee_mem mem;
	json_t *value, *where;
	size_t i, matches;

	if (!get_kernel_mem(r, job, &copy, &mem, result))
		return;
	if (r->jf->system_map) {
		/* The override: the map's addresses, slid by the guest's banner. */
		struct imee_linux_banner banner;

		if (imee_linux_find_banner(&mem, &r->walk, &banner) ||
		    imee_linux_system_map_load(r->jf->system_map, &banner, &ks)) {
			fail_last(result);
			return;
		}
	} else if (imee_linux_kallsyms_load(&mem, &r->walk, &ks)) {
		fail_last(result);
		return;
	}
	imee_linux_kallsyms_info(ks, &info);
	value = out_object();
	if (job->has_names) {
		for (i = 0; i < job->nr_names; i++) {
			if (imee_linux_kallsyms_lookup_name(ks, job->names[i], &sym, &matches))
				out_set(value, job->names[i], json_null());
			else
				out_set(value, job->names[i], ksym_json(&sym, matches));
		}
	} else {
		out_set(value, "count", json_integer((json_int_t)imee_linux_kallsyms_count(ks)));
		if (imee_linux_kallsyms_lookup_name(ks, "_text", &sym, NULL)) {
			out_set(value, "base", json_null());
			out_set(value, "kaslr_slide", json_null());
		} else {
			out_set(value, "base", out_hex(sym.address));
			out_set(value, "kaslr_slide",
				out_hex(sym.address - IMEE_LINUX_TEXT_DEFAULT));
		}
	}
	where = out_object();
	if (info.from_system_map) {
		out_set(where, "system_map", json_string(r->jf->system_map));
		out_set(where, "kaslr_slide", out_hex(info.kaslr_slide));
		goto done;
	}
	out_set(where, "token_table", out_hex(info.token_table_va));
	out_set(where, "names", out_hex(info.names_va));
	out_set(where, "offsets", out_hex(info.offsets_va));
	out_set(where, "relative_base", out_hex(info.relative_base));
	out_set(where, "seqs_of_names", json_boolean(info.seqs_of_names));
	out_set(where, "offsets_last", json_boolean(info.offsets_last));
	out_set(where, "absolute_percpu", json_boolean(info.absolute_percpu));
done:
	out_set(result, "ok", json_true());
	out_set(result, "count", json_integer((json_int_t)imee_linux_kallsyms_count(ks)));
	out_set(result, "value", value);
	out_set(result, "kallsyms", where);
	imee_linux_kallsyms_free(ks);
}

static json_t *run_job(const struct runner *r, const struct job *job)
{
	json_t *result = out_object();
	uint64_t t0 = now_ns();

	out_set(result, "id", json_string(job->id));
	out_set(result, "type", json_string(job_type_name(job->type)));
	out_set(result, "engine", json_string(imee_engine_name(job->engine)));
	/* Set here to keep its place near the top; runners set the outcome. */
	out_set(result, "ok", json_false());
	switch (job->type) {
	case JOB_BANNER:
		run_banner(r, job, result);
		break;
	case JOB_READ:
		run_read(r, job, result);
		break;
	case JOB_TRANSLATE:
		run_translate(r, job, result);
		break;
	case JOB_SYMBOLS:
		run_symbols(r, job, result);
		break;
	case JOB_PSLIST:
	case JOB_PIDLIST:
	case JOB_CREDLIST:
	case JOB_SYSCALLDMP:
	case JOB_MODULES:
	case JOB_HIDDEN:
	case JOB_WALK:
		run_linux_job(r->linux_jobs, job, result);
		break;
	}
	out_set(result, "time_ns", json_integer((json_int_t)(now_ns() - t0)));
	return result;
}

static json_t *target_json(const struct runner *r)
{
	const struct job_target *t = &r->jf->target;
	const struct imee_memslot *slots;
	const struct imee_vcpu_regs *vcpus;
	size_t i, nr_slots = imee_session_memslots(r->session, &slots);
	json_t *target = out_object();
	uint64_t ram = 0;

	for (i = 0; i < nr_slots; i++)
		ram += slots[i].size;
	out_set(target, "pid", json_integer(t->pid));
	if (t->has_vm_fd)
		out_set(target, "vm_fd", json_integer(t->vm_fd));
	out_set(target, "vmm_pid", json_integer(imee_session_vmm_pid(r->session)));
	out_set(target, "api_version", json_integer(imee_session_api_version(r->session)));
	out_set(target, "memslots", json_integer((json_int_t)nr_slots));
	out_set(target, "ram", json_integer((json_int_t)ram));
	out_set(target, "vcpus", json_integer((json_int_t)imee_session_vcpus(r->session, &vcpus)));
	if (r->vcpu) {
		out_set(target, "vcpu", json_integer(r->vcpu->vcpu_id));
		out_set(target, "paging", json_string(imee_paging_name(r->walk.paging)));
		out_set(target, "cr3", out_hex(r->vcpu->cr3));
	} else {
		out_set(target, "paging", json_string("unknown"));
	}
	out_set(target, "engine", json_string(imee_engine_name(r->jf->engine)));
	return target;
}

/* The vCPU the job file names, or the first; false (with a message) if absent. */
static bool pick_vcpu(struct runner *r)
{
	const struct imee_vcpu_regs *vcpus;
	size_t i, nr = imee_session_vcpus(r->session, &vcpus);
	bool named = r->jf->target.has_vcpu;

	r->vcpu = NULL;
	for (i = 0; i < nr; i++) {
		if (!named || vcpus[i].vcpu_id == r->jf->target.vcpu) {
			r->vcpu = &vcpus[i];
			break;
		}
	}
	if (!r->vcpu && named) {
		cli_error("target.vcpu: the target has no vCPU %u", r->jf->target.vcpu);
		return false;
	}
	if (r->vcpu) {
		imee_walk_opts_from_vcpu(r->vcpu, &r->walk);
		r->walk.maxphyaddr = r->jf->target.maxphyaddr;
	}
	return true;
}

/*
 * The default engine is imee where this host can run an ImEE; without one,
 * jobs that did not ask for it by name fall back to software, with a
 * notice. Jobs that named it fail with the reason.
 */
static void pick_engines(struct imee_session *s, struct job_file *jf)
{
	bool implicit = jf->engine == IMEE_ENGINE_IMEE && !jf->engine_explicit;
	size_t i;

	for (i = 0; i < jf->nr_jobs; i++)
		implicit |= jf->jobs[i].engine == IMEE_ENGINE_IMEE && !jf->jobs[i].engine_explicit;
	if (!implicit || !imee_session_ee(s, NULL))
		return;
	fprintf(stderr, "imeectl: notice: %s; using the software engine\n", imee_errmsg());
	if (jf->engine == IMEE_ENGINE_IMEE && !jf->engine_explicit)
		jf->engine = IMEE_ENGINE_SOFTWARE;
	for (i = 0; i < jf->nr_jobs; i++)
		if (jf->jobs[i].engine == IMEE_ENGINE_IMEE && !jf->jobs[i].engine_explicit)
			jf->jobs[i].engine = IMEE_ENGINE_SOFTWARE;
}

/* One round: every job, into a new document (NULL on failure). */
static json_t *run_round(const struct runner *r, unsigned int round)
{
	json_t *doc = out_object(), *results = out_array();
	size_t i;

	if (round)
		out_set(doc, "round", json_integer(round));
	out_set(doc, "target", target_json(r));
	for (i = 0; i < r->jf->nr_jobs; i++)
		out_append(results, run_job(r, &r->jf->jobs[i]));
	out_set(doc, "results", results);
	return doc;
}

/* --changes: what changed in the tracked jobs since prev; NULL if nothing did. */
static json_t *round_changes(json_t *prev, json_t *cur, unsigned int round)
{
	json_t *pres = json_object_get(prev, "results"), *cres = json_object_get(cur, "results");
	json_t *changes = out_array(), *doc, *r;
	size_t i;

	json_array_foreach(cres, i, r) {
		json_t *c;

		if (!changes_tracked(r))
			continue;
		c = changes_between(json_array_get(pres, i), r);
		if (c)
			out_append(changes, c);
	}
	if (!json_array_size(changes)) {
		json_decref(changes);
		return NULL;
	}
	doc = out_object();
	out_set(doc, "round", json_integer(round));
	out_set(doc, "changes", changes);
	return doc;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* --repeat: rounds over one session, one line each (or only changes). */
static int run_rounds(const struct runner *r, const struct run_opts *o)
{
	json_t *prev = NULL, *doc, *last;
	unsigned int round;
	int ret = EXIT_OK;

	for (round = 1; round <= o->repeat && ret == EXIT_OK; round++) {
		if (round > 1 && o->interval_ms)
			sleep_ms(o->interval_ms);
		doc = run_round(r, round);
		if (!o->changes || round == 1) {
			ret = out_print_line(doc, stdout) ? EXIT_RUNTIME : EXIT_OK;
		} else {
			json_t *c = round_changes(prev, doc, round);

			if (c)
				ret = out_print_line(c, stdout) ? EXIT_RUNTIME : EXIT_OK;
			json_decref(c);
		}
		json_decref(prev);
		prev = doc;
	}
	json_decref(prev);
	if (ret == EXIT_OK && o->changes) {
		last = out_object();
		out_set(last, "rounds", json_integer(o->repeat));
		out_set(last, "done", json_true());
		ret = out_print_line(last, stdout) ? EXIT_RUNTIME : EXIT_OK;
		json_decref(last);
	}
	return ret;
}

/* imeectl watch: set by SIGINT or SIGTERM, looked at between rounds. */
static volatile sig_atomic_t watch_stop;

static void on_watch_stop(int sig)
{
	watch_stop = sig;
}

/* Sleep, but not past a SIGINT or SIGTERM. */
static void watch_sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };

	while (!watch_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The wall-clock time now, as UTC ISO 8601 with microseconds. */
static json_t *wall_time(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[48], frac[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		return json_null();
	snprintf(frac, sizeof(frac), ".%06ldZ", ts.tv_nsec / 1000);
	strncat(buf, frac, sizeof(buf) - strlen(buf) - 1);
	return json_string(buf);
}

static json_t *rate(uint64_t rounds, uint64_t start_ns)
{
	uint64_t ns = now_ns() - start_ns;

	return json_real(ns ? (double)rounds * 1e9 / (double)ns : 0.0);
}

/*
 * watch: rounds until SIGINT/SIGTERM, the target's end or o->watch_rounds;
 * the first round in full, then only changes, then a closing line.
 */
static int run_watch(const struct runner *r, const struct run_opts *o)
{
	struct sigaction sa = { .sa_handler = on_watch_stop }, old_int, old_term;
	uint64_t round, done = 0, start = now_ns();
	const char *reason = "rounds";
	json_t *prev = NULL, *doc, *c;
	int ret = EXIT_OK;

	watch_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (round = 1; !o->watch_rounds || round <= o->watch_rounds; round++) {
		if (round > 1 && o->interval_us)
			watch_sleep_us(o->interval_us);
		if (watch_stop) {
			reason = "signal";
			break;
		}
		c = wall_time();
		doc = run_round(r, (unsigned int)round);
		done++;
		if (round == 1) {
			out_set(doc, "time", c);
			ret = out_print_line(doc, stdout) ? EXIT_RUNTIME : EXIT_OK;
		} else {
			json_t *line = round_changes(prev, doc, (unsigned int)round);

			if (line) {
				out_set(line, "round", json_integer((json_int_t)round));
				out_set(line, "time", c);
				out_set(line, "rounds_per_second", rate(done, start));
				ret = out_print_line(line, stdout) ? EXIT_RUNTIME : EXIT_OK;
				json_decref(line);
			} else {
				json_decref(c);
			}
		}
		json_decref(prev);
		prev = doc;
		if (ret != EXIT_OK) {
			reason = "output";
			break;
		}
		if (imee_session_check_alive(r->session) == -ESRCH) {
			reason = "target-gone";
			ret = EXIT_RUNTIME;
			break;
		}
	}
	json_decref(prev);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (strcmp(reason, "output")) {
		c = out_object();
		out_set(c, "done", json_true());
		out_set(c, "reason", json_string(reason));
		out_set(c, "rounds", json_integer((json_int_t)done));
		out_set(c, "seconds", json_real((double)(now_ns() - start) / 1e9));
		out_set(c, "rounds_per_second", rate(done, start));
		out_set(c, "time", wall_time());
		if (out_print_line(c, stdout))
			ret = EXIT_RUNTIME;
		json_decref(c);
	}
	return ret;
}

int cli_run_job_file(struct job_file *jf)
{
	const struct run_opts once = { 0 };

	return cli_run_job_file_opts(jf, &once);
}

int cli_run_job_file_opts(struct job_file *jf, const struct run_opts *o)
{
	struct run_linux linux_jobs = { .no_cache = jf->no_cache,
					.system_map = jf->system_map,
					.btf_file = jf->btf_file };
	struct runner r = { .jf = jf, .linux_jobs = &linux_jobs };
	json_t *doc;
	int ret;

	r.session = cli_attach(jf->target.pid, jf->target.has_vm_fd, jf->target.vm_fd);
	if (!r.session)
		return EXIT_RUNTIME;
	if (!pick_vcpu(&r)) {
		imee_session_detach(r.session);
		return EXIT_RUNTIME;
	}
	pick_engines(r.session, jf);
	linux_jobs.session = r.session;
	linux_jobs.vcpu = r.vcpu;
	linux_jobs.walk = r.walk;
	if (o->watch) {
		ret = run_watch(&r, o);
	} else if (o->repeat) {
		ret = run_rounds(&r, o);
	} else {
		doc = run_round(&r, 0);
		ret = (o->line ? out_print_line(doc, stdout) : out_print(doc, stdout))
			      ? EXIT_RUNTIME
			      : EXIT_OK;
		json_decref(doc);
	}
	run_linux_done(&linux_jobs);
	imee_session_detach(r.session);
	return ret;
}

int cli_load_job_file(const char *path, bool no_target, struct job_file *jf)
{
	struct job_error err;
	char msg[512], *text;
	size_t len;
	int ret;

	ret = job_file_read(path, &text, &len, &err);
	if (!ret) {
		ret = no_target ? job_file_parse_no_target(text, len, jf, &err)
				: job_file_parse(text, len, jf, &err);
		free(text);
	}
	if (!ret)
		return EXIT_OK;
	job_error_format(path, &err, msg, sizeof(msg));
	cli_error("%s", msg);
	return ret == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
}

int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "changes", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { 0 };
	bool has_interval = false;
	struct job_file jf;
	long v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case 'r':
			if (!cli_parse_long(optarg, 1, 1000000, &v)) {
				cli_error("--repeat must be 1..1000000");
				return EXIT_USAGE;
			}
			o.repeat = (unsigned int)v;
			break;
		case 'i':
			if (!cli_parse_long(optarg, 0, 3600000, &v)) {
				cli_error("--interval-ms must be 0..3600000");
				return EXIT_USAGE;
			}
			o.interval_ms = (unsigned int)v;
			has_interval = true;
			break;
		case 'c':
			o.changes = true;
			break;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("run needs one job file (or '-' for stdin)");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!o.repeat && (has_interval || o.changes)) {
		cli_error("--interval-ms and --changes go with --repeat");
		return EXIT_USAGE;
	}
	ret = cli_load_job_file(argv[optind], false, &jf);
	if (ret)
		return ret;
	ret = cli_run_job_file_opts(&jf, &o);
	job_file_free(&jf);
	return ret;
}
