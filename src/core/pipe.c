/* pipe.c — the pool of splice() pipes (see pipe.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pipe.h"
#include "lib/thread.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"

struct pipe_settings pipe_cfg;

/* Free pipes, kept for reuse: creating a pipe and sizing it costs two or
 * three system calls, reusing one none. One free list per thread, each on
 * its own cache line with its own mutex: a thread takes and gives back
 * pipes on its own list (an uncontended lock, a few instructions held), so
 * threads splicing at the same time do not contend. `maxpipes` bounds the
 * pipes that exist, handed out (`used`) and kept (`kept`) together, process
 * wide: a thread whose list is empty while the limit is reached takes a
 * kept pipe from another thread's list rather than creating one more (the
 * only time a thread touches another's list). */
struct pipe_pool {
	pthread_mutex_t mu;     /* free, nfree */
	struct dp_pipe *free;
	unsigned nfree;
} __attribute__((aligned(64)));
static struct pipe_pool pools[DP_MAX_THREADS] = {
	[0 ... DP_MAX_THREADS - 1] = { .mu = PTHREAD_MUTEX_INITIALIZER },
};

static atomic_uint used;                /* handed out, every thread */
static atomic_uint kept;                /* in the free lists, every thread */
static atomic_ullong refused;
static atomic_uint large_pages;         /* pages of the pipes grown to autosize */
static atomic_uint large_count;

#define PIPE_AUTO_MAX (1024u * 1024u)
#define PIPE_DEFAULT_SIZE (64u * 1024u)  /* Linux's default pipe */

void pipe_auto_policy(unsigned long max_size, unsigned long soft_pages, unsigned *size,
		      unsigned *budget_pages)
{
	unsigned long sz = max_size < PIPE_AUTO_MAX ? max_size : PIPE_AUTO_MAX;
	unsigned long p2 = PIPE_DEFAULT_SIZE;

	/* the kernel rounds a size up to a power of two of pages; one
	 * above max_size would be refused */
	while (p2 * 2 <= sz)
		p2 *= 2;
	*size = p2 > PIPE_DEFAULT_SIZE ? (unsigned)p2 : 0;
	*budget_pages = soft_pages ? (unsigned)(soft_pages / 2 < UINT_MAX ? soft_pages / 2 : UINT_MAX)
				   : UINT_MAX;
}

/* pipe-max-size and pipe-user-pages-soft, read once (before a chroot
 * hides /proc); Linux's defaults if they cannot be read. */
static void pipe_kernel_limits(unsigned long *max_size, unsigned long *soft_pages)
{
	static bool read_done;
	static unsigned long mx = PIPE_AUTO_MAX, soft = 16384;

	if (!read_done) {
		FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");

		if (f) {
			if (fscanf(f, "%lu", &mx) != 1)
				mx = PIPE_AUTO_MAX;
			fclose(f);
		}
		f = fopen("/proc/sys/fs/pipe-user-pages-soft", "re");
		if (f) {
			if (fscanf(f, "%lu", &soft) != 1)
				soft = 16384;
			fclose(f);
		}
		read_done = true;
	}
	*max_size = mx;
	*soft_pages = soft;
}

/* A kept pipe from pool pl, or NULL. */
static struct dp_pipe *pool_pop(struct pipe_pool *pl)
{
	struct dp_pipe *p;

	pthread_mutex_lock(&pl->mu);
	p = pl->free;
	if (p) {
		pl->free = p->next;
		pl->nfree--;
		atomic_fetch_sub(&kept, 1);
	}
	pthread_mutex_unlock(&pl->mu);
	if (p)
		p->next = NULL;
	return p;
}

unsigned pipe_maxpipes(const struct dp_config *c, unsigned maxconn)
{
	bool splices = false;

	for (const struct proxy *px = c->proxies; px && !splices; px = px->next)
		splices = (px->options & (PR_O_SPLICE_REQ | PR_O_SPLICE_RES | PR_O_SPLICE_AUT)) != 0;
	if (c->g.nosplice || !splices)
		return 0; /* no pipe will ever be asked for */
	if (c->g.maxpipes)
		return c->g.maxpipes;
	return maxconn / 4;
}

static unsigned fd_room = UINT_MAX;

void pipe_set_fd_room(unsigned pipes)
{
	fd_room = pipes;
}

void pipe_setup(const struct dp_config *c, unsigned maxconn)
{
	pipe_cfg.maxpipes = pipe_maxpipes(c, maxconn);
	if (!c->g.maxpipes && pipe_cfg.maxpipes > fd_room)
		pipe_cfg.maxpipes = fd_room;
	pipe_cfg.pipesize = c->g.pipesize;
	pipe_cfg.autosize = 0;
	pipe_cfg.large_budget = 0;
	if (!c->g.pipesize && pipe_cfg.maxpipes) {
		unsigned long mx, soft;

		pipe_kernel_limits(&mx, &soft);
		pipe_auto_policy(mx, soft, &pipe_cfg.autosize, &pipe_cfg.large_budget);
	}
	pipe_cfg.nosplice = c->g.nosplice;
	/* a reload may size pipes differently: the kept ones go */
	pipe_pool_trim();
}

/* Hands back bytes of the large pipes' budget (a reservation pipe_grow()
 * made that did not become a large pipe, or a large pipe closed). */
static void large_give_back(size_t bytes)
{
	atomic_fetch_sub(&large_pages, (unsigned)(bytes / 4096));
}

static void pipe_close(struct dp_pipe *p)
{
	if (p->large) {
		large_give_back(p->size);
		atomic_fetch_sub(&large_count, 1);
	}
	close(p->prod);
	close(p->cons);
	free(p);
}

/* tune.pipesize unset: grows pipe fd to autosize if the large pipes'
 * budget has room. A refusal (EPERM past pipe-user-pages-soft, ENOMEM)
 * keeps the kernel's size, silently: nobody asked for this size. */
static bool pipe_grow(int fd)
{
	unsigned pages = pipe_cfg.autosize / 4096;

	if (!pipe_cfg.autosize)
		return false;
	if (atomic_fetch_add(&large_pages, pages) + pages > pipe_cfg.large_budget) {
		large_give_back(pipe_cfg.autosize);
		return false;
	}
	if (fcntl(fd, F_SETPIPE_SZ, (int)pipe_cfg.autosize) < 0) {
		large_give_back(pipe_cfg.autosize);
		return false;
	}
	return true;
}

/* A new pipe of the configured size, or NULL. */
static struct dp_pipe *pipe_new(void)
{
	static _Thread_local double last_warn; /* per thread: ha_ratelimit */
	struct dp_pipe *p;
	int fd[2], sz;
	bool large = false;

	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) < 0)
		return NULL;
	if (!pipe_cfg.pipesize)
		large = pipe_grow(fd[1]);
	if (pipe_cfg.pipesize && fcntl(fd[1], F_SETPIPE_SZ, (int)pipe_cfg.pipesize) < 0 &&
	    ha_ratelimit(&last_warn, 60.0))
		/* above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE,
		 * or past pipe-user-pages-hard: the pipe keeps its size */
		ha_warning("tune.pipesize %u: cannot size a pipe (%s); using the size the kernel gives "
			   "(this warning at most once a minute)", pipe_cfg.pipesize, strerror(errno));
	sz = fcntl(fd[1], F_GETPIPE_SZ);
	if (sz < PIPE_MIN_SIZE && (!pipe_cfg.pipesize || sz < (int)pipe_cfg.pipesize)) {
		/* shrunk below what was asked (pipe-user-pages-soft
		 * exceeded: one-page pipes): the copy path does better */
		if (large)
			large_give_back(pipe_cfg.autosize);
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (large)
			large_give_back(pipe_cfg.autosize);
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	p->cons = fd[0];
	p->prod = fd[1];
	p->size = (size_t)sz;
	if (large) {
		/* the budget counted autosize; the pipe is what the kernel
		 * gave (the same: autosize is a power of two of pages) */
		p->large = true;
		if ((unsigned)sz != pipe_cfg.autosize) {
			large_give_back(pipe_cfg.autosize);
			atomic_fetch_add(&large_pages, (unsigned)sz / 4096);
		}
		atomic_fetch_add(&large_count, 1);
	}
	return p;
}

struct dp_pipe *pipe_get(void)
{
	struct dp_pipe *p;
	unsigned u;

	u = atomic_fetch_add(&used, 1);
	if (u >= pipe_cfg.maxpipes) {
		atomic_fetch_sub(&used, 1);
		atomic_fetch_add(&refused, 1);
		return NULL;
	}
	p = pool_pop(&pools[tid]);
	if (p)
		return p;
	/* a new pipe would exceed maxpipes with those other threads keep:
	 * take one of theirs instead */
	for (unsigned t = 0; t < DP_MAX_THREADS && u + 1 + atomic_load(&kept) > pipe_cfg.maxpipes; t++)
		if (t != tid && (p = pool_pop(&pools[t])))
			return p;
	p = pipe_new();
	if (!p) {
		atomic_fetch_sub(&used, 1);
		atomic_fetch_add(&refused, 1);
	}
	return p;
}

void pipe_put(struct dp_pipe *p)
{
	struct pipe_pool *pl = &pools[tid];
	bool keep;

	atomic_fetch_sub(&used, 1);
	if (p->data) {
		pipe_close(p);
		return;
	}
	pthread_mutex_lock(&pl->mu);
	/* kept only while every pipe in existence stays within maxpipes */
	keep = atomic_load(&kept) + atomic_load(&used) < pipe_cfg.maxpipes;
	if (keep) {
		p->next = pl->free;
		pl->free = p;
		pl->nfree++;
		atomic_fetch_add(&kept, 1);
	}
	pthread_mutex_unlock(&pl->mu);
	if (!keep)
		pipe_close(p);
}

void pipe_kill(struct dp_pipe *p)
{
	atomic_fetch_sub(&used, 1);
	pipe_close(p);
}

void pipe_pool_trim(void)
{
	for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
		struct dp_pipe *p;

		while ((p = pool_pop(&pools[t])))
			pipe_close(p);
	}
}

unsigned pipe_used(void)
{
	return atomic_load(&used);
}

unsigned pipe_free_count(void)
{
	return atomic_load(&kept);
}

unsigned long long pipe_refused(void)
{
	return atomic_load(&refused);
}

unsigned pipe_large_count(void)
{
	return atomic_load(&large_count);
}
