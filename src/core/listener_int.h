/* listener_int.h — private to the listener module (listener.c and
 * listener_owned.c): sockets of bind lines outside proxies. */
#ifndef DECOYPROXY_LISTENER_INT_H
#define DECOYPROXY_LISTENER_INT_H

#include <ev.h>
#include "model/bind.h"

/* One thread's socket of a listener in thread mode (SO_REUSEPORT sibling
 * of l->fd), watched by that thread's loop. */
struct listener_shard {
	struct listener *l;
	int fd;
	ev_io io;
};

/* The listen() backlog of l (bind line's backlog, maxconn, frontend's
 * maxconn, else 1024). */
int listener_backlog(const struct listener *l);

/* Opens the socket of a bind line of another owner than a frontend: a unix
 * socket (with its file) or a plain TCP one. Messages read
 * "<owner> '<spec>': ...". Returns 0 or -errno with *err. */
int listener_open_owned(struct listener *l, char **err);

/* Opens a unix socket of any bind line: a file made in a private
 * directory and renamed into place with its mode and owner (a stale
 * socket file is replaced, a live one refused), or an abstract (abns@)
 * one. Messages read "<owner or 'bind'> '<spec>': ...". Returns 0 or
 * -errno with *err. */
int listener_open_unix(struct listener *l, char **err);

/* l took old's unix socket over: re-applies l's file mode and owner if
 * they differ from old's, on the file only while its name in the directory
 * it was made in still holds it. Returns 0 or -errno with *err (nothing
 * changed). */
int listener_unix_retake(const struct listener *l, const struct listener *old, char **err);
/* old gets its unix socket back from l: its own mode and owner again if
 * they differ (failures are ignored: the old generation keeps serving). */
void listener_unix_giveback(const struct listener *l, const struct listener *old);
/* After closing l's unix socket: removes its file if its name, in the
 * directory it was made in, still holds the one created here (warns when
 * that fails); closes that directory. */
void listener_unix_remove(struct listener *l);

#endif
