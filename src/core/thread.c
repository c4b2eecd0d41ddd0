/* thread.c — the event-loop threads of `nbthread` (see thread.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/thread.h"


static struct ev_loop *loops[DP_MAX_THREADS];
static ev_async wake[DP_MAX_THREADS];
static pthread_t handles[DP_MAX_THREADS];
static bool running[DP_MAX_THREADS];
static bool stopping;           /* written and read under the lock */
static bool break_req[DP_MAX_THREADS]; /* loop_break() from another thread */
static unsigned nloops = 1;     /* loops prepared (thread 0 included) */
/* the process lock: held while a thread runs callbacks (thread.h) */
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static bool locked;             /* thread mode: the lock is in use */
static void (*worker_exit)(void);

static void lock_release(struct ev_loop *loop)
{
	(void)loop;
	pthread_mutex_unlock(&big_lock);
}

static void lock_acquire(struct ev_loop *loop)
{
	(void)loop;
	pthread_mutex_lock(&big_lock);
}

struct ev_loop *thread_loop(unsigned t)
{
	if (t == 0)
		return rt.loop;
	return t < nloops ? loops[t] : NULL;
}

void loop_touch(struct ev_loop *l)
{
	unsigned t;

	if (!l || l == loop_cur() || nloops < 2)
		return;
	t = (unsigned)(uintptr_t)ev_userdata(l);
	ev_now_update(l);
	ev_async_send(l, &wake[t]);
}

/* A worker was woken: by loop_touch (nothing to do, its loop re-arms what
 * changed) or to stop. */
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	unsigned t = (unsigned)(w - wake);

	(void)revents;
	if ((stopping && t) || break_req[t]) {
		break_req[t] = false;
		ev_break(loop, EVBREAK_ALL);
	}
}

void loop_break(struct ev_loop *l)
{
	unsigned t;

	if (!l)
		return;
	if (l == loop_cur() || nloops < 2) {
		ev_break(l, EVBREAK_ALL);
		return;
	}
	/* that loop may be waiting in epoll_wait(): libev (with its asserts
	 * on, as Debian builds it) resets a break made meanwhile when the
	 * wait returns, so the loop breaks itself from its wake callback */
	t = (unsigned)(uintptr_t)ev_userdata(l);
	break_req[t] = true;
	ev_async_send(l, &wake[t]);
}

void thread_init_main(void)
{
	th_loop = rt.loop;
	loops[0] = rt.loop;
	tid = 0;
}

int threads_prepare(unsigned n, char **err)
{
	if (n < 1 || n > DP_MAX_THREADS) {
		memprintf(err, "nbthread %u: out of range", n);
		return -EINVAL;
	}
	if (n == 1)
		return 0;
	for (unsigned t = 1; t < n; t++) {
		loops[t] = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
		if (!loops[t]) {
			memprintf(err, "cannot create the event loop of thread %u", t + 1);
			threads_free();
			return -ENOMEM;
		}
		nloops = t + 1;
		ev_set_userdata(loops[t], (void *)(uintptr_t)t);
		ev_async_init(&wake[t], wake_cb);
		ev_async_start(loops[t], &wake[t]);
		ev_set_loop_release_cb(loops[t], lock_release, lock_acquire);
	}
	ev_set_userdata(rt.loop, (void *)(uintptr_t)0);
	ev_async_init(&wake[0], wake_cb);
	ev_async_start(rt.loop, &wake[0]);
	ev_unref(rt.loop); /* T0's wake watcher alone does not keep it running */
	ev_set_loop_release_cb(rt.loop, lock_release, lock_acquire);
	pthread_mutex_lock(&big_lock);
	locked = true;
	dp_nbthread = n;
	return 0;
}

void threads_after_fork(void)
{
	for (unsigned t = 1; t < nloops; t++)
		ev_loop_fork(loops[t]);
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	char name[16];

	/* HAProxy's 1-based number, for ps -L, top -H and /proc/PID/task */
	snprintf(name, sizeof(name), "dp-thread-%u", t + 1);
	pthread_setname_np(pthread_self(), name);
	tid = t;
	th_loop = loops[t];
	pthread_mutex_lock(&big_lock);
	ev_run(th_loop, 0);
	/* work deferred by this thread's last iteration (conf references) */
	loop_run_deferred();
	if (worker_exit)
		worker_exit();
	pthread_mutex_unlock(&big_lock);
	return NULL;
}

int threads_start(void (*at_exit)(void), char **err)
{
	sigset_t all, old;
	int r = 0;

	if (nloops < 2)
		return 0;
	worker_exit = at_exit;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned t = 1; t < nloops; t++) {
		r = pthread_create(&handles[t], NULL, worker, (void *)(uintptr_t)t);
		if (r) {
			memprintf(err, "cannot start thread %u: %s", t + 1, strerror(r));
			break;
		}
		running[t] = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		threads_stop();
		return -r;
	}
	return 0;
}

void threads_stop(void)
{
	bool any = false;

	for (unsigned t = 1; t < nloops; t++)
		any |= running[t];
	if (!any)
		return;
	stopping = true;
	for (unsigned t = 1; t < nloops; t++)
		if (running[t])
			ev_async_send(loops[t], &wake[t]);
	pthread_mutex_unlock(&big_lock);
	for (unsigned t = 1; t < nloops; t++) {
		if (running[t])
			pthread_join(handles[t], NULL);
		running[t] = false;
	}
	pthread_mutex_lock(&big_lock);
	stopping = false;
}

void threads_free(void)
{
	threads_stop();
	for (unsigned t = 1; t < nloops; t++) {
		if (!loops[t])
			continue;
		ev_async_stop(loops[t], &wake[t]);
		ev_loop_destroy(loops[t]);
		loops[t] = NULL;
	}
	nloops = 1;
	if (locked) {
		if (rt.loop) {
			ev_ref(rt.loop);
			ev_async_stop(rt.loop, &wake[0]);
			ev_set_loop_release_cb(rt.loop, NULL, NULL);
		}
		pthread_mutex_unlock(&big_lock);
		locked = false;
	}
	dp_nbthread = 1;
}

bool thread_handle(unsigned t, pthread_t *out)
{
	if (t < 1 || t >= nloops || !running[t])
		return false;
	*out = handles[t];
	return true;
}
