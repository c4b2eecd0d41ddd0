/* sess.c — the life of one relayed connection.
 *
 * A session is two halves (client, server) and two channels (req: client to
 * server, res: server to client). The copy loop is a small state machine:
 *   - backpressure: a source is not read while its channel is full; reading
 *     resumes once the destination has taken the bytes;
 *   - half-close: EOF from one side, once everything before it has been
 *     written, becomes shutdown(SHUT_WR) on the other side;
 *   - the session ends when both channels have carried their EOF, or at the
 *     first error or timeout, and is logged then.
 * Timeouts use one timer per session, armed at the earliest deadline and
 * re-checked lazily: I/O only records the time of the last progress.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/lb.h"
#include "core/listener.h"
#include "log/log.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/connect.h"
#include "lib/term.h"
#include "log/msg.h"
#include "net/nscache.h"

struct sess *sess_list;
unsigned sess_count;
unsigned long long sess_freed;
static unsigned long long next_sess_id;

/* a connect() refused is retried after min(timeout connect, 1 s), as HAProxy */
#define TURNAROUND_MAX 1.0

static void sess_connect(struct sess *s);
static void sess_update_io(struct sess *s);
static void sess_connected(struct sess *s);
static void sess_fetch_bsrc(struct sess *s);
static void sess_connect_failed(struct sess *s, int err);

static ev_tstamp now(void)
{
	return ev_now(rt.loop);
}

static long ms_since(ev_tstamp t)
{
	return (long)((now() - t) * 1000.0 + 0.5);
}

static void half_stop(struct half *h)
{
	if (ev_is_active(&h->rio))
		ev_io_stop(rt.loop, &h->rio);
	if (ev_is_active(&h->wio))
		ev_io_stop(rt.loop, &h->wio);
}

static void io_want(ev_io *w, bool want)
{
	if (want && !ev_is_active(w))
		ev_io_start(rt.loop, w);
	else if (!want && ev_is_active(w))
		ev_io_stop(rt.loop, w);
}

/* ---- logging ------------------------------------------------------------ */

void sess_fill_log(const struct sess *s, struct log_sess *ls_out)
{
	struct proxy *fe = s->fe;
	struct log_sess ls;

	memset(&ls, 0, sizeof(ls));
	ls.cli = s->cli_addr;
	ls.fe = s->fe_addr;
	ls.bsrc = s->bsrc_addr;
	ls.srv = s->srv_addr;
	ls.frontend = fe->name;
	ls.backend = s->be ? s->be->name : fe->name;
	ls.server = s->srv ? s->srv->name : NULL;
	ls.accept_tv = s->accept_tv;
	ls.tw = s->tw;
	ls.tc = s->tc;
	ls.tt = ms_since(s->t_accept);
	ls.bytes_up = s->req.total;
	ls.bytes_down = s->res.total;
	memcpy(ls.term, s->term, sizeof(ls.term));
	ls.ac = rt.actconn;
	ls.fc = fe->feconn;
	ls.bc = s->be ? s->be->beconn : 0;
	ls.sc = s->srv ? s->srv->cur_conn : 0;
	ls.rc = (unsigned)s->retries_done;
	ls.sq = 0; /* no server queues: every queued session waits in its backend */
	ls.bq = s->bq;
	ls.netns = s->netns;
	ls.unique_id = s->unique_id;
	ls.rt = s->id;
	*ls_out = ls;
}

static void sess_log(struct sess *s)
{
	struct proxy *fe = s->fe;
	struct log_sess ls;
	char line[2048];
	size_t n;
	bool error;

	if (!fe->logs.n || !fe->lf || s->no_log)
		return;
	error = s->term[0] != '-';
	if ((fe->options & PR_O_DONTLOGNULL) && s->req.total == 0 && !error)
		return;
	sess_fill_log(s, &ls);
	n = lf_render(fe->lf, &ls, line, sizeof(line));
	log_list_send(&fe->logs, (error && (fe->options & PR_O_LOGERRSEP)) ? 3 /* err */ : 6 /* info */,
		      fe->conf->g.log_tag ? fe->conf->g.log_tag : "decoyproxy", line, n);
}

/* ---- end of a session ---------------------------------------------------- */

/* ---- work a session end unlocks, done from the loop ------------------------
 * A freed server slot may let queued sessions of its backend connect, and a
 * freed connection may let listeners accept again. Neither is done from
 * inside sess_close(), which may run inside another session's callback or a
 * walk of the session list: the backend is put on a list (holding a
 * reference on its generation so it outlives its last session) and one
 * loop task serves the list, then updates the listeners and ends a soft
 * stop whose last session is gone. */

static struct proxy *dq_head;
static void after_close(struct loop_task *t);
static struct loop_task after_close_task = { .fn = after_close };

void sess_dequeue_later(struct proxy *be)
{
	if (!be->dq_pending) {
		be->dq_pending = true;
		be->dq_next = dq_head;
		dq_head = be;
		be->conf->refcnt++;
	}
	loop_defer(&after_close_task);
}

static void after_close(struct loop_task *t)
{
	(void)t;
	while (dq_head) {
		struct proxy *be = dq_head;

		dq_head = be->dq_next;
		be->dq_next = NULL;
		be->dq_pending = false;
		sess_dequeue(be);
		dp_config_put(be->conf);
	}
	listeners_update();
	/* a soft stop ends when the last session is gone */
	if (rt.stopping && sess_count == 0 && rt.loop)
		ev_break(rt.loop, EVBREAK_ALL);
}

static void release_server_slot(struct sess *s)
{
	if (s->counted_srv) {
		s->srv->cur_conn--;
		s->counted_srv = false;
		sess_dequeue_later(s->be);
	}
}

static void unqueue(struct sess *s)
{
	struct sess **pp = &s->be->queue_head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp == s) {
			*pp = s->qnext;
			if (s->be->queue_tail == s)
				s->be->queue_tail = prev;
			s->be->nbpend--;
			s->qnext = NULL;
			/* it did wait: %Tw and %bq say how long and behind how many */
			s->tw = ms_since(s->t_queue);
			s->bq = (unsigned)(s->be->queue_idx - s->q_idx + 1);
			return;
		}
	}
}

static void close_fd(int *fd, bool rst)
{
	if (*fd < 0)
		return;
	if (rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(*fd);
	*fd = -1;
}

void sess_log_conn_error(struct sess *s, const char *msg)
{
	struct proxy *fe = s->fe;
	char line[1024], cli[64], date[64];
	struct tm tm;
	const struct bind_conf *bc = s->li ? s->li->bc : NULL;

	s->no_log = true;
	if (!fe->logs.n)
		return;
	localtime_r(&s->accept_tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	snprintf(line, sizeof(line), "%s [%s.%03d] %s/%s: %s", addr_str(&s->cli_addr, cli, sizeof(cli)), date,
		 (int)(s->accept_tv.tv_usec / 1000), fe->name, bc ? (bc->name ? bc->name : bc->spec) : "-", msg);
	log_list_send(&fe->logs, 3 /* err */, fe->conf->g.log_tag ? fe->conf->g.log_tag : "decoyproxy", line,
		      strlen(line));
}

struct term_snap sess_term_snap(const struct sess *s)
{
	struct term_snap t = { .srv_eof = s->res.eof, .res_pending = !chan_empty(&s->res) };

	switch (s->state) {
	case SST_HDR: t.stage = TERM_ST_REQUEST; break;
	case SST_QUEUE: t.stage = TERM_ST_QUEUE; break;
	case SST_TURN:
	case SST_CONNECT: t.stage = TERM_ST_CONNECT; break;
	default: t.stage = TERM_ST_DATA; break;
	}
	return t;
}

void sess_debug(const struct sess *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ha_debug("%08llx:%s", s->id, msg);
}

void sess_close(struct sess *s, enum term_event ev)
{
	struct proxy *fe = s->fe;
	struct dp_config *conf = fe->conf;
	struct term_snap snap;
	bool was_est;

	if (s->state == SST_CLOSED)
		return;
	snap = sess_term_snap(s);
	term_compute(ev, &snap, s->term);
	if (s->state == SST_QUEUE)
		unqueue(s);
	was_est = s->state == SST_EST;
	s->state = SST_CLOSED;
	SESS_DEBUG(s, "%s.closed ts=%s (%s) %s/%s up=%llu down=%llu after %ld ms", fe->name, s->term,
		   term_event_name(ev), s->be ? s->be->name : fe->name, s->srv ? s->srv->name : "<NOSRV>",
		   (unsigned long long)s->req.total, (unsigned long long)s->res.total, ms_since(s->t_accept));

	if (was_est && s->bsrc_addr.ss_family == AF_UNSPEC && fe->logs.n && lf_uses_bsrc(fe->lf))
		sess_fetch_bsrc(s);
	half_stop(&s->cli);
	half_stop(&s->srv_h);
	if (ev_is_active(&s->timer))
		ev_timer_stop(rt.loop, &s->timer);
	close_fd(&s->srv_h.fd, fe->options & PR_O_NOLINGER_SV || (s->be && (s->be->options & PR_O_NOLINGER_SV)));
	close_fd(&s->cli.fd, (fe->options & PR_O_NOLINGER_CL) != 0);
	chan_release(&s->req);
	chan_release(&s->res);

	if (s->be) {
		s->be->cnt.bytes_in += s->req.total;
		s->be->cnt.bytes_out += s->res.total;
	}
	if (s->srv) {
		s->srv->cnt.bytes_in += s->req.total;
		s->srv->cnt.bytes_out += s->res.total;
	}
	fe->cnt.bytes_in += s->req.total;
	fe->cnt.bytes_out += s->res.total;

	/* the log line shows the counters as they were while this session
	 * was alive, as HAProxy does */
	sess_log(s);

	if (s->counted_be) {
		s->be->beconn--;
		s->counted_be = false;
	}
	release_server_slot(s);
	fe->feconn--;
	if (s->li)
		s->li->nbconn--;
	rt.actconn--;

	if (s->prev)
		s->prev->next = s->next;
	else
		sess_list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	sess_count--;
	sess_freed++;
	sess_pp_free(s);
	free(s->netns);
	free(s->unique_id);
	free(s);
	dp_config_put(conf);
	loop_defer(&after_close_task);
}

void sess_kill(struct sess *s)
{
	sess_close(s, TERM_EV_KILLED);
}

/* ---- data transfer ------------------------------------------------------- */

/* Whether close() alone ends both sockets gracefully: no nolinger option
 * turns the close into a reset. */
static bool sess_close_is_graceful(const struct sess *s)
{
	return !(s->fe->options & (PR_O_NOLINGER_CL | PR_O_NOLINGER_SV)) &&
	       !(s->be && (s->be->options & PR_O_NOLINGER_SV));
}

static void maybe_shut(struct chan *c, struct half *dst, struct sess *s)
{
	if (c->eof && !c->shut && chan_empty(c) && dst->fd >= 0) {
		const struct chan *other = c == &s->req ? &s->res : &s->req;

		/* When the other direction is already over, the session ends
		 * right after this and close() sends the same FIN (both
		 * sockets have read their EOF, so nothing unread turns it into
		 * a reset): save the shutdown() call. */
		if (!(other->shut && sess_close_is_graceful(s)))
			shutdown(dst->fd, SHUT_WR);
		c->shut = true;
		dst->wr_shut = true;
		sess_arm_timer(s); /* *-fin timeouts may now apply */
	}
}

static bool sess_done(struct sess *s)
{
	return s->req.shut && s->res.shut;
}

/* Recomputes which watchers must be active from the channel states. */
static void sess_update_io(struct sess *s)
{
	bool est = s->state == SST_EST;
	bool cli_may_read = !s->req.eof && !chan_full(&s->req);

	io_want(&s->cli.rio, cli_may_read && s->state != SST_CLOSED);
	/* while connecting, writability of the server socket signals the
	 * outcome of connect() */
	io_want(&s->srv_h.wio, s->state == SST_CONNECT || (est && !chan_empty(&s->req)));
	io_want(&s->srv_h.rio, est && !s->res.eof && !chan_full(&s->res));
	io_want(&s->cli.wio, est && !chan_empty(&s->res));
}

/* Moves what it can from src through channel c to dst. Returns false when
 * the session was closed. `c_is_req` tells which side is which for the
 * termination state. `rd` is false when called for writability: the source
 * is then not read (its read watcher, level-triggered, says when it has
 * something, so a speculative recv() would mostly return EAGAIN). */
static bool pump(struct sess *s, struct chan *c, struct half *src, struct half *dst, bool c_is_req,
		 bool rd)
{
	int r;

	if (rd && !c->eof && !chan_full(c)) {
		r = chan_recv(c, src->fd);
		if (r == PUMP_PROGRESS || r == PUMP_EOF)
			src->last_act = now();
		if (r == PUMP_ERROR) {
			/* the side we read from failed */
			sess_close(s, c_is_req ? TERM_EV_CLI_ABORT : TERM_EV_SRV_ABORT);
			return false;
		}
		if (r == PUMP_EOF)
			src->rd_shut = true;
	}
	if (s->state != SST_EST)
		return true; /* bytes wait in the channel until connected */
	if (!chan_empty(c)) {
		r = chan_send(c, dst->fd);
		if (r == PUMP_PROGRESS)
			dst->last_act = now();
		if (r == PUMP_ERROR) {
			/* the side we write to failed */
			sess_close(s, c_is_req ? TERM_EV_SRV_ABORT : TERM_EV_CLI_ABORT);
			return false;
		}
	}
	maybe_shut(c, dst, s);
	return true;
}

static void after_io(struct sess *s)
{
	if (s->state == SST_CLOSED)
		return;
	if (sess_done(s)) {
		sess_close(s, TERM_EV_DONE);
		return;
	}
	sess_update_io(s);
}

void sess_cli_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, cli.rio);

	if (pump(s, &s->req, &s->cli, &s->srv_h, true, true))
		after_io(s);
}

static void srv_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, srv_h.wio);

	if (s->state == SST_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(s->srv_h.fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err)
			sess_connect_failed(s, err);
		else
			sess_connected(s);
		return;
	}
	if (pump(s, &s->req, &s->cli, &s->srv_h, true, false))
		after_io(s);
}

static void srv_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, srv_h.rio);

	if (pump(s, &s->res, &s->srv_h, &s->cli, false, true))
		after_io(s);
}

static void cli_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, cli.wio);

	if (pump(s, &s->res, &s->srv_h, &s->cli, false, false))
		after_io(s);
}

/* ---- timeouts ------------------------------------------------------------ */

/* Earliest deadline and what expires then. */
static ev_tstamp sess_deadline(struct sess *s, char *who)
{
	ev_tstamp d = 0;
	long long ms;
	bool est = s->state == SST_EST;

	*who = 0;
#define CONSIDER(t, w) do { if ((t) > 0 && (!d || (t) < d)) { d = (t); *who = (w); } } while (0)
	if (s->state == SST_HDR) {
		/* the whole PROXY header within timeout client (>= 3 s) */
		CONSIDER(s->t_accept + sess_pp_timeout(s) / 1000.0, 'h');
		return d;
	}
	/* as HAProxy: client-fin once the server's end was passed on to the
	 * client (our write side toward it is shut), server-fin once the
	 * client's end was passed on to the server */
	ms = proxy_cli_timeout(s->fe, s->be, est, est && s->cli.wr_shut);
	if (ms)
		CONSIDER(s->cli.last_act + ms / 1000.0, 'c');
	switch (s->state) {
	case SST_QUEUE:
		if (s->be->to.queue)
			CONSIDER(s->t_queue + s->be->to.queue / 1000.0, 'q');
		break;
	case SST_TURN:
		CONSIDER(s->t_connect_start, 't');
		break;
	case SST_CONNECT:
		if (s->be->to.connect)
			CONSIDER(s->t_connect_start + s->be->to.connect / 1000.0, 'k');
		break;
	case SST_EST:
		ms = proxy_srv_timeout(s->be, true, s->srv_h.wr_shut);
		if (ms)
			CONSIDER(s->srv_h.last_act + ms / 1000.0, 's');
		break;
	default:
		break;
	}
#undef CONSIDER
	return d;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void sess_arm_timer(struct sess *s)
{
	char who;
	ev_tstamp d = sess_deadline(s, &who);

	if (ev_is_active(&s->timer))
		ev_timer_stop(rt.loop, &s->timer);
	if (!who)
		return;
	ev_timer_set(&s->timer, d > now() ? d - now() : 0.0, 0.0);
	ev_timer_start(rt.loop, &s->timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sess *s = container_of(w, struct sess, timer);
	char who;
	ev_tstamp d = sess_deadline(s, &who);

	if (!who)
		return;
	if (d > now() + 0.0005) {
		ev_timer_set(&s->timer, d - now(), 0.0);
		ev_timer_start(rt.loop, &s->timer);
		return;
	}
	switch (who) {
	case 'c':
		sess_close(s, TERM_EV_CLI_TIMEOUT);
		break;
	case 's':
	case 'q': /* timeout queue: "sQ" */
		sess_close(s, TERM_EV_SRV_TIMEOUT);
		break;
	case 'h':
		sess_log_conn_error(s, "Timeout while waiting for PROXY protocol header");
		sess_close(s, TERM_EV_CLI_TIMEOUT); /* "cR" */
		break;
	case 't':
		/* turn-around delay over: try again */
		sess_connect(s);
		break;
	case 'k':
		sess_connect_failed(s, ETIMEDOUT);
		break;
	}
}

/* ---- connecting ---------------------------------------------------------- */

static void set_ka(int fd, bool on)
{
	int v = 1;

	if (on)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
}

/* Reads the source address the server connection got (%bi:%bp). Asked of
 * the kernel only when the log line or -d shows it. */
static void sess_fetch_bsrc(struct sess *s)
{
	socklen_t l = sizeof(s->bsrc_addr);

	if (s->srv_h.fd < 0 || getsockname(s->srv_h.fd, (struct sockaddr *)&s->bsrc_addr, &l) < 0)
		memset(&s->bsrc_addr, 0, sizeof(s->bsrc_addr));
	addr_unmap_v4(&s->bsrc_addr);
}

static void sess_connected(struct sess *s)
{
	bool want_bsrc = dp_msg.debug;

	/* custom PROXY v2 TLVs are rendered below and may show %bi:%bp */
	for (size_t i = 0; !want_bsrc && i < s->srv->ntlvs; i++)
		want_bsrc = lf_uses_bsrc(s->srv->tlvs[i].lf);
	memset(&s->bsrc_addr, 0, sizeof(s->bsrc_addr));
	if (want_bsrc)
		sess_fetch_bsrc(s);
	s->tc = ms_since(s->t_connect_start);
	s->state = SST_EST;
	s->t_est = now();
	s->srv_h.last_act = now();
	s->cli.last_act = now(); /* tunnel timeout starts fresh on both sides */
	if (dp_msg.debug) {
		char a[64], b[64];

		sess_debug(s, "%s/%s.connected to %s from %s in %ld ms", s->be->name, s->srv->name,
			   addr_str(&s->srv_addr, a, sizeof(a)), addr_str(&s->bsrc_addr, b, sizeof(b)), s->tc);
	}
	if (sess_pp_prepare(s) < 0) {
		sess_close(s, TERM_EV_CONN_PROXY);
		return;
	}
	ev_io_set(&s->srv_h.rio, s->srv_h.fd, EV_READ);
	ev_io_set(&s->srv_h.wio, s->srv_h.fd, EV_WRITE);
	if (ev_is_active(&s->srv_h.wio))
		ev_io_stop(rt.loop, &s->srv_h.wio);
	/* flush what the client sent while we were connecting */
	if (!pump(s, &s->req, &s->cli, &s->srv_h, true, false))
		return;
	sess_arm_timer(s);
	after_io(s);
}

static bool may_retry(struct sess *s)
{
	return s->retries_done < s->be->retries;
}

static void sess_connect_failed(struct sess *s, int err)
{
	struct server *failed = s->srv;
	double turn;

	half_stop(&s->srv_h);
	close_fd(&s->srv_h.fd, false);
	s->srv->cnt.failed_conns++;
	SESS_DEBUG(s, "%s/%s.connect-failed: %s (%s)", s->be->name, s->srv->name, strerror(err),
		   may_retry(s) ? "will retry" : "no retry left");
	if (!may_retry(s)) {
		sess_close(s, err == ETIMEDOUT ? TERM_EV_CONN_TIMEOUT : TERM_EV_CONN_REFUSED);
		return;
	}
	s->retries_done++;
	s->srv->cnt.retries++;
	/* on the last retry, `option redispatch` may pick another server */
	if ((s->be->options & PR_O_REDISPATCH) && s->retries_done == s->be->retries && s->be->nsrv > 1) {
		struct server *n = NULL;

		if (lb_pick(s->be, &s->cli_addr, failed, &n) == LB_OK && n != failed) {
			release_server_slot(s);
			s->srv = n;
			n->cur_conn++;
			n->cnt.cum_conn++;
			n->cnt.redispatches++;
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
	s->t_connect_start = now() + turn;
	sess_arm_timer(s);
	sess_update_io(s);
}

/* -d: which server, toward which address, from which source */
static void debug_connect(const struct sess *s, int fd, const struct src_conf *sc, bool fresh_port)
{
	struct sockaddr_storage b;
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
	sess_debug(s, "%s/%s.connect to %s from %s (%s%s) try %d", s->be->name, s->srv->name,
		   addr_str(&s->srv_addr, a, sizeof(a)), src, src_mode_name(sc), fresh_port ? ", fresh port" : "",
		   s->retries_done + 1);
}

static void sess_connect(struct sess *s)
{
	struct server *srv = s->srv;
	const struct src_conf *sc = srv->source.set ? &srv->source : &s->be->source;
	char *err = NULL;
	bool collided = false;
	bool fresh_port = false;
	int fd, r, e;

	if (server_target(srv, &s->fe_addr, &s->srv_addr) < 0) {
		static double last;

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': port offset out of range", s->be->name, srv->name);
		SESS_DEBUG(s, "%s/%s.connect: port offset out of range for port %d", s->be->name, srv->name,
			   addr_port(&s->fe_addr));
		sess_close(s, TERM_EV_CONN_PROXY);
		return;
	}
again:
	fd = ns_cache_socket(s->fe->conf->nscache, srv->netns, s->srv_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   IPPROTO_TCP, &err);
	if (fd < 0) {
		static double last;

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': %s", s->be->name, srv->name, err);
		SESS_DEBUG(s, "%s/%s.connect: %s", s->be->name, srv->name, err);
		free(err);
		if (fd == -EMFILE || fd == -ENFILE)
			listeners_throttle();
		sess_close(s, TERM_EV_CONN_RESOURCE);
		return;
	}
	r = src_apply(fd, s->srv_addr.ss_family, sc, &s->cli_addr, fresh_port, &collided, &err);
	if (r != SRC_OK) {
		static double last;

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
			   s->be->name, srv->name, addr_port(&s->cli_addr));
		src_note_collision(s->be, srv, &s->cli_addr);
		fresh_port = true;
	}
	{
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	set_ka(fd, (s->be->options & PR_O_KA_SV) != 0);
	if (dp_msg.debug)
		debug_connect(s, fd, sc, fresh_port);
	s->t_connect_start = now();
	s->state = SST_CONNECT;
	if (s->tw < 0)
		s->tw = 0;
	r = connect(fd, (struct sockaddr *)&s->srv_addr, addr_len(&s->srv_addr));
	e = r < 0 ? errno : 0;
	if ((e == EADDRNOTAVAIL || e == EADDRINUSE) && sc->set && sc->usesrc == SRC_USESRC_CLIENT && !fresh_port) {
		/* the client's exact 4-tuple toward this server already
		 * exists on this host: once more, from a fresh port */
		close(fd);
		SESS_DEBUG(s, "%s/%s.connect: 'usesrc client': %s, retrying from a fresh port", s->be->name,
			   srv->name, strerror(e));
		src_note_collision(s->be, srv, &s->cli_addr);
		fresh_port = true;
		goto again;
	}
	s->srv_h.fd = fd;
	ev_io_init(&s->srv_h.rio, srv_read_cb, fd, EV_READ);
	ev_io_init(&s->srv_h.wio, srv_write_cb, fd, EV_WRITE);
	if (r == 0) {
		sess_connected(s);
		return;
	}
	if (e != EINPROGRESS) {
		sess_connect_failed(s, e);
		return;
	}
	ev_io_start(rt.loop, &s->srv_h.wio);
	sess_arm_timer(s);
	sess_update_io(s); /* keep reading the client while connecting */
}

/* Chooses a server, queues, or gives up. */
static void sess_assign(struct sess *s)
{
	struct server *srv = NULL;

	if (!s->be) {
		SESS_DEBUG(s, "%s: no backend", s->fe->name);
		sess_close(s, TERM_EV_NO_SERVER);
		return;
	}
	if (!s->counted_be) {
		s->be->beconn++;
		s->be->cnt.cum_be++;
		s->counted_be = true;
	}
	switch (lb_pick(s->be, &s->cli_addr, NULL, &srv)) {
	case LB_OK:
		break;
	case LB_FULL:
		if (s->state != SST_QUEUE) {
			s->state = SST_QUEUE;
			s->t_queue = now();
			s->q_idx = s->be->queue_idx;
			s->qnext = NULL;
			if (s->be->queue_tail)
				s->be->queue_tail->qnext = s;
			else
				s->be->queue_head = s;
			s->be->queue_tail = s;
			s->be->nbpend++;
			SESS_DEBUG(s, "%s.queued (%u waiting)", s->be->name, s->be->nbpend);
			sess_arm_timer(s);
			sess_update_io(s);
		}
		return;
	case LB_NOSRV:
		SESS_DEBUG(s, "%s: no server available", s->be->name);
		sess_close(s, TERM_EV_NO_SERVER);
		return;
	}
	if (s->state == SST_QUEUE)
		s->tw = ms_since(s->t_queue);
	else
		s->tw = 0;
	s->srv = srv;
	srv->cur_conn++;
	srv->cnt.cum_conn++;
	s->counted_srv = true;
	sess_connect(s);
}

void sess_dequeue(struct proxy *be)
{
	while (be->queue_head) {
		struct sess *s = be->queue_head;
		struct server *srv = NULL;

		if (lb_pick(be, &s->cli_addr, NULL, &srv) != LB_OK)
			return;
		be->queue_head = s->qnext;
		if (!be->queue_head)
			be->queue_tail = NULL;
		be->nbpend--;
		s->qnext = NULL;
		s->tw = ms_since(s->t_queue);
		s->bq = (unsigned)(be->queue_idx++ - s->q_idx + 1);
		s->srv = srv;
		srv->cur_conn++;
		srv->cnt.cum_conn++;
		s->counted_srv = true;
		sess_connect(s);
	}
}

/* ---- accepting ------------------------------------------------------------ */

void sess_start(struct sess *s)
{
	sess_set_unique_id(s);
	/* may free s (no server, fd exhaustion...): the paths that keep it
	 * set its watchers themselves, so s is not touched afterwards */
	sess_assign(s);
}

void sess_accept(struct listener *li, int fd, const struct sockaddr_storage *peer)
{
	struct proxy *fe = li->bc->fe;
	struct sess *s = calloc(1, sizeof(*s));
	socklen_t l;

	if (!s) {
		close(fd);
		return;
	}
	s->id = next_sess_id++;
	s->fe = fe;
	s->be = fe->defbe;
	s->li = li;
	s->cli.fd = fd;
	s->srv_h.fd = -1;
	s->tw = s->tc = -1;
	s->cli_addr = *peer;
	addr_unmap_v4(&s->cli_addr);
	l = sizeof(s->fe_addr);
	/* under TPROXY the local address of the accepted socket is the
	 * client's original destination (never SO_ORIGINAL_DST); a plain
	 * bind to one address can only accept on that address */
	if (!(li->bc->options & BC_O_TRANSPARENT) && !addr_is_any(&li->addr))
		s->fe_addr = li->addr;
	else if (getsockname(fd, (struct sockaddr *)&s->fe_addr, &l) < 0)
		s->fe_addr = li->addr;
	addr_unmap_v4(&s->fe_addr);
	s->t_accept = now();
	gettimeofday(&s->accept_tv, NULL);
	s->cli.last_act = s->t_accept;
	fe->conf->refcnt++;

	rt.actconn++;
	rt.cum_conn++;
	fe->feconn++;
	fe->cnt.cum_fe++;
	li->nbconn++;
	li->cum_conn++;

	s->next = sess_list;
	if (sess_list)
		sess_list->prev = s;
	sess_list = s;
	sess_count++;

	set_ka(fd, (fe->options & PR_O_KA_CL) != 0);
	ev_io_init(&s->cli.rio, sess_cli_read_cb, fd, EV_READ);
	ev_io_init(&s->cli.wio, cli_write_cb, fd, EV_WRITE);
	ev_init(&s->timer, timer_cb);
	{
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (dp_msg.debug) {
		char a[64], b[64];

		sess_debug(s, "%s.accept(%04x)=%04x from %s to %s%s%s", fe->name, (unsigned)li->fd, (unsigned)fd,
			   addr_str(&s->cli_addr, a, sizeof(a)), addr_str(&s->fe_addr, b, sizeof(b)),
			   li->bc->netns ? " netns " : "", li->bc->netns ? li->bc->netns : "");
	}
	if (li->bc->netns && !(s->netns = strdup(li->bc->netns))) {
		sess_close(s, TERM_EV_RESOURCE);
		return;
	}
	s->state = SST_HDR; /* nothing decided yet */
	if (li->bc->options & BC_O_ACCEPT_PROXY) {
		sess_pp_wait_header(s);
		return;
	}
	sess_start(s);
}
