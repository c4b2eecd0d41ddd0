/* channel.c — buffer pool and the byte mover of a channel: recv()/send()
 * through a pooled buffer, or splice() through a pooled pipe. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/channel_int.h"
#include "core/pipe.h"
#include "lib/thread.h"
#include "model/counters.h"

/* Free buffers are kept on a singly linked list threaded through their
 * first bytes; the list is capped so a burst does not pin memory forever.
 * One pool per thread (a session's buffers come and go on its thread): the
 * list and the counts are in per-thread slots, the counts summed when read
 * (a buffer freed by another thread than its allocator's still sums right:
 * the slots count modulo 2^64). */
#define POOL_KEEP_MAX 1024

struct pool_item { struct pool_item *next; };

/* alloc: buffers allocated by this thread; idle: on its free list (in
 * use = alloc - idle): one update per get or put. The free list itself
 * sits in the thread's slot, next to its counts (one line, found once). */
struct pool_counters {
	unsigned long long alloc, idle;
};
static struct pool_counters_slot {
	struct pool_counters v;
	struct pool_item *free;         /* this thread's only */
} __attribute__((aligned(CNT_LINE))) pool_cnt[DP_MAX_THREADS];

#define POOL_ADD(c, field, n) cnt_add_ull(&(c)->v.field, (unsigned long long)(n))

static char *pool_get(void)
{
	struct pool_counters_slot *c = &pool_cnt[tid];
	struct pool_item *it = c->free;

	if (it) {
		c->free = it->next;
		POOL_ADD(c, idle, -1);
		return (char *)it;
	}
	it = malloc(PUMP_BUFSIZE);
	if (!it)
		return NULL;
	POOL_ADD(c, alloc, 1);
	return (char *)it;
}

static void pool_put(char *b)
{
	struct pool_counters_slot *c = &pool_cnt[tid];
	struct pool_item *it = (struct pool_item *)b;

	if (c->v.idle >= POOL_KEEP_MAX) {
		free(b);
		POOL_ADD(c, alloc, -1);
		return;
	}
	it->next = c->free;
	c->free = it;
	POOL_ADD(c, idle, 1);
}

void pump_pool_trim(void)
{
	struct pool_counters_slot *c = &pool_cnt[tid];

	while (c->free) {
		struct pool_item *n = c->free->next;

		free(c->free);
		c->free = n;
		POOL_ADD(c, idle, -1);
		POOL_ADD(c, alloc, -1);
	}
}

static struct pool_counters pool_sum(void)
{
	struct pool_counters r;

	cnt_sum(pool_cnt, sizeof(pool_cnt[0]), sizeof(r), &r);
	return r;
}

size_t pump_pool_allocated(void)
{
	return (size_t)pool_sum().alloc;
}

size_t pump_pool_in_use(void)
{
	struct pool_counters c = pool_sum();

	return (size_t)(c.alloc - c.idle);
}

/* Returns the buffer (not the prefix) to the pool. */
static void buf_release(struct chan *c)
{
	if (c->buf)
		pool_put(c->buf);
	c->buf = NULL;
	c->off = c->len = 0;
}

size_t chan_piped(const struct chan *c)
{
	return c->pipe ? c->pipe->data : 0;
}

bool chan_full(const struct chan *c)
{
	return c->len >= PUMP_BUFSIZE || (c->pipe && (c->wait_room || c->pipe->data >= c->pipe->size)) ||
	       (c->tee && chan_tee_blocked(c));
}

/* Gives the pipe back once it is empty (with the copy pipe, once both
 * are): an idle channel holds none. */
void pipe_release(struct chan *c)
{
	if (c->pipe && !c->pipe->data && !(c->tpipe && c->tpipe->data)) {
		pipe_put(c->pipe);
		c->pipe = NULL;
		c->wait_room = false;
		if (c->tpipe) {
			pipe_put(c->tpipe);
			c->tpipe = NULL;
		}
	}
}

void chan_release(struct chan *c)
{
	if (c->tpipe) {
		if (c->tpipe->data)
			pipe_kill(c->tpipe);
		else
			pipe_put(c->tpipe);
		c->tpipe = NULL;
	}
	if (c->pipe) {
		if (c->pipe->data)
			pipe_kill(c->pipe);
		else
			pipe_put(c->pipe);
		c->pipe = NULL;
	}
	buf_release(c);
	free(c->pre);
	c->pre = NULL;
	c->pre_off = c->pre_len = 0;
}

void chan_set_prefix(struct chan *c, char *data, size_t len)
{
	free(c->pre);
	c->pre = data;
	c->pre_off = 0;
	c->pre_len = len;
}

static int send_prefix(struct chan *c, int fd)
{
	while (c->pre_len) {
		ssize_t n = send(fd, c->pre + c->pre_off, c->pre_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->pre_off += (size_t)n;
			c->pre_len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* EINPROGRESS: a TCP Fast Open connect under way (server `tfo`) */
		if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS))
			return PUMP_AGAIN;
		return PUMP_ERROR;
	}
	free(c->pre);
	c->pre = NULL;
	c->pre_off = 0;
	return PUMP_PROGRESS;
}

/* splice() from socket fd into the channel's pipe. Returns a PUMP_* code,
 * or PUMP_COPY_INSTEAD when the copy path must take this read (no pipe to
 * be had, or this socket cannot be spliced). */
int splice_recv(struct chan *c, int fd)
{
	bool progress = false;

	if (!c->pipe) {
		c->pipe = pipe_get();
		if (!c->pipe)
			return PUMP_COPY_INSTEAD; /* maxpipes reached or refused by the kernel */
		c->wait_room = false;
	}
	for (;;) {
		size_t room = c->pipe->size > c->pipe->data ? c->pipe->size - c->pipe->data : 0;
		ssize_t n;

		if (!room)
			return progress ? PUMP_PROGRESS : PUMP_FULL;
		n = splice(fd, NULL, c->pipe->prod, NULL, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			c->pipe->data += (size_t)n;
			c->total += (uint64_t)n;
			progress = true;
			if ((size_t)n < room)
				return PUMP_PROGRESS; /* socket drained for now */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return splice_recv_stop(c, n, progress, true);
	}
}

int splice_recv_stop(struct chan *c, ssize_t n, bool progress, bool wait_room)
{
	if (n == 0) {
		c->eof = true;
		pipe_release(c);
		return PUMP_EOF;
	}
	if (errno == EAGAIN) {
		/* nothing to read, or no room left in the pipe (its room is
		 * counted in pages, not bytes): with bytes in the pipe, read
		 * again only once it is emptied */
		if (wait_room && c->pipe->data)
			c->wait_room = true;
		pipe_release(c);
		return progress ? PUMP_PROGRESS : PUMP_AGAIN;
	}
	if (!progress && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
		/* this socket cannot be spliced: copy from now on */
		c->splice = CHAN_COPY;
		pipe_release(c);
		return PUMP_COPY_INSTEAD;
	}
	pipe_release(c);
	return progress ? PUMP_PROGRESS : PUMP_ERROR;
}

/* splice() the pipe's bytes out to fd. */
int splice_send(struct chan *c, int fd)
{
	bool progress = false;

	while (c->pipe->data) {
		ssize_t n = splice(c->pipe->cons, NULL, fd, NULL, c->pipe->data, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

		if (n > 0) {
			c->pipe->data -= (size_t)n;
			c->sent += (uint64_t)n;
			progress = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return progress ? PUMP_PROGRESS : PUMP_AGAIN;
		return PUMP_ERROR;
	}
	pipe_release(c);
	return progress ? PUMP_PROGRESS : PUMP_AGAIN;
}

int chan_recv(struct chan *c, int fd)
{
	bool progress = false;
	bool fresh = false;

	/* splice while the buffer is empty (bytes keep their order); in
	 * auto mode only a flow that filled the buffer in a row */
	if (c->tee) {
		int r = chan_tee_recv(c, fd);

		if (r != PUMP_COPY_INSTEAD)
			return r;
	} else if (c->pipe || (c->splice && !c->len &&
			       (c->splice == CHAN_SPLICE || c->full_reads >= CHAN_AUTO_FULL_READS))) {
		int r = splice_recv(c, fd);

		if (r != PUMP_COPY_INSTEAD)
			return r;
	}

	for (;;) {
		ssize_t n;
		size_t room;

		if (!c->buf) {
			c->buf = pool_get();
			if (!c->buf) {
				errno = ENOMEM;
				return PUMP_ERROR;
			}
			c->off = c->len = 0;
			fresh = true;
		}
		if (c->off && c->off + c->len == PUMP_BUFSIZE) {
			memmove(c->buf, c->buf + c->off, c->len);
			c->off = 0;
		}
		room = PUMP_BUFSIZE - c->off - c->len;
		if (room == 0) {
			if (c->full_reads < 255)
				c->full_reads++; /* splice-auto: this flow fills buffers */
			return progress ? PUMP_PROGRESS : PUMP_FULL;
		}
		n = recv(fd, c->buf + c->off + c->len, room, 0);
		if (n > 0) {
			c->len += (size_t)n;
			c->total += (uint64_t)n;
			progress = true;
			if ((size_t)n < room) {
				c->full_reads = 0; /* a short read: not bulk (yet) */
				return PUMP_PROGRESS; /* socket drained for now */
			}
			continue;
		}
		if (n == 0) {
			c->eof = true;
			if (c->len == 0 && fresh)
				buf_release(c);
			return PUMP_EOF;
		}
		if (errno == EINTR)
			continue;
		if (c->len == 0)
			buf_release(c); /* idle sessions hold no buffer */
		if (errno == EAGAIN)
			return progress ? PUMP_PROGRESS : PUMP_AGAIN;
		return PUMP_ERROR;
	}
}

int chan_send(struct chan *c, int fd)
{
	bool progress = false;

	if (c->pre_len) {
		int r = send_prefix(c, fd);

		if (r != PUMP_PROGRESS)
			return r;
		progress = true;
	}

	if (c->pipe) /* the buffer is empty (see chan_recv) */
		return c->tpipe ? chan_tee_send(c, fd) : splice_send(c, fd);

	while (c->len) {
		ssize_t n = send(fd, c->buf + c->off, c->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->off += (size_t)n;
			c->len -= (size_t)n;
			c->sent += (uint64_t)n;
			progress = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS))  /* EINPROGRESS: see send_prefix() */
			return progress ? PUMP_PROGRESS : PUMP_AGAIN;
		return PUMP_ERROR;
	}
	buf_release(c);
	return progress ? PUMP_PROGRESS : PUMP_AGAIN;
}
