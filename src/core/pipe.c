/* pipe.c — the pool of splice() pipes (see pipe.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pipe.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"

struct pipe_settings pipe_cfg;

/* Free pipes, kept for reuse: creating a pipe and sizing it costs two or
 * three system calls, reusing one none. One pool for every thread: in
 * thread mode the process lock serializes the data path (core/thread.h),
 * and per-thread pools would create pipes that another thread's pool
 * already holds (maxpipes counts them all). */
struct pipe_pool {
	struct dp_pipe *free;
	unsigned nfree;
};
static struct pipe_pool pool;

static atomic_uint used;                /* handed out, every thread */
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

static void pipe_close(struct dp_pipe *p)
{
	if (p->large) {
		atomic_fetch_sub(&large_pages, (unsigned)(p->size / 4096));
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
		atomic_fetch_sub(&large_pages, pages);
		return false;
	}
	if (fcntl(fd, F_SETPIPE_SZ, (int)pipe_cfg.autosize) < 0) {
		atomic_fetch_sub(&large_pages, pages);
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
			atomic_fetch_sub(&large_pages, pipe_cfg.autosize / 4096);
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (large)
			atomic_fetch_sub(&large_pages, pipe_cfg.autosize / 4096);
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
			atomic_fetch_sub(&large_pages, pipe_cfg.autosize / 4096);
			atomic_fetch_add(&large_pages, (unsigned)sz / 4096);
		}
		atomic_fetch_add(&large_count, 1);
	}
	return p;
}

struct dp_pipe *pipe_get(void)
{
	struct dp_pipe *p;

	if (atomic_fetch_add(&used, 1) >= pipe_cfg.maxpipes) {
		atomic_fetch_sub(&used, 1);
		atomic_fetch_add(&refused, 1);
		return NULL;
	}
	p = pool.free;
	if (p) {
		pool.free = p->next;
		pool.nfree--;
		p->next = NULL;
		return p;
	}
	p = pipe_new();
	if (!p) {
		atomic_fetch_sub(&used, 1);
		atomic_fetch_add(&refused, 1);
	}
	return p;
}

void pipe_put(struct dp_pipe *p)
{
	atomic_fetch_sub(&used, 1);
	if (p->data || pool.nfree + atomic_load(&used) >= pipe_cfg.maxpipes) {
		pipe_close(p);
		return;
	}
	p->next = pool.free;
	pool.free = p;
	pool.nfree++;
}

void pipe_kill(struct dp_pipe *p)
{
	atomic_fetch_sub(&used, 1);
	pipe_close(p);
}

void pipe_pool_trim(void)
{
	while (pool.free) {
		struct dp_pipe *n = pool.free->next;

		pipe_close(pool.free);
		pool.free = n;
	}
	pool.nfree = 0;
}

unsigned pipe_used(void)
{
	return atomic_load(&used);
}

unsigned pipe_free_count(void)
{
	return pool.nfree;
}

unsigned long long pipe_refused(void)
{
	return atomic_load(&refused);
}

unsigned pipe_large_count(void)
{
	return atomic_load(&large_count);
}
