/* listener.c — listening sockets: open, accept, pause, and the listeners
 * of a generation across a reload (socket takeover).
 *
 * Each address and port of a `bind` line (model/bind.h) is one listener
 * with its own socket. Accepting drains the backlog on every wakeup,
 * stopping early only at a connection limit, and hands every accepted fd
 * to the bind line's accept callback (a session, or a CLI client).
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
#include "core/listener.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/bind.h"
#include "model/conf.h"
#include "log/msg.h"
#include "net/nscache.h"

/* After EMFILE/ENFILE, stop accepting this long, then try again. */
#define FD_EXHAUSTION_PAUSE 0.1

static listener_accept_fn default_accept;
static ev_timer resume_timer;

void listener_set_default_accept(listener_accept_fn fn)
{
	default_accept = fn;
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
	fd = ns_cache_socket(bc->fe->conf->nscache, bc->netns, l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
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
			listeners_update();
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
				listeners_throttle();
				return;
			default:
				ha_warning("frontend '%s': accept() failed: %s", l->bc->fe->name, strerror(errno));
				return;
			}
		}
		(l->bc->accept ? l->bc->accept : default_accept)(l, fd, &peer);
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

/* ---- every listener of the running generation ------------------------------ */

#define FOR_EACH_LISTENER(c, px, bc, l)                                          \
	for (struct proxy *px = (c)->proxies; px; px = px->next)                 \
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next)        \
			for (struct listener *l = bc->listeners; l; l = l->next)

void listeners_update(void)
{
	if (!rt.conf)
		return;
	FOR_EACH_LISTENER(rt.conf, px, bc, l) {
		bool ok = rt_may_accept(px) && !(bc->maxconn && l->nbconn >= bc->maxconn);

		if (ok && !ev_is_active(&l->io))
			listener_start(l);
		else if (!ok && ev_is_active(&l->io))
			listener_stop(l);
	}
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	rt.accept_paused = false;
	listeners_update();
}

void listeners_throttle(void)
{
	static double last;

	rt.fd_exhaustion_events++;
	if (ha_ratelimit(&last, 10.0))
		ha_warning("out of file descriptors or socket memory (%s): pausing accept for %d ms",
			   strerror(errno), (int)(FD_EXHAUSTION_PAUSE * 1000));
	rt.accept_paused = true;
	listeners_update();
	if (!ev_is_active(&resume_timer)) {
		ev_timer_init(&resume_timer, resume_cb, FD_EXHAUSTION_PAUSE, 0.0);
		ev_timer_start(rt.loop, &resume_timer);
	}
}

/* ---- a generation's listeners across a reload ------------------------------ */

/* Finds an open listener of oldc that wants the same socket as nl. */
static struct listener *find_reusable(struct dp_config *oldc, const struct listener *nl)
{
	if (!oldc)
		return NULL;
	FOR_EACH_LISTENER(oldc, px, bc, l) {
		if (l->fd >= 0 && listener_same_socket(l, nl))
			return l;
	}
	return NULL;
}

void listeners_undo(struct dp_config *newc)
{
	FOR_EACH_LISTENER(newc, px, bc, l) {
		if (l->fd < 0)
			continue;
		if (l->taken_from) {
			l->taken_from->fd = l->fd;
			l->fd = -1;
			/* the old generation keeps serving: watch its socket again */
			listener_start(l->taken_from);
			l->taken_from = NULL;
		} else {
			listener_close(l);
		}
	}
}

int listeners_open(struct dp_config *newc, struct dp_config *oldc, unsigned *kept, unsigned *opened, char **err)
{
	FOR_EACH_LISTENER(newc, px, bc, l) {
		struct listener *old;

		if (px->disabled)
			continue;
		old = find_reusable(oldc, l);
		if (old) {
			/* same socket, new owner: stop watching it for the old one */
			listener_stop(old);
			l->fd = old->fd;
			old->fd = -1;
			l->taken_from = old;
			(*kept)++;
			continue;
		}
		if (listener_open(l, err) < 0) {
			char *m = NULL;

			memprintf(&m, "Starting %s %s: %s", px->cap & PR_CAP_BE ? "proxy" : "frontend", px->name, *err);
			free(*err);
			*err = m;
			listeners_undo(newc);
			return -1;
		}
		(*opened)++;
	}
	return 0;
}

void listeners_commit(struct dp_config *newc)
{
	FOR_EACH_LISTENER(newc, px, bc, l)
		l->taken_from = NULL;
}

unsigned listeners_close(struct dp_config *c)
{
	unsigned n = 0;

	if (!c)
		return 0;
	FOR_EACH_LISTENER(c, px, bc, l) {
		if (l->fd >= 0) {
			listener_close(l);
			n++;
		} else {
			listener_stop(l);
		}
	}
	return n;
}

void listeners_pause_all(struct dp_config *c, bool pause)
{
	FOR_EACH_LISTENER(c, px, bc, l) {
		int r = pause ? listener_pause(l) : listener_resume(l);

		if (r < 0)
			ha_warning("frontend '%s': cannot %s [%s]: %s", px->name, pause ? "pause" : "resume",
				   bc->spec, strerror(-r));
	}
}
