/* listener.c — listening sockets: open, accept, pause, and the listeners
 * of a generation across a reload (socket takeover).
 *
 * Each address and port of a `bind` line (model/bind.h) is one listener
 * with its own socket. Accepting drains the backlog on every wakeup,
 * stopping early only at a connection limit, and hands every accepted fd
 * to the bind line's accept callback (a session, or a CLI client).
 *
 * Two kinds of bind lines share this code. A frontend's are reached
 * through the generation's proxies and obey the frontends' limits
 * (rt_may_accept: global and frontend maxconn, SIGTTOU, soft stop) and
 * their bind line's maxconn. Bind lines of another owner (the CLI's
 * `stats socket` lines, struct bind_owner) live in that owner's generation
 * extension: the owner hands their list to listeners_*_list() for the
 * reload takeover and registers where its lines in service are, so that
 * listeners_update() and the fd-exhaustion pause govern them too; they
 * admit connections by the owner's limit alone, and are never paused by
 * SIGTTOU, closed by a soft stop, counted as the proxies' listeners, nor
 * shown among them. Their sockets (unix or plain TCP) are opened in
 * listener_owned.c.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
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
#include "core/tune.h"
#include "core/listener_int.h"
#include "core/thread.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/bind.h"
#include "model/conf.h"
#include "log/msg.h"
#include "net/nscache.h"

/* After EMFILE/ENFILE, stop accepting this long, then try again. */
#define FD_EXHAUSTION_PAUSE 0.1

/* Owners of bind lines outside proxies (the CLI): few, registered once. */
#define MAX_OWNERS 4

static listener_accept_fn default_accept;
static const struct bind_owner *owners[MAX_OWNERS];
static size_t nowners;

/* Per thread, each on its own cache line: the fd-exhaustion pause (its
 * timer on that thread's loop), whether some of its watchers are stopped
 * (a slot freed by another thread then posts it an update), and that
 * update job, posted once until it ran. */
struct lthr {
	_Atomic bool paused;
	_Atomic bool stopped_any;
	_Atomic bool upd_posted;
	struct thread_job upd;
	ev_timer resume_timer;
} __attribute__((aligned(64)));
static struct lthr lthr[DP_MAX_THREADS];

void listener_set_default_accept(listener_accept_fn fn)
{
	default_accept = fn;
}

int listener_register_owner(const struct bind_owner *o)
{
	for (size_t i = 0; i < nowners; i++)
		if (owners[i] == o)
			return 0;
	if (nowners == MAX_OWNERS)
		return -ENOSPC;
	owners[nowners++] = o;
	return 0;
}

static int setopt(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* The listen() backlog, in HAProxy's order: the bind line's `backlog`, its
 * `maxconn`, the frontend's maxconn, else 1024. Sizing the accept queue to
 * maxconn is what makes extra connections wait in the kernel (and, past
 * it, have their SYNs retried by the client) while the frontend is full. */
int listener_backlog(const struct listener *l)
{
	const struct bind_conf *bc = l->bc;
	unsigned b = bc->backlog ? (unsigned)bc->backlog : bc->maxconn ? bc->maxconn :
		     bc->fe && bc->fe->maxconn ? bc->fe->maxconn : 1024;

	return b > 65535 ? 65535 : (int)b;
}

/* Opens one TCP socket of l into *out: bound, and listening unless
 * probe (a probe only tells whether the address is free). reuseport: one
 * of a thread mode group. */
static int open_inet(struct listener *l, bool reuseport, bool probe, int *out, char **err)
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
	if (reuseport && setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
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
	/* accepted sockets inherit TCP_NODELAY from the listening one: one
	 * setsockopt() per listener instead of one per connection */
	l->nodelay = setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1) == 0;
	if (bind(fd, (struct sockaddr *)&l->addr, addr_len(&l->addr)) < 0) {
		e = errno;
		memprintf(err, "cannot bind socket [%s]: %s%s", a, strerror(e),
			  e == EADDRNOTAVAIL && !(bc->options & BC_O_TRANSPARENT) ?
			  " (address not local; add 'transparent' to bind foreign addresses)" :
			  e == EACCES ? " (needs CAP_NET_BIND_SERVICE for ports below 1024)" : "");
		close(fd);
		return -e;
	}
	if (!probe && listen(fd, listener_backlog(l)) < 0)
		goto sockerr;
	*out = fd;
	return 0;
sockerr:
	e = errno ? errno : EIO;
	memprintf(err, "cannot set up listening socket [%s]: %s", a, strerror(e));
	close(fd);
	return -e;
}

static void shard_cb(struct ev_loop *loop, ev_io *w, int revents);

static void shards_free(struct listener *l)
{
	for (unsigned i = 0; i < l->nshards; i++)
		if (l->shards[i].fd >= 0)
			close(l->shards[i].fd);
	free(l->shards);
	l->shards = NULL;
	l->nshards = 0;
}

int listener_open(struct listener *l, char **err)
{
	int probe = -1, r;

	if (l->bc->owner)
		return listener_open_owned(l, err);
	if (l->addr.ss_family == AF_UNIX)
		return listener_open_unix(l, err);
	/* a bind line with an accept callback of its own (the statistics
	 * page) serves state of thread 0's: one socket, watched by T0 */
	if (dp_nbthread < 2 || l->bc->accept)
		return open_inet(l, false, false, &l->fd, err);
	/* Thread mode: one socket per thread, one SO_REUSEPORT group. The
	 * group would silently share the address with another process of
	 * ours that holds it the same way: a plain socket bound first says
	 * whether the address is free (with the single-socket messages). */
	r = open_inet(l, false, true, &probe, err);
	if (r < 0)
		return r;
	if (probe >= 0)
		close(probe);
	l->shards = calloc(dp_nbthread - 1, sizeof(*l->shards));
	if (!l->shards) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < dp_nbthread - 1; i++)
		l->shards[i].fd = -1;
	l->nshards = dp_nbthread - 1;
	r = open_inet(l, true, false, &l->fd, err);
	for (unsigned i = 0; r == 0 && i < l->nshards; i++) {
		struct listener_shard *sh = &l->shards[i];

		r = open_inet(l, true, false, &sh->fd, err);
		sh->l = l;
		ev_io_init(&sh->io, shard_cb, sh->fd, EV_READ);
	}
	if (r < 0) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		shards_free(l);
	}
	return r;
}

/* May l accept one more connection now? A frontend's bind line obeys the
 * frontends' limits and its own maxconn; another owner's only the
 * process-wide fd-exhaustion pause and the owner's limit. */
static bool listener_may_accept_t(const struct listener *l, unsigned t)
{
	const struct bind_conf *bc = l->bc;

	if (atomic_load_explicit(&lthr[t].paused, memory_order_relaxed))
		return false;
	if (bc->owner)
		return bc->owner->may_accept(l);
	return rt_may_accept(bc->fe) && !(bc->maxconn && l->nbconn >= bc->maxconn);
}

static bool listener_may_accept(const struct listener *l)
{
	return listener_may_accept_t(l, tid);
}

/* A frontend's connection, taken before accept() (exact limits with
 * several threads): the process's and the frontend's maxconn, then the
 * bind line's. */
static bool listener_take(struct listener *l)
{
	struct bind_conf *bc = l->bc;

	if (dp_nbthread < 2) {
		/* one thread: listener_may_accept() just said there is room */
		rt.actconn++;
		bc->fe->feconn++;
		l->nbconn++;
		return true;
	}
	if (!rt_take_conn(bc->fe))
		return false;
	if (!bc->maxconn)
		l->nbconn++;
	else if (!rt_take_below(&l->nbconn, bc->maxconn)) {
		rt_drop_conn(bc->fe);
		return false;
	}
	return true;
}

static void listener_untake(struct listener *l)
{
	l->nbconn--;
	rt_drop_conn(l->bc->fe);
}

static void accept_failed(const struct listener *l, int e)
{
	static _Thread_local double last; /* per thread: ha_ratelimit */

	if (!l->bc->owner)
		ha_warning("frontend '%s': accept() failed: %s", l->bc->fe->name, strerror(e));
	else if (ha_ratelimit(&last, 10.0))
		ha_warning("%s '%s': accept: %s", l->bc->owner->name, l->bc->spec, strerror(e));
}

/* Accepts from lfd, l's socket or one of its shards'. */
static void accept_from(struct listener *l, int lfd)
{
	/* at most tune.maxaccept connections per wake-up: the listener stays
	 * readable (level-triggered), so the rest is accepted at the next
	 * iteration, after the sessions just started had their turn */
	for (unsigned n = 0; n < tune_maxaccept; n++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd;

		bool taken = false;

		if (!listener_may_accept(l) || (!l->bc->owner && !(taken = listener_take(l)))) {
			listeners_update();
			return;
		}
		peer.ss_family = AF_UNSPEC; /* accept4() sets it; the analyser cannot tell */
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (taken)
				listener_untake(l);
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
				accept_failed(l, errno);
				return;
			}
		}
		/* a unix peer's address is as long as its path (an unnamed client
		 * has none): zero the rest, so that whatever reads the path (logs,
		 * the debug line, `balance source`) never sees old stack bytes */
		if (peer.ss_family == AF_UNIX && plen < sizeof(peer))
			memset((char *)&peer + plen, 0, sizeof(peer) - plen);
		rt_conn_taken = taken;
		(l->bc->accept ? l->bc->accept : default_accept)(l, fd, &peer);
		if (rt_conn_taken) {
			/* an accept callback that does not count sessions, or a
			 * session that ended in sess_accept() before it counted */
			rt_conn_taken = false;
			listener_untake(l);
		}
	}
}

static void listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = container_of(w, struct listener, io);

	accept_from(l, l->fd);
}

static void shard_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener_shard *sh = container_of(w, struct listener_shard, io);

	accept_from(sh->l, sh->fd);
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
		loop_touch(rt.loop);
		ev_io_start(rt.loop, &l->io);
	}
	/* thread k + 1 accepts on shard k, in its own loop */
	for (unsigned i = 0; i < l->nshards; i++) {
		struct ev_loop *loop = thread_loop(i + 1);

		if (loop && l->shards[i].fd >= 0 && !ev_is_active(&l->shards[i].io)) {
			loop_touch(loop);
			ev_io_start(loop, &l->shards[i].io);
		}
	}
	l->paused = false;
}

void listener_stop(struct listener *l)
{
	if (ev_is_active(&l->io)) {
		loop_touch(rt.loop);
		ev_io_stop(rt.loop, &l->io);
	}
	for (unsigned i = 0; i < l->nshards; i++)
		if (ev_is_active(&l->shards[i].io)) {
			loop_touch(thread_loop(i + 1));
			ev_io_stop(thread_loop(i + 1), &l->shards[i].io);
		}
	l->paused = true;
}

int listener_pause(struct listener *l)
{
	listener_stop(l);
	/* ENOTCONN: already paused */
	if (l->fd >= 0 && shutdown(l->fd, SHUT_RD) < 0 && errno != ENOTCONN)
		return -errno;
	for (unsigned i = 0; i < l->nshards; i++)
		if (l->shards[i].fd >= 0 && shutdown(l->shards[i].fd, SHUT_RD) < 0 && errno != ENOTCONN)
			return -errno;
	return 0;
}

int listener_resume(struct listener *l)
{
	if (l->fd >= 0 && listen(l->fd, listener_backlog(l)) < 0)
		return -errno;
	for (unsigned i = 0; i < l->nshards; i++)
		if (l->shards[i].fd >= 0 && listen(l->shards[i].fd, listener_backlog(l)) < 0)
			return -errno;
	return 0;
}

void listener_close(struct listener *l)
{
	listener_stop(l);
	if (l->fd >= 0) {
		close(l->fd);
		if (l->dirfd >= 0)
			listener_unix_remove(l);
	}
	l->fd = -1;
	l->io.cb = NULL;
	shards_free(l);
}

/* ---- every listener of the running generation ------------------------------ */

#define FOR_EACH_LISTENER(c, px, bc, l)                                          \
	for (struct proxy *px = (c)->proxies; px; px = px->next)                 \
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next)        \
			for (struct listener *l = bc->listeners; l; l = l->next)

#define FOR_EACH_LISTENER_OF(list, bc, l)                                        \
	for (struct bind_conf *bc = (list); bc; bc = bc->next)                   \
		for (struct listener *l = bc->listeners; l; l = l->next)

/* Thread t's watcher of l (NULL: none, e.g. a unix socket's on a worker). */
static ev_io *watcher_of(struct listener *l, unsigned t)
{
	if (t == 0)
		return l->fd >= 0 ? &l->io : NULL;
	if (t - 1 >= l->nshards || l->shards[t - 1].fd < 0)
		return NULL;
	return &l->shards[t - 1].io;
}

/* Starts or stops thread t's watcher of l as its limits say; false when it
 * is stopped. Thread t itself, or T0 isolated. */
static bool update_thread(struct listener *l, unsigned t)
{
	ev_io *w = watcher_of(l, t);
	struct ev_loop *loop = thread_loop(t);
	bool ok;

	if (!w || !loop)
		return true;    /* not watched by t (a unix socket, the CLI's: T0's) */
	ok = listener_may_accept_t(l, t);
	if (ok && !ev_is_active(w)) {
		if (t == 0 && !l->io.cb)
			ev_io_init(&l->io, listener_cb, l->fd, EV_READ);
		else if (t == 0)
			ev_io_set(&l->io, l->fd, EV_READ);
		loop_touch(loop);
		ev_io_start(loop, w);
	} else if (!ok && ev_is_active(w)) {
		loop_touch(loop);
		ev_io_stop(loop, w);
	}
	return ok;
}

#define FOR_EACH_OWNED_LISTENER(bc, l)                                           \
	for (size_t oi_ = 0; oi_ < nowners; oi_++)                               \
		FOR_EACH_LISTENER_OF(owners[oi_]->in_service ? owners[oi_]->in_service() : NULL, bc, l)

static bool update_one_thread(unsigned t)
{
	bool stopped = false;

	if (rt.conf)
		FOR_EACH_LISTENER(rt.conf, px, bc, l)
			stopped |= !update_thread(l, t);
	/* other owners' sockets (the CLI's) are T0's alone */
	if (t == 0 && tid == 0)
		FOR_EACH_OWNED_LISTENER(bc, l)
			stopped |= !update_thread(l, t);
	return stopped;
}

/* Every watcher of threads t0..t1-1. A thread that stops some publishes it
 * (stopped_any), then looks once more: a connection freed meanwhile by
 * another thread either sees the flag (and posts an update here) or is
 * seen now (the flag's store, the counts' decrements and both sides' loads
 * are all seq_cst). */
static void update_threads(unsigned t0, unsigned t1)
{
	for (unsigned t = t0; t < t1; t++) {
		bool stopped = update_one_thread(t);

		atomic_store(&lthr[t].stopped_any, stopped);
		if (stopped && dp_nbthread > 1)
			atomic_store(&lthr[t].stopped_any, update_one_thread(t));
	}
}

static void upd_job(struct thread_job *j)
{
	(void)j;
	atomic_store(&lthr[tid].upd_posted, false);
	update_threads(tid, tid + 1);
}

void listeners_update(void)
{
	if (thread_isolated()) {
		/* T0 alone or isolated: every thread's watchers */
		update_threads(0, dp_nbthread > 1 ? dp_nbthread : 1);
		return;
	}
	update_threads(tid, tid + 1);
	if (dp_nbthread < 2)
		return;
	/* a thread whose watchers are stopped (maxconn) may accept again:
	 * it updates them itself (its loop). The counts this thread gave back
	 * (seq_cst decrements) come before these seq_cst loads of the flags
	 * in the total order, as the flag's store before its owner's second
	 * look at the counts (update_threads). */
	for (unsigned t = 0; t < dp_nbthread; t++) {
		if (t == tid || !atomic_load(&lthr[t].stopped_any) ||
		    atomic_exchange(&lthr[t].upd_posted, true))
			continue;
		lthr[t].upd.fn = upd_job;
		thread_post_job(t, &lthr[t].upd);
	}
}

/* this thread's fd-exhaustion pause is over */
static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)w; (void)revents;
	atomic_store(&lthr[tid].paused, false);
	if (tid == 0)
		rt.accept_paused = false;
	listeners_update();
}

void listeners_throttle(void)
{
	static _Thread_local double last; /* per thread: ha_ratelimit */
	struct lthr *lt = &lthr[tid];

	RARE_INC(rt.fd_exhaustion_events);
	if (ha_ratelimit(&last, 10.0))
		ha_warning("out of file descriptors or socket memory (%s): pausing accept for %d ms",
			   strerror(errno), (int)(FD_EXHAUSTION_PAUSE * 1000));
	atomic_store(&lt->paused, true);
	if (tid == 0)
		rt.accept_paused = true;
	update_threads(tid, tid + 1);
	if (!ev_is_active(&lt->resume_timer)) {
		/* one that expired and waits to run would resume at once */
		ev_timer_stop(loop_cur(), &lt->resume_timer);
		ev_timer_init(&lt->resume_timer, resume_cb, FD_EXHAUSTION_PAUSE, 0.0);
		ev_timer_start(loop_cur(), &lt->resume_timer);
	}
}

/* ---- takeover across a reload, for any bind lines ---------------------------
 * A listener of the new generation that wants the same socket as an open
 * listener of the old one (listener_same_socket) takes it instead of
 * binding again: the
 * kernel's accept queue never closes. Frontends search every proxy of the
 * old generation; another owner searches its own old list only, so a socket
 * never changes kind. */

typedef struct listener *(*find_fn)(void *where, const struct listener *nl);

/* An open listener that wants nl's socket among a list of bind lines. */
static struct listener *find_in_list(void *list, const struct listener *nl)
{
	FOR_EACH_LISTENER_OF((struct bind_conf *)list, bc, l) {
		if (l->fd >= 0 && listener_same_socket(l, nl))
			return l;
	}
	return NULL;
}

/* An open listener that wants nl's socket among a generation's frontends. */
static struct listener *find_in_conf(void *oldc, const struct listener *nl)
{
	struct listener *l = NULL;

	for (struct proxy *px = oldc ? ((struct dp_config *)oldc)->proxies : NULL; px && !l; px = px->next)
		l = find_in_list(px->binds, nl);
	return l;
}

/* to takes from's thread sockets (both stopped). */
static void move_shards(struct listener *to, struct listener *from)
{
	to->shards = from->shards;
	to->nshards = from->nshards;
	from->shards = NULL;
	from->nshards = 0;
	for (unsigned i = 0; i < to->nshards; i++)
		to->shards[i].l = to;
}

/* l takes old's socket (and the socket file it created). A unix socket's
 * mode and owner are re-applied only when they changed. Returns 0 or
 * -errno with *err; on failure the socket is l's already, so that the
 * caller's undo gives it back. */
static int take_over(struct listener *l, struct listener *old, char **err)
{
	/* same socket, new owner: stop watching it for the old one */
	listener_stop(old);
	l->fd = old->fd;
	old->fd = -1;
	l->nodelay = old->nodelay;
	l->taken_from = old;
	l->dirfd = old->dirfd;
	old->dirfd = -1;
	l->dev = old->dev;
	l->ino = old->ino;
	move_shards(l, old);
	return l->addr.ss_family == AF_UNIX ? listener_unix_retake(l, old, err) : 0;
}

/* Undoes l's part of a failed reload: a taken socket goes back to its old
 * listener (with its old file mode and owner), which accepts again; a new
 * one is closed (and its socket file removed). */
static void give_back(struct listener *l)
{
	struct listener *old = l->taken_from;

	if (l->fd < 0)
		return;
	if (!old) {
		listener_close(l);
		return;
	}
	listener_stop(l);
	old->fd = l->fd;
	l->fd = -1;
	old->nodelay = l->nodelay;
	old->dirfd = l->dirfd;
	l->dirfd = -1;
	move_shards(old, l);
	l->taken_from = NULL;
	if (old->addr.ss_family == AF_UNIX)
		listener_unix_giveback(l, old);
	/* the old generation keeps serving: watch its socket again */
	listener_start(old);
}

/* Opens or takes over every listener of a list of bind lines. Stops at the
 * first failure (-errno with *err), leaving the undo to the caller. */
static int open_list(struct bind_conf *list, find_fn find, void *where, unsigned *kept, unsigned *opened,
		     char **err)
{
	FOR_EACH_LISTENER_OF(list, bc, l) {
		struct listener *old;
		int r;

		old = find(where, l);
		if (old) {
			r = take_over(l, old, err);
			(*kept)++;
		} else {
			r = listener_open(l, err);
			(*opened) += r == 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

void listeners_undo(struct dp_config *newc)
{
	FOR_EACH_LISTENER(newc, px, bc, l)
		give_back(l);
}

int listeners_open(struct dp_config *newc, struct dp_config *oldc, unsigned *kept, unsigned *opened, char **err)
{
	for (struct proxy *px = newc->proxies; px; px = px->next) {
		char *m = NULL;

		if (px->disabled || open_list(px->binds, find_in_conf, oldc, kept, opened, err) == 0)
			continue;
		memprintf(&m, "Starting %s %s: %s", px->cap & PR_CAP_BE ? "proxy" : "frontend", px->name, *err);
		free(*err);
		*err = m;
		listeners_undo(newc);
		return -1;
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

/* ---- bind lines of another owner (the CLI's) --------------------------------- */

int listeners_open_list(struct bind_conf *list, struct bind_conf *old, char **err)
{
	unsigned kept = 0, opened = 0;
	int r = open_list(list, find_in_list, old, &kept, &opened, err);

	if (r < 0)
		listeners_undo_list(list);
	return r;
}

void listeners_undo_list(struct bind_conf *list)
{
	FOR_EACH_LISTENER_OF(list, bc, l)
		give_back(l);
}

void listeners_commit_list(struct bind_conf *list)
{
	FOR_EACH_LISTENER_OF(list, bc, l)
		l->taken_from = NULL;
}

void listeners_update_list(struct bind_conf *list)
{
	FOR_EACH_LISTENER_OF(list, bc, l)
		update_thread(l, tid);
}

void listeners_close_list(struct bind_conf *list)
{
	FOR_EACH_LISTENER_OF(list, bc, l)
		listener_close(l);
}
