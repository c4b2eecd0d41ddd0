/* thread.h — which event-loop thread is running, for state kept per thread.
 *
 * Thread numbers are 0-based here (tid 0 is the main thread, HAProxy's
 * "thread 1"); cpu-map and the documentation speak HAProxy's 1-based
 * numbers. Per-thread state is an array of DP_MAX_THREADS slots indexed by
 * `tid`, written only by its own thread and summed when read (stats, CLI,
 * metrics); `dp_nbthread` is the number of event-loop threads running and
 * bounds those sums. Until thread mode is in service both stay at their
 * one-thread values (tid 0, one thread).
 */
#ifndef DP_LIB_THREAD_H
#define DP_LIB_THREAD_H

#define DP_MAX_THREADS 64

/* this thread's number: 0 for the main thread, set once as a thread starts */
extern _Thread_local unsigned int tid;

/* event-loop threads running (1..DP_MAX_THREADS); written before the
 * threads start and when they have all stopped, read-only in between */
extern unsigned int dp_nbthread;

#endif
