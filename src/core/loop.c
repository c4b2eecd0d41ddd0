/* loop.c — process-wide state: the event loop, connection limits, and the
 * accept throttle shared by every listener. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/conf.h"
#include "core/listener.h"
#include "log/log.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "core/sess.h"
#include "log/msg.h"

struct runtime rt;

/* After EMFILE/ENFILE, stop accepting this long, then try again. */
#define FD_EXHAUSTION_PAUSE 0.1

unsigned rt_fe_maxconn(const struct proxy *fe)
{
	return fe->maxconn ? fe->maxconn : rt.maxconn;
}

bool rt_may_accept(const struct proxy *fe)
{
	if (rt.accept_paused || rt.admin_paused || rt.stopping || fe->disabled)
		return false;
	if (rt.actconn >= rt.maxconn)
		return false;
	return fe->feconn < rt_fe_maxconn(fe);
}

static void for_each_listener(void (*fn)(struct listener *l, void *arg), void *arg)
{
	if (!rt.conf)
		return;
	for (struct proxy *px = rt.conf->proxies; px; px = px->next)
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next)
			for (struct listener *l = bc->listeners; l; l = l->next)
				fn(l, arg);
}

static void update_one(struct listener *l, void *arg)
{
	bool ok = rt_may_accept(l->bc->fe) && !(l->bc->maxconn && l->nbconn >= l->bc->maxconn);

	if (ok && !ev_is_active(&l->io))
		listener_start(l);
	else if (!ok && ev_is_active(&l->io))
		listener_stop(l);
}

void rt_listeners_update(void)
{
	for_each_listener(update_one, NULL);
	/* a soft stop ends when the last session is gone */
	if (rt.stopping && sess_count == 0 && rt.loop)
		ev_break(rt.loop, EVBREAK_ALL);
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	rt.accept_paused = false;
	rt_listeners_update();
}

void rt_accept_throttle(void)
{
	static double last;

	rt.fd_exhaustion_events++;
	if (ha_ratelimit(&last, 10.0))
		ha_warning("out of file descriptors or socket memory (%s): pausing accept for %d ms",
			   strerror(errno), (int)(FD_EXHAUSTION_PAUSE * 1000));
	rt.accept_paused = true;
	rt_listeners_update();
	if (!ev_is_active(&rt.resume_timer)) {
		ev_timer_init(&rt.resume_timer, resume_cb, FD_EXHAUSTION_PAUSE, 0.0);
		ev_timer_start(rt.loop, &rt.resume_timer);
	}
}
