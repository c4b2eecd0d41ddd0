/* main.c — command line, start-up order, run loop, exit codes. Everything
 * else is a module's: the process-level steps (limits, pid file, fork) are
 * ctl/process.c's, signals and reloads ctl/reload.c's. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "ctl/chroot.h"
#include "net/ns.h"
#include "ctl/priv.h"
#include "ctl/process.h"
#include "model/proxy.h"
#include "model/udplb.h"
#include "core/channel.h"
#include "ctl/module.h"
#include "ctl/reload.h"
#include "core/loop.h"
#include "core/pipe.h"
#include "core/sess.h"
#include "core/thread.h"
#include "ctl/cpumap.h"
#include "ctl/sdnotify.h"
#include "log/msg.h"
#include "rules/regex.h"

struct opts {
	const char **files;  /* argv strings */
	size_t nfiles;
	bool check;
	bool cleanup;
	bool daemon;
	const char *pidfile;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage : decoyproxy -f <cfgfile|cfgdir> [-f ...] [-c] [--cleanup] [-d] [-D] [-p <pidfile>] [-V] [-q] [-v]\n"
		"        -f : configuration file or directory (*.cfg read in lexical order); repeatable\n"
		"        -c : check the configuration and exit (0 valid, 1 errors, 2 valid but no listener)\n"
		"        --cleanup : remove what an earlier run that is gone left of this configuration's\n"
		"             namespaces, links, nft table, rules and routes, start nothing, and exit\n"
		"             (0 done, 1 errors)\n"
		"        -d : stay in the foreground, debug messages on stderr\n"
		"        -D : run in the background (daemon)\n"
		"        -p : write the process id to <pidfile>\n"
		"        -V : verbose: warnings and notices even with -q or \"quiet\"\n"
		"        -q : quiet: no warnings or notices on stderr\n"
		"        -v : print the version and exit\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "cleanup", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:cdDp:Vqvh", longopts, NULL)) != -1) {
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
		case 'C': o->cleanup = true; break;
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
	if (o->check && o->cleanup) {
		ha_alert("-c and --cleanup do not go together: -c touches nothing.");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* A worker thread leaves its loop: its per-thread pools go. */
static void worker_exit(void)
{
	sess_pool_trim();
	pump_pool_trim();
	rx_thread_free();
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct dp_config *c;
	struct pidfile *pidfile = NULL;
	bool dropped = false, forked = false;
	char *err = NULL;
	int ret = 1;

	process_std_fds();
	if (modules_init() < 0) {
		ha_alert("out of memory registering keywords");
		goto out;
	}
	if (parse_args(argc, argv, &o) < 0)
		goto out;
	/* the process's network namespace, recorded before any thread, switch
	 * or chroot: where ns_run() comes back to and what tproxy compares
	 * segments with (net/ns.c retries and reports where it is needed
	 * should /proc not answer here) */
	(void)ns_init();
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
		if (!dp_config_count_listeners(c) && !udplb_count_binds(c)) {
			ha_warning("Configuration file has no error but will not start (no listener) => exit(2).");
			ret = 2;
		} else {
			printf("Configuration file is valid\n");
			ret = 0;
		}
		dp_config_put(c);
		goto out;
	}
	if (o.cleanup) {
		/* what an earlier run left, per this configuration; nothing starts */
		ret = modules_cleanup(c) < 0 ? 1 : 0;
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
	if (!dp_config_count_listeners(c) && !udplb_count_binds(c)) {
		ha_alert("no listener: nothing to do.");
		sdnotify_status("Start-up failed: no listener");
		goto out_conf;
	}
	if (process_setup_limits(c, &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_conf;
	}
	rt.loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOENV);
	if (!rt.loop) {
		ha_alert("cannot initialise the event loop");
		goto out_conf;
	}
	thread_init_main();
	/* the workers' loops exist before the listeners open (each thread's
	 * socket is watched by its loop); the threads start last */
	if (threads_prepare(cpumap_running_threads(c), &err) < 0) {
		ha_alert("%s", err);
		free(err);
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
		int r = process_daemonize(&err);

		if (r > 0)
			_exit(0); /* the parent: the child carries on */
		if (r < 0) {
			ha_alert("%s", err);
			free(err);
			goto out_stop;
		}
		ev_loop_fork(rt.loop);
		threads_after_fork();
		forked = true;
	}
	/* the handle keeps its own copy of the name: a reload frees the
	 * configuration holding it */
	if ((o.pidfile || c->g.pidfile) &&
	    pidfile_write(o.pidfile ? o.pidfile : c->g.pidfile, &pidfile, &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_stop;
	}
	/* after everything that needs the file system is open, before the
	 * privilege drop (chroot() needs CAP_SYS_CHROOT) */
	if (chroot_enter(c, (const char *const *)o.files, o.nfiles, &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_stop;
	}
	if (priv_drop(c->g.have_uid, c->g.uid, c->g.have_gid, c->g.gid, process_uses_namespaces(c), &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_stop;
	}
	dropped = c->g.have_uid || c->g.have_gid;
	reload_setup_signals();
	if (threads_start(worker_exit, &err) < 0 || cpumap_pin_workers(c, &err) < 0) {
		ha_alert("%s", err);
		free(err);
		goto out_stop;
	}
	for (struct proxy *px = c->proxies; px; px = px->next)
		if (px->cap & PR_CAP_FE)
			ha_notice("Proxy %s started.", px->name);
	if (forked)
		sdnotify_set_mainpid((int)getpid());
	reload_notify_ready();
	ev_run(rt.loop, 0);
	ret = 0;
out_stop:
	reload_stop_parsing();
	threads_stop(); /* T0 alone from here: it closes what they owned */
	pidfile_remove(pidfile, dropped); /* while the log targets are open */
	c = rt.conf; /* the running generation after any reload */
	reload_shutdown();
	priv_helper_stop(); /* after the last namespace removal */
	chroot_release();
	rt.conf = NULL;
	msg_set_targets(NULL, NULL);
out_conf:
	dp_config_put(c);
	process_owner_close(); /* after the removals: the run is over */
	pump_pool_trim();
	pipe_pool_trim();
	sess_pool_trim();
	threads_free();
	sdnotify_fini();
out:
	free(o.files);
	return ret;
}
