/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cache of per-build results (linux_layout.h's struct linux_build) on
 * disk: where it lives, and reading and writing its files safely.
 */
#ifndef IMEE_LIB_LINUX_CACHE_H
#define IMEE_LIB_LINUX_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* IMEE_CACHE=0 (or "off", "no", "false") in the environment. */
bool linux_cache_disabled_by_env(void);

/*
 * The file for a banner: DIR/linux-<FNV-1a of the banner>.cache, with DIR
 * given, else $IMEE_CACHE_DIR, $XDG_CACHE_HOME/imee, $HOME/.cache/imee.
 * -ENOENT when no directory can be named; *dir_len_ret is DIR's length.
 */
int linux_cache_path(const char *dir, const char *banner, char *buf, size_t size,
		     size_t *dir_len_ret);

/*
 * Read a cache file: a regular file of ours (not a link), at most 64 KiB.
 * Returns 0 and a malloc'ed buffer, or a negative errno (-ENOENT: none).
 */
int linux_cache_read(const char *path, char **text_ret, size_t *len_ret);

/*
 * Write a cache file atomically (a temporary file renamed over it), making
 * its directory (mode 0700) first if needed.
 */
int linux_cache_write(const char *path, size_t dir_len, const char *text, size_t len);

/*
 * Read a file the user named (a System.map, a BTF file): a regular file
 * (links followed), at most max bytes. Returns 0 and a malloc'ed buffer
 * with a NUL after its len bytes, or a negative errno with a message naming
 * what ("System.map"), the path and the errno.
 */
int linux_file_read(const char *what, const char *path, size_t max, char **buf_ret,
		    size_t *len_ret);

#endif /* IMEE_LIB_LINUX_CACHE_H */
