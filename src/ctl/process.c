/* process.c — the process around the proxy: fd limit and global maxconn,
 * namespace use, the run lock behind ownership marks, pid file,
 * daemonizing (see process.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/process.h"
#include "ctl/sdnotify.h"
#include "core/loop.h"
#include "core/pipe.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/udplb.h"
#include "net/owner.h"
#include "plumbing/netseg.h"
#include "plumbing/tproxy.h"

/* fds kept aside for logs, listeners' peers, netlink and the like */
#define FD_RESERVE 64

/* Global maxconn and the fd limit it needs (HAProxy derives an unset maxconn
 * from the fd limit; an explicit one raises the soft limit up to the hard one). */
int process_setup_limits(struct dp_config *c, char **err)
{
	struct rlimit rl;
	/* udp-lb flows take descriptors too: set aside like listeners */
	size_t nlist = dp_config_count_listeners(c) + udplb_fd_need(c);
	unsigned long long need;
	int e;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		e = errno;
		memprintf(err, "getrlimit(RLIMIT_NOFILE): %s", strerror(e));
		return -e;
	}
	if (c->g.ulimit_n) {
		struct rlimit want = { c->g.ulimit_n, c->g.ulimit_n };

		if (rl.rlim_max != RLIM_INFINITY && want.rlim_max < rl.rlim_max)
			want.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			e = errno;
			memprintf(err, "[global] 'ulimit-n %u': cannot raise the file descriptor limit (hard limit %llu): %s",
				  c->g.ulimit_n, (unsigned long long)rl.rlim_max, strerror(e));
			return -e;
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!c->g.maxconn) {
		unsigned long long lim = c->g.ulimit_n ? c->g.ulimit_n : rl.rlim_max;

		if (lim == RLIM_INFINITY || lim > 1000000)
			lim = 1000000;
		if (lim < FD_RESERVE + nlist + 20)
			lim = FD_RESERVE + nlist + 20;
		rt.maxconn = (unsigned)((lim - FD_RESERVE - nlist) / 2);
		if (pipe_maxpipes(c, rt.maxconn)) {
			/* splice: leave room for the pipes' descriptors
			 * (maxconn / 4 pipes, or maxpipes) */
			unsigned long long room = lim - FD_RESERVE - nlist;

			if (c->g.maxpipes)
				rt.maxconn = (unsigned)(room > 2ULL * c->g.maxpipes + 2 ?
							(room - 2ULL * c->g.maxpipes) / 2 : 1);
			else
				rt.maxconn = (unsigned)(room * 2 / 5);
		}
		if (rt.maxconn > 100000)
			rt.maxconn = 100000;
	} else {
		rt.maxconn = c->g.maxconn;
	}
	/* each pipe splice() may use holds two descriptors too. The default
	 * maxpipes (maxconn / 4) takes only what the hard limit leaves (HAProxy
	 * 2.6 refuses to start instead: splice is an optimisation, not worth
	 * a failed start); an explicit one is needed in full */
	need = 2ULL * rt.maxconn + nlist + FD_RESERVE;
	{
		unsigned long long pipes = pipe_maxpipes(c, rt.maxconn);

		if (pipes && !c->g.maxpipes && rl.rlim_max != RLIM_INFINITY)
			pipes = rl.rlim_max > need ? (pipes < (rl.rlim_max - need) / 2 ? pipes : (rl.rlim_max - need) / 2) : 0;
		pipe_set_fd_room((unsigned)pipes);
		need += 2ULL * pipes;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			size_t udp = udplb_fd_need(c);

			if (udp)        /* say what the udp-lb sections take */
				memprintf(err, "[global] maxconn %u and the udp-lb sections' maxconn need %llu file descriptors (%zu of them for udp-lb) but the hard limit is %llu: lower 'maxconn' or raise the hard limit (ulimit -Hn, LimitNOFILE=)",
					  rt.maxconn, need, udp, (unsigned long long)rl.rlim_max);
			else
				memprintf(err, "[global] maxconn %u needs %llu file descriptors but the hard limit is %llu: lower 'maxconn' or raise the hard limit (ulimit -Hn, LimitNOFILE=)",
					  rt.maxconn, need, (unsigned long long)rl.rlim_max);
			return -EMFILE;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			e = errno;
			memprintf(err, "cannot raise the file descriptor limit to %llu: %s", need, strerror(e));
			return -e;
		}
	}
	return 0;
}

bool process_uses_namespaces(const struct dp_config *c)
{
	if (netseg_in_use(c))
		return true;
	for (const struct proxy *px = c->proxies; px; px = px->next) {
		for (const struct bind_conf *bc = px->binds; bc; bc = bc->next)
			if (bc->netns)
				return true;
		for (const struct server *s = px->srv; s; s = s->next)
			if (s->netns)
				return true;
	}
	return false;
}

/* ---- the run lock --------------------------------------------------------- */

static struct owner_run owner_run = { .fd = -1 };
static bool owner_failed;

const char *process_owner_mark(const struct dp_config *c)
{
	size_t nns = 0;
	char *err = NULL;

	tproxy_plan(c, &nns);
	if (!netseg_plan_count(c) && !nns)
		return NULL;
	if (owner_run.fd >= 0)
		return owner_run.mark;
	if (owner_failed)
		return NULL;
	if (owner_run_open(&owner_run, OWNER_RUN_DIR, &err) < 0) {
		/* not fatal: the objects work unmarked, as before marks existed */
		ha_warning("%s: what this process creates is not marked as its own, and a later run "
			   "cannot reclaim it after a crash", err ? err : "cannot take a run lock");
		free(err);
		owner_failed = true;
		return NULL;
	}
	ha_debug("run lock %s (ownership mark %s)", owner_run.path, owner_run.mark);
	return owner_run.mark;
}

void process_owner_close(void)
{
	owner_run_close(&owner_run);
}

/* ---- pid file ------------------------------------------------------------
 *
 * The pid file is written by root before any privilege drop, often in a
 * directory another user may write (the service user's run directory).
 * Whatever that user plants at the path must not make root write, truncate
 * or remove another file, so:
 *  - the directory is opened once and pinned (dirfd): creation and removal
 *    both happen in that directory, even if a component of the path is
 *    swapped for a symbolic link in between;
 *  - the file is always a new one, created with O_EXCL: a symbolic link at
 *    the path is refused (O_EXCL never follows one), and a pre-existing
 *    regular file is unlinked and replaced, never opened. Opening it, even
 *    with O_NOFOLLOW, would not do: a hard link to a victim file is a
 *    regular file, and with fs.protected_hardlinks=0 no check on the open
 *    file can tell it apart in time;
 *  - anything else at the path (FIFO, socket, device, directory) is refused;
 *  - removal at exit unlinks the name only if it still holds the file
 *    written here (same device, inode and change time) and that file names
 *    this process.
 * The file is root's, mode 0644 whatever the umask, and never handed to the
 * user the process switches to: a pid file that user could rewrite could
 * make root's scripts signal any process.
 */

struct pidfile {
	char *path;     /* as given, for messages */
	char *name;     /* its last component, inside dirfd */
	int dirfd;      /* the directory it was created in (O_PATH) */
	dev_t dev;      /* the file written: device, inode and change time */
	ino_t ino;      /* (the time tells a new file that reused the */
	struct timespec ctim; /* inode number of ours apart) */
};

static void pidfile_free(struct pidfile *pf)
{
	if (!pf)
		return;
	if (pf->dirfd >= 0)
		close(pf->dirfd);
	free(pf->path);
	free(pf->name);
	free(pf);
}

/* Opens the directory of pf->path and sets pf->name. Returns 0 or -errno. */
static int pidfile_open_dir(struct pidfile *pf, char **err)
{
	const char *slash = strrchr(pf->path, '/');
	char *dir;
	int e;

	if (!*pf->path || (slash && !slash[1])) {
		memprintf(err, "cannot create pidfile '%s': not a file name", pf->path);
		return -EISDIR;
	}
	if (!slash)
		dir = strdup(".");
	else if (slash == pf->path)
		dir = strdup("/");
	else
		dir = strndup(pf->path, (size_t)(slash - pf->path));
	pf->name = strdup(slash ? slash + 1 : pf->path);
	if (!dir || !pf->name) {
		free(dir);
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	pf->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	free(dir);
	if (pf->dirfd < 0) {
		memprintf(err, "cannot create pidfile '%s': %s", pf->path, strerror(e));
		return -e;
	}
	return 0;
}

/* Creates pf->name as a new file; what is already there is replaced when it
 * is a regular file, refused otherwise. Returns the fd or -errno. */
static int pidfile_create(struct pidfile *pf, char **err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	int fd, e;

	for (int tries = 0;; tries++) {
		fd = openat(pf->dirfd, pf->name, flags, 0644);
		if (fd >= 0)
			return fd;
		e = errno;
		if (e != EEXIST)
			break;
		if (fstatat(pf->dirfd, pf->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			e = errno;
			if (e == ENOENT && tries < 1)
				continue;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			memprintf(err, "cannot create pidfile '%s': it is a symbolic link (refused: a pid file is never written through a link)",
				  pf->path);
			return -ELOOP;
		}
		if (!S_ISREG(st.st_mode)) {
			memprintf(err, "cannot create pidfile '%s': not a regular file (%s): refused",
				  pf->path, file_kind(st.st_mode));
			return -EEXIST;
		}
		if (tries >= 1) {
			/* replaced again between our unlink and our create */
			memprintf(err, "cannot create pidfile '%s': the path keeps being replaced: refused", pf->path);
			return -EEXIST;
		}
		/* a stale pid file (or a hard link someone planted): remove
		 * the name, never write into what it points to */
		if (unlinkat(pf->dirfd, pf->name, 0) < 0 && errno != ENOENT) {
			e = errno;
			break;
		}
	}
	memprintf(err, "cannot create pidfile '%s': %s", pf->path, strerror(e));
	return -e;
}

int pidfile_write(const char *path, struct pidfile **out, char **err)
{
	struct pidfile *pf = calloc(1, sizeof(*pf));
	char buf[24];
	struct stat st;
	int fd, n, r;

	if (!pf) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	pf->dirfd = -1;
	pf->path = strdup(path);
	if (!pf->path) {
		memprintf(err, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	r = pidfile_open_dir(pf, err);
	if (r < 0)
		goto fail;
	fd = pidfile_create(pf, err);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	errno = 0; /* a short write sets none */
	if (fchmod(fd, 0644) < 0 || write(fd, buf, (size_t)n) != n || fstat(fd, &st) < 0) {
		r = errno ? -errno : -EIO;
		memprintf(err, "cannot write pidfile '%s': %s", path, strerror(-r));
		close(fd);
		unlinkat(pf->dirfd, pf->name, 0);
		goto fail;
	}
	if (close(fd) < 0) {
		r = -errno;
		memprintf(err, "cannot write pidfile '%s': %s", path, strerror(-r));
		unlinkat(pf->dirfd, pf->name, 0);
		goto fail;
	}
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	pf->ctim = st.st_ctim;
	*out = pf;
	return 0;
fail:
	pidfile_free(pf);
	return r;
}

/* Removes the pid file at exit if it is still the file written here and
 * still names this process. After a switch to an unprivileged user its
 * directory is usually root's and the unlink fails: the file stays (the
 * next start replaces it) and a warning names it, so that no script trusts
 * it blindly. */
void pidfile_remove(struct pidfile *pf, bool dropped)
{
	const char *path;
	struct stat st;
	char buf[32];
	long pid = -1;
	ssize_t n;
	int fd, e;

	if (!pf)
		return;
	path = pf->path;
	if (fstatat(pf->dirfd, pf->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			ha_warning("cannot read pidfile '%s' to remove it: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != pf->dev || st.st_ino != pf->ino ||
	    st.st_ctim.tv_sec != pf->ctim.tv_sec || st.st_ctim.tv_nsec != pf->ctim.tv_nsec) {
		ha_notice("pidfile '%s' is no longer the file this process wrote (now %s): left in place",
			  path, file_kind(st.st_mode));
		goto out;
	}
	fd = openat(pf->dirfd, pf->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ha_warning("cannot read pidfile '%s' to remove it: %s", path, strerror(errno));
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
	}
	if (pid != (long)getpid()) {
		ha_notice("pidfile '%s' names another process now: left in place", path);
		goto out;
	}
	/* the name may be swapped between the check and here; unlinkat()
	 * then removes whatever name was put in that directory, never a
	 * file elsewhere */
	if (unlinkat(pf->dirfd, pf->name, 0) == 0 || errno == ENOENT)
		goto out;
	e = errno;
	ha_warning("cannot remove pidfile '%s': %s%s; it is left behind with this process's pid (the next start rewrites it)",
		   path, strerror(e),
		   dropped && (e == EACCES || e == EPERM) ?
		   " (its directory is not writable by the user/group the process switched to)" : "");
out:
	pidfile_free(pf);
}

/* ---- background ------------------------------------------------------------ */

void process_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free number: fd itself */
		n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd)
			close(n);
	}
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int process_daemonize(char **err)
{
	int order[2] = { -1, -1 }, fd, e;
	pid_t pid;
	char b;

	/* the parent names the child (MAINPID=) before the child may say
	 * anything to the service manager: the child waits until the parent
	 * closed its end of this pipe (on a loaded machine the child could
	 * otherwise reach READY=1 first) */
	if (pipe2(order, O_CLOEXEC) < 0)
		order[0] = order[1] = -1;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close_pair(order);
		memprintf(err, "cannot fork: %s", strerror(e));
		return -e;
	}
	if (pid > 0) {
		/* under a notify-type service this process is still the main
		 * PID: name the child before leaving, so the manager neither
		 * fails the unit nor refuses the child's READY=1 */
		sdnotify_send("MAINPID=%d", (int)pid);
		close_pair(order);
		return 1;
	}
	if (order[1] >= 0) {
		close(order[1]);
		order[1] = -1;
	}
	if (order[0] >= 0)
		while (read(order[0], &b, 1) < 0 && errno == EINTR)
			;   /* 0 (end of file) once the parent closed its end */
	close_pair(order);
	if (setsid() < 0) {
		e = errno;
		memprintf(err, "setsid: %s", strerror(e));
		return -e;
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	dp_msg.quiet = true;
	return 0;
}
