/* selfconn.h — the proxy's own outgoing connections (sessions to their
 * servers, health checks), so that one of them that comes back into a
 * transparent listener is recognised and refused instead of becoming a new
 * session.
 *
 * Why: a decoy range that holds the address of a server (`intercept
 * 0.0.0.0/0:*`, `server s1 10.3.0.2:9000`) diverts the proxy's own
 * connection to that server back into the listener wherever the connection
 * enters an intercepting namespace through a real interface (the server's
 * route crosses another namespace that intercepts, or the network sends it
 * back). The new session connects to the same server, which is diverted
 * again: one attacker connection fills maxconn. The nft rules already skip
 * the loopback interface (net/nft.h), which covers every server on a local
 * address; this is the defence in depth for the paths no rule can see.
 *
 * How: each outgoing connection registers its destination before connect()
 * (selfconn_add()). A connection accepted on a transparent listener is
 * ours when its peer address:port is the local address:port of one of
 * those sockets and its original destination is that socket's destination
 * (selfconn_find()): the full 4-tuple, so an attacker cannot be refused by
 * mistake. The local port is chosen by the kernel inside connect(), so it
 * is not known without a getsockname(); it is asked for lazily, and only
 * for sockets whose destination is the original destination of a
 * connection being accepted, once in a socket's life. The usual path
 * (decoys are not the proxy's servers) costs two hash look-ups and no
 * system call; a socket whose source port is known at bind time
 * (`usesrc client`) is registered with it and never asked.
 *
 * Threads: the table is per event loop. A loop adds and removes only its
 * own connections, under its table's mutex (uncontended: no system call);
 * a look-up must see every loop's connections, since the connection that
 * comes back may be accepted by another loop, so it takes each table's
 * mutex in turn. Today there is one loop, hence one table.
 */
#ifndef DECOYPROXY_SELFCONN_H
#define DECOYPROXY_SELFCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct server;

/* One end of a TCP connection, compact: IPv4 in the first 4 bytes. */
struct selfconn_ep {
	uint16_t family;                /* AF_INET, AF_INET6; 0: unknown */
	uint16_t port;                  /* network order */
	uint8_t addr[16];
};

/* One outgoing connection; embedded in its owner (a session, a check),
 * which must call selfconn_del() before closing fd. Zeroed = not
 * registered. */
struct selfconn {
	struct selfconn *next, **pprev; /* hash chain; pprev NULL: not registered */
	struct selfconn_ep dst;         /* where it connects */
	struct selfconn_ep src;         /* its local end, once known */
	bool resolved;                  /* src known: chained by 4-tuple, else by dst */
	bool check;                     /* a health check (else a session's connection) */
	int fd;
	const struct server *srv;       /* whose connection, for the message */
};

/* Registers c, the connection of socket fd toward dst (a session's
 * connection to srv, or its health check when check is true), before
 * connect(). src: its local address when already fixed by bind() with a
 * port, else NULL (the kernel picks the port in connect()). A mapped IPv4
 * address counts as IPv4. Out of memory only makes chains longer: the
 * connection is always registered. c must not be registered already. */
void selfconn_add(struct selfconn *c, int fd, const struct sockaddr_storage *dst,
		  const struct sockaddr_storage *src, const struct server *srv, bool check);

/* Unregisters c (no-op when it is not registered). Call before closing its fd. */
void selfconn_del(struct selfconn *c);

/* c's fd is about to be closed right after its connection was established,
 * before a listener of ours may have accepted the other end (a health
 * check ends as soon as it is connected): keeps c's 4-tuple registered
 * without the fd, until selfconn_del(). Reads the local end first when it
 * is not known (one getsockname()); when that fails, c is unregistered. */
void selfconn_keep(struct selfconn *c);

/* Whether a connection accepted from peer toward orig_dst (its original
 * destination) is one of the proxy's own registered connections. When it
 * is, and who is not NULL, who receives what it is, e.g. "connection to
 * backend 'b'/server 's1'" or "health check of backend 'b'/server 's1'".
 * May call getsockname() on registered sockets toward orig_dst whose local
 * end is not known yet (once each). */
bool selfconn_find(const struct sockaddr_storage *peer, const struct sockaddr_storage *orig_dst,
		   char *who, size_t cap);

/* Registered connections (all loops), for tests. */
size_t selfconn_count(void);

#endif
