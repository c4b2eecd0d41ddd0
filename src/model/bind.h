/* bind.h — `bind` lines as configured: options and one listener (address
 * and port) per socket. The sockets themselves are core/listener.h's.
 *
 * A bind line belongs to a frontend (`bind` in a proxy section) or to
 * another owner: the CLI's `stats socket` lines are bind lines of their
 * own, with a unix path or a TCP address, kept in the CLI's generation
 * extension. Both kinds share the listener layer (opening, takeover across
 * reloads, the accept loop and its fd-exhaustion pause); only what admits
 * a connection differs (struct bind_owner). */
#ifndef DECOYPROXY_BIND_H
#define DECOYPROXY_BIND_H

#include <ev.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "lib/common.h"

struct proxy;
struct cfg_ctx;
struct listener;
struct bind_conf;
struct bind_unix_defaults;

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

/* The owner of bind lines that belong to no frontend (bc->fe NULL, ctl/cli's
 * `stats socket` lines). The listener layer opens, takes over and accepts
 * on them as on a frontend's, but none of the frontends' limits apply
 * (global and frontend maxconn, SIGTTOU pause, soft stop): only the
 * process-wide fd-exhaustion pause and the owner's own limit. */
struct bind_owner {
	const char *name;           /* in messages: "<name> '<spec>': ..." */
	/* May l accept one more connection now (the owner's limit)? */
	bool (*may_accept)(const struct listener *l);
	/* The owner's bind lines accepting now (listeners_update walks them
	 * with the frontends'), or NULL. */
	struct bind_conf *(*in_service)(void);
};

/* One `bind` line: shared options and one listener per address/port. */
struct bind_conf {
	struct bind_conf *next;
	struct proxy *fe;           /* NULL: a bind line of `owner` */
	const struct bind_owner *owner;
	char *file; int line;
	char *spec;                 /* the address words as written, for messages */
	unsigned options;
	unsigned maxconn;           /* 0 = unlimited on this line */
	int backlog;                /* 0 = frontend maxconn (or 1024) */
	char *iface;
	char *netns;
	char *name;
	unsigned id;                /* `id <n>`: its one listener's id (0: numbered in finalize) */
	struct listener *listeners, *listeners_last;
	listener_accept_fn accept;  /* NULL: the process default (a session) */
	struct {                    /* unix socket file: mode and owner set after bind() */
		mode_t mode;
		uid_t uid;
		gid_t gid;
		bool have_uid, have_gid;
		bool have_mode;     /* a frontend's: `mode` given (else the umask's) */
	} ux;
};

struct listener_shard;

struct listener {
	struct listener *next;
	struct bind_conf *bc;
	struct sockaddr_storage addr;
	int fd;
	ev_io io;
	bool paused;                /* stopped accepting (maxconn, fd limit) */
	bool nodelay;               /* TCP_NODELAY set on the socket: accepted
	                             * connections inherit it (core/listener.c) */
	struct listener *taken_from; /* during a reload: the old listener whose socket we took */
	_Atomic unsigned nbconn;    /* every thread's (bind maxconn: compare-and-swap) */
	_Atomic unsigned long long cum_conn; /* every thread's */
	unsigned luid;              /* HAProxy's listener id in its frontend (`id`, else
	                             * numbered in bind order by bind_finalize): %cp/%fp
	                             * and `show sess` of a unix socket's clients */
	/* a unix socket file created by this process: the directory it was
	 * created in (O_PATH; -1: none) and the file's device and inode. Its
	 * mode and owner are changed, and the file removed at close, only
	 * through that directory and only while the name there still holds
	 * that file (another user may have replaced it: core/listener_owned.c) */
	int dirfd;
	dev_t dev;
	ino_t ino;
	/* thread mode (nbthread > 1): the sockets of threads 2..n, opened with
	 * fd as one SO_REUSEPORT group and taken over with it (core/listener.c);
	 * NULL with one thread and on other owners' or unix bind lines */
	struct listener_shard *shards;
	unsigned nshards;
};

/* Parses "bind <addr>[:<ports>][,...] [options...]" (argv[0] == "bind")
 * into a new bind line (*out, owned by the caller, which sets its frontend
 * and links it). ud: the `unix-bind` settings in force (NULL: none), the
 * defaults of a unix socket's mode and owner and its path prefix. Returns
 * CFG_OK or CFG_ERR with *err. */
int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, const struct bind_unix_defaults *ud,
	       struct bind_conf **out, char **err);
/* ---- unix sockets ----
 * `bind unix@<path>|<abs path>|abns@<name> [mode <octal>] [user|uid <u>]
 * [group|gid <g>]` in a frontend, with the global `unix-bind [prefix <p>]
 * [mode <m>] [user <u>] [uid <n>] [group <g>] [gid <n>]` defaults (in
 * force for the bind lines that follow it, as in HAProxy; kept in the
 * generation's global settings, model/conf.h). */
struct bind_unix_defaults {
	char *prefix;               /* put in front of paths as written (NULL: none) */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool have_mode, have_uid, have_gid;
};
/* `user <name>`/`group <name>` (looked up) or `uid <n>`/`gid <n>` (opt
 * names which) into *id. Returns 0 or -EINVAL with *err. */
int bind_unix_owner(const char *opt, const char *val, unsigned *id, char **err);
/* The bind options that make no sense on a unix socket, refused (*err
 * names them): transparent, v4v6, v6only, defer-accept, tfo, interface,
 * namespace. Returns 0 or -EINVAL. */
int bind_unix_check(const struct bind_conf *bc, char **err);

/* Frees bc, its listeners (closing an fd left open, never watched) and
 * what it owns; NULL is a no-op. */
void bind_conf_free(struct bind_conf *bc);

/* Whether listeners a and b (of two generations) want the same socket: the
 * same address and port (addr_equal: family and IPv6 scope included), the
 * same BC_O_SOCKET options, interface and namespace. A reload hands the
 * old one's socket to the new one. */
bool listener_same_socket(const struct listener *a, const struct listener *b);

/* A bind line for an owner other than a frontend: `size` bytes zeroed (at
 * least sizeof(struct bind_conf)), the bind_conf first so that the owner
 * keeps its own fields after it and finds them with container_of; spec
 * copied, no listener yet. Freed with bind_conf_free. Returns NULL when out
 * of memory. */
struct bind_conf *bind_conf_alloc(size_t size, const char *spec);
/* Appends a listener on ss (an IP address and port, or a unix path) to bc.
 * Returns 0 or -ENOMEM. */
int bind_add_listener(struct bind_conf *bc, const struct sockaddr_storage *ss);

#endif
