/* common.h — small helpers shared by every module.
 *
 * Error contract used across decoyproxy:
 *   - functions return 0 (or a non-negative count) on success and -errno on failure;
 *   - functions that can fail for a reason an operator must read take `char **err`
 *     and set it to a malloc'd message (the caller prefixes file:line or the object
 *     name and frees it);
 *   - nothing below main() calls exit().
 */
#ifndef DECOYPROXY_COMMON_H
#define DECOYPROXY_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define DP_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Replaces *out with a newly allocated formatted string (freeing the old one).
 * Returns the length, or -ENOMEM (then *out is NULL). out may be NULL: no-op. */
int memprintf(char **out, const char *fmt, ...) DP_PRINTF(2, 3);
int vmemprintf(char **out, const char *fmt, va_list ap) DP_PRINTF(2, 0);

/* A decimal number written with digits only (no sign, blank, base prefix or
 * unit) and at most max. Returns 0 with *out set, -EINVAL when s is not
 * such a number (or is NULL), -ERANGE when it is above max. The one integer
 * parser of every configuration word and log target (cfg/value.h adds the
 * messages). */
int str_to_uint(const char *s, unsigned long long max, unsigned long long *out);

/* What a file is, for messages, from its st_mode: "a regular file", "a
 * directory", "a symbolic link", "a FIFO", "a socket", "a character
 * device", "a block device". Static string, never NULL. */
const char *file_kind(unsigned int mode);

/* The uid of user name / gid of group name from the system's databases,
 * reentrant (getpwnam_r/getgrnam_r: a reload parses on a thread of its
 * own). 0, -ENOENT for an unknown name, or another -errno. */
int user_id(const char *name, unsigned *uid);
int group_id(const char *name, unsigned *gid);

/* Opens path for reading (a stdio stream, close-on-exec) if it is a regular
 * file, or with devnull also the null device (/dev/null, or another node of
 * it, as an empty file; no other device: a tty would block a read, some
 * devices act when opened). It never waits and never opens anything else:
 * the type is checked with stat() before the open and again on the
 * descriptor, which is opened O_NONBLOCK (fopen() of a FIFO would block
 * until a writer came, stalling whoever parses). Returns the stream, or
 * NULL: then *mode is the st_mode of a file of a refused type (file_kind()
 * names it), or 0 with errno set. */
FILE *fopen_regular(const char *path, bool devnull, unsigned int *mode);

/* Like strdup/calloc but abort() on allocation failure is NOT used: these
 * return NULL and callers check. Kept as plain libc calls. */

#endif
