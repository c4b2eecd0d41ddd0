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
 * Shared state (sessions lists, queues, slots, counters, the running
 * generation) is protected by one process lock that a thread holds whenever
 * it runs callbacks and releases only while its loop waits for events (libev's
 * loop release/acquire hooks): callbacks of different threads never run at
 * the same time, so every structure of the single-threaded design stays
 * consistent, and holding the lock is itself a quiescent point (no other
 * thread is inside an iteration). With one thread none of this is set up:
 * no lock, no extra loop.
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
 * With n > 1 creates the loops of threads 1..n-1 (not the threads), takes
 * the process lock and hooks it to every loop; sets dp_nbthread. Returns 0
 * or -errno with *err. */
int threads_prepare(unsigned n, char **err);
/* After fork() (daemon): the children's loops are re-armed. */
void threads_after_fork(void);
/* Starts threads 1..n-1 (signals blocked in them: T0 handles them). A
 * thread that cannot be created stops those already started: -errno with
 * *err, nothing running. at_exit (may be NULL) runs on each worker as it
 * leaves its loop (its per-thread pools). */
int threads_start(void (*at_exit)(void), char **err);
/* Asks every worker to leave its loop and joins them (T0, holding the lock;
 * holds it again on return). Sessions they own stay, stopped loops keep
 * their watchers: T0 closes them afterwards. No-op when none runs. */
void threads_stop(void);
/* Frees the workers' loops (after threads_stop and every session is gone). */
void threads_free(void);

/* pthread handle of running thread t (1..n-1): true with *out. */
bool thread_handle(unsigned t, pthread_t *out);

#endif
