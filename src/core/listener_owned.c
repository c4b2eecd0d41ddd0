/* listener_owned.c — unix sockets, for every bind line (a frontend's
 * `bind unix@...`, and those of another owner), and the plain TCP sockets
 * of bind lines that belong to no frontend
 * (struct bind_owner: the CLI's `stats socket` lines): unix sockets with
 * their file (made safely in a directory other users may write: stale file
 * replacement, mode and owner, removal at close) and
 * plain TCP sockets in the process's own namespace, with none of the
 * frontends' socket options. Accepting, pausing and takeover are
 * listener.c's, as for every listener.
 *
 * Messages name the owner and the address as written:
 * "stats socket '/run/dp.sock': bind: Permission denied".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/listener.h"
#include "core/listener_int.h"
#include "log/msg.h"

static const char *unix_path(const struct listener *l)
{
	return ((const struct sockaddr_un *)&l->addr)->sun_path;
}

/* Who a message names: the owner ("stats socket"), or "bind" for a
 * frontend's bind line. */
static const char *who(const struct bind_conf *bc)
{
	return bc->owner ? bc->owner->name : "bind";
}

/* The socket file's mode: the bind line's; a frontend's line without
 * `mode` (nor unix-bind's) gets what the umask leaves of 0777, as
 * HAProxy, which then does not chmod. */
static mode_t unix_mode(const struct bind_conf *bc)
{
	/* the process's umask, read once (reading it means setting it: done
	 * at the first start-up open, on the main thread, never again) */
	static mode_t mask = (mode_t)-1;

	if (bc->owner || bc->ux.have_mode)
		return bc->ux.mode;
	if (mask == (mode_t)-1) {
		mask = umask(0);
		umask(mask);
	}
	return 0777 & ~mask;
}

/* "<owner> '<spec>': <what>: <strerror(e)>"; returns -e. */
static int fail(const struct listener *l, char **err, const char *what, int e)
{
	memprintf(err, "%s '%s': %s: %s", who(l->bc), l->bc->spec, what, strerror(e));
	return -e;
}

/* ---- unix socket files ------------------------------------------------------
 *
 * The socket file is made by root (before any privilege drop), often in a
 * directory another user may write: a run directory owned by the service
 * user is the documented setup. Nothing that user puts at the path, or
 * swaps in between two system calls, may make root change the mode or
 * owner of another file, or remove one. The rule: never operate by name on
 * a path another user can replace.
 *  - The directory of the path is opened once (O_PATH) and pinned in
 *    l->dirfd: everything later happens in that directory, even if a
 *    component of the path is swapped for a link meanwhile.
 *  - The socket is bound inside a private directory made for the purpose
 *    in that directory (mode 0700, ours: nobody else may enter it, let
 *    alone replace a name in it) and reached through its descriptor; its
 *    mode and owner are set there, its device and inode noted, it listens,
 *    then one renameat() puts it at its name (replacing a stale socket
 *    file) and the private directory is removed. The file appears at its
 *    path complete, with its final mode and owner.
 *  - A mode or owner change at reload hard-links the name into a new
 *    private directory, checks there that the link is this socket (device
 *    and inode: the bound socket holds its inode, so the number cannot be
 *    reused meanwhile) and changes it there; a name that no longer holds it
 *    is an error, and nothing is changed.
 *  - At close, the name is unlinked in the pinned directory only if it
 *    still holds this socket; a swap between that check and unlinkat() can
 *    only make it remove a name in that directory, which whoever swapped it
 *    may do anyway, never a file elsewhere.
 *  - The stale-socket check connects by path: a swapped name can at worst
 *    make it report a live socket (refused) or a stale one (replaced by
 *    ours), both about a name in a directory the swapper may write anyway.
 * A directory that every user may write, without the sticky bit, gets a
 * warning: anyone may replace the socket there (and its clients would talk
 * to theirs).
 */

static const char *unix_name(const struct listener *l)
{
	const char *p = unix_path(l), *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

/* Opens the directory of l's path into l->dirfd (following links: /var/run
 * is one). Returns 0 or -errno with *err. */
static int unix_open_dir(struct listener *l, char **err)
{
	const char *path = unix_path(l), *slash = strrchr(path, '/');
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	int fd;

	if (!*unix_name(l))
		return fail(l, err, "bind", EISDIR);
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(l, err, "bind", errno);
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		ha_warning("%s '%s': its directory '%s' is writable by every user (mode %04o, no sticky bit): any of them may replace or remove the socket",
			   who(l->bc), l->bc->spec, dir, (unsigned)(st.st_mode & 07777));
	l->dirfd = fd;
	return 0;
}

/* A directory of our own inside l's directory. */
struct privdir {
	int fd;                         /* opened, not O_PATH: fchmod() */
	dev_t dev;
	ino_t ino;
	char name[NAME_MAX + 1];
};

/* The name a socket has inside a private directory. */
#define PRIV_SOCK "s"

/* Makes a private directory in l->dirfd: a new random name, mode 0700,
 * owned by this process, checked through its descriptor. Returns 0 or
 * -errno; on failure nothing is left. */
static int privdir_make(const struct listener *l, struct privdir *pd)
{
	static unsigned long long counter;

	for (int tries = 0; tries < 8; tries++) {
		unsigned long long r;
		struct stat st;
		int e;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = ((unsigned long long)getpid() << 32) ^ (unsigned long long)time(NULL) ^ ++counter;
		snprintf(pd->name, sizeof(pd->name), ".%.40s.%012llx", unix_name(l), r & 0xffffffffffffULL);
		if (mkdirat(l->dirfd, pd->name, 0700) < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		pd->fd = openat(l->dirfd, pd->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pd->fd < 0) {
			/* swapped already: whatever is there now is not ours */
			e = errno;
			return e == ELOOP || e == ENOTDIR ? -EAGAIN : -e;
		}
		/* ours, and closed to everyone else: mode 0700 also empties the
		 * ACL mask a default ACL of the parent may have given it */
		if (fstat(pd->fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    fchmod(pd->fd, 0700) < 0) {
			close(pd->fd);
			return -EAGAIN;
		}
		pd->dev = st.st_dev;
		pd->ino = st.st_ino;
		return 0;
	}
	return -EEXIST;
}

/* Removes what is left in pd, then pd itself if its name still holds it. */
static void privdir_remove(const struct listener *l, struct privdir *pd)
{
	struct stat st;

	unlinkat(pd->fd, PRIV_SOCK, 0);
	if (fstatat(l->dirfd, pd->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == pd->dev &&
	    st.st_ino == pd->ino)
		unlinkat(l->dirfd, pd->name, AT_REMOVEDIR);
	close(pd->fd);
}

/* The mode, then the owner when one is configured, of the socket file in a
 * private directory (a name nobody else can replace). */
static int privdir_perms(const struct listener *l, const struct bind_conf *bc, const struct privdir *pd,
			 char **err)
{
	uid_t uid = bc->ux.have_uid ? bc->ux.uid : (uid_t)-1;
	gid_t gid = bc->ux.have_gid ? bc->ux.gid : (gid_t)-1;
	int e;

	if (fchmodat(pd->fd, PRIV_SOCK, unix_mode(bc), 0) < 0) {
		e = errno;
		memprintf(err, "%s '%s': chmod %o: %s", who(bc), bc->spec, (unsigned)unix_mode(bc), strerror(e));
		return -e;
	}
	if ((bc->ux.have_uid || bc->ux.have_gid) &&
	    fchownat(pd->fd, PRIV_SOCK, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(l, err, "chown", errno);
	return 0;
}

/* Gives l's socket file bc's mode and owner, in place (see above). Returns
 * 0 or -errno with *err; on failure nothing was changed. */
static int unix_perms(const struct listener *l, const struct bind_conf *bc, char **err)
{
	struct privdir pd;
	struct stat st;
	int r;

	r = l->dirfd < 0 ? -ENOENT : privdir_make(l, &pd);
	if (r < 0)
		goto fail;
	if (linkat(l->dirfd, unix_name(l), pd.fd, PRIV_SOCK, 0) < 0) {
		r = -errno;
		privdir_remove(l, &pd);
		goto fail;
	}
	if (fstatat(pd.fd, PRIV_SOCK, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_dev != l->dev || st.st_ino != l->ino) {
		memprintf(err, "%s '%s': chmod %o: the path no longer names this socket (another file was put there): nothing changed",
			  who(bc), bc->spec, (unsigned)unix_mode(bc));
		privdir_remove(l, &pd);
		return -ESTALE;
	}
	r = privdir_perms(l, bc, &pd, err);
	privdir_remove(l, &pd);
	return r;
fail:
	memprintf(err, "%s '%s': chmod %o: %s", who(bc), bc->spec, (unsigned)unix_mode(bc), strerror(-r));
	return r;
}

static bool same_perms(const struct bind_conf *a, const struct bind_conf *b)
{
	return unix_mode(a) == unix_mode(b) && a->ux.have_uid == b->ux.have_uid &&
	       (!a->ux.have_uid || a->ux.uid == b->ux.uid) && a->ux.have_gid == b->ux.have_gid &&
	       (!a->ux.have_gid || a->ux.gid == b->ux.gid);
}

/* What is at l's name: nothing, or a stale socket file (nothing accepts: a
 * dead process left it), which the new socket replaces, are fine; a live
 * socket, or anything else than a socket, is an error. */
static int unix_check_stale(const struct listener *l, char **err)
{
	const struct bind_conf *bc = l->bc;
	struct stat st;
	int fd, r, e;

	if (fstatat(l->dirfd, unix_name(l), &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		memprintf(err, "%s '%s': %s", who(bc), bc->spec, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		memprintf(err, "%s '%s': the path exists and is not a socket", who(bc), bc->spec);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(l, err, "socket", errno);
	r = connect(fd, (const struct sockaddr *)&l->addr, addr_len(&l->addr));
	e = r < 0 ? errno : 0;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		memprintf(err, "%s '%s': another process is already listening on it", who(bc), bc->spec);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED)
		return fail(l, err, "cannot tell whether the existing socket is in use", e);
	return 0;
}

static int open_unix(struct listener *l, char **err)
{
	struct sockaddr_un tmp = { .sun_family = AF_UNIX };
	struct privdir pd;
	struct stat st;
	mode_t old_mask;
	int fd, r, e;

	r = unix_open_dir(l, err);
	if (r < 0)
		return r;
	r = unix_check_stale(l, err);
	if (r < 0)
		goto fail_dir;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = fail(l, err, "socket", errno);
		goto fail_dir;
	}
	r = privdir_make(l, &pd);
	if (r < 0) {
		fail(l, err, "bind", -r);
		goto fail_close;
	}
	/* the private directory through its descriptor, never by name */
	snprintf(tmp.sun_path, sizeof(tmp.sun_path), "/proc/self/fd/%d/" PRIV_SOCK, pd.fd);
	/* created owner-only, then given `mode`: never wider than asked */
	old_mask = umask(0177);
	r = bind(fd, (const struct sockaddr *)&tmp, sizeof(tmp));
	e = errno;
	umask(old_mask);
	if (r < 0) {
		r = fail(l, err, "bind", e);
		goto fail_priv;
	}
	if (fstatat(pd.fd, PRIV_SOCK, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = fail(l, err, "bind", errno);
		goto fail_priv;
	}
	r = privdir_perms(l, l->bc, &pd, err);
	if (r < 0)
		goto fail_priv;
	if (listen(fd, listener_backlog(l)) < 0) {
		r = fail(l, err, "listen", errno);
		goto fail_priv;
	}
	/* at its name in one step, replacing a stale socket file */
	if (renameat(pd.fd, PRIV_SOCK, l->dirfd, unix_name(l)) < 0) {
		r = fail(l, err, "bind", errno);
		goto fail_priv;
	}
	privdir_remove(l, &pd);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->fd = fd;
	return 0;

fail_priv:
	privdir_remove(l, &pd);
fail_close:
	close(fd);
fail_dir:
	close(l->dirfd);
	l->dirfd = -1;
	return r;
}

static int open_tcp(struct listener *l, char **err)
{
	int fd, one = 1, e;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return fail(l, err, "socket", errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, addr_len(&l->addr)) < 0) {
		e = fail(l, err, "bind", errno);
		close(fd);
		return e;
	}
	if (listen(fd, listener_backlog(l)) < 0) {
		e = fail(l, err, "listen", errno);
		close(fd);
		return e;
	}
	l->fd = fd;
	return 0;
}

/* An abstract socket (abns@): no file, so no mode, owner or stale file;
 * the name is free again when the socket closes. */
static int open_abns(struct listener *l, char **err)
{
	int fd, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(l, err, "socket", errno);
	if (bind(fd, (const struct sockaddr *)&l->addr, addr_len(&l->addr)) < 0) {
		e = errno;
		memprintf(err, "%s '%s': bind: %s%s", who(l->bc), l->bc->spec, strerror(e),
			  e == EADDRINUSE ? " (another socket has this abstract name)" : "");
		close(fd);
		return -e;
	}
	if (listen(fd, listener_backlog(l)) < 0) {
		e = fail(l, err, "listen", errno);
		close(fd);
		return e;
	}
	l->fd = fd;
	return 0;
}

int listener_open_unix(struct listener *l, char **err)
{
	return addr_is_abns(&l->addr) ? open_abns(l, err) : open_unix(l, err);
}

int listener_open_owned(struct listener *l, char **err)
{
	return l->addr.ss_family == AF_UNIX ? listener_open_unix(l, err) : open_tcp(l, err);
}

/* The file's mode and owner are only touched when the configuration
 * changed them: after `user`/`group` dropped privileges, a chmod of the
 * root-owned file would fail and make every reload fail with it. */
int listener_unix_retake(const struct listener *l, const struct listener *old, char **err)
{
	/* an abstract socket has no file */
	return addr_is_abns(&l->addr) || same_perms(l->bc, old->bc) ? 0 : unix_perms(l, l->bc, err);
}

void listener_unix_giveback(const struct listener *l, const struct listener *old)
{
	if (!addr_is_abns(&l->addr) && !same_perms(l->bc, old->bc))
		unix_perms(old, old->bc, NULL);
}

void listener_unix_remove(struct listener *l)
{
	struct stat st;

	/* the name is unlinked in the directory the file was made in, and
	 * only while it holds that file */
	if (l->addr.ss_family == AF_UNIX && l->dirfd >= 0 &&
	    fstatat(l->dirfd, unix_name(l), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino && unlinkat(l->dirfd, unix_name(l), 0) < 0)
		/* after a switch to `user` the directory may not be ours any
		 * more; the next start replaces the stale socket file */
		ha_warning("%s: cannot remove '%s': %s (the next start replaces it)", who(l->bc),
			   unix_path(l), strerror(errno));
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
}
