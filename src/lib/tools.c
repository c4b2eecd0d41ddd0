/* tools.c — small generic helpers (formatted allocation, decimal numbers,
 * file kinds). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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

FILE *fopen_regular(const char *path, unsigned int *mode)
{
	struct stat st;
	FILE *f;
	int fd, e;

	*mode = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*mode = st.st_mode;
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	/* a regular file never blocks; the flag goes for tidiness */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "r");
	if (!f) {
		e = errno;
		close(fd);
		errno = e;
	}
	return f;
}
