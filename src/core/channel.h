/* channel.h — moving bytes from one fd to another through a pooled buffer.
 *
 * A channel owns no buffer while idle: a buffer is taken from the pool when
 * data arrives and returned as soon as it is written out, so an idle session
 * costs no buffer memory. The splice() path replaces the buffer with a pipe
 * behind the same two calls (chan_recv / chan_send): bytes go socket ->
 * pipe -> socket inside the kernel. A pipe, like a buffer, is held only
 * while it carries bytes (core/pipe.h). At most one of buffer and pipe
 * holds bytes at any time (the mode only changes while both are empty),
 * so the order of the bytes is kept whatever path they take; when no pipe
 * can be had the channel copies, never fails. */
#ifndef DECOYPROXY_CHANNEL_H
#define DECOYPROXY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include "lib/common.h"

#define PUMP_BUFSIZE 16384

struct dp_pipe;
struct chan;

/* The tee path (core/channel_tee.c): a consumer besides the destination
 * (the IDS copy) wants a splicing channel's bytes. The channel then
 * splices socket -> copy pipe, tee()s the copy pipe into the relay pipe
 * (page references, no copy), and hands the copy pipe's bytes to take(),
 * which reads them where it wants them (one copy, the consumer's own);
 * the relay pipe is spliced out as usual. Bytes reach take() in order,
 * each once, before the channel reports their EOF. Both pipes come from
 * the pool: when one is refused the channel copies that read through its
 * buffer instead (the consumer then sees the bytes on its copy path, as
 * without tee), and a tee() failure ends teeing for the channel: what
 * was read meanwhile is relayed (lost() tells the consumer how much it
 * missed), and the channel copies from then on while want() says so. */
struct chan_tee_ops {
	/* Bytes the consumer still wants from c; 0: none (plain splice). */
	uint64_t (*want)(void *ctx, const struct chan *c);
	/* Reads n bytes of c's copy from pipe fd (at most what want() said);
	 * returns how many it read: fewer means it could not read the rest,
	 * which the channel then discards and reports to lost(). */
	size_t (*take)(void *ctx, const struct chan *c, int fd, size_t n);
	/* n bytes of c were relayed without reaching take(). */
	void (*lost)(void *ctx, const struct chan *c, size_t n);
};

/* How a channel may move bytes (chan.splice) */
enum {
	CHAN_COPY = 0,      /* through a buffer only */
	CHAN_SPLICE,        /* splice() whenever a pipe can be had (splice-request/-response) */
	CHAN_SPLICE_AUTO,   /* splice() once the flow fills the buffer repeatedly (splice-auto) */
};
/* splice-auto: reads in a row that fill the whole buffer before a flow
 * counts as bulk and is spliced; a short exchange never qualifies. */
#define CHAN_AUTO_FULL_READS 2

struct chan {
	char *buf;          /* NULL while empty */
	size_t off, len;    /* pending bytes are buf[off .. off+len) */
	uint64_t total;     /* bytes received into this channel */
	uint64_t sent;      /* bytes written out of it */
	char *pre;          /* bytes sent before the buffer (a PROXY header); malloc'd */
	size_t pre_off, pre_len;
	struct dp_pipe *pipe; /* splice(): bytes in flight in the kernel; NULL while none */
	uint8_t splice;     /* CHAN_COPY / CHAN_SPLICE / CHAN_SPLICE_AUTO */
	uint8_t full_reads; /* splice-auto: reads in a row that filled the buffer */
	bool wait_room;     /* splice(): the pipe may be full, read once it is emptied */
	bool tee_broken;    /* tee(): failed once; this channel copies while tee wants bytes */
	bool eof;           /* the source reached EOF */
	bool shut;          /* EOF propagated (shutdown(SHUT_WR) on the destination) */
	struct dp_pipe *tpipe; /* tee(): the copy pipe (held with pipe); its bytes are not
	                        * in the relay pipe yet (that pipe was full) */
	const struct chan_tee_ops *tee; /* NULL: no tee */
	void *tee_ctx;
};

/* Result codes of chan_recv / chan_send */
enum {
	PUMP_AGAIN = 0,     /* would block */
	PUMP_PROGRESS = 1,  /* some bytes moved */
	PUMP_EOF = 2,       /* recv: orderly EOF */
	PUMP_FULL = 3,      /* recv: buffer full, nothing read */
	PUMP_ERROR = -1,    /* errno preserved */
};

/* Reads from fd into the channel while there is room. */
int chan_recv(struct chan *c, int fd);
/* Writes pending bytes to fd: the prefix first (in one send of its own),
 * then the buffer. Releases the buffer when emptied. */
int chan_send(struct chan *c, int fd);
/* Bytes in the channel's pipe (0 without one). */
size_t chan_piped(const struct chan *c);
static inline bool chan_empty(const struct chan *c) { return c->len == 0 && c->pre_len == 0 && !c->pipe; }
/* Full: the source is not read until the destination took some bytes
 * (the pipe's room cannot be known exactly: it is counted in pages, so a
 * splice() that would block with bytes in the pipe waits for it to empty). */
bool chan_full(const struct chan *c);
/* Returns the buffer and the pipe, with the prefix (the session ends). */
void chan_release(struct chan *c);
/* Takes ownership of a malloc'd prefix to send before any buffered byte. */
void chan_set_prefix(struct chan *c, char *data, size_t len);

/* Makes c tee its spliced bytes to ops (see struct chan_tee_ops); ops
 * NULL: no more (only while c holds no pipe). */
void chan_set_tee(struct chan *c, const struct chan_tee_ops *ops, void *ctx);
/* tee() calls that failed (the channel fell back to copying), every
 * thread; bytes handed to take(). */
unsigned long long chan_tee_failures(void);
unsigned long long chan_tee_bytes(void);
/* Tests: the next tee() calls fail with errno err (0: none). */
extern int chan_tee_fault;

/* Buffer pool statistics (for show info / tests): the sums over the
 * threads' pools. */
size_t pump_pool_allocated(void);
size_t pump_pool_in_use(void);
/* Frees the calling thread's free buffers (each thread calls it as it
 * stops: the pool is per thread). */
void pump_pool_trim(void);

#endif
