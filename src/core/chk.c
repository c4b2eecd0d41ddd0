/* chk.c — TCP health checks.
 *
 * A check is a non-blocking connect() to the server (or to its `addr`/`port`)
 * every `inter`; success is the connection being established, which is then
 * closed with RST so checks leave no TIME_WAIT behind. A server with
 * send-proxy[-v2] (or check-send-proxy) first gets a PROXY header with the
 * LOCAL command, as HAProxy sends, so a PROXY-aware decoy does not log the
 * check as a malformed connection. Health moves between 0 and rise+fall-1:
 * `fall` consecutive failures take an up server down, `rise` successes bring
 * it back; `fastinter` paces checks while a server is changing state and
 * `downinter` while it is down. Transitions are logged as HAProxy does, and
 * with `option log-health-checks` every change of check status or health.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "core/chk.h"
#include "core/thread.h"
#include "core/chk_int.h"
#include "lib/pp.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/selfconn.h"
#include "core/srvdyn.h"
#include "core/sess.h"
#include "log/msg.h"
#include "net/nscache.h"


long long chk_spread_ms(long long ms, unsigned pct, unsigned rnd)
{
	long long rv;

	/* HAProxy's spread-checks: the interval moves by up to +/- pct % */
	if (!pct || ms <= 0)
		return ms;
	rv = ms * pct / 100;
	if (rv <= 0)
		return ms;
	return ms - rv + (long long)(rnd % (unsigned long long)(2 * rv + 1));
}

static void chk_schedule(struct chk *c);

long long chk_first_spread_ms(long long inter, long long max_spread)
{
	return max_spread > 0 && max_spread < inter ? max_spread : inter;
}

static struct sockaddr_storage chk_target(const struct server *s)
{
	struct sockaddr_storage a = s->chk_addr.ss_family ? s->chk_addr : s->addr;

	addr_set_port(&a, s->chk_port ? s->chk_port : addr_port(&s->addr));
	return a;
}

static unsigned count_usable(const struct proxy *be, bool backup)
{
	unsigned n = 0;

	for (const struct server *s = be->srv; s; s = s->next)
		if (!!(s->flags & SRV_F_BACKUP) == backup && server_usable(s))
			n++;
	return n;
}

const char *chk_status_str(enum chk_status st)
{
	switch (st) {
	case CHK_ST_SOCKERR: return "Socket error";
	case CHK_ST_L4OK: return "Layer4 check passed";
	case CHK_ST_L4TOUT: return "Layer4 timeout";
	case CHK_ST_L4CON: return "Layer4 connection problem";
	case CHK_ST_L7OK: return "Layer7 check passed";
	case CHK_ST_L7RSP: return "Layer7 invalid response";
	case CHK_ST_L7STS: return "Layer7 wrong status";
	case CHK_ST_L7TOUT: return "Layer7 timeout";
	case CHK_ST_L6OK: return "Layer6 check passed";
	case CHK_ST_L6RSP: return "Layer6 invalid response";
	case CHK_ST_L6TOUT: return "Layer6 timeout";
	case CHK_ST_HANA: return "Health analyze";
	case CHK_ST_NONE: break;
	}
	return "Unknown";
}

const char *chk_status_name(enum chk_status st)
{
	switch (st) {
	case CHK_ST_SOCKERR: return "SOCKERR";
	case CHK_ST_L4OK: return "L4OK";
	case CHK_ST_L4TOUT: return "L4TOUT";
	case CHK_ST_L4CON: return "L4CON";
	case CHK_ST_L7OK: return "L7OK";
	case CHK_ST_L7RSP: return "L7RSP";
	case CHK_ST_L7STS: return "L7STS";
	case CHK_ST_L7TOUT: return "L7TOUT";
	case CHK_ST_L6OK: return "L6OK";
	case CHK_ST_L6RSP: return "L6RSP";
	case CHK_ST_L6TOUT: return "L6TOUT";
	case CHK_ST_HANA: return "HANA";
	case CHK_ST_NONE: break;
	}
	return "UNK";
}

bool chk_health_step(unsigned *health, bool *up, unsigned rise, unsigned fall, bool ok,
		     unsigned long long *failed, unsigned long long *downs)
{
	unsigned max = rise + fall - 1;
	bool changed = false;

	if (ok) {
		if (*health < max) {
			changed = true;
			(*health)++;
			if (*health >= rise)
				*health = max;
		}
		if (!*up && *health >= rise)
			*up = true;
	} else {
		if (*health > 0) {
			changed = true;
			(*failed)++;
			(*health)--;
			if (*health < rise)
				*health = 0;
		}
		if (*up && *health == 0) {
			*up = false;
			(*downs)++;
		}
	}
	return changed;
}

bool chk_apply(struct server *s, bool ok)
{
	return chk_health_step(&s->chk_health, &s->chk_up, s->chk_rise, s->chk_fall, ok, CNT_PTR(s, chk_failed),
			       CNT_PTR(s, chk_down_transitions));
}

/* snprintf() at buf + *len; *len counts what would have been written, as
 * snprintf() does, so the caller can tell a truncation. */
static void appendf(char *buf, size_t cap, int *len, const char *fmt, ...) DP_PRINTF(4, 5);
static void appendf(char *buf, size_t cap, int *len, const char *fmt, ...)
{
	size_t at = (size_t)*len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (at < cap)
		n = vsnprintf(buf + at, cap - at, fmt, ap);
	else    /* already cut: only count */
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += n;
}

/* HAProxy's srv_append_status(): ", reason: ...[, info: "..."], check
 * duration: Nms". */
static void append_status(char *buf, size_t cap, int *len, enum chk_status st, int code, const char *info,
			  long ms)
{
	appendf(buf, cap, len, ", reason: %s", chk_status_str(st));
	if (code)
		appendf(buf, cap, len, ", code: %d", code);
	if (info && *info)
		appendf(buf, cap, len, ", info: \"%s\"", info);
	if (st != CHK_ST_HANA)  /* HAProxy gives live-traffic errors no duration */
		appendf(buf, cap, len, ", check duration: %ldms", ms);
}

int chk_health_msg(char *buf, size_t cap, const struct server *s, bool ok, enum chk_status st,
		   const char *info, long ms)
{
	return chk_health_msg_code(buf, cap, s, ok, st, 0, info, ms);
}

int chk_health_msg_code(char *buf, size_t cap, const struct server *s, bool ok, enum chk_status st,
			int code, const char *info, long ms)
{
	bool up = s->chk_health >= s->chk_rise;
	bool drain = !s->weight || s->admin == SRV_ADMIN_DRAIN;
	int len = 0;

	if (cap)
		buf[0] = '\0';
	appendf(buf, cap, &len, "Health check for %sserver %s/%s %s", (s->flags & SRV_F_BACKUP) ? "backup " : "",
		s->px->name, s->name, ok ? "succeeded" : "failed");
	append_status(buf, cap, &len, st, code, info, ms);
	appendf(buf, cap, &len, ", status: %u/%u %s", up ? s->chk_health - s->chk_rise + 1 : s->chk_health,
		up ? s->chk_fall : s->chk_rise, up ? (drain ? "DRAIN" : "UP") : "DOWN");
	return len;
}

/* on-marked-down shutdown-sessions: s's sessions end ("D"); on-marked-up
 * shutdown-backup-sessions: the sessions of s's backend's backup servers
 * end ("U"), s being an active server that came up. Killing one session
 * may start a queued one (the dequeue is deferred to the loop), so the
 * list is searched again after each kill, at most as many times as there
 * were sessions. Returns how many were killed. */
static unsigned kill_sessions(struct server *s, bool up)
{
	/* each thread kills its own (posted to the others) */
	if (up)
		return sess_kill_where(sess_match_backup_of, (uintptr_t)s->px, TERM_EV_SRV_UP);
	return sess_kill_where(sess_match_srv, (uintptr_t)s, TERM_EV_SRV_DOWN);
}

void chk_server_changed(struct server *s)
{
	if (!s->chk_up && s->on_down_shutdown)
		kill_sessions(s, false);
	if (s->chk_up && !(s->flags & SRV_F_BACKUP) && s->on_up_shutdown_backup)
		kill_sessions(s, true);
}

/* slowstart: HAProxy updates the ramp at every check; here weight and
 * maxconn are computed when used (core/srvdyn.c), and each check lets
 * queued sessions try the slots the ramp opened, until it is over. */
static void chk_warmup_tick(struct server *s)
{
	if (!s->warming)
		return;
	if (srvdyn_ramp_pct(s, ev_now(rt.loop)) >= 100)
		s->warming = false;
	if (s->px->nbpend)
		sess_dequeue_later(s->px);
}

static void chk_result(struct chk *c, bool ok, enum chk_status st, const char *info, int code)
{
	struct server *s = c->srv;
	long ms = (long)((ev_now(rt.loop) - c->started) * 1000.0 + 0.5);
	bool was_up, changed;
	/* the server's state is read by every thread's sessions (balancing,
	 * slots): changed with them parked (core/thread.h). A result that
	 * cannot change it (a success on an UP server, a failure on a DOWN
	 * one, no slowstart under way) only moves what thread 1 alone reads
	 * (health count, last status, its own counter slot): no isolation,
	 * so that steady checks never stall the other threads */
	bool iso = ok != s->chk_up || s->warming;
	char msg[512];

	if (iso)
		thread_isolate();
	was_up = s->chk_up;
	changed = chk_apply(s, ok);

	snprintf(s->chk_last, sizeof(s->chk_last), "%s", info && *info ? info : chk_status_str(st));
	snprintf(s->chk_st, sizeof(s->chk_st), "%s", chk_status_name(st));
	s->chk_code = code;
	s->chk_dur = ms;
	if ((s->px->options & CHK_PXO_LOG) && (changed || st != c->last)) {
		chk_health_msg_code(msg, sizeof(msg), s, ok, st, code, info, ms);
		ha_warning("%s.", msg);
	}
	c->last = st;
	chk_transition(s, was_up, st, code, info, ms);
	chk_warmup_tick(s);
	if (iso)
		thread_release();
}

/* A server's operational state changed: when (srv_time_since_last_change),
 * and the slowstart ramp of a server that came up (core/srvdyn.c). */
static void state_changed(struct server *s)
{
	s->last_change = ev_now(rt.loop);
	s->warming = s->chk_up && s->slowstart > 0;
}

static void log_transition(struct server *s, const struct server *via, enum chk_status st, int code,
			   const char *info, long ms);

/* `track`: the servers tracking s take its state, and so on down the
 * chains (finalize refused loops), logged "via" s as HAProxy does. */
static void track_propagate(struct server *s)
{
	for (struct server *t = s->trackers; t; t = t->tracknext) {
		if (t->chk_up == s->chk_up)
			continue;
		t->chk_up = s->chk_up;
		state_changed(t);
		log_transition(t, s, CHK_ST_NONE, 0, NULL, 0);
	}
}

void chk_transition(struct server *s, bool was_up, enum chk_status st, int code, const char *info, long ms)
{
	if (was_up == s->chk_up)
		return;
	state_changed(s);
	log_transition(s, NULL, st, code, info, ms);
}

static void log_transition(struct server *s, const struct server *via, enum chk_status st, int code,
			   const char *info, long ms)
{
	char msg[512];
	int len = 0;

	appendf(msg, sizeof(msg), &len, "%sServer %s/%s is %s", (s->flags & SRV_F_BACKUP) ? "Backup " : "",
		s->px->name, s->name, s->chk_up ? "UP" : "DOWN");
	if (via)
		appendf(msg, sizeof(msg), &len, " via %s/%s", via->px->name, via->name);
	else
		append_status(msg, sizeof(msg), &len, st, code, info, ms);
	if (s->chk_up)
		ha_warning("%s. %u active and %u backup servers online. %u sessions requeued, %u total in queue.",
			   msg, count_usable(s->px, false), count_usable(s->px, true), 0u, s->px->nbpend);
	else
		ha_warning("%s. %u active and %u backup servers left. %u sessions active, %u requeued, %u remaining in queue.",
			   msg, count_usable(s->px, false), count_usable(s->px, true), s->cur_conn, 0u, s->px->nbpend);
	if (!s->chk_up && !count_usable(s->px, false) && !count_usable(s->px, true))
		ha_alert("backend '%s' has no server available!", s->px->name);
	chk_server_changed(s);
	if (s->chk_up)
		sess_dequeue_later(s->px);
	track_propagate(s);
}

/* Closes the check's connection (RST); ok: it was established. */
static void chk_close(struct chk *c, bool ok)
{
	ev_io_stop(rt.loop, &c->io);
	ev_timer_stop(rt.loop, &c->timer);  /* also when it expired and waits to run */
	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		/* connected: interception may have taken it to one of our own
		 * listeners, which has not accepted it yet; its 4-tuple stays
		 * known until the next check */
		if (ok)
			selfconn_keep(&c->own);
		else
			selfconn_del(&c->own);
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
		c->fd = -1;
	}
}

void chk_end_code(struct chk *c, bool ok, enum chk_status st, const char *info, int code)
{
	chk_close(c, ok);
	chk_l7_reset(c);
	chk_result(c, ok, st, info, code);
	chk_schedule(c);
}

static void chk_end(struct chk *c, bool ok, enum chk_status st, const char *info)
{
	chk_end_code(c, ok, st, info, 0);
}

static void send_local_header(struct chk *c)
{
	const struct server *s = c->srv;
	struct pp_hdr h;
	uint8_t buf[64];
	int n;

	if (!(s->flags & (SRV_F_SEND_PROXY | SRV_F_SEND_PROXY_V2)) && !s->chk_send_proxy)
		return;
	memset(&h, 0, sizeof(h));
	h.cmd = PP_CMD_LOCAL;
	n = (s->flags & SRV_F_SEND_PROXY_V2) ? pp_encode_v2(buf, sizeof(buf), &h, 0)
					     : pp_encode_v1(buf, sizeof(buf), &h);
	if (n > 0)
		(void)!send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct chk *c = container_of(w, struct chk, io);
	int err = 0;
	socklen_t l = sizeof(err);

	if (c->l7 && c->connected) {
		chk_l7_io(c, revents);
		return;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err) {
		chk_end(c, false, CHK_ST_L4CON, strerror(err));
		return;
	}
	send_local_header(c);
	if (!c->l7) {
		chk_end(c, true, CHK_ST_L4OK, NULL);
		return;
	}
	c->connected = true;
	/* the conversation, all of it (later connects included), within
	 * `timeout check` (else inter) from the first connection */
	if (!c->deadline)
		c->deadline = ev_now(rt.loop) + chk_l7_timeout_ms(c->srv) / 1000.0;
	ev_timer_stop(rt.loop, &c->timer);
	ev_timer_set(&c->timer, c->deadline > ev_now(rt.loop) ? c->deadline - ev_now(rt.loop) : 0.0, 0.0);
	ev_timer_start(rt.loop, &c->timer);
	chk_l7_connected(c);
}

long long chk_conn_timeout_ms(const struct server *s)
{
	long long to = s->px->to.connect;

	if ((s->px->options & CHK_PXO_TIMEOUT) && to && to < s->chk_inter)
		return to;
	return s->chk_inter;
}

long long chk_l7_timeout_ms(const struct server *s)
{
	return s->px->to.check ? s->px->to.check : s->chk_inter;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

int chk_connect(struct chk *c, int port)
{
	struct server *s = c->srv;
	struct sockaddr_storage dst = chk_target(s);
	char *err = NULL;
	int fd, r;

	if (port)
		addr_set_port(&dst, (uint16_t)port);
	fd = ns_cache_socket(s->px->conf->nscache, s->netns, dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &err);
	if (fd < 0) {
		char info[96];

		snprintf(info, sizeof(info), "%s", err ? err : "socket");
		free(err);
		c->fd = -1;
		chk_end(c, false, CHK_ST_SOCKERR, info);
		return -1;
	}
	c->fd = fd;
	c->connected = false;
	/* known as ours should interception send it back to a listener */
	selfconn_del(&c->own);
	selfconn_add(&c->own, fd, &dst, NULL, s, true);
	r = connect(fd, (struct sockaddr *)&dst, addr_len(&dst));
	if (r < 0 && errno != EINPROGRESS) {
		chk_end(c, false, CHK_ST_L4CON, strerror(errno));
		return -1;
	}
	if (ev_is_active(&c->io))
		ev_io_stop(rt.loop, &c->io);
	ev_io_init(&c->io, io_cb, fd, EV_WRITE);
	ev_io_start(rt.loop, &c->io);
	ev_timer_stop(rt.loop, &c->timer);
	{
		double to = chk_conn_timeout_ms(s) / 1000.0, left = c->deadline - ev_now(rt.loop);

		/* a later `tcp-check connect` stays within the conversation's deadline */
		if (c->deadline && left < to)
			to = left > 0 ? left : 0.0;
		ev_timer_set(&c->timer, to, 0.0);
	}
	ev_timer_start(rt.loop, &c->timer);
	return 0;
}

void chk_reconnect(struct chk *c, int port)
{
	chk_close(c, true);
	(void)chk_connect(c, port);
}

static void chk_run(struct chk *c)
{
	const struct proxy *px = c->srv->px;
	int port = 0;

	c->started = ev_now(rt.loop);
	c->l7 = px->chk.kind != CHK_KIND_CONNECT;
	c->step = 0;
	c->deadline = 0;
	/* a tcp-check set starting with `connect port N` checks port N */
	if (px->chk.kind == CHK_KIND_TCP && px->chk.tcp && px->chk.tcp->n &&
	    px->chk.tcp->v[0].type == CHKR_CONNECT) {
		port = px->chk.tcp->v[0].port;
		c->step = 1;
	}
	(void)chk_connect(c, port);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chk *c = container_of(w, struct chk, timer);

	if (c->fd >= 0 && c->l7 && c->connected)
		chk_l7_timeout(c);
	else if (c->fd >= 0)
		chk_end(c, false, CHK_ST_L4TOUT, NULL);
	else
		chk_run(c);
}

static void chk_schedule(struct chk *c)
{
	const struct server *s = c->srv;
	unsigned max = s->chk_rise + s->chk_fall - 1;
	long long ms;

	if (!s->chk_up && s->chk_health == 0)
		ms = s->chk_downinter;
	else if (s->chk_health > 0 && s->chk_health < max)
		ms = s->chk_fastinter;  /* changing state */
	else
		ms = s->chk_inter;
	ms = chk_spread_ms(ms, s->px->conf->g.spread_checks, (unsigned)random());
	ev_timer_set(&c->timer, ms / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->timer);
}

int chk_start(struct dp_config *conf)
{
	unsigned n = 0, i = 0;

	srvdyn_set_observer(chk_observe_l4);  /* observe layer4, from the sessions */

	for (struct proxy *px = conf->proxies; px; px = px->next)
		for (struct server *s = px->srv; s; s = s->next) {
			n += s->check;
			if (!s->last_change)  /* no change yet: the generation's start (or the state file's) */
				s->last_change = ev_now(rt.loop);
			if (s->track) {
				/* a tracking server starts in the state of the end of its chain */
				const struct server *t = s->track;

				while (t->track)
					t = t->track;
				s->chk_up = t->chk_up;
			}
		}
	for (struct proxy *px = conf->proxies; px; px = px->next) {
		for (struct server *s = px->srv; s; s = s->next) {
			struct chk *c;

			/* agents start half an interval after the checks */
			if (chk_agent_start(s, s->agent_inter / 2000.0 + 0.001) < 0)
				return -ENOMEM;
			if (!s->check || s->chk || s->rmaint)  /* init-addr none: no address to check */
				continue;
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->srv = s;
			c->fd = -1;
			s->chk = c;
			ev_init(&c->timer, timer_cb);
			/* spread the first checks over one interval, as HAProxy's
			 * default spreading does, instead of a burst; at most over
			 * max-spread-checks */
			ev_timer_set(&c->timer, (double)chk_first_spread_ms(s->chk_inter, conf->g.max_spread_checks) * i / n /
						1000.0 + 0.001, 0.0);
			ev_timer_start(rt.loop, &c->timer);
			i++;
		}
	}
	return 0;
}

void chk_stop(struct dp_config *conf)
{
	for (struct proxy *px = conf->proxies; px; px = px->next) {
		for (struct server *s = px->srv; s; s = s->next) {
			struct chk *c = s->chk;

			chk_agent_stop(s);
			if (!c)
				continue;
			/* unconditionally: a timer that expired in this loop iteration
			 * is no longer active but still pending, and stopping it is
			 * what keeps its callback from running on the freed check */
			ev_io_stop(rt.loop, &c->io);
			ev_timer_stop(rt.loop, &c->timer);
			selfconn_del(&c->own);
			if (c->fd >= 0)
				close(c->fd);
			chk_l7_reset(c);
			free(c->buf);
			free(c);
			s->chk = NULL;
		}
	}
}
