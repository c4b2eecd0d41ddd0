/* reload.c — configuration generations in service, reload on SIGUSR2, and
 * the process-control signals.
 *
 * decoyproxy reloads inside its one process: the new configuration is parsed
 * and validated whole while the old one keeps serving; listeners whose
 * address, namespace and socket options are unchanged move their socket to
 * the new generation (the kernel's accept queue never closes, so no SYN is
 * refused or reset); sessions keep the proxies and servers they started
 * with until they end. HAProxy achieves the same with a master process that
 * passes listening sockets to a new worker; a single process needs no fd
 * passing and keeps one log stream and one set of counters.
 *
 * A service manager following sd_notify(3) hears RELOADING=1 (with
 * MONOTONIC_USEC) when a reload starts and READY=1 when it is over, whether
 * the new configuration went into service or the old one was kept, and
 * STOPPING=1 on a stop signal.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "core/listener.h"
#include "log/log.h"
#include "model/proxy.h"
#include "ctl/module.h"
#include "ctl/process.h"
#include "ctl/reload.h"
#include "ctl/reload_int.h"
#include "core/loop.h"
#include "ctl/sdnotify.h"
#include "core/sess.h"
#include "core/thread.h"
#include "ctl/cli.h"
#include "log/evlog.h"
#include "log/msg.h"

static const char *const *cfg_files;
static size_t cfg_nfiles;

void reload_set_files(const char *const *files, size_t n)
{
	cfg_files = files;
	cfg_nfiles = n;
}

struct dp_config *reload_load_config(void)
{
	struct dp_config *c = dp_config_new();
	int errors = 0;

	if (!c) {
		ha_alert("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cfg_nfiles; i++) {
		int r = cfg_parse_path(c, &c->files, cfg_files[i]);

		errors += r < 0 ? 1 : r;
	}
	if (!errors)
		errors = modules_finalize(c);
	if (errors) {
		ha_alert("config : Fatal errors found in configuration.");
		dp_config_put(c);
		return NULL;
	}
	return c;
}

/* hard-stop-after for sessions of removed frontends: each reload that
 * removes frontends with sessions still running records those sessions (by
 * id) in a batch with its own timer, so that the bound counts from the
 * reload that removed their frontend and a later reload never extends it.
 * When the timer fires, the sessions of the batch still alive are killed,
 * unless a reload in between brought their frontend back. */
struct linger_batch {
	struct linger_batch *next;
	ev_timer timer;
	unsigned generation;        /* the generation whose reload removed their frontend */
	double bound;               /* seconds */
	size_t n;
	unsigned long long ids[];   /* ascending */
};

static struct linger_batch *linger_batches;

/* A session whose frontend does not exist (by name) in c. */
static bool fe_removed(const struct sess *s, struct dp_config *c)
{
	return s->fe->conf != c && !dp_config_find_proxy(c, s->fe->name, PR_CAP_FE);
}

static int cmp_id(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static bool batch_has(const struct linger_batch *b, unsigned long long id)
{
	return bsearch(&id, b->ids, b->n, sizeof(b->ids[0]), cmp_id) != NULL;
}

static bool linger_pending(unsigned long long id)
{
	for (const struct linger_batch *b = linger_batches; b; b = b->next)
		if (batch_has(b, id))
			return true;
	return false;
}

static void batch_free(struct linger_batch *b)
{
	for (struct linger_batch **p = &linger_batches; *p; p = &(*p)->next) {
		if (*p == b) {
			*p = b->next;
			break;
		}
	}
	if (rt.loop)
		ev_timer_stop(rt.loop, &b->timer);
	free(b);
}

static void linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct linger_batch *b = container_of(w, struct linger_batch, timer);
	unsigned killed = 0;
	unsigned long long *ids;

	/* the sessions of the batch still alive, every thread's (isolated);
	 * each thread kills its own (sess_kill_ids) */
	thread_isolate();
	ids = calloc(b->n ? b->n : 1, sizeof(*ids));
	if (ids) {
		FOR_EACH_SESS(s)
			if (killed < b->n && batch_has(b, s->id) && fe_removed(s, rt.conf))
				ids[killed++] = s->id;
		qsort(ids, killed, sizeof(*ids), cmp_id);
		sess_kill_ids(ids, killed, TERM_EV_KILLED);
		free(ids);
	}
	thread_release();
	if (killed)
		ha_warning("hard-stop-after: killed %u session(s) of removed frontends (%g s after the reload to generation %u)",
			   killed, b->bound, b->generation);
	batch_free(b);
}

/* After a successful reload to newc: start the bound for the sessions of
 * frontends newc removed (those not already bounded by an earlier reload). */
/* Sessions whose frontend newc brings back leave their batches: should a
 * later reload remove that frontend again, their bound counts from then. */
static void linger_forgive(struct dp_config *newc)
{
	struct linger_batch *b, *next;

	if (!linger_batches)
		return;
	FOR_EACH_SESS(s) {
		if (fe_removed(s, newc))
			continue;
		for (b = linger_batches; b; b = b->next) {
			unsigned long long *p = bsearch(&s->id, b->ids, b->n, sizeof(b->ids[0]), cmp_id);

			if (p) {
				memmove(p, p + 1, (size_t)(b->ids + b->n - p - 1) * sizeof(*p));
				b->n--;
			}
		}
	}
	for (b = linger_batches; b; b = next) {
		next = b->next;
		if (!b->n)
			batch_free(b);
	}
}

static void linger_arm(struct dp_config *newc)
{
	struct linger_batch *b;
	size_t n = 0;

	linger_forgive(newc);
	if (!newc->g.hard_stop_after)
		return;
	FOR_EACH_SESS(s)
		if (fe_removed(s, newc) && !linger_pending(s->id))
			n++;
	if (!n)
		return;
	b = calloc(1, sizeof(*b) + n * sizeof(b->ids[0]));
	if (!b) {
		ha_alert("out of memory: hard-stop-after does not apply to the sessions of frontends removed by this reload");
		return;
	}
	FOR_EACH_SESS(s)
		if (b->n < n && fe_removed(s, newc) && !linger_pending(s->id))
			b->ids[b->n++] = s->id;
	qsort(b->ids, b->n, sizeof(b->ids[0]), cmp_id);
	b->generation = newc->generation;
	b->bound = newc->g.hard_stop_after / 1000.0;
	/* parsing may have taken a while: count from now, not from the
	 * loop's cached time */
	ev_now_update(rt.loop);
	ev_timer_init(&b->timer, linger_cb, b->bound, 0.0);
	ev_timer_start(rt.loop, &b->timer);
	b->next = linger_batches;
	linger_batches = b;
	ha_notice("hard-stop-after: %zu session(s) of removed frontends end within %g s", b->n, b->bound);
}

int reload_activate(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	/* what newc creates carries this run's mark (net/owner.h) */
	newc->owner = process_owner_mark(newc);
	if (modules_apply(newc, oldc, err) < 0) {
		/* oldc serves again: its listeners may accept */
		listeners_update();
		return -1;
	}

	/* point of no return */
	rt.conf = newc;
	msg_set_targets(&newc->g.logs, newc->g.log_tag);
	modules_commit(newc, oldc);
	if (newc->g.maxconn)
		rt.maxconn = newc->g.maxconn;
	listeners_update();
	if (oldc) {
		ha_notice("reload: configuration generation %u in service (%u listener(s) kept, %u opened, %u closed; %u session(s) carried over)",
			  newc->generation, modules_last_counts.kept, modules_last_counts.opened,
			  modules_last_counts.closed, sess_count_get());
		linger_arm(newc);
	}
	return 0;
}

/* STATUS= text while a generation serves. */
static void notify_serving(const struct dp_config *c, const char *what)
{
	char *st = NULL;

	if (!sdnotify_enabled())
		return;
	memprintf(&st, "%s: configuration generation %u in service, %zu listener(s), %u session(s)", what,
		  c->generation, dp_config_count_listeners(c), sess_count_get());
	sdnotify_ready(st);
	free(st);
}

int reload_begin(char **msg)
{
	char *st = NULL;

	if (rt.stopping) {
		memprintf(msg, "reload refused: the process is stopping");
		return -EBUSY;
	}
	if (sdnotify_enabled()) {
		memprintf(&st, "Reloading the configuration (generation %u in service)", rt.conf->generation);
		sdnotify_reloading(st);
		free(st);
	}
	return 0;
}

int reload_end(struct dp_config *newc, char **msg)
{
	struct dp_config *oldc = rt.conf;
	char *err = NULL, *st = NULL;
	int r = 0;

	if (rt.stopping) {
		/* a stop signal came while the parse ran in the background:
		 * refused as reload_begin() refuses it, parsed well or not */
		if (newc)
			dp_config_put(newc);
		memprintf(msg, "reload refused: the process is stopping");
		return -EBUSY;
	}
	if (!newc) {
		memprintf(msg, "reload failed: the new configuration has errors (see the alerts above); the running configuration (generation %u) is kept",
			  oldc->generation);
		ha_alert("%s", *msg);
		memprintf(&st, "Reload failed, configuration generation %u kept: the new configuration has errors",
			  oldc->generation);
		r = -EINVAL;
		goto out;
	}
	/* the switch and the old generation's release: isolated */
	thread_isolate();
	if (reload_activate(newc, oldc, &err) < 0) {
		thread_release();
		memprintf(msg, "reload failed: %s; the running configuration (generation %u) is kept",
			  err ? err : "unknown error", oldc->generation);
		ha_alert("%s", *msg);
		memprintf(&st, "Reload failed, configuration generation %u kept: %s", oldc->generation,
			  err ? err : "unknown error");
		free(err);
		dp_config_put(newc);
		r = -EIO;
		goto out;
	}
	memprintf(msg, "reload succeeded: generation %u in service", newc->generation);
	dp_config_put(oldc); /* sessions still holding it keep it alive */
	thread_release();
out:
	/* READY=1 in both cases: the service is running again, on the new
	 * configuration or on the one it kept */
	if (sdnotify_enabled()) {
		if (r == 0)
			notify_serving(rt.conf, "Reloaded");
		else
			sdnotify_ready(st);
	}
	free(st);
	return r;
}

int reload_now(char **msg)
{
	int r;

	/* a signal's reload still parsing in the background goes first */
	reload_bg_drain();
	r = reload_begin(msg);
	if (r < 0)
		return r;
	return reload_end(reload_load_config(), msg);
}

void reload_notify_ready(void)
{
	if (rt.conf)
		notify_serving(rt.conf, "Ready");
}

/* ---- signals --------------------------------------------------------------------- */

static ev_signal sig_term, sig_int, sig_usr1, sig_usr2, sig_hup, sig_ttou, sig_ttin;
static ev_timer hard_stop_timer;

/* every thread's: each kills its own (or T0 all of them once the others
 * stopped) */
static void kill_all_sessions(void)
{
	sess_kill_where(sess_match_all, 0, TERM_EV_KILLED);
}

static void hard_stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ha_warning("hard-stop-after reached: killing %u remaining session(s)", sess_count_get());
	sdnotify_status("hard-stop-after reached: killing the remaining sessions");
	thread_isolate();
	kill_all_sessions();
	thread_release();
	ev_break(loop, EVBREAK_ALL);
}

static void on_signal_isolated(struct ev_loop *loop, ev_signal *w);

/* the signals change what every thread shares (listeners, generations):
 * handled with the other threads parked, except the parsing of a reload */
static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGUSR2 || w->signum == SIGHUP) {
		on_signal_isolated(loop, w);
		return;
	}
	thread_isolate();
	on_signal_isolated(loop, w);
	thread_release();
}

static void on_signal_isolated(struct ev_loop *loop, ev_signal *w)
{
	char *msg = NULL;

	switch (w->signum) {
	case SIGTERM:
	case SIGINT:
		ha_notice("%s received: stopping now (%u session(s) killed)",
			  w->signum == SIGTERM ? "SIGTERM" : "SIGINT", sess_count_get());
		sdnotify_stopping(w->signum == SIGTERM ? "Stopping now (SIGTERM)" : "Stopping now (SIGINT)");
		rt.stopping = true;
		listeners_close(rt.conf);
		kill_all_sessions();
		ev_break(loop, EVBREAK_ALL);
		break;
	case SIGUSR1:
		ha_notice("SIGUSR1 received: soft stop, waiting for %u session(s) to end", sess_count_get());
		if (sdnotify_enabled()) {
			memprintf(&msg, "Soft stop (SIGUSR1): not accepting, waiting for %u session(s) to end", sess_count_get());
			sdnotify_stopping(msg);
			free(msg);
			msg = NULL;
		}
		rt.stopping = true;
		listeners_close(rt.conf);
		/* the deadline counts from the first soft stop: a repeated
		 * SIGUSR1 keeps it (and must not re-initialise a started or
		 * pending timer, which corrupts libev's timer heap) */
		if (rt.conf->g.hard_stop_after && !ev_is_active(&hard_stop_timer) &&
		    !ev_is_pending(&hard_stop_timer)) {
			ev_timer_init(&hard_stop_timer, hard_stop_cb, rt.conf->g.hard_stop_after / 1000.0, 0.0);
			ev_timer_start(loop, &hard_stop_timer);
		}
		/* a soft stop ends when the last session is gone */
		if (sess_count_get() == 0)
			ev_break(loop, EVBREAK_ALL);
		break;
	case SIGTTOU:
		ha_notice("SIGTTOU received: pausing listeners");
		rt.admin_paused = true;
		listeners_pause_all(rt.conf, true);
		listeners_update();
		sdnotify_status("Paused (SIGTTOU): listeners closed to new connections until SIGTTIN");
		break;
	case SIGTTIN:
		ha_notice("SIGTTIN received: resuming listeners");
		listeners_pause_all(rt.conf, false);
		rt.admin_paused = false;
		listeners_update();
		if (sdnotify_enabled())
			notify_serving(rt.conf, "Resumed");
		break;
	case SIGUSR2:
	case SIGHUP:
		ha_notice("%s received: reloading the configuration", w->signum == SIGUSR2 ? "SIGUSR2" : "SIGHUP");
		/* parsed on a thread of its own, activated here (reload_bg.c) */
		reload_bg_signal(w->signum);
		break;
	}
}

void reload_signal_done(int signum, int r, const char *msg)
{
	if (r == 0) {
		ha_notice("%s", msg);
	} else if (signum == SIGHUP) {
		/* logrotate sent it: let go of the renamed event files
		 * even though the new configuration was refused */
		thread_isolate();
		evlog_reopen();
		thread_release();
	}
}

void reload_setup_signals(void)
{
	struct { ev_signal *w; int sig; } s[] = {
		{ &sig_term, SIGTERM }, { &sig_int, SIGINT }, { &sig_usr1, SIGUSR1 }, { &sig_usr2, SIGUSR2 },
		{ &sig_hup, SIGHUP }, { &sig_ttou, SIGTTOU }, { &sig_ttin, SIGTTIN },
	};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		ev_signal_init(s[i].w, on_signal, s[i].sig);
		ev_signal_start(rt.loop, s[i].w);
	}
	reload_bg_setup();
	cli_reload_hook = reload_now;
	cli_reload_drain = reload_bg_drain;
}

void reload_shutdown(void)
{
	struct dp_config *c = rt.conf;

	reload_bg_cancel();
	kill_all_sessions();
	/* what the kills deferred (dequeues hold generation references) */
	loop_run_deferred();
	while (linger_batches)
		batch_free(linger_batches);
	if (!c)
		return;
	modules_remove(c);
}
