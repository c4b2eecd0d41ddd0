/* process.c — the process around the proxy: fd limit and global maxconn,
 * namespace use, pid file, daemonizing (see process.h). */
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
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "plumbing/netseg.h"

/* fds kept aside for logs, listeners' peers, netlink and the like */
#define FD_RESERVE 64

/* Global maxconn and the fd limit it needs (HAProxy derives an unset maxconn
 * from the fd limit; an explicit one raises the soft limit up to the hard one). */
int process_setup_limits(struct dp_config *c, char **err)
{
	struct rlimit rl;
	size_t nlist = dp_config_count_listeners(c);
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
		if (rt.maxconn > 100000)
			rt.maxconn = 100000;
	} else {
		rt.maxconn = c->g.maxconn;
	}
	need = 2ULL * rt.maxconn + nlist + FD_RESERVE;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
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

/* ---- pid file ------------------------------------------------------------ */

struct pidfile {
	char *path;
};

/* The pid file is written by root before any privilege drop, mode 0644,
 * and never handed to the user the process switches to: a pid file that
 * user could rewrite could make root's scripts signal any process. */
int pidfile_write(const char *path, struct pidfile **out, char **err)
{
	struct pidfile *pf = calloc(1, sizeof(*pf));
	FILE *f;
	int e;

	if (!pf || !(pf->path = strdup(path))) {
		free(pf);
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	f = fopen(path, "w");
	if (!f) {
		e = errno;
		memprintf(err, "cannot create pidfile '%s': %s", path, strerror(e));
		goto fail;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0) {
		e = errno;
		memprintf(err, "cannot write pidfile '%s': %s", path, strerror(e));
		goto fail;
	}
	*out = pf;
	return 0;
fail:
	free(pf->path);
	free(pf);
	return -e;
}

/* Removes the pid file at exit if it still names this process. After a
 * switch to an unprivileged user its directory is usually root's and the
 * unlink fails: the file stays (the next start rewrites it) and a warning
 * names it, so that no script trusts it blindly. */
void pidfile_remove(struct pidfile *pf, bool dropped)
{
	const char *path;
	char buf[32];
	FILE *f;
	long pid = -1;
	int e;

	if (!pf)
		return;
	path = pf->path;
	f = fopen(path, "r");
	if (!f) {
		if (errno != ENOENT)
			ha_warning("cannot read pidfile '%s' to remove it: %s", path, strerror(errno));
		goto out;
	}
	if (fgets(buf, sizeof(buf), f))
		pid = strtol(buf, NULL, 10);
	fclose(f);
	if (pid != (long)getpid()) {
		ha_notice("pidfile '%s' names another process now: left in place", path);
		goto out;
	}
	if (unlink(path) == 0 || errno == ENOENT)
		goto out;
	e = errno;
	ha_warning("cannot remove pidfile '%s': %s%s; it is left behind with this process's pid (the next start rewrites it)",
		   path, strerror(e),
		   dropped && (e == EACCES || e == EPERM) ?
		   " (its directory is not writable by the user/group the process switched to)" : "");
out:
	free(pf->path);
	free(pf);
}

/* ---- background ------------------------------------------------------------ */

int process_daemonize(char **err)
{
	pid_t pid = fork();
	int fd, e;

	if (pid < 0) {
		e = errno;
		memprintf(err, "cannot fork: %s", strerror(e));
		return -e;
	}
	if (pid > 0) {
		/* under a notify-type service this process is still the main
		 * PID: name the child before leaving, so the manager neither
		 * fails the unit nor refuses the child's READY=1 */
		sdnotify_send("MAINPID=%d", (int)pid);
		return 1;
	}
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
