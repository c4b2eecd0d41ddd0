/* listener.h — listening sockets: opening, accepting (through the bind
 * line's accept callback), pausing, and reload takeover. */
#ifndef DECOYPROXY_LISTENER_H
#define DECOYPROXY_LISTENER_H

#include <ev.h>
#include <sys/socket.h>
#include "lib/common.h"
#include "model/bind.h"

struct dp_config;

/* Create, configure, bind and listen the socket. Returns 0 or -errno with *err. */
int listener_open(struct listener *l, char **err);
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

/* Starts or stops watching every listener of the running generation as
 * limits allow (global, frontend and bind maxconn, pauses, soft stop). */
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

#endif
