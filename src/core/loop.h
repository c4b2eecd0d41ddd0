/* loop.h — process-wide state: the event loop, the running configuration,
 * connection accounting, and work deferred to the end of a loop iteration.
 *
 * Deferred work is how a lower part of the data path unlocks work without
 * re-entering a higher one: a session that ends defers the dequeue of its
 * backend and the listeners' update instead of calling them from inside its
 * close (which may run inside another session's callback).
 */
#ifndef DECOYPROXY_LOOP_H
#define DECOYPROXY_LOOP_H

#include <ev.h>
#include "lib/common.h"
#include "log/msg.h"

struct dp_config;
struct proxy;

struct runtime {
	struct ev_loop *loop;
	struct dp_config *conf;     /* running configuration */
	unsigned maxconn;           /* effective global maxconn */
	_Atomic unsigned actconn;   /* sessions alive (%ac), every thread's */
	bool accept_paused;         /* fd exhaustion: T0's pause (each thread has
	                             * its own, core/listener.c) */
	_Atomic bool admin_paused;  /* SIGTTOU (written on T0) */
	_Atomic bool stopping;      /* soft stop in progress (written on T0) */
	unsigned long long fd_exhaustion_events; /* atomic (RARE_INC) */
};

extern struct runtime rt;

/* This thread's event loop (set as the thread starts, core/thread.c; NULL
 * in a process that never set it up). Code that may run on any thread
 * uses loop_cur(); rt.loop is thread 0's (signals, CLI, checks, UDP). */
extern _Thread_local struct ev_loop *th_loop;

static inline struct ev_loop *loop_cur(void)
{
	return th_loop ? th_loop : rt.loop;
}

/* true when a new connection may be accepted on this frontend now. */
bool rt_may_accept(const struct proxy *fe);
/* Takes one connection of the process (maxconn) and of fe (its maxconn)
 * at once, by compare-and-swap (exact with several threads): false when
 * either is full (nothing taken). rt_drop_conn() gives them back. */
bool rt_take_conn(struct proxy *fe);
void rt_drop_conn(struct proxy *fe);
/* ha_ratelimit() for a message limited for the whole process ("at most
 * once a minute"), whichever thread logs it: the timestamp is shared, and
 * of two threads passing at once only one wins (compare-and-swap). */
bool rt_ratelimit_process(_Atomic double *last, double period_s);
/* *v + 1 unless *v is already max or more (compare-and-swap): false then. */
bool rt_take_below(_Atomic unsigned *v, unsigned max);
/* Set by the listener when it took the connection (rt_take_conn) before
 * accept(): the accept callback consumes it instead of counting again. */
extern _Thread_local bool rt_conn_taken;
/* Effective maxconn for a frontend. */
unsigned rt_fe_maxconn(const struct proxy *fe);

/* A piece of work run once, from the loop, after the callbacks of the
 * current iteration (before the loop blocks again). Embedded in its
 * owner; deferring a task already pending is a no-op. */
struct loop_task {
	struct loop_task *next;
	void (*fn)(struct loop_task *t);
	bool pending;
};

/* Queues t (fn set) for the end of this iteration of the calling thread's
 * loop (loop_cur()); tasks deferred before the loop exists run at its first
 * iteration. A task already pending is not queued again. A task object
 * belongs to one thread (t->pending is not atomic): per-thread work uses a
 * _Thread_local task, other threads post to it (core/thread.h). */
void loop_defer(struct loop_task *t);
/* Runs every task the calling thread has pending now (tests, shutdown). */
void loop_run_deferred(void);

#endif
