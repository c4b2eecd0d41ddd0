/* thread.h — the event-loop threads of `nbthread` (thread mode).
 *
 * Thread 0 ("T0", HAProxy's thread 1) runs the default libev loop: signals,
 * reload, CLI, stats page, health checks, NFLOG probes, UDP and the system
 * changes. Threads 1..n-1 each run a loop of their own, created by
 * threads_prepare() and started by threads_start(). Every thread accepts on
 * its own SO_REUSEPORT socket of each frontend bind line (core/listener.c)
 * and owns the sessions it accepted for their whole life (their watchers are
 * on its loop).
 *
 * Threads run their callbacks in parallel: there is no process lock.
 * Sessions and their watchers belong to their thread; what several threads
 * share on the data path is atomic (admission counters, the generation's
 * reference count) or behind a per-object lock held for a few instructions
 * (a backend's queue and balancing cursors, core/sess_conn.c). Control work
 * that must see or change the state of every thread (reload, the CLI, the
 * stats page, health-check transitions, soft stop) runs on T0 *isolated*:
 * thread_isolate() returns once every other thread is harmless — blocked in
 * its poll, or parked right after it — and they stay so until
 * thread_release(). A thread publishes "busy" on its own cache line when its
 * poll returns, then looks at the one "isolation requested" flag (both
 * sequentially consistent): either T0 sees it busy and waits, or it sees the
 * request and parks. Work on another thread's sessions is posted to that
 * thread (thread_post) and runs there, from its loop. With one thread none
 * of this is set up: no hook, no handshake.
 *
 * A thread that changes a watcher on another thread's loop (a CLI command
 * closing a session, a dequeue starting the connect of a session queued by
 * another thread, a session end stopping T0's loop) calls loop_touch() on
 * that loop first: it brings the loop's clock up to date (its timers are
 * computed from it) and wakes it so that it re-arms its descriptors.
 */
#ifndef DECOYPROXY_THREAD_H
#define DECOYPROXY_THREAD_H

#include <ev.h>
#include <pthread.h>
#include "lib/common.h"
#include "lib/job.h"
#include "lib/thread.h"
#include "core/loop.h"

/* Loop of thread t (0: rt.loop); NULL when t does not run. */
struct ev_loop *thread_loop(unsigned t);

/* Before changing a watcher of loop l from any thread: when l is another
 * thread's, updates its clock and wakes it. Cheap no-op for one's own. */
void loop_touch(struct ev_loop *l);

/* ev_break(l, EVBREAK_ALL) from any thread: another thread's loop is
 * asked to break itself (woken). */
void loop_break(struct ev_loop *l);

/* T0: records rt.loop as thread 0's loop. */
void thread_init_main(void);

/* T0, after thread_init_main: n event-loop threads (1..DP_MAX_THREADS).
 * With n > 1 creates the loops of threads 1..n-1 (not the threads) and
 * hooks every loop's release/acquire to the thread's "harmless" flag
 * (isolation); sets dp_nbthread. Returns 0
 * or -errno with *err. */
int threads_prepare(unsigned n, char **err);
/* After fork() (daemon): the children's loops are re-armed. */
void threads_after_fork(void);
/* Starts threads 1..n-1 (signals blocked in them: T0 handles them). A
 * thread that cannot be created stops those already started: -errno with
 * *err, nothing running. at_exit (may be NULL) runs on each worker as it
 * leaves its loop (its per-thread pools). */
int threads_start(void (*at_exit)(void), char **err);
/* Asks every worker to leave its loop and joins them (T0). Sessions they own stay, stopped loops keep
 * their watchers: T0 closes them afterwards. No-op when none runs. */
void threads_stop(void);
/* Frees the workers' loops (after threads_stop and every session is gone). */
void threads_free(void);

/* pthread handle of running thread t (1..n-1): true with *out. */
bool thread_handle(unsigned t, pthread_t *out);

/* ---- isolation --------------------------------------------------------------
 * thread_isolate() (T0 only): returns once every other running thread is
 * harmless; they stay parked until the matching thread_release(). Nests
 * (only the outermost pair does the handshake). Free when no other thread
 * runs (one thread, before threads_start, after threads_stop). Never call it
 * holding a lock that a worker may wait for. */
void thread_isolate(void);
void thread_release(void);
/* true while the calling thread (T0) is isolated, or no other thread runs:
 * every thread's state may be read (sessions lists, queues). */
bool thread_isolated(void);
/* Worker threads currently running (0 with one thread). */
unsigned threads_running(void);

/* ---- work posted to a thread ------------------------------------------------
 * A node embedded in its owner (or allocated by thread_post()). Posting
 * queues it on thread t (a per-thread list under its own lock) and wakes
 * t's loop (ev_async); fn(node) runs on t, from its loop, in posting order.
 * Thread t must run (t == 0, or t < dp_nbthread with threads started) and
 * have been prepared by threads_prepare() (n > 1). */
/* struct thread_job: lib/job.h (embedded in objects of lower layers) */

void thread_post_job(unsigned t, struct thread_job *j);
/* thread_post_job() in two halves, for a caller holding a lock that must
 * cover the queuing but not the wake-up (an eventfd write):
 * thread_queue_job() puts j on thread t's list (no system call) and
 * returns true when t must then be woken by thread_wake(t). t must be
 * another thread of a prepared set (n > 1): with one thread it runs fn
 * at once (under the caller's lock) and returns false. */
bool thread_queue_job(unsigned t, struct thread_job *j);
void thread_wake(unsigned t);
/* Thread t itself: takes j off its list if it is still queued there
 * (its fn will not run). true when it was. */
bool thread_cancel_job(unsigned t, struct thread_job *j);
/* fn(arg) on thread t, the node allocated here and freed after fn:
 * 0, or -ENOMEM (nothing posted). Only for work whose loss is harmless
 * (tests): what must reach its thread embeds its job in the object it
 * works on and uses thread_post_job(), which cannot fail. */
int thread_post(unsigned t, void (*fn)(void *arg), void *arg);
/* Runs the jobs posted to the calling thread now (tests, shutdown). */
void thread_run_jobs(void);

#endif
