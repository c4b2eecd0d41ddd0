/* loop.c — process-wide state: connection limits and deferred work (see
 * loop.h). */
#include "config.h"

#include <stdatomic.h>
#include <time.h>

#include "core/loop.h"
#include "model/proxy.h"

struct runtime rt;
_Thread_local struct ev_loop *th_loop;
_Thread_local bool rt_conn_taken;

unsigned rt_fe_maxconn(const struct proxy *fe)
{
	return fe->maxconn ? fe->maxconn : rt.maxconn;
}

bool rt_may_accept(const struct proxy *fe)
{
	if (rt.admin_paused || rt.stopping || fe->disabled)
		return false;
	if (rt.actconn >= rt.maxconn)
		return false;
	return fe->feconn < rt_fe_maxconn(fe);
}

bool rt_ratelimit_process(_Atomic double *last, double period_s)
{
	struct timespec ts;
	double t, prev = atomic_load_explicit(last, memory_order_relaxed);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (prev && t - prev < period_s)
		return false;
	return atomic_compare_exchange_strong(last, &prev, t ? t : 1);
}

bool rt_take_below(_Atomic unsigned *v, unsigned max)
{
	unsigned cur = atomic_load_explicit(v, memory_order_relaxed);

	do {
		if (cur >= max)
			return false;
	} while (!atomic_compare_exchange_weak(v, &cur, cur + 1));
	return true;
}

bool rt_take_conn(struct proxy *fe)
{
	if (!rt_take_below(&rt.actconn, rt.maxconn))
		return false;
	if (!rt_take_below(&fe->feconn, rt_fe_maxconn(fe))) {
		rt.actconn--;
		return false;
	}
	return true;
}

void rt_drop_conn(struct proxy *fe)
{
	fe->feconn--;
	rt.actconn--;
}

/* ---- deferred work --------------------------------------------------------
 * An ev_prepare watcher runs just before the loop would block: every
 * callback of the iteration is done by then. It is started only while some
 * task is pending, so an idle loop pays nothing. */

/* per thread: a task runs on the thread that deferred it; a task object is
 * deferred by one thread only (the session module's is _Thread_local, the
 * observe-layer4 one T0's) */
static _Thread_local struct loop_task *tasks_head, **tasks_tail;
static _Thread_local ev_prepare defer_watcher;
static _Thread_local struct ev_loop *defer_loop;

void loop_run_deferred(void)
{
	/* tasks deferred while running go to the next round of this loop */
	while (tasks_head) {
		struct loop_task *t = tasks_head;

		tasks_head = t->next;
		if (!tasks_head)
			tasks_tail = &tasks_head;
		t->next = NULL;
		t->pending = false;
		t->fn(t);
	}
	if (defer_loop && ev_is_active(&defer_watcher))
		ev_prepare_stop(defer_loop, &defer_watcher);
}

static void defer_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop; (void)w; (void)revents;
	loop_run_deferred();
}

void loop_defer(struct loop_task *t)
{
	struct ev_loop *loop = loop_cur();

	if (t->pending)
		return;
	if (!tasks_tail)
		tasks_tail = &tasks_head;
	t->pending = true;
	t->next = NULL;
	*tasks_tail = t;
	tasks_tail = &t->next;
	if (!loop)
		return;
	if (defer_loop != loop) {
		if (defer_loop && ev_is_active(&defer_watcher))
			ev_prepare_stop(defer_loop, &defer_watcher);
		ev_prepare_init(&defer_watcher, defer_cb);
		defer_loop = loop;
	}
	if (!ev_is_active(&defer_watcher))
		ev_prepare_start(loop, &defer_watcher);
}
