/* channel.h — moving bytes from one fd to another through a pooled buffer.
 *
 * A channel owns no buffer while idle: a buffer is taken from the pool when
 * data arrives and returned as soon as it is written out, so an idle session
 * costs no buffer memory. The splice() path replaces the buffer with a pipe
 * behind the same two calls (chan_recv / chan_send). */
#ifndef DECOYPROXY_CHANNEL_H
#define DECOYPROXY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include "lib/common.h"

#define PUMP_BUFSIZE 16384

struct chan {
	char *buf;          /* NULL while empty */
	size_t off, len;    /* pending bytes are buf[off .. off+len) */
	uint64_t total;     /* bytes received into this channel */
	uint64_t sent;      /* bytes written out of it */
	char *pre;          /* bytes sent before the buffer (a PROXY header); malloc'd */
	size_t pre_off, pre_len;
	bool eof;           /* the source reached EOF */
	bool shut;          /* EOF propagated (shutdown(SHUT_WR) on the destination) */
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
static inline bool chan_empty(const struct chan *c) { return c->len == 0 && c->pre_len == 0; }
static inline bool chan_full(const struct chan *c) { return c->len >= PUMP_BUFSIZE; }
void chan_release(struct chan *c);
/* Takes ownership of a malloc'd prefix to send before any buffered byte. */
void chan_set_prefix(struct chan *c, char *data, size_t len);

/* Buffer pool statistics (for show info / tests). */
size_t pump_pool_allocated(void);
size_t pump_pool_in_use(void);
void pump_pool_trim(void);

#endif
