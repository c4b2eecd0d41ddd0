/* listener.c — `bind` lines and listening sockets.
 *
 * One bind line may name several addresses and port ranges; each address and
 * port becomes one listener with its own socket. Accepting drains the backlog
 * on every wakeup, stopping early only at a connection limit.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "core/listener.h"
#include "plumbing/netseg.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "core/sess.h"
#include "log/msg.h"

typedef int (*bind_kw_fn)(struct bind_conf *bc, char **args, char **err);

struct bind_kw {
	const char *name;
	int nargs;
	bind_kw_fn fn;      /* NULL: known but not supported */
	const char *why;
};

static int bk_flag(struct bind_conf *bc, char **args, char **err)
{
	if (!strcmp(args[0], "transparent"))
		bc->options |= BC_O_TRANSPARENT;
	else if (!strcmp(args[0], "v6only"))
		bc->options = (bc->options | BC_O_V6ONLY) & ~BC_O_V4V6;
	else if (!strcmp(args[0], "v4v6"))
		bc->options = (bc->options | BC_O_V4V6) & ~BC_O_V6ONLY;
	else if (!strcmp(args[0], "defer-accept"))
		bc->options |= BC_O_DEFER_ACCEPT;
	else if (!strcmp(args[0], "tfo"))
		bc->options |= BC_O_TFO;
	else if (!strcmp(args[0], "accept-proxy"))
		bc->options |= BC_O_ACCEPT_PROXY;
	return 0;
}

static int bk_uint(const char *v, unsigned max, unsigned *out, const char *what, char **err)
{
	unsigned long long x;

	if (cfg_parse_uint(v, max, &x) < 0) {
		memprintf(err, "'%s' expects an integer from 0 to %u, got '%s'", what, max, v);
		return -EINVAL;
	}
	*out = (unsigned)x;
	return 0;
}

static int bk_maxconn(struct bind_conf *bc, char **args, char **err)
{
	return bk_uint(args[1], 10000000, &bc->maxconn, "maxconn", err);
}

static int bk_backlog(struct bind_conf *bc, char **args, char **err)
{
	unsigned v;

	if (bk_uint(args[1], 1000000, &v, "backlog", err) < 0)
		return -EINVAL;
	bc->backlog = (int)v;
	return 0;
}

static int bk_str(char **dst, const char *v, char **err)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int bk_interface(struct bind_conf *bc, char **args, char **err)
{
	if (strlen(args[1]) >= IFNAMSIZ) {
		memprintf(err, "interface name '%s' is longer than %d characters", args[1], IFNAMSIZ - 1);
		return -EINVAL;
	}
	return bk_str(&bc->iface, args[1], err);
}

static int bk_name(struct bind_conf *bc, char **args, char **err)
{
	return bk_str(&bc->name, args[1], err);
}

/* `namespace <name>`: the socket is created in that namespace
 * (netseg_socket); the name is checked in netseg_finalize(). */
static int bk_namespace(struct bind_conf *bc, char **args, char **err)
{
	return bk_str(&bc->netns, args[1], err);
}

static int bk_ignore1(struct bind_conf *bc, char **args, char **err)
{
	return 0;
}

#define NOTLS "decoyproxy does not terminate TLS"

static const struct bind_kw bind_kws[] = {
	{ "transparent", 0, bk_flag, NULL },
	{ "v6only", 0, bk_flag, NULL },
	{ "v4v6", 0, bk_flag, NULL },
	{ "defer-accept", 0, bk_flag, NULL },
	{ "tfo", 0, bk_flag, NULL },
	{ "maxconn", 1, bk_maxconn, NULL },
	{ "backlog", 1, bk_backlog, NULL },
	{ "interface", 1, bk_interface, NULL },
	{ "name", 1, bk_name, NULL },
	{ "id", 1, bk_ignore1, NULL },
	{ "accept-proxy", 0, bk_flag, NULL },
	{ "namespace", 1, bk_namespace, NULL },
	{ "mss", 1, NULL, "not implemented yet" },
	{ "process", 1, NULL, "decoyproxy runs one process" },
	{ "thread", 1, NULL, "decoyproxy runs one thread" },
	{ "nice", 1, NULL, "not implemented" },
	{ "ssl", 0, NULL, NOTLS },
	{ "crt", 1, NULL, NOTLS },
	{ "crt-list", 1, NULL, NOTLS },
	{ "ca-file", 1, NULL, NOTLS },
	{ "alpn", 1, NULL, NOTLS },
	{ "npn", 1, NULL, NOTLS },
	{ "verify", 1, NULL, NOTLS },
	{ "ciphers", 1, NULL, NOTLS },
	{ "ssl-min-ver", 1, NULL, NOTLS },
	{ "ssl-max-ver", 1, NULL, NOTLS },
	{ "proto", 1, NULL, "decoyproxy is a layer-4 proxy" },
	{ "user", 1, NULL, "unix sockets are not supported" },
	{ "group", 1, NULL, "unix sockets are not supported" },
	{ "mode", 1, NULL, "unix sockets are not supported" },
	{ "uid", 1, NULL, "unix sockets are not supported" },
	{ "gid", 1, NULL, "unix sockets are not supported" },
	{ "level", 1, NULL, "'level' applies to 'stats socket' lines in the global section, not to 'bind'" },
	{ "expose-fd", 1, NULL, "decoyproxy has no master process" },
	{ "quic-cc-algo", 1, NULL, "QUIC is not supported" },
};

void bind_conf_free(struct bind_conf *bc)
{
	if (!bc)
		return;
	while (bc->listeners) {
		struct listener *n = bc->listeners->next;

		if (bc->listeners->fd >= 0)
			listener_close(bc->listeners);
		free(bc->listeners);
		bc->listeners = n;
	}
	free(bc->file);
	free(bc->spec);
	free(bc->iface);
	free(bc->netns);
	free(bc->name);
	free(bc);
}

static int add_listener(struct bind_conf *bc, const struct sockaddr_storage *ss)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->bc = bc;
	l->addr = *ss;
	l->fd = -1;
	if (!bc->listeners)
		bc->listeners = l;
	else
		bc->listeners_last->next = l;
	bc->listeners_last = l;
	return 0;
}

static int parse_addresses(struct bind_conf *bc, char *spec, char **err)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct addr_spec a;

		if (addr_parse(tok, ADDR_F_PORT_RANGE | ADDR_F_PORT_REQUIRED | ADDR_F_RESOLVE, &a, err) < 0)
			return -EINVAL;
		for (int p = a.port_lo; p <= a.port_hi; p++) {
			addr_set_port(&a.ss, p);
			if (add_listener(bc, &a.ss) < 0) {
				memprintf(err, "out of memory");
				return -ENOMEM;
			}
		}
	}
	if (!bc->listeners) {
		memprintf(err, "no address given");
		return -EINVAL;
	}
	return 0;
}

int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx->px;
	struct bind_conf *bc;
	char *spec = NULL;
	int i;

	if (argc < 2) {
		memprintf(err, "expects <addr>:<port>[,<addr>:<port>...] followed by options");
		return CFG_ERR;
	}
	bc = calloc(1, sizeof(*bc));
	if (!bc || !(bc->file = strdup(ctx->file)) || !(bc->spec = strdup(argv[1])) ||
	    !(spec = strdup(argv[1]))) {
		memprintf(err, "out of memory");
		goto fail;
	}
	bc->fe = px;
	bc->line = ctx->line;
	if (parse_addresses(bc, spec, err) < 0)
		goto fail;

	for (i = 2; i < argc;) {
		const struct bind_kw *kw = NULL;

		for (size_t k = 0; k < ARRAY_SIZE(bind_kws); k++)
			if (!strcmp(bind_kws[k].name, argv[i]))
				kw = &bind_kws[k];
		if (!kw) {
			const char *names[ARRAY_SIZE(bind_kws) + 1];
			const char *best;

			for (size_t k = 0; k < ARRAY_SIZE(bind_kws); k++)
				names[k] = bind_kws[k].name;
			names[ARRAY_SIZE(bind_kws)] = NULL;
			best = cfg_suggest(argv[i], names);
			memprintf(err, "'%s': unknown option '%s'%s%s%s", bc->spec, argv[i],
				  best ? "; did you mean '" : "", best ? best : "", best ? "' maybe ?" : "");
			goto fail;
		}
		if (kw->nargs > 0 && i + kw->nargs >= argc) {
			memprintf(err, "'%s': option '%s' expects an argument", bc->spec, kw->name);
			goto fail;
		}
		if (!kw->fn) {
			memprintf(err, "'%s': option '%s' is not supported: %s", bc->spec, kw->name, kw->why);
			goto fail;
		}
		if (kw->fn(bc, argv + i, err) < 0)
			goto fail;
		i += 1 + kw->nargs;
	}
	free(spec);
	if (!px->binds)
		px->binds = bc;
	else
		px->binds_last->next = bc;
	px->binds_last = bc;
	return CFG_OK;
fail:
	free(spec);
	bind_conf_free(bc);
	return CFG_ERR;
}

void listener_key(const struct listener *l, char *buf, size_t cap)
{
	char a[64];
	const struct bind_conf *bc = l->bc;

	snprintf(buf, cap, "%s|%x|%s|%s", addr_str(&l->addr, a, sizeof(a)),
		 bc->options & (BC_O_TRANSPARENT | BC_O_V6ONLY | BC_O_V4V6 | BC_O_DEFER_ACCEPT | BC_O_TFO),
		 bc->iface ? bc->iface : "", bc->netns ? bc->netns : "");
}

static int setopt(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* The listen() backlog, in HAProxy's order: the bind line's `backlog`, its
 * `maxconn`, the frontend's maxconn, else 1024. Sizing the accept queue to
 * maxconn is what makes extra connections wait in the kernel (and, past
 * it, have their SYNs retried by the client) while the frontend is full. */
static int listener_backlog(const struct listener *l)
{
	const struct bind_conf *bc = l->bc;
	unsigned b = bc->backlog ? (unsigned)bc->backlog : bc->maxconn ? bc->maxconn :
		     bc->fe->maxconn ? bc->fe->maxconn : 1024;

	return b > 65535 ? 65535 : (int)b;
}

int listener_open(struct listener *l, char **err)
{
	const struct bind_conf *bc = l->bc;
	char a[64];
	int fd, e;

	addr_str(&l->addr, a, sizeof(a));
	fd = netseg_socket(bc->fe->conf, bc->netns, l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   IPPROTO_TCP, err);
	if (fd < 0) {
		char *m = NULL;

		memprintf(&m, "cannot create listening socket [%s]: %s", a, *err);
		free(*err);
		*err = m;
		return fd;
	}
	if (setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		goto sockerr;
	if (l->addr.ss_family == AF_INET6 && (bc->options & (BC_O_V6ONLY | BC_O_V4V6)) &&
	    setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, !!(bc->options & BC_O_V6ONLY)) < 0)
		goto sockerr;
	if (bc->options & BC_O_TRANSPARENT) {
		int r = l->addr.ss_family == AF_INET6 ?
			setopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1) :
			setopt(fd, IPPROTO_IP, IP_TRANSPARENT, 1);

		if (r < 0) {
			e = errno;
			memprintf(err, "cannot make listening socket [%s] transparent: %s%s", a, strerror(e),
				  e == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "");
			close(fd);
			return -e;
		}
	}
	if (bc->iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, bc->iface, (socklen_t)strlen(bc->iface)) < 0) {
		e = errno;
		memprintf(err, "cannot bind listening socket [%s] to interface '%s': %s%s", a, bc->iface,
			  strerror(e), e == EPERM ? " (needs CAP_NET_RAW)" : "");
		close(fd);
		return -e;
	}
	if ((bc->options & BC_O_DEFER_ACCEPT) && setopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1) < 0)
		goto sockerr;
	if ((bc->options & BC_O_TFO) && setopt(fd, IPPROTO_TCP, TCP_FASTOPEN, 64) < 0)
		goto sockerr;
	if (bind(fd, (struct sockaddr *)&l->addr, addr_len(&l->addr)) < 0) {
		e = errno;
		memprintf(err, "cannot bind socket [%s]: %s%s", a, strerror(e),
			  e == EADDRNOTAVAIL && !(bc->options & BC_O_TRANSPARENT) ?
			  " (address not local; add 'transparent' to bind foreign addresses)" :
			  e == EACCES ? " (needs CAP_NET_BIND_SERVICE for ports below 1024)" : "");
		close(fd);
		return -e;
	}
	if (listen(fd, listener_backlog(l)) < 0)
		goto sockerr;
	l->fd = fd;
	return 0;
sockerr:
	e = errno;
	memprintf(err, "cannot set up listening socket [%s]: %s", a, strerror(e));
	close(fd);
	return -e;
}

static void listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = container_of(w, struct listener, io);

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd;

		if (!rt_may_accept(l->bc->fe) || (l->bc->maxconn && l->nbconn >= l->bc->maxconn)) {
			rt_listeners_update();
			return;
		}
		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
			case ECONNABORTED:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				rt_accept_throttle();
				return;
			default:
				ha_warning("frontend '%s': accept() failed: %s", l->bc->fe->name, strerror(errno));
				return;
			}
		}
		sess_accept(l, fd, &peer);
	}
}

void listener_start(struct listener *l)
{
	if (l->fd < 0)
		return;
	if (!ev_is_active(&l->io)) {
		if (!l->io.cb)
			ev_io_init(&l->io, listener_cb, l->fd, EV_READ);
		else
			ev_io_set(&l->io, l->fd, EV_READ);
		ev_io_start(rt.loop, &l->io);
	}
	l->paused = false;
}

void listener_stop(struct listener *l)
{
	if (ev_is_active(&l->io))
		ev_io_stop(rt.loop, &l->io);
	l->paused = true;
}

int listener_pause(struct listener *l)
{
	listener_stop(l);
	/* ENOTCONN: already paused */
	if (l->fd >= 0 && shutdown(l->fd, SHUT_RD) < 0 && errno != ENOTCONN)
		return -errno;
	return 0;
}

int listener_resume(struct listener *l)
{
	if (l->fd >= 0 && listen(l->fd, listener_backlog(l)) < 0)
		return -errno;
	return 0;
}

void listener_close(struct listener *l)
{
	listener_stop(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->io.cb = NULL;
}
