// SPDX-License-Identifier: GPL-2.0
/*
 * Cache files on disk. A cache file is only a hint: its contents are
 * checked (linux_build_parse()) and checked again against the guest
 * (imee_linux_open()) before anything in it is used, so a corrupt, stale or
 * planted file costs a miss and nothing else. What is checked here is that
 * reading one cannot be turned against us: no links followed, no other
 * user's files, no unbounded reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "linux_cache.h"

#define CACHE_FILE_MAX (64U << 10)

bool linux_cache_disabled_by_env(void)
{
	const char *v = getenv("IMEE_CACHE");

	return v &&
	       (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"));
}

int linux_cache_path(const char *dir, const char *banner, char *buf, size_t size,
		     size_t *dir_len_ret)
{
	const char *env;
	int n;

	if (!dir || !*dir) {
		dir = NULL;
		env = getenv("IMEE_CACHE_DIR");
		if (env && *env) {
			n = snprintf(buf, size, "%s", env);
		} else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
			n = snprintf(buf, size, "%s/imee", env);
		} else if ((env = getenv("HOME")) && env[0] == '/') {
			n = snprintf(buf, size, "%s/.cache/imee", env);
		} else {
			return imee_fail(-ENOENT,
					 "cache: no directory (set IMEE_CACHE_DIR or HOME)");
		}
	} else {
		n = snprintf(buf, size, "%s", dir);
	}
	if (n < 0 || (size_t)n >= size)
		return imee_fail(-ENAMETOOLONG, "cache: directory name too long");
	*dir_len_ret = (size_t)n;
	n = snprintf(buf + n, size - (size_t)n, "/linux-%016" PRIx64 ".cache",
		     imee_fnv1a(IMEE_FNV1A_INIT, banner, strlen(banner)));
	if (n < 0 || (size_t)n >= size - *dir_len_ret)
		return imee_fail(-ENAMETOOLONG, "cache: file name too long");
	return 0;
}

int linux_cache_read(const char *path, char **text_ret, size_t *len_ret)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return imee_fail(-errno, "cache: %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size > CACHE_FILE_MAX) {
		close(fd);
		return imee_fail(-EPERM, "cache: %s: not a regular file of ours, or too big", path);
	}
	buf = malloc(CACHE_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return imee_fail(-ENOMEM, "out of memory");
	}
	/* At most CACHE_FILE_MAX + 1 bytes, whatever the size said. */
	while (len <= CACHE_FILE_MAX) {
		ssize_t n = read(fd, buf + len, CACHE_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = imee_fail(-errno, "cache: %s: %s", path, strerror(errno));
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!err && len > CACHE_FILE_MAX)
		err = imee_fail(-EFBIG, "cache: %s: too big", path);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*text_ret = buf;
	*len_ret = len;
	return 0;
}

/* mkdir -p of path[0..len), the components we create private to us. */
static int make_dirs(const char *path, size_t len)
{
	char dir[IMEE_LINUX_PATH_MAX];
	size_t i;

	if (len >= sizeof(dir))
		return imee_fail(-ENAMETOOLONG, "cache: directory name too long");
	memcpy(dir, path, len);
	dir[len] = '\0';
	for (i = 1; i <= len; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return imee_fail(-errno, "cache: cannot make %s: %s", dir, strerror(errno));
		if (i < len)
			dir[i] = '/';
	}
	return 0;
}

int linux_cache_write(const char *path, size_t dir_len, const char *text, size_t len)
{
	char tmp[IMEE_LINUX_PATH_MAX];
	size_t done = 0;
	int fd, err;

	err = make_dirs(path, dir_len);
	if (err)
		return err;
	if (snprintf(tmp, sizeof(tmp), "%.*s/.linux-XXXXXX", (int)dir_len, path) >=
	    (int)sizeof(tmp))
		return imee_fail(-ENAMETOOLONG, "cache: file name too long");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return imee_fail(-errno, "cache: cannot write in %.*s: %s", (int)dir_len, path,
				 strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = imee_fail(n < 0 ? -errno : -EIO, "cache: cannot write %s", tmp);
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) && !err)
		err = imee_fail(-errno, "cache: cannot write %s", tmp);
	if (!err && rename(tmp, path))
		err = imee_fail(-errno, "cache: cannot rename to %s: %s", path, strerror(errno));
	if (err)
		unlink(tmp);
	return err;
}

int linux_file_read(const char *what, const char *path, size_t max, char **buf_ret, size_t *len_ret)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf = NULL;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return imee_fail(-errno, "%s %.160s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return imee_fail(-EINVAL, "%s %.160s: not a regular file", what, path);
	}
	/* The size is a hint (the file may change): the reads are bounded by max. */
	cap = st.st_size > 0 && (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : 65536;
	for (;;) {
		ssize_t n;

		if (!buf || len == cap) {
			size_t ncap = !buf ? cap : cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *p;

			if (buf && ncap == cap) {
				err = imee_fail(-EFBIG, "%s %.160s: larger than %zu MiB", what,
						path, max >> 20);
				break;
			}
			p = realloc(buf, ncap + 1);
			if (!p) {
				err = imee_fail(-ENOMEM, "out of memory");
				break;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = imee_fail(-errno, "%s %.160s: %s", what, path, strerror(errno));
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!err && len > max)
		err = imee_fail(-EFBIG, "%s %.160s: larger than %zu MiB", what, path, max >> 20);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*buf_ret = buf;
	*len_ret = len;
	return 0;
}
