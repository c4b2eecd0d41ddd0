/* main.c — command line, start-up order, signals, run loop, exit codes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "core/listener.h"
#include "log/log.h"
#include "ctl/priv.h"
#include "model/proxy.h"
#include "core/channel.h"
#include "ctl/module.h"
#include "plumbing/netseg.h"
#include "ctl/reload.h"
#include "core/loop.h"
#include "ctl/sdnotify.h"
#include "model/server.h"
#include "core/sess.h"
#include "log/msg.h"

/* fds kept aside for logs, listeners' peers, netlink and the like */
#define FD_RESERVE 64

struct opts {
	const char **files;  /* argv strings */
	size_t nfiles;
	bool check;
	bool daemon;
	const char *pidfile;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage : decoyproxy -f <cfgfile|cfgdir> [-f ...] [-c] [-d] [-D] [-p <pidfile>] [-V] [-q] [-v]\n"
		"        -f : configuration file or directory (*.cfg read in lexical order); repeatable\n"
		"        -c : check the configuration and exit (0 valid, 1 errors, 2 valid but no listener)\n"
		"        -d : stay in the foreground, debug messages on stderr\n"
		"        -D : run in the background (daemon)\n"
		"        -p : write the process id to <pidfile>\n"
		"        -V : verbose: warnings and notices even with -q or \"quiet\"\n"
		"        -q : quiet: no warnings or notices on stderr\n"
		"        -v : print the version and exit\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "f:cdDp:Vqvh")) != -1) {
		switch (c) {
		case 'f': {
			const char **v = realloc(o->files, (o->nfiles + 1) * sizeof(*v));

			if (!v)
				return -1;
			o->files = v;
			v[o->nfiles++] = optarg;
			break;
		}
		case 'c': o->check = true; break;
		case 'd': dp_msg.debug++; break;
		case 'D': o->daemon = true; break;
		case 'p': o->pidfile = optarg; break;
		case 'V': dp_msg.verbose = true; break;
		case 'q': dp_msg.quiet = true; break;
		case 'v':
			printf("decoyproxy version %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		ha_alert("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (!o->nfiles) {
		ha_alert("No configuration file specified (-f).");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Global maxconn and the fd limit it needs (HAProxy derives an unset maxconn
 * from the fd limit; an explicit one raises the soft limit up to the hard one). */
static int setup_limits(struct dp_config *c)
{
	struct rlimit rl;
	size_t nlist = dp_config_count_listeners(c);
	unsigned long long need;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		ha_alert("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (c->g.ulimit_n) {
		struct rlimit want = { c->g.ulimit_n, c->g.ulimit_n };

		if (rl.rlim_max != RLIM_INFINITY && want.rlim_max < rl.rlim_max)
			want.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			ha_alert("[global] 'ulimit-n %u': cannot raise the file descriptor limit (hard limit %llu): %s",
				 c->g.ulimit_n, (unsigned long long)rl.rlim_max, strerror(errno));
			return -1;
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
			ha_alert("[global] maxconn %u needs %llu file descriptors but the hard limit is %llu: lower 'maxconn' or raise the hard limit (ulimit -Hn, LimitNOFILE=)",
				 rt.maxconn, need, (unsigned long long)rl.rlim_max);
			return -1;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			ha_alert("cannot raise the file descriptor limit to %llu: %s", need, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Whether any part of c works in a named network namespace. */
static bool uses_namespaces(const struct dp_config *c)
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

/* The pid file is written by root before any privilege drop, mode 0644,
 * and never handed to the user the process switches to: a pid file that
 * user could rewrite could make root's scripts signal any process. */
static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		ha_alert("cannot create pidfile '%s': %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0) {
		ha_alert("cannot write pidfile '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Removes the pid file at exit if it still names this process. After a
 * switch to an unprivileged user its directory is usually root's and the
 * unlink fails: the file stays (the next start rewrites it) and a warning
 * names it, so that no script trusts it blindly. */
static void remove_pidfile(const char *path, bool dropped)
{
	char buf[32];
	FILE *f = fopen(path, "r");
	long pid = -1;
	int e;

	if (!f) {
		if (errno != ENOENT)
			ha_warning("cannot read pidfile '%s' to remove it: %s", path, strerror(errno));
		return;
	}
	if (fgets(buf, sizeof(buf), f))
		pid = strtol(buf, NULL, 10);
	fclose(f);
	if (pid != (long)getpid()) {
		ha_notice("pidfile '%s' names another process now: left in place", path);
		return;
	}
	if (unlink(path) == 0 || errno == ENOENT)
		return;
	e = errno;
	ha_warning("cannot remove pidfile '%s': %s%s; it is left behind with this process's pid (the next start rewrites it)",
		   path, strerror(e),
		   dropped && (e == EACCES || e == EPERM) ?
		   " (its directory is not writable by the user/group the process switched to)" : "");
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		ha_alert("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		/* under a notify-type service this process is still the main
		 * PID: name the child before leaving, so the manager neither
		 * fails the unit nor refuses the child's READY=1 */
		sdnotify_send("MAINPID=%d", (int)pid);
		_exit(0);
	}
	if (setsid() < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
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

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct dp_config *c;
	char *pidfile = NULL;
	bool dropped = false, forked = false;
	char *err = NULL;
	int ret = 1;

	if (modules_init() < 0) {
		ha_alert("out of memory registering keywords");
		goto out;
	}
	if (parse_args(argc, argv, &o) < 0)
		goto out;
	if (dp_msg.verbose)
		dp_msg.quiet = false; /* -V wins over -q, as in HAProxy */
	reload_set_files(o.files, o.nfiles);
	c = reload_load_config();
	if (!c)
		goto out;
	if (c->g.quiet && !dp_msg.verbose)
		dp_msg.quiet = true;
	if (o.check) {
		/* -c touches nothing on the system: parsing and checks only */
		if (!dp_config_count_listeners(c)) {
			ha_warning("Configuration file has no error but will not start (no listener) => exit(2).");
			ret = 2;
		} else {
			printf("Configuration file is valid\n");
			ret = 0;
		}
		dp_config_put(c);
		goto out;
	}
	/* before anything switches namespaces: an abstract NOTIFY_SOCKET name
	 * is reached from the namespace the sending socket was made in */
	if (sdnotify_init(&err) < 0) {
		ha_warning("%s: readiness notifications disabled", err);
		free(err);
		err = NULL;
	}
	if (!dp_config_count_listeners(c)) {
		ha_alert("no listener: nothing to do.");
		sdnotify_status("Start-up failed: no listener");
		goto out_conf;
	}
	if (setup_limits(c) < 0)
		goto out_conf;
	rt.loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOENV);
	if (!rt.loop) {
		ha_alert("cannot initialise the event loop");
		goto out_conf;
	}
	if (reload_activate(c, NULL, &err) < 0) {
		char *st = NULL;

		ha_alert("%s", err ? err : "start-up failed");
		memprintf(&st, "Start-up failed: %s", err ? err : "see the alerts");
		sdnotify_status(st);
		free(st);
		free(err);
		goto out_conf;
	}
	/* a service manager that listens for readiness runs us in the
	 * foreground: the configuration's `daemon` would make the process it
	 * watches exit; an explicit -D is obeyed (the parent sends MAINPID=
	 * before it exits) */
	if (c->g.daemon && !o.daemon && !dp_msg.debug && sdnotify_enabled())
		ha_notice("'daemon' ignored: started by a service manager (NOTIFY_SOCKET is set)");
	else if ((o.daemon || c->g.daemon) && !dp_msg.debug) {
		if (daemonize() < 0)
			goto out_stop;
		ev_loop_fork(rt.loop);
		forked = true;
	}
	/* a copy: the configuration holding the name is freed by a reload */
	if (o.pidfile || c->g.pidfile) {
		pidfile = strdup(o.pidfile ? o.pidfile : c->g.pidfile);
		if (!pidfile) {
			ha_alert("out of memory");
			goto out_stop;
		}
		if (write_pidfile(pidfile) < 0) {
			free(pidfile);
			pidfile = NULL;
			goto out_stop;
		}
	}
	if (priv_drop(c->g.have_uid, c->g.uid, c->g.have_gid, c->g.gid, uses_namespaces(c), &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_stop;
	}
	dropped = c->g.have_uid || c->g.have_gid;
	reload_setup_signals();
	for (struct proxy *px = c->proxies; px; px = px->next)
		if (px->cap & PR_CAP_FE)
			ha_notice("Proxy %s started.", px->name);
	if (forked)
		sdnotify_set_mainpid((int)getpid());
	reload_notify_ready();
	ev_run(rt.loop, 0);
	ret = 0;
out_stop:
	if (pidfile)
		remove_pidfile(pidfile, dropped); /* while the log targets are open */
	free(pidfile);
	c = rt.conf; /* the running generation after any reload */
	reload_shutdown();
	rt.conf = NULL;
	msg_set_targets(NULL, NULL);
out_conf:
	dp_config_put(c);
	pump_pool_trim();
	sdnotify_fini();
out:
	free(o.files);
	return ret;
}
