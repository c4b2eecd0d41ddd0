/* sysctl.c — per-namespace sysctl reads and writes (ip_forward, rp_filter,
 * ...). The /proc/sys file is opened inside the target namespace through
 * ns_run(), because /proc/sys/net shows the namespace of the opening task. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/ns.h"

#define SYSCTL_ROOT "/proc/sys/"
/* A page: the most a sysctl handler accepts in one write. */
#define SYSCTL_VAL_MAX 4095

static bool key_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '@' ||
	       c == '+' || c == '.';
}

int sysctl_path(const char *key, char *out, size_t size)
{
	size_t root = sizeof(SYSCTL_ROOT) - 1, len, i, comp;
	bool slashed;
	char *p;

	if (!key || size == 0)
		return -EINVAL;
	out[0] = '\0';
	slashed = strchr(key, '/') != NULL;
	/* Only "net" is per network namespace; other trees are global. */
	if (strncmp(key, slashed ? "net/" : "net.", 4))
		return -EINVAL;
	len = strlen(key);
	if (root + len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, SYSCTL_ROOT, root);
	p = out + root;
	for (i = 0; i < len; i++) {
		char c = key[i];

		if (c == '/' || (!slashed && c == '.'))
			c = '/';
		else if (!key_char_ok(c))
			goto bad;
		p[i] = c;
	}
	p[len] = '\0';
	/* Every component non-empty and not "." or "..". */
	for (i = 0; i <= len; i = comp + 1) {
		comp = i;
		while (comp < len && p[comp] != '/')
			comp++;
		if (comp == i || (comp - i == 1 && p[i] == '.') ||
		    (comp - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			goto bad;
	}
	return 0;
bad:
	out[0] = '\0';
	return -EINVAL;
}

struct sysctl_io {
	const char *path;
	const char *val;     /* write: text to write */
	char *out;           /* read: destination */
	size_t size;
};

static int sysctl_write_in_ns(void *p)
{
	const struct sysctl_io *io = p;
	size_t len = strlen(io->val);
	ssize_t n;
	int fd, rc = 0;

	fd = open(io->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Sysctl handlers take the value in one write; a short write is an
	 * error, not something to resume. */
	n = write(fd, io->val, len);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	close(fd);
	return rc;
}

static int sysctl_read_in_ns(void *p)
{
	const struct sysctl_io *io = p;
	char tmp[SYSCTL_VAL_MAX + 2];
	ssize_t n;
	int fd;

	fd = open(io->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Sysctl handlers answer a read at a non-zero offset with EOF, so
	 * the value must come in one read: into a page-sized buffer, then
	 * into the caller's if it fits. */
	n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && tmp[n - 1] == '\n')
		n--;
	if ((size_t)n >= io->size)
		return -EOVERFLOW;
	memcpy(io->out, tmp, (size_t)n);
	io->out[n] = '\0';
	return (int)n;
}

static bool value_ok(const char *val)
{
	size_t len = strnlen(val, SYSCTL_VAL_MAX + 1);

	if (len == 0 || len > SYSCTL_VAL_MAX)
		return false;
	for (; *val; val++) {
		if (!isprint((unsigned char)*val) && *val != '\t')
			return false;
	}
	return true;
}

static void sysctl_error(char **err, const char *key, const char *verb,
			 int rc)
{
	if (rc == -ENOENT)
		memprintf(err, "sysctl %s: unknown key (or not in this kernel)",
			  key);
	else
		memprintf(err, "sysctl %s: cannot %s: %s", key, verb,
			  strerror(-rc));
}

int sysctl_set(int nsfd, const char *key, const char *val, char **err)
{
	char path[256];
	struct sysctl_io io = { .path = path, .val = val };
	int rc;

	rc = sysctl_path(key, path, sizeof(path));
	if (rc < 0) {
		memprintf(err, "sysctl '%s': only keys under 'net.' with "
			  "plain components are accepted", key ? key : "");
		return rc;
	}
	if (!val || !value_ok(val)) {
		memprintf(err, "sysctl %s: value must be 1 to %d printable "
			  "characters", key, SYSCTL_VAL_MAX);
		return -EINVAL;
	}
	rc = ns_run(nsfd, sysctl_write_in_ns, &io);
	if (rc < 0)
		sysctl_error(err, key, "write", rc);
	return rc;
}

int sysctl_get(int nsfd, const char *key, char *out, size_t size, char **err)
{
	char path[256];
	struct sysctl_io io = { .path = path, .out = out, .size = size };
	int rc;

	if (!out || size < 2) {
		memprintf(err, "sysctl %s: no room for the value",
			  key ? key : "");
		return -EINVAL;
	}
	out[0] = '\0';
	rc = sysctl_path(key, path, sizeof(path));
	if (rc < 0) {
		memprintf(err, "sysctl '%s': only keys under 'net.' with "
			  "plain components are accepted", key ? key : "");
		return rc;
	}
	rc = ns_run(nsfd, sysctl_read_in_ns, &io);
	if (rc < 0) {
		out[0] = '\0';
		sysctl_error(err, key, "read", rc);
	}
	return rc;
}
