/* lb.h — choosing a server in a backend. */
#ifndef DECOYPROXY_LB_H
#define DECOYPROXY_LB_H

#include <sys/socket.h>
#include "lib/common.h"

struct proxy;
struct server;

enum lb_result {
	LB_OK = 0,        /* *out set */
	LB_FULL,          /* usable servers exist but all are at maxconn: queue */
	LB_NOSRV,         /* no usable server */
};

/* Picks a server for a client (the source address feeds `balance source`).
 * `exclude` (may be NULL) is avoided when another choice exists (redispatch). */
enum lb_result lb_pick(struct proxy *be, const struct sockaddr_storage *client,
		       const struct server *exclude, struct server **out);

/* `balance source`: the server client's address maps to (a usable one,
 * backups when no active server is usable), full or not; NULL: none. */
struct server *lb_hash_target(struct proxy *be, const struct sockaddr_storage *client);

#endif
