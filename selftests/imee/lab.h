/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for imee's selftests. The tests run inside the lab's L1 (a real
 * KVM host) with imee.ko loaded and L2 targets running; ground truth comes
 * from the targets themselves through imee-lab-exec.
 */
#ifndef IMEE_SELFTESTS_LAB_H
#define IMEE_SELFTESTS_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <linux/imee.h>

#define LAB_MAX_SLOTS 64
#define LAB_MAX_VCPUS 64

/*
 * A target by role, from the environment the lab runner sets:
 * IMEE_TARGET_LA57 (5-level paging), IMEE_TARGET_4LEVEL, IMEE_TARGET_BIG
 * (RAM split around the PCI hole), IMEE_TARGET_VICTIM (may be killed).
 * Returns NULL when the lab has no target for that role.
 */
const char *lab_target(const char *role);

/* Every target the lab started (IMEE_LAB_TARGETS), NULL-terminated. */
const char *const *lab_targets(void);

/* The QEMU pid of a target, or -1. */
pid_t lab_vmm_pid(const char *target);

/*
 * Run a shell command line inside the guest; returns its exit status (or -1)
 * and its output in *out (malloc'ed, NUL-terminated) when out is not NULL.
 */
int lab_guest(const char *target, const char *cmd, char **out);

/* The guest's /proc/version without the trailing newline (malloc'ed). */
char *lab_guest_proc_version(const char *target);

/* Address of a symbol in the guest's own /proc/kallsyms, or 0. */
uint64_t lab_guest_symbol(const char *target, const char *name);

/* Start of the guest's "Kernel code" resource in /proc/iomem, or -1. */
int64_t lab_guest_kernel_code_phys(const char *target);

struct lab_range {
	uint64_t start;
	uint64_t end; /* inclusive, as /proc/iomem prints it */
};

/* The guest's "System RAM" ranges from /proc/iomem; returns the count. */
int lab_guest_ram(const char *target, struct lab_range *ranges, int max);

/* Run a shell command on L1; exit status, output in *out if not NULL. */
int lab_host(const char *cmd, char **out);

/*
 * Run "imeectl run" on a job document; returns the exit status and the
 * parsed stdout in *doc (NULL when it was not JSON).
 */
int lab_imeectl_run(const char *job_json, json_t **doc);

/* Find a result by id in an imeectl output document. */
json_t *lab_result(json_t *doc, const char *id);

/* The entry of a result's array with that "pid", or NULL. */
json_t *lab_find_pid(json_t *value, int pid);

/* A "0x..." string of imeectl's output as a number; UINT64_MAX if not one. */
uint64_t lab_hex(json_t *v);

/* /dev/imee helpers: return the fd or -errno. */
int lab_imee_open(void);
int lab_imee_attach(int devfd, pid_t pid, int vm_fd, uint32_t flags);

struct lab_info {
	struct imee_session_info info;
	struct imee_memslot slots[LAB_MAX_SLOTS];
	struct imee_vcpu_regs vcpus[LAB_MAX_VCPUS];
};

/* IMEE_SESSION_INFO into *li; 0 or -errno. */
int lab_session_info(int sfd, struct lab_info *li);

/* Is [gpa, gpa + len) inside one memslot? */
bool lab_in_ram(const struct lab_info *li, uint64_t gpa, uint64_t len);

/* Attach to a target by name; returns the session fd or -errno. */
int lab_attach_target(const char *target);

/* Wait (bounded: about 30 s) until process pid is gone; true if it is. */
bool lab_wait_gone(pid_t pid);

#endif
