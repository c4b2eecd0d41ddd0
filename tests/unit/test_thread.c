/* test_thread.c — the threads of `nbthread` without a process lock
 * (core/thread.c): callbacks of two workers run at the same time; a job
 * posted to a thread runs on that thread; a job cancelled by its thread
 * does not run; thread_isolate() returns only once every worker is out of
 * its callback, and keeps them parked until thread_release(); nesting; one
 * thread costs no handshake. Run under ThreadSanitizer by make check-tsan
 * (the state the tests read across threads is plain memory: a missing
 * happens-before edge in the isolation is a report there).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/thread.h"
#include "lib/thread.h"

#define NT 3                    /* T0 + two workers */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- fixtures: T0's loop (the default one) and two running workers ---------- */

static ev_timer t0_guard;       /* T0's loop never waits forever */

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w; (void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int setup(void **state)
{
	char *err = NULL;

	(void)state;
	rt.loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOENV);
	thread_init_main();
	if (threads_prepare(NT, &err) < 0 || threads_start(NULL, &err) < 0) {
		print_error("%s\n", err ? err : "threads");
		free(err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	threads_free();
	return 0;
}

/* One iteration of T0's loop, waiting at most 10 ms (jobs posted to T0). */
static void t0_pump(void)
{
	ev_timer_init(&t0_guard, guard_cb, 0.01, 0.0);
	ev_timer_start(rt.loop, &t0_guard);
	ev_run(rt.loop, EVRUN_ONCE);
	if (ev_is_active(&t0_guard))
		ev_timer_stop(rt.loop, &t0_guard);
}

/* Pumps T0's loop until *v reaches want, at most 5 s. */
static void t0_wait(_Atomic int *v, int want)
{
	double end = mono() + 5.0;

	while (atomic_load(v) < want && mono() < end)
		t0_pump();
}

/* ---- posted jobs ----------------------------------------------------------------- */

static _Atomic int ran_on[NT];
static _Atomic int replies;

static _Atomic int reply_not_t0;

/* (no cmocka assertion on a worker: they longjmp) */
static void reply_on_t0(void *arg)
{
	(void)arg;
	if (tid != 0)
		reply_not_t0++;
	replies++;
}

static void record_tid(void *arg)
{
	unsigned want = (unsigned)(uintptr_t)arg;

	ran_on[want] = (int)tid + 1;
	thread_post(0, reply_on_t0, NULL);
}

static void test_post_runs_on_target(void **state)
{
	(void)state;
	replies = 0;
	for (unsigned t = 1; t < NT; t++) {
		ran_on[t] = 0;
		assert_int_equal(thread_post(t, record_tid, (void *)(uintptr_t)t), 0);
	}
	t0_wait(&replies, NT - 1);
	for (unsigned t = 1; t < NT; t++)
		assert_int_equal(ran_on[t], (int)t + 1);
	assert_int_equal(atomic_load(&replies), NT - 1);
	assert_int_equal(atomic_load(&reply_not_t0), 0);
}

/* A job the thread takes back before its loop ran it never runs. */
static int cancelled_ran;

static void cancelled_fn(struct thread_job *j)
{
	(void)j;
	cancelled_ran++;
}

static void test_cancel(void **state)
{
	struct thread_job j = { .fn = cancelled_fn };
	struct thread_job k = { .fn = cancelled_fn };

	(void)state;
	cancelled_ran = 0;
	thread_post_job(0, &j);
	thread_post_job(0, &k);
	thread_post_job(0, &j);         /* already queued: once */
	assert_true(thread_cancel_job(0, &j));
	assert_false(thread_cancel_job(0, &j));
	thread_run_jobs();
	assert_int_equal(cancelled_ran, 1);     /* k only */
	assert_false(thread_cancel_job(0, &k));
}

/* A job that cancels one queued behind it in the same batch (a kill
 * closing a session whose dequeue start was posted meanwhile): the later
 * job does not run. */
static struct thread_job later_j = { .fn = cancelled_fn };
static bool later_cancel_found;

static void canceller_fn(struct thread_job *j)
{
	(void)j;
	later_cancel_found = thread_cancel_job(0, &later_j);
}

static void test_cancel_later_in_batch(void **state)
{
	struct thread_job k = { .fn = canceller_fn };

	(void)state;
	cancelled_ran = 0;
	later_cancel_found = false;
	thread_post_job(0, &k);
	thread_post_job(0, &later_j);
	thread_run_jobs();
	assert_true(later_cancel_found);
	assert_int_equal(cancelled_ran, 0);
	assert_false(thread_cancel_job(0, &later_j));
}

/* thread_queue_job() only queues (a caller's lock covers it, core/sess_conn.c
 * sess_dequeue): the worker, idle in its poll, runs the job only once
 * thread_wake() wakes it; a job queued then cancelled before the wake
 * never runs. */
static _Atomic int queued_ran;

static void queued_fn(struct thread_job *j)
{
	(void)j;
	queued_ran++;
}

static void test_queue_then_wake(void **state)
{
	struct thread_job j = { .fn = queued_fn }, k = { .fn = queued_fn };
	double end;

	(void)state;
	queued_ran = 0;
	assert_true(thread_queue_job(1, &j));
	assert_true(thread_queue_job(1, &k));
	assert_true(thread_cancel_job(1, &k));
	/* nothing wakes worker 1 meanwhile: the job waits */
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&queued_ran), 0);
	thread_wake(1);
	for (end = mono() + 5.0; atomic_load(&queued_ran) < 1 && mono() < end;)
		usleep(1000);
	usleep(20 * 1000);
	assert_int_equal(atomic_load(&queued_ran), 1);  /* j, not the cancelled k */
	assert_false(thread_cancel_job(1, &j));
}

/* ---- parallel callbacks ----------------------------------------------------------- */

/* Each worker's job waits (bounded) until both are inside their job at
 * once: with callbacks serialized (a process lock) neither would see the
 * other and both give up. */
static _Atomic int inside, both_seen;

static void rendezvous(void *arg)
{
	double end = mono() + 2.0;

	(void)arg;
	inside++;
	while (atomic_load(&inside) < 2 && mono() < end)
		;
	if (atomic_load(&inside) >= 2)
		both_seen++;
	thread_post(0, reply_on_t0, NULL);
}

static void test_parallel(void **state)
{
	(void)state;
	inside = 0;
	both_seen = 0;
	replies = 0;
	for (unsigned t = 1; t < NT; t++)
		assert_int_equal(thread_post(t, rendezvous, NULL), 0);
	t0_wait(&replies, NT - 1);
	assert_int_equal(atomic_load(&both_seen), 2);
}

/* ---- isolation --------------------------------------------------------------------- */

/* Each worker counts in plain memory from a 1 ms timer of its loop. */
static unsigned long work[NT];
static ev_timer tick[NT];
static _Atomic int ticking;

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)revents;
	work[w - tick]++;
}

static void start_tick(void *arg)
{
	(void)arg;
	ev_timer_init(&tick[tid], tick_cb, 0.001, 0.001);
	ev_timer_start(loop_cur(), &tick[tid]);
	ticking++;
}

static void stop_tick(void *arg)
{
	(void)arg;
	ev_timer_stop(loop_cur(), &tick[tid]);
	ticking--;
}

/* A worker inside a slow callback when T0 asks: isolation waits for it. */
static _Atomic int slow_in, slow_done;

static void slow_job(void *arg)
{
	(void)arg;
	slow_in = 1;
	usleep(100 * 1000);
	slow_done = 1;
}

static void test_isolate(void **state)
{
	unsigned long before[NT];
	double end;

	(void)state;
	ticking = 0;
	for (unsigned t = 1; t < NT; t++)
		assert_int_equal(thread_post(t, start_tick, NULL), 0);
	end = mono() + 5.0;
	while (atomic_load(&ticking) < NT - 1 && mono() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&ticking), NT - 1);
	usleep(20 * 1000);

	/* parked while isolated: their plain counters do not move */
	thread_isolate();
	assert_true(thread_isolated());
	for (unsigned t = 1; t < NT; t++)
		before[t] = work[t];
	usleep(50 * 1000);
	thread_isolate();               /* nested: no new handshake */
	thread_release();
	for (unsigned t = 1; t < NT; t++)
		assert_int_equal(work[t], before[t]);
	thread_release();
	assert_false(thread_isolated());

	/* released: they count again */
	usleep(50 * 1000);
	thread_isolate();
	for (unsigned t = 1; t < NT; t++)
		assert_true(work[t] > before[t]);
	thread_release();

	/* a slow callback in progress finishes before isolation returns */
	slow_in = slow_done = 0;
	assert_int_equal(thread_post(1, slow_job, NULL), 0);
	end = mono() + 5.0;
	while (!atomic_load(&slow_in) && mono() < end)
		usleep(1000);
	thread_isolate();
	assert_int_equal(atomic_load(&slow_done), 1);
	thread_release();

	for (unsigned t = 1; t < NT; t++)
		assert_int_equal(thread_post(t, stop_tick, NULL), 0);
	end = mono() + 5.0;
	while (atomic_load(&ticking) > 0 && mono() < end)
		usleep(1000);
}

/* With one thread: isolation is free and always granted, a post runs at
 * once (no other thread could be running). */
static int one_ran;

static void one_fn(void *arg)
{
	(void)arg;
	one_ran++;
}

static void test_one_thread(void **state)
{
	(void)state;
	threads_free();
	assert_int_equal(dp_nbthread, 1);
	assert_int_equal(threads_running(), 0);
	assert_true(thread_isolated());
	thread_isolate();
	thread_release();
	one_ran = 0;
	assert_int_equal(thread_post(0, one_fn, NULL), 0);
	assert_int_equal(one_ran, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_runs_on_target),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_later_in_batch),
		cmocka_unit_test(test_queue_then_wake),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_isolate),
		cmocka_unit_test(test_one_thread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
