/* listener_owned.c — the sockets of bind lines that belong to no frontend
 * (struct bind_owner: the CLI's `stats socket` lines): unix sockets with
 * their file (stale file removal, mode and owner, removal at close) and
 * plain TCP sockets in the process's own namespace, with none of the
 * frontends' socket options. Accepting, pausing and takeover are
 * listener.c's, as for every listener.
 *
 * Messages name the owner and the address as written:
 * "stats socket '/run/dp.sock': bind: Permission denied".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/listener.h"
#include "core/listener_int.h"
#include "log/msg.h"

static const char *unix_path(const struct listener *l)
{
	return ((const struct sockaddr_un *)&l->addr)->sun_path;
}

/* "<owner> '<spec>': <what>: <strerror(e)>"; returns -e. */
static int fail(const struct listener *l, char **err, const char *what, int e)
{
	memprintf(err, "%s '%s': %s: %s", l->bc->owner->name, l->bc->spec, what, strerror(e));
	return -e;
}

/* The file mode, then the owner when one is configured, of l's socket file
 * as bc says. The file is created owner-only first (umask), so it is never
 * wider than asked. */
static int unix_perms(const struct listener *l, const struct bind_conf *bc, char **err)
{
	uid_t uid = bc->ux.have_uid ? bc->ux.uid : (uid_t)-1;
	gid_t gid = bc->ux.have_gid ? bc->ux.gid : (gid_t)-1;
	int e;

	if (chmod(unix_path(l), bc->ux.mode) < 0) {
		e = errno;
		memprintf(err, "%s '%s': chmod %o: %s", bc->owner->name, bc->spec, (unsigned)bc->ux.mode, strerror(e));
		return -e;
	}
	if ((bc->ux.have_uid || bc->ux.have_gid) && chown(unix_path(l), uid, gid) < 0)
		return fail(l, err, "chown", errno);
	return 0;
}

static bool same_perms(const struct bind_conf *a, const struct bind_conf *b)
{
	return a->ux.mode == b->ux.mode && a->ux.have_uid == b->ux.have_uid &&
	       (!a->ux.have_uid || a->ux.uid == b->ux.uid) && a->ux.have_gid == b->ux.have_gid &&
	       (!a->ux.have_gid || a->ux.gid == b->ux.gid);
}

/* A socket file at the path: stale (nothing accepts: a dead process left
 * it) is removed; a live one, or anything else than a socket, is an error. */
static int unix_clear_stale(const struct listener *l, char **err)
{
	const struct bind_conf *bc = l->bc;
	struct stat st;
	int fd, r, e;

	if (lstat(unix_path(l), &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		memprintf(err, "%s '%s': %s", bc->owner->name, bc->spec, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		memprintf(err, "%s '%s': the path exists and is not a socket", bc->owner->name, bc->spec);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(l, err, "socket", errno);
	r = connect(fd, (const struct sockaddr *)&l->addr, addr_len(&l->addr));
	e = r < 0 ? errno : 0;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		memprintf(err, "%s '%s': another process is already listening on it", bc->owner->name, bc->spec);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED)
		return fail(l, err, "cannot tell whether the existing socket is in use", e);
	if (unlink(unix_path(l)) < 0 && errno != ENOENT)
		return fail(l, err, "cannot remove the stale socket", errno);
	return 0;
}

static int open_unix(struct listener *l, char **err)
{
	struct stat st;
	mode_t old_mask;
	int fd, r, e;

	r = unix_clear_stale(l, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(l, err, "socket", errno);
	/* created owner-only, then opened up to `mode`: never wider than asked */
	old_mask = umask(0177);
	r = bind(fd, (const struct sockaddr *)&l->addr, addr_len(&l->addr));
	e = errno;
	umask(old_mask);
	if (r < 0) {
		fail(l, err, "bind", e);
		goto fail_close;
	}
	if (stat(unix_path(l), &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
		l->have_ino = true;
	}
	r = unix_perms(l, l->bc, err);
	if (r < 0) {
		e = -r;
		goto fail_unlink;
	}
	if (listen(fd, listener_backlog(l)) < 0) {
		e = -fail(l, err, "listen", errno);
		goto fail_unlink;
	}
	l->fd = fd;
	return 0;

fail_unlink:
	unlink(unix_path(l));
	l->have_ino = false;
fail_close:
	close(fd);
	return -e;
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

int listener_open_owned(struct listener *l, char **err)
{
	return l->addr.ss_family == AF_UNIX ? open_unix(l, err) : open_tcp(l, err);
}

/* The file's mode and owner are only touched when the configuration
 * changed them: after `user`/`group` dropped privileges, a chmod of the
 * root-owned file would fail and make every reload fail with it. */
int listener_unix_retake(const struct listener *l, const struct listener *old, char **err)
{
	return same_perms(l->bc, old->bc) ? 0 : unix_perms(l, l->bc, err);
}

void listener_unix_giveback(const struct listener *l, const struct listener *old)
{
	if (!same_perms(l->bc, old->bc))
		unix_perms(old, old->bc, NULL);
}

void listener_unix_remove(struct listener *l)
{
	struct stat st;

	if (l->addr.ss_family == AF_UNIX && stat(unix_path(l), &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino && unlink(unix_path(l)) < 0)
		/* after a switch to `user` the directory may not be ours any
		 * more; the next start replaces the stale socket file */
		ha_warning("%s: cannot remove '%s': %s (the next start replaces it)", l->bc->owner->name,
			   unix_path(l), strerror(errno));
	l->have_ino = false;
}
