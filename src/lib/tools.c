/* tools.c — small generic helpers (formatted allocation, decimal numbers,
 * file kinds). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/common.h"

int vmemprintf(char **out, const char *fmt, va_list ap)
{
	char *s = NULL;
	int n;

	if (!out)
		return 0;
	n = vasprintf(&s, fmt, ap);
	free(*out);
	*out = NULL;
	if (n < 0)
		return -ENOMEM;
	*out = s;
	return n;
}

int memprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vmemprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

int str_to_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	/* strtoull alone would take leading blanks, a sign or an empty word */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

const char *file_kind(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFLNK: return "a symbolic link";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	default: return "of an unknown type";
	}
}

static bool type_ok(const struct stat *st, bool devnull)
{
	return S_ISREG(st->st_mode) ||
	       (devnull && S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3));
}

FILE *fopen_regular(const char *path, bool devnull, unsigned int *mode)
{
	struct stat st;
	FILE *f;
	int fd, e;

	*mode = 0;
	if (stat(path, &st) < 0)
		return NULL;
	if (!type_ok(&st, devnull)) {
		*mode = st.st_mode;
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	/* again on what was opened: the path may have changed meanwhile */
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!type_ok(&st, devnull)) {
		*mode = st.st_mode;
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	/* reads block as usual from now on */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "r");
	if (!f) {
		e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

/* A user's uid (group false: getpwnam_r) or a group's gid (group true:
 * getgrnam_r), with a buffer that grows on ERANGE up to 1 MiB. */
static int name_to_id(const char *name, bool group, unsigned *id)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	size_t cap = 1024;
	char *buf = NULL;
	bool found;
	int r;

	for (;;) {
		char *nb = realloc(buf, cap);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		r = group ? getgrnam_r(name, &gr, buf, cap, &grr) : getpwnam_r(name, &pw, buf, cap, &pwr);
		if (r != ERANGE || cap >= (1u << 20))
			break;
		cap *= 2;
	}
	found = !r && (grr || pwr);
	if (found)
		*id = grr ? (unsigned)grr->gr_gid : (unsigned)pwr->pw_uid;
	free(buf);
	return r ? -r : found ? 0 : -ENOENT;
}

int user_id(const char *name, unsigned *uid)
{
	return name_to_id(name, false, uid);
}

int group_id(const char *name, unsigned *gid)
{
	return name_to_id(name, true, gid);
}
