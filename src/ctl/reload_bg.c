/* reload_bg.c — the configuration of a reload signal (SIGUSR2, SIGHUP)
 * parsed off the event-loop threads.
 *
 * Parsing a large configuration (tens of thousands of decoy pairs in
 * `intercept-file`, maps, host names resolved by getaddrinfo) takes from
 * tens of milliseconds to seconds; on T0 that stalls everything T0 relays
 * (the UDP data path, its share of the TCP sessions, the CLI, the health
 * checks). Here a thread of its own parses and finalizes the new
 * generation — which only builds that generation: nothing of the running
 * one is changed before the activation — then wakes T0 (ev_async), which
 * joins it and activates the result isolated (reload.c reload_end), with
 * the same messages, service-manager notifications and outcome as a
 * reload parsed in place. The datagrams and connections that arrive
 * meanwhile are served at once.
 *
 * One parse at a time. A reload signal during a parse is remembered (one;
 * SIGHUP wins, so that the event files are reopened) and served once the
 * parse in flight is activated. A CLI `reload` first waits for the parse
 * in flight and activates it (reload_bg_drain), then reparses itself in
 * place: its answer quotes the messages of its own parse. At exit a parse
 * in flight is waited for and dropped. Should the thread not start, the
 * signal's reload is parsed in place, as before.
 *
 * The thread ("dp-reload") runs on the CPUs the process started with
 * (cpumap_start_set), not on T0's: with `cpu-map 1/1 0` it would otherwise
 * share CPU 0 with the relay it is meant to keep out of the way of.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log/evlog.h"
#include "log/msg.h"
#include "model/conf.h"
#include "core/loop.h"
#include "core/thread.h"
#include "ctl/cpumap.h"
#include "ctl/reload.h"
#include "ctl/reload_int.h"

static struct {
	pthread_t th;
	bool running;               /* a parse thread to join (T0's view) */
	int signum;                 /* the signal whose reload it parses */
	int again;                  /* a reload signal that came meanwhile, or 0 */
	struct dp_config *newc;     /* its result: written by the thread,
				     * read by T0 after the join */
	bool finished;              /* the thread is done (atomic): a wake-up
				     * left over from a drained parse must not
				     * make T0 wait for the next one */
	ev_async done;              /* the thread's "finished" */
	bool setup;
} bg;

static void *parse_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "dp-reload");  /* ps -L, top -H */
	bg.newc = reload_load_config();
	__atomic_store_n(&bg.finished, true, __ATOMIC_RELEASE);
	ev_async_send(rt.loop, &bg.done);
	return NULL;
}

/* T0: joins the parse thread, returns its result. */
static struct dp_config *bg_join(void)
{
	struct dp_config *newc;

	pthread_join(bg.th, NULL);
	bg.running = false;
	newc = bg.newc;
	bg.newc = NULL;
	return newc;
}

static void bg_activate(int signum, struct dp_config *newc)
{
	char *msg = NULL;
	int r = reload_end(newc, &msg);

	reload_signal_done(signum, r, msg);
	free(msg);
}

static void done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	int again;

	(void)loop;
	(void)w;
	(void)revents;
	/* not ours: a parse drained by a CLI reload meanwhile */
	if (!bg.running || !__atomic_load_n(&bg.finished, __ATOMIC_ACQUIRE))
		return;
	bg_activate(bg.signum, bg_join());
	again = bg.again;
	bg.again = 0;
	if (again)
		reload_bg_signal(again);
}

void reload_bg_setup(void)
{
	if (bg.setup)
		return;
	ev_async_init(&bg.done, done_cb);
	ev_async_start(rt.loop, &bg.done);
	bg.setup = true;
}

/* Starts the parse thread on the start-up CPUs; where that set is
 * refused, where the thread's creator runs. 0 or an errno value. */
static int create_parser(void)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int r;

	cpumap_start_set(&cpus);
	r = pthread_attr_init(&attr);
	if (r)
		return r;
	r = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (!r)
		r = pthread_create(&bg.th, &attr, parse_main, NULL);
	pthread_attr_destroy(&attr);
	if (r == EINVAL)
		r = pthread_create(&bg.th, NULL, parse_main, NULL);
	return r;
}

void reload_bg_signal(int signum)
{
	sigset_t all, old;
	char *msg = NULL;
	int r;

	if (bg.running) {
		if (bg.again != SIGHUP)
			bg.again = signum;
		return;
	}
	r = reload_begin(&msg);
	if (r < 0) {
		reload_signal_done(signum, r, msg);
		free(msg);
		return;
	}
	bg.signum = signum;
	bg.newc = NULL;
	__atomic_store_n(&bg.finished, false, __ATOMIC_RELAXED);
	if (bg.setup) {
		/* the parse thread takes no signal: T0 handles them; it runs
		 * on the CPUs the process started with, not on T0's alone
		 * (cpu-map 1/1 would otherwise put it beside the relay) */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = create_parser();
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r == 0) {
			bg.running = true;
			return;
		}
		ha_warning("reload: cannot start the parsing thread (%s): parsing in the event loop",
			   strerror(r));
	}
	bg_activate(signum, reload_load_config());
}

void reload_bg_drain(void)
{
	int again;

	if (!bg.running)
		return;
	bg_activate(bg.signum, bg_join());
	again = bg.again;
	bg.again = 0;
	/* the CLI's reload that follows stands for a signal that waited,
	 * except a SIGHUP's reopening of the event files: logrotate sent it,
	 * and the CLI's configuration may be refused */
	if (again == SIGHUP) {
		thread_isolate();
		evlog_reopen();
		thread_release();
	}
}

void reload_bg_cancel(void)
{
	struct dp_config *newc;

	if (bg.running) {
		newc = bg_join();
		if (newc)
			dp_config_put(newc);
	}
	bg.again = 0;
	if (bg.setup && rt.loop)
		ev_async_stop(rt.loop, &bg.done);
	bg.setup = false;
}

void reload_stop_parsing(void)
{
	reload_bg_cancel();
}
