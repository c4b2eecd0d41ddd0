/* bind.h — `bind` lines as configured: options and one listener (address
 * and port) per socket. The sockets themselves are core/listener.h's. */
#ifndef DECOYPROXY_BIND_H
#define DECOYPROXY_BIND_H

#include <ev.h>
#include <sys/socket.h>
#include "lib/common.h"

struct proxy;
struct cfg_ctx;
struct listener;

enum {
	BC_O_TRANSPARENT  = 1 << 0,
	BC_O_V6ONLY       = 1 << 1,
	BC_O_V4V6         = 1 << 2,
	BC_O_ACCEPT_PROXY = 1 << 3,
	BC_O_DEFER_ACCEPT = 1 << 4,
	BC_O_TFO          = 1 << 5,
};
/* The options that shape the socket itself (a listener with other ones
 * needs another socket); accept-proxy only changes what is read from it. */
#define BC_O_SOCKET (BC_O_TRANSPARENT | BC_O_V6ONLY | BC_O_V4V6 | BC_O_DEFER_ACCEPT | BC_O_TFO)

/* What a listener does with an accepted connection: fd is non-blocking and
 * close-on-exec, owned by the callee from now on; peer is its address. */
typedef void (*listener_accept_fn)(struct listener *l, int fd, const struct sockaddr_storage *peer);

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
	listener_accept_fn accept;  /* NULL: the process default (a session) */
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

/* Parses "bind <addr>[:<ports>][,...] [options...]" (argv[0] == "bind")
 * into a new bind line (*out, owned by the caller, which sets its frontend
 * and links it). Returns CFG_OK or CFG_ERR with *err. */
int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, struct bind_conf **out, char **err);
void bind_conf_free(struct bind_conf *bc);

/* Whether listeners a and b (of two generations) want the same socket: the
 * same address and port (addr_equal: family and IPv6 scope included), the
 * same BC_O_SOCKET options, interface and namespace. A reload hands the
 * old one's socket to the new one. */
bool listener_same_socket(const struct listener *a, const struct listener *b);

#endif
