/* pipe.c — the pool of splice() pipes (see pipe.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
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
	pipe_cfg.nosplice = c->g.nosplice;
	/* a reload may size pipes differently: the kept ones go */
	pipe_pool_trim();
}

static void pipe_close(struct dp_pipe *p)
{
	close(p->prod);
	close(p->cons);
	free(p);
}

/* A new pipe of the configured size, or NULL. */
static struct dp_pipe *pipe_new(void)
{
	static _Thread_local double last_warn; /* per thread: ha_ratelimit */
	struct dp_pipe *p;
	int fd[2], sz;

	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) < 0)
		return NULL;
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
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	p->cons = fd[0];
	p->prod = fd[1];
	p->size = (size_t)sz;
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
