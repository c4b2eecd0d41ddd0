/* sess.c — the life of one relayed connection: accepting it, the copy
 * loop, timeouts, and its end (close, log, free, and the work the end
 * unlocks). Choosing a server and connecting to it is sess_conn.c's, the
 * log lines sess_log.c's, the PROXY protocol sess_pp.c's.
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
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/listener.h"
#include "log/evlog.h"
#include "core/mirror.h"
#include "log/log.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "core/pipe.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/sess_int.h"
#include "lib/term.h"
#include "log/msg.h"

struct sess_thr sess_thr[DP_MAX_THREADS];
_Thread_local unsigned long long sess_freed;
unsigned long long sess_own_refused;
static _Atomic unsigned long long next_sess_id;

unsigned sess_count_get(void)
{
	unsigned n = 0;

	for (unsigned t = 0; t < dp_nbthread; t++)
		n += __atomic_load_n(&sess_thr[t].count, __ATOMIC_SEQ_CST);
	return n;
}

void sess_half_stop(struct sess *s, struct half *h)
{
	if (ev_is_active(&h->rio))
		ev_io_stop(sess_loop(s), &h->rio);
	if (ev_is_active(&h->wio))
		ev_io_stop(sess_loop(s), &h->wio);
}

static void io_want(struct sess *s, ev_io *w, bool want)
{
	if (want && !ev_is_active(w))
		ev_io_start(sess_loop(s), w);
	else if (!want && ev_is_active(w))
		ev_io_stop(sess_loop(s), w);
}

void sess_close_fd(int *fd, bool rst)
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

void sess_set_ka(int fd, bool on)
{
	int v = 1;

	if (on)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
}

/* ---- session objects: a per-thread free list --------------------------------
 * A connection's session object is taken from a free list of the thread
 * and given back to it: no malloc()/free() per connection in the steady
 * state. The list is bounded (a burst does not pin memory forever) and
 * bypassed under AddressSanitizer, which must see every use after free. */

#if defined(__SANITIZE_ADDRESS__)
#define SESS_FREE_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SESS_FREE_MAX 0
#endif
#endif
#ifndef SESS_FREE_MAX
#define SESS_FREE_MAX 256
#endif

static _Thread_local struct sess *sess_free_list;
static _Thread_local unsigned sess_free_n;

static struct sess *sess_new(void)
{
	struct sess *s = sess_free_list;

	if (!s)
		return calloc(1, sizeof(*s));
	sess_free_list = s->next;
	sess_free_n--;
	memset(s, 0, sizeof(*s));
	return s;
}

static void sess_release(struct sess *s)
{
	sess_addr_clear(&s->cli_addr);
	sess_addr_clear(&s->fe_addr);
	sess_addr_clear(&s->srv_addr);
#if SESS_FREE_MAX > 0
	if (sess_free_n < SESS_FREE_MAX) {
		s->next = sess_free_list;
		sess_free_list = s;
		sess_free_n++;
		return;
	}
#endif
	free(s);
}

void sess_pool_trim(void)
{
	while (sess_free_list) {
		struct sess *n = sess_free_list->next;

		free(sess_free_list);
		sess_free_list = n;
	}
	sess_free_n = 0;
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

/* per thread: each thread serves the backends its own sessions freed
 * slots of (the backend's lock makes the dequeue safe from any thread) */
static _Thread_local struct proxy *dq_head;
static void after_close(struct loop_task *t);
static _Thread_local struct loop_task after_close_task = { .fn = after_close };

/* The last reference on a generation frees it on T0, isolated (the free
 * walks state other threads may read: mirror outputs, tables); a worker
 * posts that last put to T0. */
static void conf_put_t0(struct dp_config *c)
{
	thread_isolate();
	dp_config_put(c);
	thread_release();
}

static void conf_put_job(struct thread_job *j)
{
	conf_put_t0(container_of(j, struct dp_config, put_job));
}

void sess_conf_put(struct dp_config *c)
{
	if (dp_nbthread < 2) {
		dp_config_put(c);
		return;
	}
	/* gives the reference back unless it is the last one */
	for (int n = c->refcnt; n > 1;)
		if (atomic_compare_exchange_weak(&c->refcnt, &n, n - 1))
			return;
	/* the last: nobody takes a new one on a generation no longer in
	 * service; T0 puts it, isolated */
	if (tid == 0) {
		conf_put_t0(c);
		return;
	}
	/* the job is the generation's own: posting cannot fail, and it is
	 * posted once (only the holder of the last reference gets here) */
	c->put_job.fn = conf_put_job;
	thread_post_job(0, &c->put_job);
}

void sess_dequeue_later(struct proxy *be)
{
	if (!be->dq_pending[tid]) {
		be->dq_pending[tid] = true;
		be->dq_next[tid] = dq_head;
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

		dq_head = be->dq_next[tid];
		be->dq_next[tid] = NULL;
		be->dq_pending[tid] = false;
		sess_dequeue(be);
		sess_conf_put(be->conf);
	}
	listeners_update();
	/* a soft stop ends when the last session is gone (of two threads
	 * closing their last ones at once, at least one sees the other's
	 * count: stores and loads of the counts are seq_cst with threads) */
	if (rt.stopping && sess_count_get() == 0 && rt.loop) {
		loop_break(rt.loop); /* T0's loop, from any thread */
	}
}

/* The server "had finished" (phase L) when its connection is over both
 * ways, as HAProxy closes it: the server's end was read and the client's
 * was passed on to it. A client that never half-closed keeps the server
 * connection open toward it: its session is still in phase D (HAProxy 2.6
 * logs cD there, measured in tests/netns/test_term.sh). */
struct term_snap sess_term_snap(const struct sess *s)
{
	struct term_snap t = { .srv_eof = s->res.eof && s->req.shut, .res_pending = !chan_empty(&s->res) };

	switch (s->state) {
	case SST_HDR:
	case SST_INSPECT: t.stage = TERM_ST_REQUEST; break;
	case SST_QUEUE: t.stage = TERM_ST_QUEUE; break;
	case SST_TURN:
	case SST_CONNECT: t.stage = TERM_ST_CONNECT; break;
	default: t.stage = TERM_ST_DATA; break;
	}
	return t;
}

void sess_close(struct sess *s, enum term_event ev)
{
	struct proxy *fe = s->fe;
	struct dp_config *conf = fe->conf;
	struct term_snap snap;
	bool was_est;

	if (s->state == SST_CLOSED)
		return;
	if (s->state == SST_QUEUE && sess_unqueue(s)) {
		/* another thread dequeued it, its posted start had not run:
		 * it left the queue with a server slot. HAProxy logs such a
		 * stream (assigned state) in the connection phase, with that
		 * server and the time it waited, not as queued */
		s->tw = sess_ms_since(s->t_queue);
		s->state = SST_CONNECT;
	}
	snap = sess_term_snap(s);
	term_compute(ev, &snap, s->term);
	/* as HAProxy: the wait of a session that never got a server is
	 * recorded only when `timeout queue` ended it (sQ); any other end in
	 * the queue (client timeout or abort, kill) logs %Tw -1 */
	if (s->state == SST_QUEUE && ev != TERM_EV_SRV_TIMEOUT)
		s->tw = -1;
	was_est = s->state == SST_EST;
	s->state = SST_CLOSED;
	if (s->mirror) {
		mirror_sess_end(s->mirror, ev, (fe->options & PR_O_NOLINGER_CL) != 0);
		s->mirror = NULL;
	}
	SESS_DEBUG(s, "%s.closed ts=%s (%s) %s/%s up=%llu down=%llu after %ld ms", fe->name, s->term,
		   term_event_name(ev), s->be ? s->be->name : fe->name, s->srv ? s->srv->name : "<NOSRV>",
		   (unsigned long long)s->req.total, (unsigned long long)s->res.total, sess_ms_since(s->t_accept));

	if (was_est && s->bsrc_addr.sa.sa_family == AF_UNSPEC && ((fe->logs.n && lf_uses_bsrc(fe->lf)) || evlog_enabled()))
		sess_fetch_bsrc(s);
	sess_half_stop(s, &s->cli);
	sess_half_stop(s, &s->srv_h);
	ev_timer_stop(sess_loop(s), &s->timer);  /* also when it expired and waits to run */
	selfconn_del(&s->own);
	sess_close_fd(&s->srv_h.fd, fe->options & PR_O_NOLINGER_SV || (s->be && (s->be->options & PR_O_NOLINGER_SV)));
	sess_close_fd(&s->cli.fd, (fe->options & PR_O_NOLINGER_CL) != 0);
	chan_release(&s->req);
	chan_release(&s->res);

	if (s->be)
		CNT_ADD2(s->be, bytes_in, s->req.total, bytes_out, s->res.total);
	if (s->srv)
		CNT_ADD2(s->srv, bytes_in, s->req.total, bytes_out, s->res.total);
	CNT_ADD2(fe, bytes_in, s->req.total, bytes_out, s->res.total);

	/* the log line shows the counters as they were while this session
	 * was alive, as HAProxy does */
	sess_log(s);
	sess_event(s);

	if (s->counted_be) {
		s->be->beconn--;
		s->counted_be = false;
	}
	sess_release_server_slot(s);
	if (s->li)
		s->li->nbconn--;
	rt_drop_conn(fe);

	/* its owner's list: the owner, or T0 once the owner stopped */
	if (s->prev)
		s->prev->next = s->next;
	else
		sess_thr[s->tid].list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (dp_nbthread > 1)
		__atomic_store_n(&sess_thr[s->tid].count, sess_thr[s->tid].count - 1, __ATOMIC_SEQ_CST);
	else
		sess_thr[0].count--;
	sess_freed++;
	sess_pp_free(s);
	sess_rules_free(s);
	free(s->unique_id);
	sess_release(s);
	sess_conf_put(conf);
	loop_defer(&after_close_task);
}

/* ---- ending sessions of every thread ---------------------------------------- */

bool sess_match_id(const struct sess *s, uintptr_t id)
{
	return s->id == (unsigned long long)id;
}

bool sess_match_srv(const struct sess *s, uintptr_t srv)
{
	return (uintptr_t)s->srv == srv;
}

bool sess_match_backup_of(const struct sess *s, uintptr_t be)
{
	return s->srv && (uintptr_t)s->srv->px == be && (s->srv->flags & SRV_F_BACKUP);
}

bool sess_match_all(const struct sess *s, uintptr_t unused)
{
	(void)s;
	(void)unused;
	return true;
}

/* Kills the calling thread's matching sessions. Killing one may free
 * others too (a freed slot lets a queued session connect, which may fail):
 * the walk starts again from the head unless exactly that session was
 * freed; bounded by the sessions there were. */
static unsigned kill_in(unsigned t, bool (*match)(const struct sess *, uintptr_t), uintptr_t key,
		       enum term_event ev)
{
	unsigned n = sess_thr[t].count, killed = 0;
	struct sess *s = sess_thr[t].list;

	while (s && n) {
		struct sess *next = s->next;
		unsigned long long freed = sess_freed;

		if (!match(s, key)) {
			s = next;
			continue;
		}
		sess_close(s, ev);
		killed++;
		n--;
		s = sess_freed == freed + 1 ? next : sess_thr[t].list;
	}
	return killed;
}

static unsigned kill_here(bool (*match)(const struct sess *, uintptr_t), uintptr_t key, enum term_event ev)
{
	unsigned killed = kill_in(tid, match, key, ev);

	/* T0 once the other threads stopped: theirs too */
	if (tid == 0 && dp_nbthread > 1 && !threads_running())
		for (unsigned t = 1; t < dp_nbthread; t++)
			killed += kill_in(t, match, key, ev);
	return killed;
}

/* A kill posted to another thread: one allocation, the job inside it. */
struct kill_req {
	struct thread_job j;
	bool (*match)(const struct sess *, uintptr_t);
	uintptr_t key;
	enum term_event ev;
};

static void kill_job(struct thread_job *j)
{
	struct kill_req *r = container_of(j, struct kill_req, j);

	kill_here(r->match, r->key, r->ev);
	free(r);
}

/* Out of memory for the request of thread t: its sessions stay (posting
 * is the only safe way to end them), and the operator is told. */
static void kill_nomem(unsigned t)
{
	ha_alert("out of memory: the matching sessions of thread %u were not ended", t + 1);
}

unsigned sess_kill_where(bool (*match)(const struct sess *s, uintptr_t key), uintptr_t key,
			 enum term_event ev)
{
	for (unsigned t = 0; t < dp_nbthread && threads_running(); t++) {
		struct kill_req *r;

		if (t == tid || !__atomic_load_n(&sess_thr[t].count, __ATOMIC_RELAXED))
			continue;
		r = malloc(sizeof(*r));
		if (!r) {
			kill_nomem(t);
			continue;
		}
		*r = (struct kill_req){ .j.fn = kill_job, .match = match, .key = key, .ev = ev };
		thread_post_job(t, &r->j);
	}
	return kill_here(match, key, ev);
}

void sess_kill(struct sess *s)
{
	sess_close(s, TERM_EV_KILLED);
}

void sess_kill_srv_state(struct sess *s, bool srv_up)
{
	sess_close(s, srv_up ? TERM_EV_SRV_UP : TERM_EV_SRV_DOWN);
}

/* sorted ids: one copy per thread that kills (posted) */
struct ids_req {
	struct thread_job j;        /* when posted */
	size_t n;
	enum term_event ev;
	unsigned long long ids[];
};

static int cmp_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static _Thread_local const struct ids_req *ids_cur;

static bool match_ids(const struct sess *s, uintptr_t unused)
{
	(void)unused;
	return bsearch(&s->id, ids_cur->ids, ids_cur->n, sizeof(s->id), cmp_ull) != NULL;
}

static void ids_run(struct ids_req *r)
{
	ids_cur = r;
	kill_here(match_ids, 0, r->ev);
	ids_cur = NULL;
	free(r);
}

static void ids_job(struct thread_job *j)
{
	ids_run(container_of(j, struct ids_req, j));
}

void sess_kill_ids(const unsigned long long *ids, size_t n, enum term_event ev)
{
	struct ids_req *mine;

	if (!n)
		return;
	mine = malloc(sizeof(*mine) + n * sizeof(ids[0]));
	if (!mine) {
		kill_nomem(tid);
		return;
	}
	mine->n = n;
	mine->ev = ev;
	memcpy(mine->ids, ids, n * sizeof(ids[0]));
	for (unsigned t = 0; t < dp_nbthread && threads_running(); t++) {
		struct ids_req *r;

		if (t == tid || !__atomic_load_n(&sess_thr[t].count, __ATOMIC_RELAXED))
			continue;
		r = malloc(sizeof(*mine) + n * sizeof(ids[0]));
		if (!r) {
			kill_nomem(t);
			continue;
		}
		memcpy(r, mine, sizeof(*mine) + n * sizeof(ids[0]));
		r->j = (struct thread_job){ .fn = ids_job };
		thread_post_job(t, &r->j);
	}
	ids_run(mine);
}

/* ---- data transfer ------------------------------------------------------- */

/* As HAProxy: an option in either the frontend or the backend enables it;
 * splice-request/-response force a direction, splice-auto lets the channel
 * decide from the flow (core/channel.h). */
static uint8_t splice_mode(unsigned opts, unsigned forced)
{
	if (opts & forced)
		return CHAN_SPLICE;
	return opts & PR_O_SPLICE_AUT ? CHAN_SPLICE_AUTO : CHAN_COPY;
}

/* Whether the next bytes of a direction must still be read into user
 * space: the event log keeps the client's first bytes and has not got
 * them all yet. (The IDS copy takes spliced bytes through tee():
 * sess_tee_ops.) */
static bool sess_wants_bytes(const struct sess *s, bool req)
{
	if (!req)
		return false;
	/* sess_keep_first() decides the size on the first bytes */
	return s->first ? s->first_len < s->first_cap : s->req.total == 0 && evlog_first_bytes() > 0;
}

/* The IDS copy of a splicing channel (core/channel.h, struct chan_tee_ops) */
static uint64_t tee_want(void *ctx, const struct chan *c)
{
	const struct sess *s = ctx;

	return mirror_sess_tee_want(s->mirror, c == &s->req);
}

static size_t tee_take(void *ctx, const struct chan *c, int fd, size_t n)
{
	struct sess *s = ctx;

	return mirror_sess_tee(s->mirror, c == &s->req, fd, n);
}

static void tee_lost(void *ctx, const struct chan *c, size_t n)
{
	struct sess *s = ctx;

	mirror_sess_tee_lost(s->mirror, c == &s->req, n);
}

static const struct chan_tee_ops sess_tee_ops = { tee_want, tee_take, tee_lost };

/* A channel that could splice copies while its bytes are wanted: its mode
 * waits in s->splice_later until sess_splice_release() sees them taken.
 * A mirrored one tee()s what the copy wants (copying when no pipe or no
 * tee() can be had: core/channel_tee.c). */
static void hold_splice(struct sess *s, struct chan *c, int d)
{
	s->splice_later[d] = CHAN_COPY;
	if (c->splice != CHAN_COPY && s->mirror)
		chan_set_tee(c, &sess_tee_ops, s);
	if (c->splice != CHAN_COPY && sess_wants_bytes(s, d == 0)) {
		s->splice_later[d] = c->splice;
		c->splice = CHAN_COPY;
	}
}

static void sess_splice_release(struct sess *s, struct chan *c, bool req)
{
	int d = req ? 0 : 1;

	if (s->splice_later[d] != CHAN_COPY && !sess_wants_bytes(s, req)) {
		c->splice = s->splice_later[d];
		s->splice_later[d] = CHAN_COPY;
	}
}

void sess_choose_splice(struct sess *s)
{
	unsigned opts = s->fe->options | (s->be ? s->be->options : 0);

	if (s->no_splice || pipe_cfg.nosplice || !pipe_cfg.maxpipes) {
		s->req.splice = s->res.splice = CHAN_COPY;
		return;
	}
	s->req.splice = splice_mode(opts, PR_O_SPLICE_REQ);
	s->res.splice = splice_mode(opts, PR_O_SPLICE_RES);
	hold_splice(s, &s->req, 0);
	hold_splice(s, &s->res, 1);
}

void sess_no_splice(struct sess *s)
{
	s->no_splice = true;
	s->req.splice = s->res.splice = CHAN_COPY;
}

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
void sess_update_io(struct sess *s)
{
	bool est = s->state == SST_EST;
	bool cli_may_read = !s->req.eof && !chan_full(&s->req);

	io_want(s, &s->cli.rio, cli_may_read && s->state != SST_CLOSED);
	/* while connecting, writability of the server socket signals the
	 * outcome of connect() */
	io_want(s, &s->srv_h.wio, s->state == SST_CONNECT || (est && !chan_empty(&s->req)));
	io_want(s, &s->srv_h.rio, est && !s->res.eof && !chan_full(&s->res));
	io_want(s, &s->cli.wio, est && !chan_empty(&s->res));
}

/* Pipes a channel may fill and empty in a row in one wake-up (pump()). */
#define PUMP_SPLICE_ROUNDS 4

/* Moves what it can from src through channel c to dst. Returns false when
 * the session was closed. `c_is_req` tells which side is which for the
 * termination state. `rd` is false when called for writability: the source
 * is then not read (its read watcher, level-triggered, says when it has
 * something, so a speculative recv() would mostly return EAGAIN). */
static bool pump(struct sess *s, struct chan *c, struct half *src, struct half *dst, bool c_is_req,
		 bool rd)
{
	int r;
	unsigned rounds = 0;

again:
	if (rd && !c->eof && !chan_full(c)) {
		uint64_t before = c->total;

		r = chan_recv(c, src->fd);
		if (c_is_req && c->total != before && (before == 0 || s->first_len < s->first_cap))
			sess_keep_first(s, before);
		if (s->mirror)
			mirror_sess_read(s->mirror, c_is_req, c, before, r == PUMP_EOF);
		if (s->splice_later[c_is_req ? 0 : 1])
			sess_splice_release(s, c, c_is_req);
		if (r == PUMP_PROGRESS || r == PUMP_EOF)
			src->last_act = sess_now();
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
		/* a read that filled the whole pipe says the socket has more */
		bool pipe_filled = rd && c->pipe && c->pipe->data >= c->pipe->size;

		r = chan_send(c, dst->fd);
		if (r == PUMP_PROGRESS)
			dst->last_act = sess_now();
		if (r == PUMP_ERROR) {
			/* the side we write to failed */
			sess_close(s, c_is_req ? TERM_EV_SRV_ABORT : TERM_EV_CLI_ABORT);
			return false;
		}
		/* bulk through a pipe: while each read fills the pipe and the
		 * write empties it, read again now rather than after one more
		 * epoll_wait() that would report the same socket (bounded, so
		 * other sessions still get their turn) */
		if (pipe_filled && chan_empty(c) && ++rounds < PUMP_SPLICE_ROUNDS)
			goto again;
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

void sess_relay_start(struct sess *s)
{
	/* flush what the client sent while we were connecting */
	if (!pump(s, &s->req, &s->cli, &s->srv_h, true, false))
		return;
	sess_arm_timer(s);
	after_io(s);
}

void sess_cli_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, cli.rio);

	if (!pump(s, &s->req, &s->cli, &s->srv_h, true, true))
		return;
	if (s->state == SST_INSPECT)
		sess_rules_data(s); /* the rules see each new chunk */
	else
		after_io(s);
}

void sess_srv_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, srv_h.wio);

	if (s->state == SST_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (!chan_empty(&s->req) && !s->req.pre_len &&
		    !(s->srv->flags & (SRV_F_SEND_PROXY | SRV_F_SEND_PROXY_V2))) {
			/* the client spoke first: sending its bytes tells the
			 * outcome of connect() as well (a failed one reports
			 * its error), so SO_ERROR is not read. A reset after
			 * the connection was made is the server's abort, as
			 * when SO_ERROR said 0 and the send failed. */
			if (chan_send(&s->req, s->srv_h.fd) == PUMP_ERROR && errno != ECONNRESET &&
			    errno != EPIPE) {
				sess_connect_failed(s, errno);
				return;
			}
			sess_connected(s);
			return;
		}
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

void sess_srv_read_cb(struct ev_loop *loop, ev_io *w, int revents)
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
	case SST_INSPECT:
		CONSIDER(sess_rules_deadline(s), 'i');
		break;
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

	ev_timer_stop(sess_loop(s), &s->timer);  /* active or expired-and-pending */
	if (!who)
		return;
	ev_timer_set(&s->timer, d > sess_now() ? d - sess_now() : 0.0, 0.0);
	ev_timer_start(sess_loop(s), &s->timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sess *s = container_of(w, struct sess, timer);
	char who;
	ev_tstamp d = sess_deadline(s, &who);

	if (!who)
		return;
	if (d > sess_now() + 0.0005) {
		ev_timer_set(&s->timer, d - sess_now(), 0.0);
		ev_timer_start(sess_loop(s), &s->timer);
		return;
	}
	switch (who) {
	case 'c':
		sess_close(s, TERM_EV_CLI_TIMEOUT);
		break;
	case 'q': /* timeout queue: "sQ", unless another thread dequeued
		   * it meanwhile (its start had not run): it starts now */
		sess_queue_timeout(s);
		break;
	case 's':
		sess_close(s, TERM_EV_SRV_TIMEOUT);
		break;
	case 'h':
		sess_log_conn_error(s, "Timeout while waiting for PROXY protocol header");
		sess_close(s, TERM_EV_CLI_TIMEOUT); /* "cR" */
		break;
	case 'i':
		/* tcp-request inspect-delay over: the final pass */
		sess_rules_expire(s);
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

/* ---- accepting ------------------------------------------------------------ */

void sess_start(struct sess *s)
{
	sess_set_unique_id(s);
	/* the copy starts before any rule runs: data of a rejected connection
	 * is still the attack. Its configuration is the frontend's and the
	 * default backend's (a later use_backend does not change it). */
	/* A PROXY LOCAL connection is an upstream hop's own (a health check):
	 * no attacker, nothing for the IDS (doc/ids-feeding.md). A mirrored
	 * session copies while the mirror wants its bytes, then splices if
	 * configured to (sess_choose_splice()). */
	if (!s->pp_local && (s->fe->mirror || (s->be && s->be->mirror))) {
		struct sockaddr_storage cli, dst;

		sess_addr_get(&s->cli_addr, &cli);
		sess_addr_get(&s->fe_addr, &dst);
		s->mirror = mirror_sess_start(s->fe, s->be, &cli, &dst, s->id);
	}
	/* may free s (rejected, no server, fd exhaustion...): the paths that
	 * keep it set its watchers themselves, so s is not touched afterwards */
	sess_rules_start(s);
}

/* Whether a connection accepted on li toward dst reached it through
 * interception (its original destination is not the listener's own
 * address): only such a connection can be one of ours sent back. A direct
 * connection to the listener is left alone, even from our own socket
 * (frontends chained on purpose). */
static bool diverted(const struct listener *li, const struct sockaddr_storage *dst)
{
	struct sockaddr_storage own = li->addr;

	if (!(li->bc->options & BC_O_TRANSPARENT))
		return false;
	addr_unmap_v4(&own);
	if (addr_port(&own) != addr_port(dst))
		return true;
	return !addr_is_any(&own) && !addr_equal(&own, dst);
}

/* A connection diverted into li from peer toward dst that is one of the
 * proxy's own outgoing connections (core/selfconn.h) would start a session
 * connecting to the same place, diverted again: a loop up to maxconn. It
 * is reset instead (its origin sees the reset) and named in a warning, at
 * most once a minute for the process (a loop that the configuration makes
 * repeats with every check and every session). Returns true when fd was
 * closed. */
static bool refuse_own(struct listener *li, int fd, const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *dst)
{
	static _Atomic double last; /* "once a minute for the process": shared */
	char who[256], a[64], b[64], l[64];

	if (!diverted(li, dst) || !selfconn_find(peer, dst, who, sizeof(who)))
		return false;
	sess_close_fd(&fd, true);
	RARE_INC(sess_own_refused);
	addr_str(peer, a, sizeof(a));
	addr_str(dst, b, sizeof(b));
	if (rt_ratelimit_process(&last, 60.0))
		ha_warning("frontend '%s': refused a connection from %s to %s diverted to %s: it is "
			   "decoyproxy's own %s, sent back by the intercept rules (a loop: a decoy "
			   "range holds an address the proxy connects to; see doc/tproxy.md); "
			   "%llu such connection(s) refused so far, warned at most once a minute",
			   li->bc->fe->name, a, b, addr_str(&li->addr, l, sizeof(l)), who, RARE_GET(sess_own_refused));
	if (dp_msg.debug)
		ha_debug("%s.refused from %s to %s: decoyproxy's own %s", li->bc->fe->name, a, b, who);
	return true;
}

void sess_accept(struct listener *li, int fd, const struct sockaddr_storage *peer)
{
	struct proxy *fe = li->bc->fe;
	struct sess *s = sess_new();
	struct sockaddr_storage cli = *peer, dst;
	socklen_t l;

	/* an early return leaves rt_conn_taken as it is: the listener then
	 * gives back the connection it took before accept() (core/listener.c) */
	if (!s) {
		close(fd);
		return;
	}
	s->fe = fe;
	s->be = fe->defbe;
	s->li = li;
	s->cli.fd = fd;
	s->srv_h.fd = -1;
	s->tw = s->tc = -1;
	addr_unmap_v4(&cli);
	l = sizeof(dst);
	/* under TPROXY the local address of the accepted socket is the
	 * client's original destination (never SO_ORIGINAL_DST); a plain
	 * bind to one address can only accept on that address */
	if (!(li->bc->options & BC_O_TRANSPARENT) && !addr_is_any(&li->addr))
		dst = li->addr;
	else if (getsockname(fd, (struct sockaddr *)&dst, &l) < 0)
		dst = li->addr;
	addr_unmap_v4(&dst);
	/* kept compact: allocates for a unix socket's addresses only */
	if (sess_addr_set(&s->cli_addr, &cli) < 0 || sess_addr_set(&s->fe_addr, &dst) < 0) {
		close(fd);
		sess_release(s);
		return;
	}
	if (refuse_own(li, fd, &cli, &dst)) {
		sess_release(s);
		return;
	}
	s->id = atomic_fetch_add_explicit(&next_sess_id, 1, memory_order_relaxed);
	s->loop = loop_cur();
	s->tid = tid;
	s->t_accept = sess_now();
	gettimeofday(&s->accept_tv, NULL);
	s->cli.last_act = s->t_accept;
	fe->conf->refcnt++;

	/* the listener took the connection before accept() (exact maxconn
	 * with several threads); a direct caller has not */
	if (rt_conn_taken)
		rt_conn_taken = false;
	else {
		rt.actconn++;
		fe->feconn++;
		li->nbconn++;
	}
	PT_CNT_INC(cum_conn);
	CNT_INC(fe, cum_fe);
	li->cum_conn++;

	s->next = sess_thr[tid].list;
	if (s->next)
		s->next->prev = s;
	sess_thr[tid].list = s;
	__atomic_store_n(&sess_thr[tid].count, sess_thr[tid].count + 1, __ATOMIC_RELAXED);

	sess_set_ka(fd, (fe->options & PR_O_KA_CL) != 0);
	ev_io_init(&s->cli.rio, sess_cli_read_cb, fd, EV_READ);
	ev_io_init(&s->cli.wio, cli_write_cb, fd, EV_WRITE);
	ev_init(&s->timer, timer_cb);
	if (!li->nodelay && li->addr.ss_family != AF_UNIX) {
		/* normally inherited from the listener (core/listener.c) */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (dp_msg.debug) {
		char a[64], b[64];

		sess_debug(s, "%s.accept(%04x)=%04x from %s to %s%s%s", fe->name, (unsigned)li->fd, (unsigned)fd,
			   addr_str(&cli, a, sizeof(a)), addr_str(&dst, b, sizeof(b)),
			   li->bc->netns ? " netns " : "", li->bc->netns ? li->bc->netns : "");
	}
	s->netns = li->bc->netns;
	s->state = SST_HDR; /* nothing decided yet */
	if (sess_rules_connection(s) < 0)
		return;
	if ((li->bc->options & BC_O_ACCEPT_PROXY) || s->rl.expect_proxy) {
		sess_pp_wait_header(s);
		return;
	}
	sess_start(s);
}
