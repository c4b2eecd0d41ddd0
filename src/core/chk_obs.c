/* chk_obs.c — `observe layer4`, `error-limit` and `on-error`: HAProxy's
 * health adjustment from live traffic. Each connection to a server that
 * observes counts: a success clears the run of errors, error-limit failed
 * connections in a row act on the server's health checks as a failed
 * check would (status HANA, "Health analyze") and make the next check come
 * after fastinter. */
#include "config.h"

#include <stdio.h>

#include "core/chk.h"
#include "core/chk_int.h"
#include "core/loop.h"
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

void chk_observe_l4(struct server *s, bool ok)
{
	char info[96];
	bool was_up;

	if (s->observe != SRV_OBS_LAYER4)
		return;
	if (ok) {
		s->obs_errors = 0;
		return;
	}
	if (++s->obs_errors < s->error_limit)
		return;
	/* HAProxy's words */
	snprintf(info, sizeof(info), "Detected %u consecutive errors, last one was: L4 unsuccessful connection",
		 s->obs_errors);
	s->obs_errors = 0;
	force_fastinter(s);
	if (!s->check || s->on_error == SRV_ONERR_FASTINTER)
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
