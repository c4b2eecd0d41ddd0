/* thread.c — the event-loop threads of `nbthread` (see thread.h): their
 * loops, isolation, and work posted from one thread to another. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/thread.h"

static struct ev_loop *loops[DP_MAX_THREADS];
static ev_async wake[DP_MAX_THREADS];
static pthread_t handles[DP_MAX_THREADS];
static bool running[DP_MAX_THREADS];    /* written by T0 only */
static _Atomic bool stopping;
static unsigned nloops = 1;     /* loops prepared (thread 0 included) */
static void (*worker_exit)(void);

/* Per thread, each on its own cache line: "harmless" (written by its
 * thread once per iteration, read by an isolating T0), the loop_break()
 * request, and the list of posted jobs (taken rarely, by posters). */
struct thr_slot {
	_Atomic int harmless;
	_Atomic bool break_req;
	pthread_mutex_t jlock;
	struct thread_job *jhead, **jtail;
} __attribute__((aligned(64)));

static struct thr_slot slots[DP_MAX_THREADS];
static bool slots_ready;

/* isolation: requested by T0 (iso_req), parked threads wait on iso_cond */
static _Atomic int iso_req __attribute__((aligned(64)));
static unsigned iso_depth;      /* T0 only */
static pthread_mutex_t iso_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t iso_cond = PTHREAD_COND_INITIALIZER;

static void slots_init(void)
{
	if (slots_ready)
		return;
	for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
		atomic_init(&slots[t].harmless, 1);
		atomic_init(&slots[t].break_req, false);
		pthread_mutex_init(&slots[t].jlock, NULL);
		slots[t].jhead = NULL;
		slots[t].jtail = &slots[t].jhead;
	}
	slots_ready = true;
}

/* ---- isolation ------------------------------------------------------------- */

/* A worker's loop is about to wait for events: harmless until it returns. */
static void thr_release_cb(struct ev_loop *loop)
{
	(void)loop;
	atomic_store(&slots[tid].harmless, 1);
}

/* Its wait returned: busy again, unless T0 asked for isolation, in which
 * case it parks (harmless) until T0 releases. Dekker's pattern: the store
 * of "busy" and T0's store of the request are both seq_cst, so at least
 * one of the two sides sees the other's. */
static void thr_acquire_cb(struct ev_loop *loop)
{
	struct thr_slot *sl = &slots[tid];

	(void)loop;
	atomic_store(&sl->harmless, 0);
	if (__builtin_expect(!atomic_load(&iso_req), 1))
		return;
	pthread_mutex_lock(&iso_mtx);
	while (atomic_load(&iso_req)) {
		atomic_store(&sl->harmless, 1);
		pthread_cond_wait(&iso_cond, &iso_mtx);
		atomic_store(&sl->harmless, 0);
	}
	pthread_mutex_unlock(&iso_mtx);
}

unsigned threads_running(void)
{
	unsigned n = 0;

	for (unsigned t = 1; t < nloops; t++)
		n += running[t];
	return n;
}

void thread_isolate(void)
{
	if (tid != 0 || iso_depth++ > 0 || !threads_running())
		return;
	atomic_store(&iso_req, 1);
	for (unsigned t = 1; t < nloops; t++) {
		unsigned spins = 0;

		if (!running[t])
			continue;
		while (!atomic_load(&slots[t].harmless)) {
			if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
			} else
				sched_yield();
		}
	}
}

void thread_release(void)
{
	if (tid != 0 || !iso_depth || --iso_depth > 0)
		return;
	if (!atomic_load(&iso_req))
		return; /* isolated alone: no thread was running */
	pthread_mutex_lock(&iso_mtx);
	atomic_store(&iso_req, 0);
	pthread_cond_broadcast(&iso_cond);
	pthread_mutex_unlock(&iso_mtx);
}

bool thread_isolated(void)
{
	return tid == 0 && (iso_depth > 0 || !threads_running());
}

/* ---- posted jobs ------------------------------------------------------------ */

void thread_run_jobs(void)
{
	struct thr_slot *sl = &slots[tid];
	unsigned n = 0;

	if (!slots_ready)
		return;
	/* one job at a time, each taken off the list under the lock just
	 * before it runs: a job may cancel a later one (a kill closing a
	 * session whose dequeue start is queued behind it), which must then
	 * still be on the list for thread_cancel_job() to find. At most the
	 * jobs queued at entry: one posting itself again waits for the next
	 * wake-up. */
	pthread_mutex_lock(&sl->jlock);
	for (struct thread_job *x = sl->jhead; x; x = x->next)
		n++;
	pthread_mutex_unlock(&sl->jlock);
	while (n--) {
		struct thread_job *j;

		pthread_mutex_lock(&sl->jlock);
		j = sl->jhead;
		if (j) {
			sl->jhead = j->next;
			if (!sl->jhead)
				sl->jtail = &sl->jhead;
			j->queued = false;
			j->next = NULL;
		}
		pthread_mutex_unlock(&sl->jlock);
		if (!j)
			break; /* the rest were cancelled */
		j->fn(j); /* may free j, or post it again */
	}
}

bool thread_queue_job(unsigned t, struct thread_job *j)
{
	struct thr_slot *sl = &slots[t];

	if (nloops < 2 || t >= nloops) {
		/* one thread: no other thread could post; runs now */
		j->fn(j);
		return false;
	}
	pthread_mutex_lock(&sl->jlock);
	if (!j->queued) {
		j->next = NULL;
		j->queued = true;
		*sl->jtail = j;
		sl->jtail = &j->next;
	}
	pthread_mutex_unlock(&sl->jlock);
	return true;
}

void thread_wake(unsigned t)
{
	ev_async_send(thread_loop(t), &wake[t]);
}

void thread_post_job(unsigned t, struct thread_job *j)
{
	if (thread_queue_job(t, j))
		thread_wake(t);
}

bool thread_cancel_job(unsigned t, struct thread_job *j)
{
	struct thr_slot *sl = &slots[t];
	bool was = false;

	if (!slots_ready)
		return false;
	pthread_mutex_lock(&sl->jlock);
	if (j->queued) {
		struct thread_job **pp = &sl->jhead, *prev = NULL;

		for (; *pp; prev = *pp, pp = &(*pp)->next)
			if (*pp == j) {
				*pp = j->next;
				if (sl->jtail == &j->next)
					sl->jtail = prev ? &prev->next : &sl->jhead;
				break;
			}
		j->queued = false;
		j->next = NULL;
		was = true;
	}
	pthread_mutex_unlock(&sl->jlock);
	return was;
}

struct fn_job {
	struct thread_job j;
	void (*fn)(void *arg);
	void *arg;
};

static void fn_job_run(struct thread_job *j)
{
	struct fn_job *f = container_of(j, struct fn_job, j);
	void (*fn)(void *) = f->fn;
	void *arg = f->arg;

	free(f);
	fn(arg);
}

int thread_post(unsigned t, void (*fn)(void *arg), void *arg)
{
	struct fn_job *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->j.fn = fn_job_run;
	f->fn = fn;
	f->arg = arg;
	thread_post_job(t, &f->j);
	return 0;
}

/* ---- loops ------------------------------------------------------------------ */

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

/* A thread was woken: jobs posted to it, a loop_touch (nothing to do, its
 * loop re-arms what changed), or to stop. */
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	unsigned t = (unsigned)(w - wake);

	(void)revents;
	thread_run_jobs();
	if ((t && atomic_load(&stopping)) || atomic_exchange(&slots[t].break_req, false))
		ev_break(loop, EVBREAK_ALL);
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
	atomic_store(&slots[t].break_req, true);
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
	slots_init();
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
		ev_set_loop_release_cb(loops[t], thr_release_cb, thr_acquire_cb);
	}
	ev_set_userdata(rt.loop, (void *)(uintptr_t)0);
	ev_async_init(&wake[0], wake_cb);
	ev_async_start(rt.loop, &wake[0]);
	ev_unref(rt.loop); /* T0's wake watcher alone does not keep it running */
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
	thr_acquire_cb(th_loop); /* busy (or parked) before its first callback */
	ev_run(th_loop, 0);
	/* work posted or deferred by this thread's last iteration (conf
	 * references) */
	thread_run_jobs();
	loop_run_deferred();
	if (worker_exit)
		worker_exit();
	atomic_store(&slots[t].harmless, 1);
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
		atomic_store(&slots[t].harmless, 0); /* until it runs: busy */
		r = pthread_create(&handles[t], NULL, worker, (void *)(uintptr_t)t);
		if (r) {
			atomic_store(&slots[t].harmless, 1);
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
	if (!threads_running())
		return;
	atomic_store(&stopping, true);
	for (unsigned t = 1; t < nloops; t++)
		if (running[t])
			ev_async_send(loops[t], &wake[t]);
	for (unsigned t = 1; t < nloops; t++) {
		if (running[t])
			pthread_join(handles[t], NULL);
		running[t] = false;
	}
	atomic_store(&stopping, false);
	/* jobs posted to T0 by the workers as they stopped */
	thread_run_jobs();
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
	if (nloops > 1 && rt.loop) {
		ev_ref(rt.loop);
		ev_async_stop(rt.loop, &wake[0]);
	}
	nloops = 1;
	dp_nbthread = 1;
}

bool thread_handle(unsigned t, pthread_t *out)
{
	if (t < 1 || t >= nloops || !running[t])
		return false;
	*out = handles[t];
	return true;
}
