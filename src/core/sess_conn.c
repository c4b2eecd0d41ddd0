/* sess_conn.c — a session's way to its server: choosing one (load
 * balancing), waiting in the backend queue for a free slot, connecting
 * (`source`/`usesrc`, a fresh port on a 4-tuple collision), and what a
 * failed connect() leads to (turn-around, retries, `option redispatch`).
 *
 * A freed slot never starts a queued session from inside the close that
 * freed it: sess_release_server_slot() defers the dequeue to the loop
 * (sess_dequeue_later, sess.c).
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/connect.h"
#include "core/lb.h"
#include "core/listener.h"
#include "log/log.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/selfconn.h"
#include "core/sess_int.h"
#include "core/srvdyn.h"
#include "lib/term.h"
#include "log/msg.h"
#include "net/nscache.h"

/* s's client address for lb_pick() / lb_hash_target() of backend be, in
 * *tmp: only the source hash reads it (NULL otherwise, which lb_pick()
 * takes as "no client", the same for the other algorithms) */
static const struct sockaddr_storage *lb_client(const struct sess *s, const struct proxy *be,
						struct sockaddr_storage *tmp)
{
	if (be->lbalgo != LB_SOURCE)
		return NULL;
	sess_addr_get(&s->cli_addr, tmp);
	return tmp;
}

/* a connect() refused is retried after min(timeout connect, 1 s), as HAProxy */
#define TURNAROUND_MAX 1.0

/* ---- slots and the backend queue ------------------------------------------
 * A backend is shared by every thread's sessions: its balancing cursors,
 * the taking of a server slot and its queue are changed under its lock
 * (be->qlock, a spinlock held for a few instructions, never across a
 * session's close or connect). A slot is given back by an atomic decrement
 * without it; the dequeue that follows takes it. A session dequeued by a
 * thread other than its owner is started on its owner (posted job). */

static void be_lock(struct proxy *be)
{
	unsigned spins = 0;
	int z = 0;

	if (dp_nbthread < 2)
		return;         /* one thread: nobody to exclude */
	while (!atomic_compare_exchange_weak_explicit(&be->qlock, &z, 1, memory_order_acquire,
						      memory_order_relaxed)) {
		z = 0;
		if (++spins >= 64)
			sched_yield();
	}
}

static void be_unlock(struct proxy *be)
{
	if (dp_nbthread < 2)
		return;
	atomic_store_explicit(&be->qlock, 0, memory_order_release);
}

/* A queued session leaves its server's share of the queue (maxqueue). */
static void sess_queue_unbind(struct sess *s)
{
	if (s->qsrv) {
		s->qsrv->nbpend--;
		s->qsrv = NULL;
	}
}

/* Where a session that found no free slot waits (maxqueue, srvdyn.h), be
 * locked: SRVQ_REFUSE (its server's queue is full and there is no
 * redispatch; *srv: that server), otherwise it is to be queued, *srv set
 * when a redispatch found a server with a free slot. */
static enum srvq_verdict sess_queue_admit(struct sess *s, struct server **srv)
{
	struct server *bound = NULL;
	struct sockaddr_storage ca;
	struct server *target = s->be->lbalgo == LB_SOURCE ? lb_hash_target(s->be, lb_client(s, s->be, &ca)) : NULL;
	enum srvq_verdict v = target ? srvq_admit(s->be, target, &bound) : SRVQ_QUEUE;

	/* no server of its own to wait for: the backend queue */
	switch (v) {
	case SRVQ_REFUSE:
		*srv = target;
		break;
	case SRVQ_REDISPATCH:
		/* any server with a free slot, else the backend queue */
		s->q_any = true;
		if (lb_pick(s->be, NULL, NULL, srv) != LB_OK)
			*srv = NULL;
		break;
	default:
		s->qsrv = bound;
		if (bound)
			bound->nbpend++;
		break;
	}
	return v;
}

void sess_release_server_slot(struct sess *s)
{
	if (s->counted_srv) {
		s->srv->cur_conn--;
		s->counted_srv = false;
		sess_dequeue_later(s->be);
	}
}

/* Under be_lock: takes s out of its backend's queue (1), or cancels the
 * start another thread posted after dequeuing it (2: it holds a slot,
 * given back by the close), or finds neither (0). */
static int unqueue_locked(struct sess *s)
{
	struct sess **pp = &s->be->queue_head, *prev = NULL;
	struct proxy *be = s->be;

	for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp == s) {
			*pp = s->qnext;
			if (be->queue_tail == s)
				be->queue_tail = prev;
			be->nbpend--;
			s->qnext = NULL;
			sess_queue_unbind(s);
			/* it did wait: %Tw and %bq say how long and behind how many */
			s->tw = sess_ms_since(s->t_queue);
			s->bq = (unsigned)(be->queue_idx - s->q_idx + 1);
			return 1;
		}
	}
	return thread_cancel_job(s->tid, &s->dq_job) ? 2 : 0;
}

bool sess_unqueue(struct sess *s)
{
	int r;

	be_lock(s->be);
	r = unqueue_locked(s);
	be_unlock(s->be);
	return r == 2;
}

/* ---- connecting ---------------------------------------------------------- */

/* Reads the source address the server connection got (%bi:%bp). Asked of
 * the kernel only when the log line or -d shows it. */
void sess_fetch_bsrc(struct sess *s)
{
	struct sockaddr_storage b;
	socklen_t l = sizeof(b);

	memset(&b, 0, sizeof(b));
	memset(&s->bsrc_addr, 0, sizeof(s->bsrc_addr));
	if (s->srv_h.fd < 0 || getsockname(s->srv_h.fd, (struct sockaddr *)&b, &l) < 0)
		return;
	addr_unmap_v4(&b);
	/* a unix socket's unnamed end keeps its family only, as before */
	if (b.ss_family == AF_INET)
		memcpy(&s->bsrc_addr.in4, &b, sizeof(s->bsrc_addr.in4));
	else if (b.ss_family == AF_INET6)
		memcpy(&s->bsrc_addr.in6, &b, sizeof(s->bsrc_addr.in6));
	else
		s->bsrc_addr.sa.sa_family = b.ss_family;
}

void sess_bsrc(const struct sess *s, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, &s->bsrc_addr, sizeof(s->bsrc_addr));
}

void sess_connected(struct sess *s)
{
	bool want_bsrc = dp_msg.debug;

	/* custom PROXY v2 TLVs are rendered below and may show %bi:%bp */
	for (size_t i = 0; !want_bsrc && i < s->srv->ntlvs; i++)
		want_bsrc = lf_uses_bsrc(s->srv->tlvs[i].lf);
	memset(&s->bsrc_addr, 0, sizeof(s->bsrc_addr));
	if (want_bsrc)
		sess_fetch_bsrc(s);
	s->tc = sess_ms_since(s->t_connect_start);
	srvdyn_observe(s->srv, true);  /* observe layer4 */
	s->state = SST_EST;
	s->srv_h.last_act = sess_now();
	s->cli.last_act = sess_now(); /* tunnel timeout starts fresh on both sides */
	if (dp_msg.debug) {
		char a[64], b[64];
		struct sockaddr_storage bs, sa;

		sess_bsrc(s, &bs);
		sess_addr_get(&s->srv_addr, &sa);
		sess_debug(s, "%s/%s.connected to %s from %s in %ld ms", s->be->name, s->srv->name,
			   addr_str(&sa, a, sizeof(a)), addr_str(&bs, b, sizeof(b)), s->tc);
	}
	if (sess_pp_prepare(s) < 0) {
		sess_close(s, TERM_EV_CONN_PROXY);
		return;
	}
	sess_log_asap(s);
	sess_choose_splice(s);
	/* libev: a watcher is set only while it is stopped */
	ev_io_stop(sess_loop(s), &s->srv_h.wio);
	ev_io_set(&s->srv_h.rio, s->srv_h.fd, EV_READ);
	ev_io_set(&s->srv_h.wio, s->srv_h.fd, EV_WRITE);
	sess_relay_start(s);
}

static bool may_retry(struct sess *s)
{
	return s->retries_done < s->be->retries;
}

void sess_connect_failed(struct sess *s, int err)
{
	struct server *failed = s->srv;
	double turn;

	sess_half_stop(s, &s->srv_h);
	selfconn_del(&s->own);
	sess_close_fd(&s->srv_h.fd, false);
	CNT_INC(s->srv, failed_conns);
	srvdyn_observe(s->srv, false);  /* observe layer4 */
	SESS_DEBUG(s, "%s/%s.connect-failed: %s (%s)", s->be->name, s->srv->name, strerror(err),
		   may_retry(s) ? "will retry" : "no retry left");
	if (!may_retry(s)) {
		sess_close(s, err == ETIMEDOUT ? TERM_EV_CONN_TIMEOUT : TERM_EV_CONN_REFUSED);
		return;
	}
	s->retries_done++;
	CNT_INC(s->srv, retries);
	/* on the last retry, `option redispatch` may pick another server */
	if ((s->be->options & PR_O_REDISPATCH) && s->retries_done == s->be->retries && s->be->nsrv > 1) {
		struct server *n = NULL;
		struct sockaddr_storage ca;
		const struct sockaddr_storage *cp = lb_client(s, s->be, &ca);
		bool moved;

		be_lock(s->be);
		moved = lb_pick(s->be, cp, failed, &n) == LB_OK && n != failed;
		if (moved)
			n->cur_conn++;
		be_unlock(s->be);
		if (moved) {
			sess_release_server_slot(s);
			s->srv = n;
			CNT_INC(n, cum_conn);
			CNT_INC(n, redispatches);
			s->counted_srv = true;
		}
	}
	if (err == ETIMEDOUT) {
		sess_connect(s);
		return;
	}
	/* refused or unreachable: wait a little before trying again */
	turn = s->be->to.connect ? s->be->to.connect / 1000.0 : TURNAROUND_MAX;
	if (turn > TURNAROUND_MAX)
		turn = TURNAROUND_MAX;
	s->state = SST_TURN;
	s->t_connect_start = sess_now() + turn;
	sess_arm_timer(s);
	sess_update_io(s);
}

/* `tfo`: TCP Fast Open toward the server (the kernel was checked at start,
 * core/srvdyn.c). connect() then returns at once and the SYN leaves with the
 * first bytes written, carrying them when the server gave a cookie before:
 * the relay copies (no splice), so that this first write is a send(). */
static void sess_tfo(struct sess *s, int fd)
{
#ifdef TCP_FASTOPEN_CONNECT
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)) == 0)
		sess_no_splice(s);
#else
	(void)s;
	(void)fd;
#endif
}

/* -d: which server, toward which address, from which source */
static void debug_connect(const struct sess *s, int fd, const struct src_conf *sc, bool fresh_port)
{
	struct sockaddr_storage b, sa;
	socklen_t l = sizeof(b);
	char a[64], src[64];

	memset(&b, 0, sizeof(b));
	if (getsockname(fd, (struct sockaddr *)&b, &l) < 0 || addr_is_any(&b)) {
		snprintf(src, sizeof(src), "any");
	} else {
		addr_unmap_v4(&b);
		addr_str(&b, src, sizeof(src));
		if (addr_port(&b) == 0) {
			/* the port is chosen at connect time */
			char *colon = strrchr(src, ':');

			if (colon && colon + 2 < src + sizeof(src))
				strcpy(colon + 1, "*");
		}
	}
	sess_addr_get(&s->srv_addr, &sa);
	sess_debug(s, "%s/%s.connect to %s from %s (%s%s) try %d", s->be->name, s->srv->name,
		   addr_str(&sa, a, sizeof(a)), src, src_mode_name(sc), fresh_port ? ", fresh port" : "",
		   s->retries_done + 1);
}

void sess_connect(struct sess *s)
{
	struct server *srv = s->srv;
	const struct src_conf *sc = srv->source.set ? &srv->source : &s->be->source;
	char *err = NULL;
	bool collided = false;
	bool fresh_port = false;
	bool client_port, unix_srv;
	int fd, r, e;
	/* the addresses as the socket calls take them (s keeps them compact) */
	struct sockaddr_storage orig, dst, cli;

	sess_addr_get(&s->fe_addr, &orig);
	r = server_target(srv, &orig, &dst);
	/* %si:%sp shows the target even when refused below */
	e = sess_addr_set(&s->srv_addr, &dst);
	if (r < 0) {
		static _Thread_local double last; /* per thread: ha_ratelimit */

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': port offset out of range", s->be->name, srv->name);
		SESS_DEBUG(s, "%s/%s.connect: port offset out of range for port %d", s->be->name, srv->name,
			   addr_port(&orig));
		sess_close(s, TERM_EV_CONN_PROXY);
		return;
	}
	if (e < 0) {
		sess_close(s, TERM_EV_CONN_RESOURCE);
		return;
	}
	/* the client's address is read by `source` only */
	if (sc->set)
		sess_addr_get(&s->cli_addr, &cli);
	else
		cli.ss_family = AF_UNSPEC;
again:
	unix_srv = dst.ss_family == AF_UNIX;
	fd = ns_cache_socket(s->fe->conf->nscache, srv->netns, dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   unix_srv ? 0 : IPPROTO_TCP, &err);
	if (fd < 0) {
		static _Thread_local double last; /* per thread: ha_ratelimit */

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': %s", s->be->name, srv->name, err);
		SESS_DEBUG(s, "%s/%s.connect: %s", s->be->name, srv->name, err);
		free(err);
		if (fd == -EMFILE || fd == -ENFILE)
			listeners_throttle();
		sess_close(s, TERM_EV_CONN_RESOURCE);
		return;
	}
	/* a unix socket has no source address (usesrc toward one is refused
	 * by the configuration, a plain source ignored: model/bind_unix.c) */
	r = unix_srv ? SRC_OK : src_apply(fd, dst.ss_family, sc, &cli, fresh_port, &collided, &err);
	if (r != SRC_OK) {
		static _Thread_local double last; /* per thread: ha_ratelimit */

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': %s", s->be->name, srv->name, err);
		SESS_DEBUG(s, "%s/%s.connect: %s", s->be->name, srv->name, err);
		free(err);
		close(fd);
		sess_close(s, TERM_EV_CONN_PROXY);
		return;
	}
	if (collided) {
		/* bind() found the client's port taken: src_apply() took a
		 * fresh one */
		SESS_DEBUG(s, "%s/%s.connect: 'usesrc client': client port %d in use here, binding a fresh port",
			   s->be->name, srv->name, addr_port(&cli));
		src_note_collision(s->be, srv, &cli);
		fresh_port = true;
	}
	if (!unix_srv) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (srv->tfo)
			sess_tfo(s, fd);
	}
	sess_set_ka(fd, (s->be->options & PR_O_KA_SV) != 0);
	if (dp_msg.debug)
		debug_connect(s, fd, sc, fresh_port);
	s->t_connect_start = sess_now();
	s->state = SST_CONNECT;
	if (s->tw < 0)
		s->tw = 0;
	/* registered before connect(), so that the connection is known as
	 * ours if interception sends it back into one of our listeners;
	 * `usesrc client` bound the client's own port: the 4-tuple is known */
	client_port = sc->set && sc->usesrc == SRC_USESRC_CLIENT && !fresh_port && !collided;
	selfconn_add(&s->own, fd, &dst, client_port ? &cli : NULL, srv, false);
	r = connect(fd, (struct sockaddr *)&dst, addr_len(&dst));
	e = r < 0 ? errno : 0;
	if ((e == EADDRNOTAVAIL || e == EADDRINUSE) && sc->set && sc->usesrc == SRC_USESRC_CLIENT && !fresh_port) {
		/* the client's exact 4-tuple toward this server already
		 * exists on this host: once more, from a fresh port */
		selfconn_del(&s->own);
		close(fd);
		SESS_DEBUG(s, "%s/%s.connect: 'usesrc client': %s, retrying from a fresh port", s->be->name,
			   srv->name, strerror(e));
		src_note_collision(s->be, srv, &cli);
		fresh_port = true;
		goto again;
	}
	s->srv_h.fd = fd;
	ev_io_init(&s->srv_h.rio, sess_srv_read_cb, fd, EV_READ);
	ev_io_init(&s->srv_h.wio, sess_srv_write_cb, fd, EV_WRITE);
	if (r == 0) {
		sess_connected(s);
		return;
	}
	if (e != EINPROGRESS) {
		sess_connect_failed(s, e);
		return;
	}
	ev_io_start(sess_loop(s), &s->srv_h.wio);
	sess_arm_timer(s);
	sess_update_io(s); /* keep reading the client while connecting */
}

/* Chooses a server, queues, or gives up. */
void sess_assign(struct sess *s)
{
	struct proxy *be = s->be;
	struct server *srv = NULL, *fs;
	enum lb_result r;
	enum srvq_verdict v = SRVQ_QUEUE;
	bool queued = false;
	struct sockaddr_storage ca;

	if (!be) {
		SESS_DEBUG(s, "%s: no backend", s->fe->name);
		sess_close(s, TERM_EV_NO_SERVER);
		return;
	}
	if (!s->counted_be) {
		be->beconn++;
		CNT_INC(be, cum_be);
		s->counted_be = true;
	}
	be_lock(be);
	/* use-server: the server the rules chose, while it has room */
	fs = s->rl.force_srv;
	if (fs && fs->px == be && server_usable(fs) && (!srv_cur_maxconn(fs) || fs->cur_conn < srv_cur_maxconn(fs)))
		srv = fs;
	r = srv ? LB_OK : lb_pick(be, s->q_any ? NULL : lb_client(s, be, &ca), NULL, &srv);
	if (r == LB_FULL && s->state != SST_QUEUE) {
		v = sess_queue_admit(s, &srv);
		if (v == SRVQ_REFUSE)
			r = LB_NOSRV;
		else if (srv)
			r = LB_OK;
	}
	if (r == LB_OK) {
		/* the slot is taken while the choice still holds */
		srv->cur_conn++;
	} else if (r == LB_FULL && s->state != SST_QUEUE) {
		s->state = SST_QUEUE;
		s->t_queue = sess_now();
		s->q_idx = be->queue_idx;
		s->qnext = NULL;
		if (be->queue_tail)
			be->queue_tail->qnext = s;
		else
			be->queue_head = s;
		be->queue_tail = s;
		be->nbpend++;
		queued = true;
	}
	be_unlock(be);

	if (v == SRVQ_REFUSE) {
		SESS_DEBUG(s, "%s/%s: server queue full (maxqueue)", be->name, srv->name);
		s->srv = srv;  /* logged as HAProxy does: the server whose queue was full */
		CNT_INC(srv, failed_conns);
		sess_close(s, TERM_EV_QUEUE_FULL);
		return;
	}
	switch (r) {
	case LB_OK:
		break;
	case LB_FULL:
		if (queued) {
			SESS_DEBUG(s, "%s.queued (%u waiting)", be->name, be->nbpend);
			sess_arm_timer(s);
			sess_update_io(s);
		}
		return;
	case LB_NOSRV:
		SESS_DEBUG(s, "%s: no server available", be->name);
		sess_close(s, TERM_EV_NO_SERVER);
		return;
	}
	if (s->state == SST_QUEUE) {
		s->tw = sess_ms_since(s->t_queue);
		s->state = SST_CONNECT; /* as dequeued_start() */
	} else {
		s->tw = 0;
	}
	s->srv = srv;
	CNT_INC(srv, cum_conn);
	s->counted_srv = true;
	sess_connect(s);
}

/* A session the queue gave a slot to starts connecting, on its owner. It
 * is in the connection phase from here: a failure before connect() (no
 * socket, a refused `source`) is logged as such, with its server. */
static void dequeued_start(struct sess *s)
{
	s->tw = sess_ms_since(s->t_queue);
	s->state = SST_CONNECT;
	sess_connect(s);
}

static void dequeued_job(struct thread_job *j)
{
	dequeued_start(container_of(j, struct sess, dq_job));
}

void sess_queue_timeout(struct sess *s)
{
	int r;

	/* one decision under the lock that covers the dequeue and its
	 * posting: either s is still queued (taken out: sQ) or another
	 * thread dequeued it and its start is pending (it starts now) */
	be_lock(s->be);
	r = unqueue_locked(s);
	be_unlock(s->be);
	if (r == 2) {
		dequeued_start(s);
		return;
	}
	sess_close(s, TERM_EV_SRV_TIMEOUT);
}

void sess_dequeue(struct proxy *be)
{
	for (;;) {
		struct server *srv = NULL;
		struct sockaddr_storage ca;
		struct sess *s;

		be_lock(be);
		s = be->queue_head;
		if (!s || lb_pick(be, s->q_any ? NULL : lb_client(s, be, &ca), NULL, &srv) != LB_OK) {
			be_unlock(be);
			return;
		}
		be->queue_head = s->qnext;
		if (!be->queue_head)
			be->queue_tail = NULL;
		be->nbpend--;
		s->qnext = NULL;
		sess_queue_unbind(s);
		s->bq = (unsigned)(be->queue_idx++ - s->q_idx + 1);
		s->srv = srv;
		srv->cur_conn++;
		s->counted_srv = true;
		CNT_INC(srv, cum_conn);
		if (s->tid != tid) {
			unsigned owner = s->tid;
			bool wake;

			/* its watchers are on its owner's loop: started there.
			 * Queued under the lock, so that a close of s on its
			 * owner (sess_unqueue, under this lock) either finds s
			 * in the queue or finds the job to cancel. Woken after
			 * the unlock: from then on the owner may run the job or
			 * close and free s, so only the owner's thread slot is
			 * touched (it lives as long as the threads) */
			s->dq_job.fn = dequeued_job;
			wake = thread_queue_job(owner, &s->dq_job);
			be_unlock(be);
			if (wake)
				thread_wake(owner);
			continue;
		}
		be_unlock(be);
		dequeued_start(s);
	}
}
