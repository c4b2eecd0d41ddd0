/* owner.c — ownership marks and run locks (see owner.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "net/owner.h"

#define RUNS_SUB "runs"
#define LOCK_SFX ".lock"
#define NEW_SFX  ".new"

bool owner_mark_valid(const char *text)
{
	size_t pl = sizeof(OWNER_MARK_PFX) - 1;

	if (!text || strncmp(text, OWNER_MARK_PFX, pl))
		return false;
	text += pl;
	for (size_t i = 0; i < OWNER_ID_LEN; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return text[OWNER_ID_LEN] == '\0';
}

/* The id part of a valid mark. */
static const char *mark_id(const char *mark)
{
	return mark + sizeof(OWNER_MARK_PFX) - 1;
}

/* A directory we may trust with lock files: a real directory (not a
 * symlink), owned by root or by us, writable by nobody else. Opened as an
 * fd so that every later step works relative to it. */
static int dir_open(const char *path, bool create, char **err)
{
	struct stat st;
	int fd;

	if (create && mkdir(path, 0755) < 0 && errno != EEXIST) {
		int e = errno;

		memprintf(err, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (create || e != ENOENT)
			memprintf(err, "cannot open %s: %s", path,
				  e == ELOOP || e == ENOTDIR ? "not a directory" : strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		memprintf(err, "%s is owned by another user or writable by others: not used for run locks", path);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* The runs directory under dir; -ENOENT when absent and !create. */
static int runs_open(const char *dir, bool create, char **err)
{
	char path[256];
	int fd;

	if (create) {
		fd = dir_open(dir, true, err);
		if (fd < 0)
			return fd;
		close(fd);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, RUNS_SUB) >= sizeof(path)) {
		memprintf(err, "run directory name too long: %s", dir);
		return -ENAMETOOLONG;
	}
	return dir_open(path, create, err);
}

/* Removes the lock files of runs that are gone (nobody holds them). */
static void sweep(int dfd)
{
	int dup_fd = dup(dfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	unsigned seen = 0;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	while (seen < OWNER_SWEEP_MAX && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		int fd;

		/* only lock files: a "<id>.new" may be a run that is making
		 * its lock right now (it is locked before it is renamed) */
		if (len != OWNER_ID_LEN + strlen(LOCK_SFX) || strcmp(de->d_name + OWNER_ID_LEN, LOCK_SFX))
			continue;
		seen++;
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		/* held by nobody: its run is gone */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

int owner_run_open(struct owner_run *r, const char *dir, char **err)
{
	unsigned char rnd[OWNER_ID_LEN / 2];
	char id[OWNER_ID_LEN + 1], lname[64], nname[64], pid[24];
	int dfd, fd = -1, rc;
	ssize_t n;

	r->fd = -1;
	r->mark[0] = r->path[0] = '\0';
	dfd = runs_open(dir, true, err);
	if (dfd < 0)
		return dfd;
	sweep(dfd);
	n = getrandom(rnd, sizeof(rnd), 0);
	if (n != (ssize_t)sizeof(rnd)) {
		rc = n < 0 ? -errno : -EIO;
		memprintf(err, "cannot pick a run id: %s", strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(lname, sizeof(lname), "%s%s", id, LOCK_SFX);
	snprintf(nname, sizeof(nname), "%s%s", id, NEW_SFX);
	fd = openat(dfd, nname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		memprintf(err, "cannot create %s/%s/%s: %s", dir, RUNS_SUB, nname, strerror(-rc));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || renameat(dfd, nname, dfd, lname) < 0) {
		rc = -errno;
		memprintf(err, "cannot lock %s/%s/%s: %s", dir, RUNS_SUB, lname, strerror(-rc));
		unlinkat(dfd, nname, 0);
		close(fd);
		goto out;
	}
	/* for the operator who looks: which process holds it */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (write(fd, pid, (size_t)n) < 0)
		(void)0;
	r->fd = fd;
	snprintf(r->mark, sizeof(r->mark), "%s%s", OWNER_MARK_PFX, id);
	snprintf(r->path, sizeof(r->path), "%s/%s/%s", dir, RUNS_SUB, lname);
	rc = 0;
out:
	close(dfd);
	return rc;
}

void owner_run_close(struct owner_run *r)
{
	if (r->fd < 0)
		return;
	/* unlink first, while the lock is still held: nobody can take the
	 * file for a dead run's in between */
	unlink(r->path);
	close(r->fd);
	r->fd = -1;
}

int owner_mark_alive(const char *dir, const char *mark)
{
	char name[64], *err = NULL;
	int dfd, fd, rc;

	if (!owner_mark_valid(mark))
		return -EINVAL;
	dfd = runs_open(dir, false, &err);
	free(err);
	if (dfd == -ENOENT)
		return 0;       /* no run ever locked anything here */
	if (dfd < 0)
		return dfd;
	snprintf(name, sizeof(name), "%s%s", mark_id(mark), LOCK_SFX);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		rc = 0;         /* nobody holds it: the run is gone */
	else
		rc = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd);
	return rc;
}

static int default_alive(void *ctx, const char *mark)
{
	(void)ctx;
	return owner_mark_alive(OWNER_RUN_DIR, mark);
}

enum owner_verdict owner_judge(const char *found, const char *self,
			       int (*alive)(void *ctx, const char *mark), void *ctx)
{
	if (!owner_mark_valid(found))
		return OWNER_FOREIGN;
	if (self && !strcmp(found, self))
		return OWNER_SELF;
	if (!alive)
		alive = default_alive;
	/* an error (a lock file we cannot read) counts as alive */
	return alive(ctx, found) == 0 ? OWNER_ORPHAN : OWNER_LIVE;
}

const char *owner_verdict_str(enum owner_verdict v)
{
	switch (v) {
	case OWNER_FOREIGN: return "not made by decoyproxy";
	case OWNER_SELF: return "made by this process";
	case OWNER_LIVE: return "made by a decoyproxy that is still running";
	case OWNER_ORPHAN: return "left by an earlier run";
	}
	return "?";
}
