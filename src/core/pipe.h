/* pipe.h — the pipes of the splice() relay path, pooled and reused.
 *
 * A channel that splices moves bytes socket -> pipe -> socket inside the
 * kernel. A pipe is taken from this pool when a channel starts splicing
 * and given back as soon as it is empty again, so an idle session holds
 * no pipe (nor buffer). Each thread keeps its own free list (its own
 * mutex, uncontended: held for a pop or a push); the limit `maxpipes` is
 * process-wide, counting the pipes handed out and those kept, with
 * atomics; a thread at the limit with an empty list takes a kept pipe from
 * another thread's list. Every function here may be called from any
 * thread.
 *
 * Getting a pipe may fail: the limit is reached, the kernel refuses a
 * pipe (EMFILE/ENFILE, or the per-user pipe-user-pages limits after the
 * privilege drop shrink it to one page), or `tune.pipesize` cannot be
 * applied and what remains is too small. The caller then copies through
 * a buffer instead: splice is an optimisation, never a reason to fail a
 * session.
 */
#ifndef DECOYPROXY_PIPE_H
#define DECOYPROXY_PIPE_H

#include <stddef.h>
#include "lib/common.h"

struct dp_config;

/* A pipe smaller than this, and smaller than tune.pipesize asked, is not
 * worth splicing through: it is what the kernel hands out once a user is
 * past pipe-user-pages-soft (one page), and one copy buffer holds more. */
#define PIPE_MIN_SIZE 16384

struct dp_pipe {
	struct dp_pipe *next;   /* free list */
	int prod, cons;         /* write end (splice in), read end (splice out) */
	size_t data;            /* bytes in the pipe */
	size_t size;            /* its capacity (F_GETPIPE_SZ) */
	bool large;             /* grown to pipe_cfg.autosize (counted) */
};

/* Settings of the generation in service (`maxpipes`, `tune.pipesize`,
 * `nosplice`), set by pipe_setup(); read-only on the data path. */
struct pipe_settings {
	unsigned maxpipes;      /* effective limit (0: splice off) */
	unsigned pipesize;      /* tune.pipesize, 0 = the kernel's default */
	/* tune.pipesize unset: pipes are grown to `autosize` (1 MiB, or
	 * pipe-max-size if lower) while the large ones hold at most
	 * `large_budget` pages (half of pipe-user-pages-soft; see
	 * pipe_auto_policy) */
	unsigned autosize;
	unsigned large_budget;
	bool nosplice;          /* global `nosplice`: never splice */
};
extern struct pipe_settings pipe_cfg;

/* The limit `maxpipes` gives for c with the effective global maxconn:
 * the configured value, else maxconn / 4 as HAProxy; 0 when no proxy
 * enables splicing or `nosplice` is set (no file descriptor is then
 * reserved for pipes). */
unsigned pipe_maxpipes(const struct dp_config *c, unsigned maxconn);
/* The most pipes the file descriptor limit leaves room for, found at
 * start-up (ctl/process.c): a default maxpipes (maxconn / 4) is capped to
 * it, an explicit one is not. */
void pipe_set_fd_room(unsigned pipes);
/* Makes c's settings the ones in service (start-up, reload commit). */
void pipe_setup(const struct dp_config *c, unsigned maxconn);

/* The automatic sizing used when `tune.pipesize` is unset, from the
 * kernel's pipe-max-size and pipe-user-pages-soft (0 = no limit): a pipe
 * of 64 kB holds 16 page slots, and a socket fed by 1500-byte segments
 * fills one slot per segment, so every splice() moves about 23 kB; a
 * 1 MiB pipe (256 slots) moves 16 times more per call. Large pipes count
 * against the user's pipe pages like any other, so they may use only
 * half of the soft limit: past it the kernel hands out one-page pipes,
 * which would push every other flow to the copy path. Sets *size to 0
 * when growing is not worth it (pipe-max-size at or below 64 kB). */
void pipe_auto_policy(unsigned long max_size, unsigned long soft_pages, unsigned *size,
		      unsigned *budget_pages);

/* A pipe with no data, or NULL (see above: the caller copies instead). */
struct dp_pipe *pipe_get(void);
/* Gives back an empty pipe for reuse (kept up to a bound, else closed). */
void pipe_put(struct dp_pipe *p);
/* Closes a pipe that may still hold data (a session ending mid-transfer). */
void pipe_kill(struct dp_pipe *p);
/* Closes every kept pipe, of every thread's list (reload commit, stop,
 * tests); safe while other threads take and give back pipes. */
void pipe_pool_trim(void);

/* Statistics, for `show info` and tests. */
unsigned pipe_used(void);           /* pipes handed out, process-wide */
unsigned pipe_free_count(void);     /* pipes kept for reuse, every thread */
unsigned long long pipe_refused(void); /* pipe_get() that returned NULL */
unsigned pipe_large_count(void);    /* pipes grown to autosize, process-wide */

#endif
