/* channel_int.h — private to the channel's parts: channel.c (buffers, the
 * copy and splice paths) and channel_tee.c (the tee path). Nothing outside
 * src/core/channel*.c includes it. */
#ifndef DECOYPROXY_CHANNEL_INT_H
#define DECOYPROXY_CHANNEL_INT_H

#include "core/channel.h"

/* chan_recv() of a path: the copy path must take this read instead. */
#define PUMP_COPY_INSTEAD (PUMP_FULL + 1)

/* ---- channel.c ---- */
/* Gives back the pipes of c once they are empty. */
void pipe_release(struct chan *c);
/* splice() socket fd -> c's pipe; PUMP_* or PUMP_COPY_INSTEAD. */
int splice_recv(struct chan *c, int fd);
/* The end of a splice() read from the socket that moved nothing (n 0, or
 * n < 0 with errno set, not EINTR): end of stream, a drained socket (with
 * wait_room, and bytes left in c's pipe, read again only once it is
 * emptied), a socket that cannot be spliced (PUMP_COPY_INSTEAD) or an
 * error. The pipes are given back once empty. */
int splice_recv_stop(struct chan *c, ssize_t n, bool progress, bool wait_room);
/* splice() c's pipe -> fd; PUMP_PROGRESS / PUMP_AGAIN / PUMP_ERROR. */
int splice_send(struct chan *c, int fd);

/* ---- channel_tee.c ---- */
/* chan_recv() of a channel with a tee consumer: PUMP_* or
 * PUMP_COPY_INSTEAD (not splicing now, a pipe refused, or teeing failed). */
int chan_tee_recv(struct chan *c, int fd);
/* chan_send() of a channel holding a copy pipe. */
int chan_tee_send(struct chan *c, int fd);
/* Whether c must not be read now: the copy pipe holds bytes not yet in
 * the relay pipe, or the consumer wants bytes that can only be copied
 * once the relay pipe is empty. */
bool chan_tee_blocked(const struct chan *c);

#endif
