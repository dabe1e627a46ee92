// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-physical reads, two ways:
 *  - software: loads from the session's zero-copy view, after checking that
 *    the range lies in guest RAM (a hole in the view raises SIGBUS) and with
 *    the remaining faults (a dead target, memory removed since the last
 *    refresh) caught by imee_guarded_copy();
 *  - legacy: the copying IMEE_READ_PHYS ioctl, one request per page, the way
 *    introspection tools read guest memory without imee's view.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>

#include "session.h"

/* Retries of an ioctl interrupted by a signal before giving up. */
#define EINTR_RETRIES 16

bool imee_slots_cover(const struct imee_memslot *slots, size_t nr, uint64_t gpa, uint64_t len)
{
	uint64_t covered = gpa, end;
	size_t i;

	if (!len || len > UINT64_MAX - gpa)
		return false;
	end = gpa + len;
	/*
	 * Sorted by start: extend the covered prefix slot by slot until it
	 * reaches the end; a slot starting beyond it means a hole.
	 */
	for (i = 0; i < nr; i++) {
		uint64_t slot_end = slots[i].gpa + slots[i].size;

		if (slots[i].gpa > covered)
			break;
		if (slot_end > covered)
			covered = slot_end;
		if (covered >= end)
			return true;
	}
	return false;
}

bool imee_session_is_ram(const struct imee_session *s, uint64_t gpa, uint64_t len)
{
	return imee_slots_cover(s->slots, s->nr_slots, gpa, len);
}

const char *imee_engine_name(enum imee_engine engine)
{
	switch (engine) {
	case IMEE_ENGINE_SOFTWARE:
		return "software";
	case IMEE_ENGINE_LEGACY:
		return "legacy";
	case IMEE_ENGINE_IMEE:
		return "imee";
	}
	return "unknown";
}

static int not_ram(uint64_t gpa, size_t len)
{
	return imee_fail(-ENXIO, "guest-physical 0x%" PRIx64 "..0x%" PRIx64 " is not guest RAM",
			 gpa, gpa + len - 1);
}

static int read_view(struct imee_session *s, uint64_t gpa, void *buf, size_t len)
{
	int err;

	if (!imee_slots_cover(s->slots, s->nr_slots, gpa, len))
		return not_ram(gpa, len);
	/* The memslots lie inside the view (checked at refresh): this is belt and braces. */
	if (!s->view || gpa > s->view_len || len > s->view_len - gpa)
		return not_ram(gpa, len);

	err = imee_guarded_copy(buf, s->view + gpa, len, s->view, s->view_len);
	if (err != -EFAULT)
		return err;
	/* The view faulted although the range is RAM: is the target gone? */
	if (imee_session_check_alive(s) == -ESRCH)
		return imee_fail(-ESRCH, "the target is gone (its VMM exited)");
	return imee_fail(-EFAULT,
			 "guest-physical 0x%" PRIx64 ": the view faulted (guest memory changed?)",
			 gpa);
}

static int read_page_ioctl(struct imee_session *s, uint64_t gpa, void *buf, uint32_t len)
{
	struct imee_read_phys rd;
	int tries;

	memset(&rd, 0, sizeof(rd));
	rd.size = sizeof(rd);
	rd.gpa = gpa;
	rd.len = len;
	rd.buf = (uintptr_t)buf;
	for (tries = 0; tries < EINTR_RETRIES; tries++) {
		if (!ioctl(s->fd, IMEE_READ_PHYS, &rd))
			return 0;
		if (errno != EINTR)
			break;
	}
	switch (errno) {
	case ENXIO:
		return not_ram(gpa, len);
	case ESRCH:
		return imee_fail(-ESRCH, "the target is gone (its VMM exited)");
	case ENODEV:
		return imee_fail(-ENODEV, "guest-physical 0x%" PRIx64 ": the memory was removed",
				 gpa);
	default:
		return imee_fail(-errno, "IMEE_READ_PHYS at 0x%" PRIx64 ": %s", gpa,
				 strerror(errno));
	}
}

static int read_ioctl(struct imee_session *s, uint64_t gpa, void *buf, size_t len)
{
	size_t done = 0;
	int err;

	/* One request per page, as the ioctl demands: at most len / 4096 + 2 rounds. */
	while (done < len) {
		uint64_t at = gpa + done;
		size_t chunk = IMEE_PAGE_SIZE - (at & ~IMEE_PAGE_MASK);

		if (chunk > len - done)
			chunk = len - done;
		err = read_page_ioctl(s, at, (char *)buf + done, (uint32_t)chunk);
		if (err)
			return err;
		done += chunk;
	}
	return 0;
}

int imee_session_read_phys(struct imee_session *s, enum imee_engine engine, uint64_t gpa, void *buf,
			   size_t len)
{
	if (!s || (!buf && len))
		return imee_fail(-EINVAL, "physical read: bad arguments");
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - gpa)
		return imee_fail(-EINVAL, "physical range 0x%" PRIx64 " + %zu wraps around", gpa,
				 len);
	switch (engine) {
	case IMEE_ENGINE_SOFTWARE:
		return read_view(s, gpa, buf, len);
	case IMEE_ENGINE_LEGACY:
		return read_ioctl(s, gpa, buf, len);
	case IMEE_ENGINE_IMEE:
		return imee_ee_read_phys(s, gpa, buf, len);
	}
	return imee_fail(-EINVAL, "unknown engine %d", (int)engine);
}

/* struct imee_mem over a session: one ops table per engine, ctx = the session. */

static int view_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return imee_session_read_phys(ctx, IMEE_ENGINE_SOFTWARE, gpa, buf, len);
}

static int legacy_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return imee_session_read_phys(ctx, IMEE_ENGINE_LEGACY, gpa, buf, len);
}

static int view_read_u64(void *ctx, uint64_t gpa, uint64_t *val_ret)
{
	uint64_t raw;
	int err = view_read(ctx, gpa, &raw, sizeof(raw));

	if (!err)
		*val_ret = le64toh(raw);
	return err;
}

static int legacy_read_u64(void *ctx, uint64_t gpa, uint64_t *val_ret)
{
	uint64_t raw;
	int err = legacy_read(ctx, gpa, &raw, sizeof(raw));

	if (!err)
		*val_ret = le64toh(raw);
	return err;
}

static bool session_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	return imee_session_is_ram(ctx, gpa, len);
}

static const struct imee_mem_ops view_ops = {
	.read = view_read,
	.read_u64 = view_read_u64,
	.is_ram = session_is_ram,
};

static int ee_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return imee_session_read_phys(ctx, IMEE_ENGINE_IMEE, gpa, buf, len);
}

static int ee_read_u64(void *ctx, uint64_t gpa, uint64_t *val_ret)
{
	uint64_t raw;
	int err = ee_read(ctx, gpa, &raw, sizeof(raw));

	if (!err)
		*val_ret = le64toh(raw);
	return err;
}

static const struct imee_mem_ops ee_ops = {
	.read = ee_read,
	.read_u64 = ee_read_u64,
	.is_ram = session_is_ram,
};

static const struct imee_mem_ops legacy_ops = {
	.read = legacy_read,
	.read_u64 = legacy_read_u64,
	.is_ram = session_is_ram,
};

int imee_session_mem(struct imee_session *s, enum imee_engine engine, struct imee_mem *mem_ret)
{
	const struct imee_mem_ops *ops;

	switch (engine) {
	case IMEE_ENGINE_SOFTWARE:
		ops = &view_ops;
		break;
	case IMEE_ENGINE_LEGACY:
		ops = &legacy_ops;
		break;
	case IMEE_ENGINE_IMEE:
		ops = &ee_ops;
		break;
	default:
		return imee_fail(-EINVAL, "unknown engine %d", (int)engine);
	}
	if (!s || !mem_ret)
		return imee_fail(-EINVAL, "no session");
	mem_ret->ops = ops;
	mem_ret->ctx = s;
	return 0;
}
