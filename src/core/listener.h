/* listener.h — `bind` lines: parsing, listening sockets, accepting. */
#ifndef DECOYPROXY_LISTENER_H
#define DECOYPROXY_LISTENER_H

#include <ev.h>
#include <sys/socket.h>
#include "lib/common.h"

struct proxy;
struct cfg_ctx;

enum {
	BC_O_TRANSPARENT  = 1 << 0,
	BC_O_V6ONLY       = 1 << 1,
	BC_O_V4V6         = 1 << 2,
	BC_O_ACCEPT_PROXY = 1 << 3,
	BC_O_DEFER_ACCEPT = 1 << 4,
	BC_O_TFO          = 1 << 5,
};

/* One `bind` line: shared options and one listener per address/port. */
struct bind_conf {
	struct bind_conf *next;
	struct proxy *fe;
	char *file; int line;
	char *spec;                 /* the address words as written, for messages */
	unsigned options;
	unsigned maxconn;           /* 0 = unlimited on this line */
	int backlog;                /* 0 = frontend maxconn (or 1024) */
	char *iface;
	char *netns;
	char *name;
	struct listener *listeners, *listeners_last;
};

struct listener {
	struct listener *next;
	struct bind_conf *bc;
	struct sockaddr_storage addr;
	int fd;
	ev_io io;
	bool paused;                /* stopped accepting (maxconn, fd limit) */
	struct listener *taken_from; /* during a reload: the old listener whose socket we took */
	unsigned nbconn;
	unsigned long long cum_conn;
};

int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, char **err);
void bind_conf_free(struct bind_conf *bc);

/* A key identifying a listener for reuse across reloads: address, port and
 * every option that changes the socket itself. */
void listener_key(const struct listener *l, char *buf, size_t cap);

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

#endif
