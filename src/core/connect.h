/* connect.h — the server-side socket's source address: binds for the
 * `source` / `usesrc` rules (model/source.h), with HAProxy's semantics. */
#ifndef DECOYPROXY_CONNECT_H
#define DECOYPROXY_CONNECT_H

#include <sys/socket.h>
#include "lib/common.h"
#include "model/source.h"

struct sockaddr_storage;

/* Outcome of src_apply(), for the termination state and counters. */
enum {
	SRC_OK = 0,
	SRC_ERR_FAMILY = -1,   /* client and server families differ: cannot spoof ('PC') */
	SRC_ERR_PRIV = -2,     /* IP_TRANSPARENT refused: missing CAP_NET_ADMIN/CAP_NET_RAW */
	SRC_ERR_BIND = -3,     /* bind() failed (address in use, not available, ...) */
};

/* Prepares socket fd (of the server's family) per `sc` for a session whose
 * client address is `client`: IP_TRANSPARENT / IPV6_TRANSPARENT, SO_REUSEADDR,
 * IP_BIND_ADDRESS_NO_PORT and bind(). For `usesrc client`, an EADDRINUSE bind
 * is retried once with a fresh port and *collided is set (the caller records
 * it with src_note_collision()); `fresh_port` asks for that fresh port from
 * the start (used when connect() found the 4-tuple taken). Returns SRC_OK or
 * a SRC_ERR_* with *err describing it. sc may be NULL or unset: no-op. */
int src_apply(int fd, int family, const struct src_conf *sc, const struct sockaddr_storage *client,
	      bool fresh_port, bool *collided, char **err);

/* Names the source rule for messages: "usesrc client", "usesrc clientip",
 * "usesrc <addr>", "source <addr>" or "no source". Static string. */
const char *src_mode_name(const struct src_conf *sc);

struct proxy;
struct server;

/* `usesrc client` collisions: sessions whose client port could not be kept
 * (EADDRINUSE at bind, EADDRNOTAVAIL/EADDRINUSE at connect: that 4-tuple
 * already exists here) and went out from a fresh port instead. Process-wide,
 * kept across reloads; `show info` prints it as UsesrcClientCollisions.
 * Counted from any thread: RARE_INC/RARE_GET (model/counters.h). */
extern unsigned long long src_client_collisions;

/* Records one such collision for server srv of backend be whose client is
 * `client`: counts it on the server and process-wide, and warns at most once
 * a minute for the whole process (not per server, not per call site). */
void src_note_collision(const struct proxy *be, struct server *srv, const struct sockaddr_storage *client);

struct dp_config;
/* Start-up/reload check: when any backend or server spoofs (`usesrc`),
 * verify that IP_TRANSPARENT can be set, so a missing CAP_NET_ADMIN /
 * CAP_NET_RAW is reported once, clearly, instead of failing every session.
 * Returns 0 or -EPERM with *err naming the proxy and the capabilities. */
int src_check_privileges(const struct dp_config *c, char **err);


#endif
