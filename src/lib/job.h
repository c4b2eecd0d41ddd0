/* job.h — a unit of work posted to an event-loop thread (core/thread.h
 * thread_post_job). The node is embedded in the object it works on, so
 * that posting never allocates (and never fails); it is declared here so
 * that objects of any layer can carry one: a configuration generation
 * (its release on thread 1), a server (its `observe layer4` report), a
 * session (its start after another thread dequeued it). */
#ifndef DP_LIB_JOB_H
#define DP_LIB_JOB_H

#include <stdbool.h>

struct thread_job {
	struct thread_job *next;
	void (*fn)(struct thread_job *j);
	bool queued;                /* on a thread's list (under its lock) */
};

#endif
