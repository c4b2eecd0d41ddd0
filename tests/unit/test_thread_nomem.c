/* test_thread_nomem.c — work a worker hands to T0 is never lost nor done
 * in place for lack of memory (issue 15, the threading review): with every
 * malloc()/calloc() of the worker failing,
 *   - the last reference on a configuration generation, dropped by a
 *     worker (sess_conf_put), is still freed on T0 with the other threads
 *     parked (isolated), never on the worker itself;
 *   - a server's `observe layer4` report (chk_observe_l4) still reaches T0,
 *     whose action runs (it resets the run of errors).
 * The allocation failures are injected with the linker's --wrap (the
 * objects of libdecoy.a call __wrap_malloc/__wrap_calloc here), per
 * thread, so T0 and the test harness allocate normally. Also run under
 * ThreadSanitizer by make check-tsan.
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
#include <cmocka.h>

#include "core/chk.h"
#include "core/loop.h"
#include "core/sess.h"
#include "core/thread.h"
#include "lib/thread.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"

#include "helpers.h"

#define NT 3                    /* T0 + two workers */

/* ---- allocation failures, per thread ---------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t sz);

static _Thread_local bool fail_alloc;
static _Atomic int refused;     /* allocations refused (the injection worked) */

void *__wrap_malloc(size_t n)
{
	if (fail_alloc) {
		refused++;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t sz)
{
	if (fail_alloc) {
		refused++;
		return NULL;
	}
	return __real_calloc(n, sz);
}

/* ---- fixtures ------------------------------------------------------------------ */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ev_timer t0_guard;

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w; (void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* One iteration of T0's loop (at most 10 ms) and its deferred tasks. */
static void t0_pump(void)
{
	ev_timer_init(&t0_guard, guard_cb, 0.01, 0.0);
	ev_timer_start(rt.loop, &t0_guard);
	ev_run(rt.loop, EVRUN_ONCE);
	if (ev_is_active(&t0_guard))
		ev_timer_stop(rt.loop, &t0_guard);
	loop_run_deferred();
}

static int setup(void **state)
{
	char *err = NULL;

	capture_setup(state);
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

/* Runs fn(arg) on worker 1 with its allocations failing; the job itself
 * is the caller's (posting it allocates nothing). */
struct on_worker {
	struct thread_job j;
	void (*fn)(void *arg);
	void *arg;
	_Atomic int done;
};

static void on_worker_run(struct thread_job *j)
{
	struct on_worker *w = container_of(j, struct on_worker, j);

	fail_alloc = true;
	w->fn(w->arg);
	fail_alloc = false;
	w->done = 1;
}

static void run_on_worker_nomem(struct on_worker *w)
{
	w->j = (struct thread_job){ .fn = on_worker_run };
	w->done = 0;
	thread_post_job(1, &w->j);
}

/* ---- the last reference on a generation ------------------------------------ */

static _Atomic int freed;
static _Atomic int freed_tid = -1;
static _Atomic int freed_isolated;

static void ext_free(struct dp_config *c, struct conf_ext *e)
{
	(void)c;
	freed_tid = (int)tid;
	freed_isolated = thread_isolated() && threads_running() == NT - 1;
	free(e);
	freed++;
}

static const struct conf_ext_ops probe_ops = { .name = "test", .free = ext_free };

static void last_put(void *arg)
{
	sess_conf_put(arg);
}

static void test_last_conf_put_without_memory(void **state)
{
	struct dp_config *c = dp_config_new();
	struct conf_ext *e = calloc(1, sizeof(*e));
	struct on_worker w = { .fn = last_put };

	(void)state;
	assert_non_null(c);
	assert_non_null(e);
	e->ops = &probe_ops;
	conf_ext_add(c, e);
	/* no longer current: the only reference is the worker's session's */
	assert_int_equal(c->refcnt, 1);
	freed = 0;
	refused = 0;
	w.arg = c;
	run_on_worker_nomem(&w);
	for (double end = mono() + 5.0; !(freed && w.done) && mono() < end;)
		t0_pump();
	assert_int_equal(freed, 1);
	assert_int_equal(w.done, 1);
	/* freed by T0, the workers parked: not by the worker */
	assert_int_equal(freed_tid, 0);
	assert_true(freed_isolated);
}

/* ---- observe layer4 ----------------------------------------------------------- */

static void obs_fail(void *arg)
{
	chk_observe_l4(arg, false);
}

static void test_observe_report_without_memory(void **state)
{
	struct dp_config *c = parse_ok("backend b\n"
				       "    server s 127.0.0.1:9 check observe layer4 error-limit 1 on-error mark-down\n");
	struct proxy *px = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct server *s = px ? px->srv : NULL;
	struct on_worker w = { .fn = obs_fail };

	(void)state;
	assert_non_null(s);
	assert_int_equal(c->refcnt, 1);
	w.arg = s;
	run_on_worker_nomem(&w);
	/* the action ran on T0 once the run of errors is back to 0 (no
	 * check runs here: act() stops right after that) */
	for (double end = mono() + 5.0; !(w.done && !s->obs_pending && s->obs_errors == 0) && mono() < end;)
		t0_pump();
	assert_int_equal(w.done, 1);
	assert_int_equal(s->obs_errors, 0);
	assert_false(s->obs_pending);
	/* the reference the report held was given back */
	assert_int_equal(c->refcnt, 1);
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_conf_put_without_memory),
		cmocka_unit_test(test_observe_report_without_memory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
