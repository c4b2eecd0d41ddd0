/* chk_obs.c — `observe layer4`, `error-limit` and `on-error`: HAProxy's
 * health adjustment from live traffic. Each connection to a server that
 * observes counts: a success clears the run of errors, error-limit failed
 * connections in a row act on the server's health checks as a failed
 * check would (status HANA, "Health analyze") and make the next check come
 * after fastinter. */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>

#include "core/chk.h"
#include "core/chk_int.h"
#include "core/loop.h"
#include "core/sess.h"
#include "core/thread.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"

/* the next check after fastinter, unless it is already due sooner or
 * running */
static void force_fastinter(struct server *s)
{
	struct chk *c = s->chk;

	if (!c || c->fd >= 0 || !ev_is_active(&c->timer))
		return;
	if (ev_timer_remaining(rt.loop, &c->timer) * 1000.0 <= (double)s->chk_fastinter)
		return;
	ev_timer_stop(rt.loop, &c->timer);
	ev_timer_set(&c->timer, s->chk_fastinter / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->timer);
}

/* The action, once the loop iteration's callbacks are done: it may take
 * the server down, and on-marked-down shutdown-sessions then kills its
 * sessions — the one whose failed connect was counted among them, still
 * inside its own callback when it reported. */
static void act(struct server *s)
{
	char info[96];
	bool was_up;

	/* HAProxy's words */
	snprintf(info, sizeof(info), "Detected %u consecutive errors, last one was: L4 unsuccessful connection",
		 s->obs_errors);
	s->obs_errors = 0;
	if (!s->chk)  /* no check (warned at start-up), or its generation was replaced meanwhile */
		return;
	force_fastinter(s);
	if (s->on_error == SRV_ONERR_FASTINTER)
		return;
	was_up = s->chk_up;
	if (s->on_error == SRV_ONERR_SUDDTH && s->chk_health > s->chk_rise)
		s->chk_health = s->chk_rise + 1;   /* one failure left */
	else if (s->on_error == SRV_ONERR_MARKDWN)
		s->chk_health = s->chk_rise;       /* the failure below takes it down */
	chk_apply(s, false);
	snprintf(s->chk_last, sizeof(s->chk_last), "%s", info);
	snprintf(s->chk_st, sizeof(s->chk_st), "%s", chk_status_name(CHK_ST_HANA));
	s->chk_code = 0;
	s->chk_dur = 0;
	chk_transition(s, was_up, CHK_ST_HANA, 0, info, 0);
}

/* T0's list (the actions of T0's sessions, and those workers posted) */
static struct server *obs_head;

static void obs_run(struct loop_task *t)
{
	(void)t;
	while (obs_head) {
		struct server *s = obs_head;
		struct dp_config *c = s->px->conf;

		obs_head = s->obs_next;
		s->obs_next = NULL;
		/* the action changes the server's state: isolated */
		thread_isolate();
		s->obs_pending = false;
		act(s);
		thread_release();
		sess_conf_put(c);  /* may free s: last */
	}
}

static struct loop_task obs_task = { .fn = obs_run };

/* on T0: a worker's session reported the server (its reference held) */
static void obs_posted(struct server *s)
{
	s->obs_next = obs_head;
	obs_head = s;
	loop_defer(&obs_task);
}

static void obs_job_run(struct thread_job *j)
{
	obs_posted(container_of(j, struct server, obs_job));
}

void chk_observe_l4(struct server *s, bool ok)
{
	if (s->observe != SRV_OBS_LAYER4)
		return;
	if (ok) {
		s->obs_errors = 0;
		return;
	}
	if (++s->obs_errors < s->error_limit || atomic_exchange(&s->obs_pending, true))
		return;
	s->px->conf->refcnt++;  /* the server lives until the action ran */
	if (tid != 0) {
		/* health state is T0's: the action runs there. The job is the
		 * server's own (one report pending at a time: obs_pending), so
		 * posting cannot fail and no report is lost */
		s->obs_job.fn = obs_job_run;
		thread_post_job(0, &s->obs_job);
		return;
	}
	obs_posted(s);
}
