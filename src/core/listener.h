/* listener.h — listening sockets: opening, accepting (through the bind
 * line's accept callback), pausing, and reload takeover; for frontends'
 * bind lines and for those of another owner (struct bind_owner: the CLI's
 * stats sockets, unix or TCP). */
#ifndef DECOYPROXY_LISTENER_H
#define DECOYPROXY_LISTENER_H

#include <ev.h>
#include <sys/socket.h>
#include "lib/common.h"
#include "model/bind.h"

struct dp_config;

/* Create, configure, bind and listen the socket. A unix socket (only on
 * another owner's bind line) replaces a stale socket file (nothing accepts
 * on it), refuses a live one or any other file, and appears at its path
 * listening, with the bind line's mode and owner already set: it is made
 * in a private directory and renamed into place, so that no other user
 * who may write in the directory can make root change another file
 * (listener_owned.c). Returns 0 or -errno with *err. */
int listener_open(struct listener *l, char **err);
/* Stops watching and closes l's socket; a unix socket file created here is
 * removed if the path still names it. No-op without a socket. */
void listener_close(struct listener *l);

/* Accept loop control, called by the runtime. */
void listener_start(struct listener *l);
void listener_stop(struct listener *l);

/* SIGTTOU/SIGTTIN, as HAProxy on Linux: pause stops watching l and shuts
 * its socket's read side, which makes the kernel refuse new connections
 * (and reset those not yet accepted) while the address stays bound to us,
 * so another process may bind it meanwhile; resume listens again (the
 * caller restarts accepting). Both return 0 or -errno; no-ops without fd. */
int listener_pause(struct listener *l);
int listener_resume(struct listener *l);

/* The accept callback of bind lines that set none (a session: ctl sets it
 * at start-up, so that this layer names no module above it). */
void listener_set_default_accept(listener_accept_fn fn);

/* Registers the owner of bind lines outside proxies, so that
 * listeners_update() and the fd-exhaustion pause reach its bind lines in
 * service (o->in_service). Idempotent; o is not copied. Returns 0 or
 * -ENOSPC. */
int listener_register_owner(const struct bind_owner *o);

/* Starts or stops watching every listener of the running generation as
 * limits allow (global, frontend and bind maxconn, pauses, soft stop), and
 * every registered owner's listeners in service as its limit allows. */
void listeners_update(void);
/* Called by the accept path when it hit EMFILE/ENFILE/ENOBUFS/ENOMEM: stop
 * every listener for a short while instead of spinning. */
void listeners_throttle(void);

/* ---- a generation's listeners (reload, ctl/reload.c) ---- */

/* Opens newc's listeners, taking over oldc's open socket of the same
 * address and options (listener_same_socket) instead of binding again, so the accept queue never
 * closes. All or nothing: on failure everything is given back or closed
 * and *err names the proxy. Counts kept and opened sockets. */
int listeners_open(struct dp_config *newc, struct dp_config *oldc, unsigned *kept, unsigned *opened, char **err);
/* Gives taken-over sockets back to their old listeners, closes new ones. */
void listeners_undo(struct dp_config *newc);
/* The reload succeeded: forget where sockets came from. */
void listeners_commit(struct dp_config *newc);
/* Closes c's open sockets (those not taken over); returns how many. */
unsigned listeners_close(struct dp_config *c);
/* SIGTTOU (pause) / SIGTTIN (resume) on every listener of c; failures are
 * warned per bind line. */
void listeners_pause_all(struct dp_config *c, bool pause);

/* ---- bind lines of another owner (the CLI's), one list per generation ----
 * The same takeover as above, between the owner's old and new lists only:
 * a socket at the same address moves to the new list (a unix socket file
 * keeps its inode; its mode and owner are re-applied only when they
 * changed). */

/* Opens or takes over every listener of `list` from `old` (NULL: none).
 * All or nothing: on failure everything is given back to `old` or closed
 * and *err names the socket. Returns 0 or -errno. */
int listeners_open_list(struct bind_conf *list, struct bind_conf *old, char **err);
/* Gives taken-over sockets back to `old`'s listeners (which accept again,
 * with their old file mode and owner), closes the ones opened. */
void listeners_undo_list(struct bind_conf *list);
/* The owner's new generation is in service: forget where sockets came from. */
void listeners_commit_list(struct bind_conf *list);
/* listeners_update() for one owner's list only (cheaper: no proxies). */
void listeners_update_list(struct bind_conf *list);
/* Closes every socket the list still holds (listener_close). */
void listeners_close_list(struct bind_conf *list);

#endif
