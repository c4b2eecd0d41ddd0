/* connect.c — preparing a server-side socket per its `source` rule:
 * transparent binds for HAProxy's `usesrc` forms (spoofing the client),
 * `usesrc client` collisions, and the start-up check that spoofing is
 * allowed at all. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "lib/addr.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/source.h"
#include "core/connect.h"
#include "core/loop.h"

#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static int make_transparent(int fd, int family, char **err)
{
	int r = family == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
				   : set_int(fd, IPPROTO_IP, IP_TRANSPARENT, 1);

	if (r < 0) {
		int e = errno;

		memprintf(err, "cannot set %s: %s%s", family == AF_INET6 ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT",
			  strerror(e), e == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "");
		return SRC_ERR_PRIV;
	}
	return SRC_OK;
}

int src_apply(int fd, int family, const struct src_conf *sc, const struct sockaddr_storage *client,
	      bool fresh_port, bool *collided, char **err)
{
	struct sockaddr_storage b;
	char a[64];
	bool foreign = false;
	int r;

	*collided = false;
	if (!sc || !sc->set)
		return SRC_OK;

	switch (sc->usesrc) {
	case SRC_USESRC_CLIENTIP:
	case SRC_USESRC_CLIENT:
		if (client->ss_family != family) {
			memprintf(err, "cannot use client address %s as source toward an %s server",
				  addr_ntop(client, a, sizeof(a)), family == AF_INET6 ? "IPv6" : "IPv4");
			return SRC_ERR_FAMILY;
		}
		b = *client;
		if (sc->usesrc == SRC_USESRC_CLIENTIP || fresh_port)
			addr_set_port(&b, 0);
		foreign = true;
		break;
	case SRC_USESRC_ADDR:
		if (sc->usesrc_addr.ss_family != family) {
			memprintf(err, "usesrc address family does not match the server's");
			return SRC_ERR_FAMILY;
		}
		b = sc->usesrc_addr;
		foreign = true;
		break;
	default:
		if (sc->addr.ss_family != family) {
			if (addr_is_any(&sc->addr))
				return SRC_OK; /* "source 0.0.0.0" toward IPv6: nothing to bind */
			memprintf(err, "source address family does not match the server's");
			return SRC_ERR_FAMILY;
		}
		b = sc->addr;
		break;
	}
	if (foreign && (r = make_transparent(fd, family, err)) != SRC_OK)
		return r;
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (sc->iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sc->iface, (socklen_t)strlen(sc->iface)) < 0) {
		int e = errno;

		memprintf(err, "cannot bind to interface '%s': %s", sc->iface, strerror(e));
		return SRC_ERR_BIND;
	}
	if (addr_port(&b) == 0)
		/* let connect() choose the port with the full 4-tuple in hand,
		 * so many spoofed sessions can share one client IP */
		set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	if (bind(fd, (struct sockaddr *)&b, addr_len(&b)) == 0)
		return SRC_OK;
	if (errno == EADDRINUSE && sc->usesrc == SRC_USESRC_CLIENT) {
		/* the client's port is taken on this host toward somewhere:
		 * fall back to a fresh port once, as documented */
		*collided = true;
		addr_set_port(&b, 0);
		set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
		if (bind(fd, (struct sockaddr *)&b, addr_len(&b)) == 0)
			return SRC_OK;
	}
	{
		int e = errno;

		memprintf(err, "cannot bind source %s: %s", addr_str(&b, a, sizeof(a)), strerror(e));
	}
	return SRC_ERR_BIND;
}

const char *src_mode_name(const struct src_conf *sc)
{
	if (!sc || !sc->set)
		return "no source";
	switch (sc->usesrc) {
	case SRC_USESRC_CLIENT: return "usesrc client";
	case SRC_USESRC_CLIENTIP: return "usesrc clientip";
	case SRC_USESRC_ADDR: return "usesrc <addr>";
	default: return "source <addr>";
	}
}

unsigned long long src_client_collisions;

void src_note_collision(const struct proxy *be, struct server *srv, const struct sockaddr_storage *client)
{
	/* one limiter for every server and both places a collision is found
	 * (bind, connect): at most one warning a minute in all */
	static _Atomic double last; /* the process's, every thread's collisions */
	char a[64];

	CNT_INC(srv, usesrc_client_collisions);
	RARE_INC(src_client_collisions);
	if (rt_ratelimit_process(&last, 60.0))
		ha_warning("backend '%s'/server '%s': 'usesrc client': source %s already in use toward the server, "
			   "using a fresh port (%llu collisions so far; this warning at most once a minute)",
			   be->name, srv->name, addr_str(client, a, sizeof(a)), RARE_GET(src_client_collisions));
}

static bool spoofs(const struct src_conf *sc)
{
	return sc->set && sc->usesrc != SRC_USESRC_NONE;
}

int src_check_privileges(const struct dp_config *c, char **err)
{
	const char *who = NULL;
	char *m = NULL;
	int fd, r;

	for (const struct proxy *px = c->proxies; px && !who; px = px->next) {
		if (!(px->cap & PR_CAP_BE))
			continue;
		if (spoofs(&px->source))
			who = px->name;
		for (const struct server *s = px->srv; s && !who; s = s->next)
			if (spoofs(&s->source))
				who = px->name;
	}
	if (!who)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* not a privilege question; sessions will report it */
	r = make_transparent(fd, AF_INET, &m);
	close(fd);
	if (r == SRC_OK)
		return 0;
	memprintf(err, "backend '%s' spoofs the client address ('usesrc') but %s", who, m);
	free(m);
	return -EPERM;
}
