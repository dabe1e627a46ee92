// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for imee's selftests: ground truth from the guests, the /dev/imee
 * ioctls, and imeectl as a subprocess.
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LAB_OUTPUT_MAX (16u << 20)

const char *lab_target(const char *role)
{
	char name[64];
	const char *v;

	snprintf(name, sizeof(name), "IMEE_TARGET_%s", role);
	v = getenv(name);
	return v && *v ? v : NULL;
}

const char *const *lab_targets(void)
{
	static char buf[512];
	static const char *list[16];
	const char *env = getenv("IMEE_LAB_TARGETS");
	char *save = NULL, *tok;
	int n = 0;

	if (list[0] || !env)
		return list;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, " ", &save); tok && n < 15;
	     tok = strtok_r(NULL, " ", &save))
		list[n++] = tok;
	list[n] = NULL;
	return list;
}

pid_t lab_vmm_pid(const char *target)
{
	char path[256];
	FILE *f;
	long pid = -1;

	snprintf(path, sizeof(path), "/run/imee-lab/%s/pid", target);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}

/* Run argv-less shell command, capture stdout (bounded). */
static int run_capture(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int status;

	if (!p)
		return -1;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			if (cap >= LAB_OUTPUT_MAX)
				break;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, p);
		if (n == 0)
			break;
		len += n;
	}
	status = pclose(p);
	if (buf)
		buf[len] = '\0';
	if (out)
		*out = buf ? buf : strdup("");
	else
		free(buf);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int lab_host(const char *cmd, char **out)
{
	return run_capture(cmd, out);
}

int lab_guest(const char *target, const char *cmd, char **out)
{
	char *line;
	char *quoted;
	size_t i, j, n = strlen(cmd);
	int rc;

	/* single-quote the command for the L1 shell */
	quoted = malloc(n * 4 + 3);
	if (!quoted)
		return -1;
	j = 0;
	quoted[j++] = '\'';
	for (i = 0; i < n; i++) {
		if (cmd[i] == '\'') {
			memcpy(quoted + j, "'\\''", 4);
			j += 4;
		} else {
			quoted[j++] = cmd[i];
		}
	}
	quoted[j++] = '\'';
	quoted[j] = '\0';
	if (asprintf(&line, "imee-lab-exec %s -- %s", target, quoted) < 0) {
		free(quoted);
		return -1;
	}
	free(quoted);
	rc = run_capture(line, out);
	free(line);
	return rc;
}

char *lab_guest_proc_version(const char *target)
{
	char *out = NULL;
	size_t n;

	if (lab_guest(target, "cat /proc/version", &out) != 0) {
		free(out);
		return NULL;
	}
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

uint64_t lab_guest_symbol(const char *target, const char *name)
{
	char cmd[256], *out = NULL;
	uint64_t addr = 0;

	snprintf(cmd, sizeof(cmd), "grep -m1 ' %s$' /proc/kallsyms", name);
	if (lab_guest(target, cmd, &out) == 0)
		addr = strtoull(out, NULL, 16);
	free(out);
	return addr;
}

int64_t lab_guest_kernel_code_phys(const char *target)
{
	char *out = NULL;
	int64_t start = -1;

	if (lab_guest(target, "grep 'Kernel code' /proc/iomem", &out) == 0)
		start = (int64_t)strtoull(out, NULL, 16);
	free(out);
	return start;
}

int lab_guest_ram(const char *target, struct lab_range *ranges, int max)
{
	char *out = NULL, *line, *save = NULL;
	int n = 0;

	if (lab_guest(target, "grep 'System RAM' /proc/iomem", &out) != 0) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;

		/* top-level entries only: nested ones are indented */
		if (line[0] == ' ')
			continue;
		if (sscanf(line, "%llx-%llx", &s, &e) != 2)
			continue;
		ranges[n].start = s;
		ranges[n].end = e;
		n++;
	}
	free(out);
	return n;
}

/* The last lines of L1's kernel log that match pattern, as TAP comments. */
static void log_kernel_tail(const char *pattern)
{
	char *cmd = NULL, *out = NULL;

	if (asprintf(&cmd, "dmesg | grep -E '%s' | tail -n 8", pattern) < 0)
		return;
	if (run_capture(cmd, &out) == 0 && out) {
		char *line, *save = NULL;

		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "# kernel: %s\n", line);
	}
	free(out);
	free(cmd);
}

int lab_imeectl_run(const char *job_json, json_t **doc)
{
	char path[] = "/tmp/imee-selftest-job-XXXXXX";
	char *cmd = NULL, *out = NULL;
	int fd, rc;
	size_t n = strlen(job_json);

	*doc = NULL;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, job_json, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	if (asprintf(&cmd, "imeectl run %s", path) < 0) {
		unlink(path);
		return -1;
	}
	rc = run_capture(cmd, &out);
	unlink(path);
	free(cmd);
	if (out) {
		json_error_t err;

		*doc = json_loads(out, 0, &err);
		if (!*doc)
			fprintf(stderr, "# imeectl printed no JSON: %.300s\n", out);
		/* an error that points to the kernel log: show it with the test */
		if (strstr(out, "see the kernel log"))
			log_kernel_tail("imee|ImEE");
	}
	free(out);
	return rc;
}

json_t *lab_result(json_t *doc, const char *id)
{
	json_t *results = json_object_get(doc, "results");
	json_t *r;
	size_t i;

	json_array_foreach(results, i, r) {
		const char *rid = json_string_value(json_object_get(r, "id"));

		if (rid && !strcmp(rid, id))
			return r;
	}
	return NULL;
}

json_t *lab_find_pid(json_t *value, int pid)
{
	json_t *v;
	size_t i;

	json_array_foreach(value, i, v)
		if (json_integer_value(json_object_get(v, "pid")) == pid)
			return v;
	return NULL;
}

uint64_t lab_hex(json_t *v)
{
	return json_is_string(v) ? strtoull(json_string_value(v), NULL, 0) : UINT64_MAX;
}

int lab_imee_open(void)
{
	int fd = open("/dev/imee", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int lab_imee_attach(int devfd, pid_t pid, int vm_fd, uint32_t flags)
{
	struct imee_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.pid = pid,
		.vm_fd = vm_fd,
	};
	int fd = ioctl(devfd, IMEE_ATTACH, &a);

	return fd < 0 ? -errno : fd;
}

int lab_session_info(int sfd, struct lab_info *li)
{
	memset(li, 0, sizeof(*li));
	li->info.size = sizeof(li->info);
	li->info.memslots_cap = LAB_MAX_SLOTS;
	li->info.memslots = (uintptr_t)li->slots;
	li->info.vcpus_cap = LAB_MAX_VCPUS;
	li->info.vcpus = (uintptr_t)li->vcpus;
	if (ioctl(sfd, IMEE_SESSION_INFO, &li->info) < 0)
		return -errno;
	return 0;
}

bool lab_in_ram(const struct lab_info *li, uint64_t gpa, uint64_t len)
{
	uint32_t i, n = li->info.nr_memslots;

	if (n > LAB_MAX_SLOTS)
		n = LAB_MAX_SLOTS;
	for (i = 0; i < n; i++) {
		const struct imee_memslot *s = &li->slots[i];

		if (gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len)
			return true;
	}
	return false;
}

int lab_attach_target(const char *target)
{
	pid_t pid = lab_vmm_pid(target);
	int dev, sfd;

	if (pid < 0)
		return -ESRCH;
	dev = lab_imee_open();
	if (dev < 0)
		return dev;
	sfd = lab_imee_attach(dev, pid, 0, 0);
	close(dev);
	return sfd;
}

bool lab_wait_gone(pid_t pid)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
	int i;

	/* a bounded wait for an event, not a timing assertion */
	for (i = 0; i < 600; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return true;
		/* "pid (comm) S ...": a zombie has released its memory already */
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 0;
		fclose(f);
		if (state == 'Z' || state == 'X')
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}
