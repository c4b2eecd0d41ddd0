/* channel_tee.c — the tee path of a splicing channel (see struct
 * chan_tee_ops in core/channel.h).
 *
 *   socket --splice--> copy pipe --tee--> relay pipe --splice--> socket
 *                          `--take(): the consumer reads it (its one copy)
 *
 * The socket is spliced into the copy pipe, which is empty before each
 * read: tee() duplicates from the head of a pipe, so only a pipe holding
 * nothing but the new bytes can be tee()d whole into the relay pipe,
 * whatever that one still holds for a slow destination. When the relay
 * pipe has no room for all of them (its room is counted in pages), tee()
 * takes part: take() gets exactly that part, the rest waits in the copy
 * pipe (the channel is full) and is tee()d once the destination took
 * some bytes. So the relay's bytes and the consumer's are the same bytes
 * in the same order, and the consumer's count never runs ahead of the
 * relay's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/channel_int.h"
#include "core/pipe.h"

int chan_tee_fault;

static atomic_ullong tee_failures, tee_bytes;

unsigned long long chan_tee_failures(void)
{
	return atomic_load_explicit(&tee_failures, memory_order_relaxed);
}

unsigned long long chan_tee_bytes(void)
{
	return atomic_load_explicit(&tee_bytes, memory_order_relaxed);
}

void chan_set_tee(struct chan *c, const struct chan_tee_ops *ops, void *ctx)
{
	c->tee = ops;
	c->tee_ctx = ctx;
}

static uint64_t want(const struct chan *c)
{
	return c->tee_broken ? 0 : c->tee->want(c->tee_ctx, c);
}

bool chan_tee_blocked(const struct chan *c)
{
	if (c->tpipe && c->tpipe->data)
		return true;
	/* a relay pipe without a copy pipe (or after a failed tee()) while
	 * the consumer wants bytes: they are copied once it is empty */
	return c->pipe && (!c->tpipe || c->tee_broken) && c->tee->want(c->tee_ctx, c) > 0;
}

/* Reads and forgets n bytes of pipe fd; 0 or -1 (errno). */
static int discard(int fd, size_t n)
{
	char sink[4096];

	while (n) {
		ssize_t r = read(fd, sink, n < sizeof(sink) ? n : sizeof(sink));

		if (r > 0) {
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (!r)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* Moves the copy pipe's bytes into the relay pipe: tee() and take(), or,
 * once tee() failed, splice() (the consumer told it lost them). Returns
 * the bytes moved, or -1 (errno) when neither call works: the bytes are
 * stuck, the channel fails. */
static ssize_t move(struct chan *c)
{
	struct dp_pipe *a = c->pipe, *b = c->tpipe;
	size_t moved = 0;

	while (b->data) {
		ssize_t t;

		if (c->tee_broken) {
			t = splice(b->cons, NULL, a->prod, NULL, b->data, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		} else if (chan_tee_fault) {
			errno = chan_tee_fault;
			t = -1;
		} else {
			t = tee(b->cons, a->prod, b->data, SPLICE_F_NONBLOCK);
		}
		if (t > 0) {
			size_t n = (size_t)t;

			a->data += n;
			if (c->tee_broken) {
				b->data -= n;
				c->tee->lost(c->tee_ctx, c, n);
			} else {
				size_t got = c->tee->take(c->tee_ctx, c, b->cons, n);

				if (got > n)
					got = n;
				atomic_fetch_add_explicit(&tee_bytes, got, memory_order_relaxed);
				if (got < n) {
					/* the consumer could not read them all:
					 * forget the rest, copy from now on */
					if (discard(b->cons, n - got) < 0)
						return -1;
					c->tee->lost(c->tee_ctx, c, n - got);
					c->tee_broken = true;
					atomic_fetch_add_explicit(&tee_failures, 1, memory_order_relaxed);
				}
				b->data -= n;
			}
			moved += n;
			continue;
		}
		if (t < 0 && errno == EINTR)
			continue;
		if (t < 0 && errno == EAGAIN)
			break; /* the relay pipe is full: the rest waits */
		if (t == 0) {
			errno = EIO; /* the pipe said it held bytes */
			return -1;
		}
		if (c->tee_broken)
			return -1;
		/* tee() refused (ENOMEM...): relay the rest without it, and
		 * copy from now on while the consumer wants bytes */
		c->tee_broken = true;
		atomic_fetch_add_explicit(&tee_failures, 1, memory_order_relaxed);
	}
	return (ssize_t)moved;
}

int chan_tee_recv(struct chan *c, int fd)
{
	bool progress = false;
	uint64_t w;

	if (!c->pipe && !(c->splice && !c->len &&
			  (c->splice == CHAN_SPLICE || c->full_reads >= CHAN_AUTO_FULL_READS)))
		return PUMP_COPY_INSTEAD; /* not splicing (yet) */
	w = want(c);
	if (!w) {
		if (c->tee_broken && c->tee->want(c->tee_ctx, c))
			/* copy while the consumer wants bytes, once the
			 * relay pipe is empty (chan_tee_blocked()) */
			return c->pipe ? PUMP_FULL : PUMP_COPY_INSTEAD;
		/* the consumer is done: plain splice, the copy pipe goes back */
		if (c->tpipe) {
			if (c->tpipe->data)
				return PUMP_FULL;
			pipe_put(c->tpipe);
			c->tpipe = NULL;
		}
		return splice_recv(c, fd);
	}
	if (!c->pipe) {
		c->tpipe = pipe_get();
		if (c->tpipe && !(c->pipe = pipe_get())) {
			pipe_put(c->tpipe);
			c->tpipe = NULL;
		}
		if (!c->pipe)
			return PUMP_COPY_INSTEAD; /* maxpipes reached or refused by the kernel */
		c->wait_room = false;
	} else if (!c->tpipe && !(c->tpipe = pipe_get())) {
		return PUMP_FULL; /* copied once the relay pipe is empty */
	}
	for (;;) {
		struct dp_pipe *a = c->pipe, *b = c->tpipe;
		size_t room = a->size > a->data ? a->size - a->data : 0;
		ssize_t n;

		if (room > b->size)
			room = b->size;
		if (room > w)
			room = (size_t)w;
		if (!room || b->data)
			return progress ? PUMP_PROGRESS : PUMP_FULL;
		n = splice(fd, NULL, b->prod, NULL, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			b->data += (size_t)n;
			c->total += (uint64_t)n;
			progress = true;
			if (move(c) < 0)
				return PUMP_ERROR;
			if (b->data || (size_t)n < room || c->tee_broken)
				return PUMP_PROGRESS; /* relay pipe full, or socket drained for now */
			w = want(c);
			if (!w)
				return PUMP_PROGRESS;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* the copy pipe was empty: EAGAIN means the socket is drained
		 * (not a full relay pipe, whose room was checked above) */
		return splice_recv_stop(c, n, progress, false);
	}
}

int chan_tee_send(struct chan *c, int fd)
{
	bool progress = false;

	for (;;) {
		int r = splice_send(c, fd);
		ssize_t m;

		if (r == PUMP_ERROR)
			return r;
		if (r == PUMP_PROGRESS)
			progress = true;
		/* bytes that waited in the copy pipe for room */
		if (!c->pipe || !c->tpipe || !c->tpipe->data)
			break;
		m = move(c);
		if (m < 0)
			return PUMP_ERROR;
		if (!m)
			break;
	}
	return progress ? PUMP_PROGRESS : PUMP_AGAIN;
}
