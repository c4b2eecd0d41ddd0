/* chk_agent.c — HAProxy's agent checks (`agent-check`, `agent-port`,
 * `agent-inter`, `agent-send`, `agent-addr`).
 *
 * Every agent-inter, a TCP connection to the agent (agent-addr, else the
 * server's address, port agent-port), agent-send's string if any, and one
 * line read back (lib/chkproto.c parses it). What the line says is applied
 * as HAProxy applies it: "up"/"down"/"stopped"/"fail" set the server's
 * health to full or to zero (its regular check moves it on from there),
 * "ready"/"drain"/"maint" its administrative state — "ready" only undoes
 * what the agent itself set, never a state set from the CLI — "<n>%" its
 * weight relative to the configured one, "maxconn:<n>" its maxconn. An
 * agent that cannot be reached changes nothing: connectivity is the
 * regular check's business. Results show in `show stat` (agent_status,
 * last_agt, agent_duration) and with `option log-health-checks`.
 *
 * One agent per server, owned by the loop that runs the generation's checks,
 * like struct chk.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/chk.h"
#include "core/thread.h"
#include "core/loop.h"
#include "core/selfconn.h"
#include "core/sess.h"
#include "lib/addr.h"
#include "lib/chkproto.h"
#include "log/msg.h"
#include "model/proxy.h"
#include "model/server.h"
#include "net/nscache.h"

/* An agent's reply is one line: a little room is plenty. */
#define AGENT_BUF 512

struct chk_agent {
	struct server *srv;
	ev_timer timer;       /* next check, or the running one's timeout */
	ev_io io;
	int fd;
	bool connected;
	struct selfconn own;
	ev_tstamp started;
	unsigned iweight;     /* the configured weight ("75%" is relative to it) */
	int set_admin;        /* the state the agent set (SRV_ADMIN_*), -1: none */
	size_t sent;
	size_t blen;
	uint8_t buf[AGENT_BUF];
};

static void agent_schedule(struct chk_agent *a, double first);

static long elapsed_ms(const struct chk_agent *a)
{
	return (long)((ev_now(rt.loop) - a->started) * 1000.0 + 0.5);
}

static void agent_close(struct chk_agent *a)
{
	ev_io_stop(rt.loop, &a->io);
	ev_timer_stop(rt.loop, &a->timer);  /* also when it expired and waits to run */
	if (a->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (a->connected)
			selfconn_keep(&a->own);
		else
			selfconn_del(&a->own);
		setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(a->fd);
		a->fd = -1;
	}
	a->connected = false;
}

/* Records the agent's result for `show stat` and the health-check log. */
static void agent_status(struct chk_agent *a, enum chk_status st, const char *info)
{
	struct server *s = a->srv;
	bool changed = strcmp(s->agent_st, chk_status_name(st)) || strcmp(s->agent_last, info ? info : "");
	long ms = elapsed_ms(a);

	snprintf(s->agent_st, sizeof(s->agent_st), "%s", chk_status_name(st));
	snprintf(s->agent_last, sizeof(s->agent_last), "%s", info ? info : "");
	s->agent_dur = ms;
	if ((s->px->options & CHK_PXO_LOG) && changed) {
		bool ok = st == CHK_ST_L7OK;

		ha_warning("Agent check for %sserver %s/%s %s, reason: %s%s%s%s, check duration: %ldms.",
			   (s->flags & SRV_F_BACKUP) ? "backup " : "", s->px->name, s->name,
			   ok ? "succeeded" : "failed", chk_status_str(st), info && *info ? ", info: \"" : "",
			   info && *info ? info : "", info && *info ? "\"" : "", ms);
	}
}

/* The agent ended without a usable line: nothing changes but its status. */
static void agent_fail(struct chk_agent *a, enum chk_status st, const char *info)
{
	agent_close(a);
	agent_status(a, st, info);
	agent_schedule(a, 0);
}

/* "75%": the new weight, or HAProxy's complaint. */
static const char *apply_weight(struct chk_agent *a, const struct chkp_agent *r)
{
	struct server *s = a->srv;
	unsigned long w;

	if (r->weight_bad)
		return "Require <weight> or <weight%>.";
	if (r->weight_pct < 0)
		return NULL;
	if (!a->iweight)
		return "Relative weight change on a server with a weight of 0 has no effect.";
	w = (unsigned long)a->iweight * (unsigned long)r->weight_pct / 100;
	if (w > 256)
		return "Relative weight too large.";
	if (s->weight == w)
		return NULL;
	s->weight = (unsigned)w;
	if (w)
		sess_dequeue_later(s->px);
	return NULL;
}

static void apply_admin(struct chk_agent *a, enum chkp_admin want)
{
	struct server *s = a->srv;
	int admin = want == CHKP_A_DRAIN ? SRV_ADMIN_DRAIN : want == CHKP_A_MAINT ? SRV_ADMIN_MAINT : SRV_ADMIN_READY;

	if (want == CHKP_A_NONE)
		return;
	if (admin == SRV_ADMIN_READY) {
		/* only what the agent set itself */
		if (a->set_admin < 0 || s->admin != a->set_admin)
			return;
		a->set_admin = -1;
	} else {
		/* never over a state the CLI set */
		if (s->admin != SRV_ADMIN_READY && s->admin != a->set_admin)
			return;
		if (server_in_maint(s) && admin != SRV_ADMIN_MAINT && s->admin != a->set_admin)
			return;
		a->set_admin = admin;
	}
	if (s->admin == admin)
		return;
	if (admin == SRV_ADMIN_MAINT)
		ha_warning("%sServer %s/%s is going DOWN for maintenance (agent).", (s->flags & SRV_F_BACKUP) ? "Backup " : "",
			   s->px->name, s->name);
	else if (s->admin == SRV_ADMIN_MAINT)
		ha_warning("%sServer %s/%s is %s (leaving forced maintenance via agent).",
			   (s->flags & SRV_F_BACKUP) ? "Backup " : "", s->px->name, s->name, s->chk_up ? "UP" : "DOWN");
	if (server_set_admin(s, admin))
		sess_dequeue_later(s->px);
}

static void agent_apply_isolated(struct chk_agent *a, const struct chkp_agent *r);

/* the server's weight, admin state, maxconn and health are read by every
 * thread's sessions: changed with them parked (core/thread.h) */
static void agent_apply(struct chk_agent *a, const struct chkp_agent *r)
{
	thread_isolate();
	agent_apply_isolated(a, r);
	thread_release();
}

static void agent_apply_isolated(struct chk_agent *a, const struct chkp_agent *r)
{
	struct server *s = a->srv;
	bool was_up = s->chk_up;
	enum chk_status st = CHK_ST_L7OK;
	const char *wrn;
	char info[sizeof(s->agent_last)];

	apply_admin(a, r->admin);
	wrn = apply_weight(a, r);
	if (r->maxconn >= 0 && (unsigned long)r->maxconn != s->maxconn) {
		bool more = !s->maxconn || (r->maxconn && (unsigned long)r->maxconn > s->maxconn);

		s->maxconn = (unsigned)r->maxconn;
		if (more)
			sess_dequeue_later(s->px);
	}
	if (r->health == CHKP_H_UP) {
		s->chk_health = s->chk_rise + s->chk_fall - 1;
		s->chk_up = true;
	} else if (r->health == CHKP_H_DOWN) {
		st = CHK_ST_L7STS;
		s->chk_health = 0;
		if (s->chk_up)
			CNT_INC(s, chk_down_transitions);
		s->chk_up = false;
	}
	if (r->health != CHKP_H_NONE) {
		/* HAProxy: "via agent : down (description)"; a description, else
		 * the first error or warning */
		const char *m = r->desc;

		if (!*m || st == CHK_ST_L7OK)
			m = r->err[0] ? r->err : wrn ? wrn : m;
		snprintf(info, sizeof(info), "via agent : %s%s%s%s", r->hword, *m ? " (" : "", m, *m ? ")" : "");
	} else if (r->err[0]) {
		snprintf(info, sizeof(info), "agent reports an error : %s", r->err);
	} else if (wrn) {
		snprintf(info, sizeof(info), "agent warns : %s", wrn);
	} else {
		info[0] = '\0';
	}
	agent_close(a);
	agent_status(a, st, info);
	chk_transition(s, was_up, st, 0, info, s->agent_dur);
	agent_schedule(a, 0);
}

static void agent_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct chk_agent *a = container_of(w, struct chk_agent, io);
	struct server *s = a->srv;
	struct chkp_agent r;
	enum chkp_res res;
	bool eof = false;

	if (!a->connected) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			agent_fail(a, CHK_ST_L4CON, strerror(err));
			return;
		}
		a->connected = true;
	}
	if (s->agent_send && a->sent < strlen(s->agent_send)) {
		ssize_t n = send(a->fd, s->agent_send + a->sent, strlen(s->agent_send) - a->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			agent_fail(a, CHK_ST_L4CON, strerror(errno));
			return;
		}
		if (n > 0)
			a->sent += (size_t)n;
		if (a->sent < strlen(s->agent_send)) {
			ev_io_stop(rt.loop, &a->io);
			ev_io_set(&a->io, a->fd, EV_WRITE);
			ev_io_start(rt.loop, &a->io);
			return;
		}
	}
	for (;;) {
		ssize_t n;

		if (a->blen == sizeof(a->buf)) {
			eof = true;
			break;
		}
		n = recv(a->fd, a->buf + a->blen, sizeof(a->buf) - a->blen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			if (errno == ECONNRESET && a->blen) {
				eof = true;
				break;
			}
			agent_fail(a, CHK_ST_L4CON, strerror(errno));
			return;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		a->blen += (size_t)n;
	}
	res = chkp_agent_reply(a->buf, a->blen, eof, &r);
	if (res == CHKP_MORE) {
		if (!(a->io.events & EV_READ) || (a->io.events & EV_WRITE)) {
			ev_io_stop(rt.loop, &a->io);
			ev_io_set(&a->io, a->fd, EV_READ);
			ev_io_start(rt.loop, &a->io);
		}
		return;
	}
	if (res != CHKP_OK) {
		agent_fail(a, CHK_ST_L7RSP, a->blen ? "Ignoring incomplete line from agent" : "Empty response");
		return;
	}
	agent_apply(a, &r);
}

static void agent_run(struct chk_agent *a)
{
	struct server *s = a->srv;
	struct sockaddr_storage dst = s->agent_addr.ss_family ? s->agent_addr : s->addr;
	char *err = NULL;
	long long to;
	int fd;

	addr_set_port(&dst, (uint16_t)s->agent_port);
	a->started = ev_now(rt.loop);
	a->sent = a->blen = 0;
	a->connected = false;
	fd = ns_cache_socket(s->px->conf->nscache, s->netns, dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			     &err);
	if (fd < 0) {
		char info[96];

		snprintf(info, sizeof(info), "%s", err ? err : "socket");
		free(err);
		agent_fail(a, CHK_ST_SOCKERR, info);
		return;
	}
	a->fd = fd;
	selfconn_del(&a->own);
	selfconn_add(&a->own, fd, &dst, NULL, s, true);
	if (connect(fd, (struct sockaddr *)&dst, addr_len(&dst)) < 0 && errno != EINPROGRESS) {
		agent_fail(a, CHK_ST_L4CON, strerror(errno));
		return;
	}
	ev_io_init(&a->io, agent_io, fd, EV_WRITE);
	ev_io_start(rt.loop, &a->io);
	/* the whole exchange within `timeout check`, else agent-inter */
	to = s->px->to.check ? s->px->to.check : s->agent_inter;
	ev_timer_set(&a->timer, to / 1000.0, 0.0);
	ev_timer_start(rt.loop, &a->timer);
}

static void agent_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chk_agent *a = container_of(w, struct chk_agent, timer);

	if (a->fd >= 0)
		agent_fail(a, a->connected ? CHK_ST_L7TOUT : CHK_ST_L4TOUT, NULL);
	else
		agent_run(a);
}

static void agent_schedule(struct chk_agent *a, double first)
{
	long long ms = chk_spread_ms(a->srv->agent_inter, a->srv->px->conf->g.spread_checks, (unsigned)random());

	ev_timer_set(&a->timer, first > 0 ? first : ms / 1000.0, 0.0);
	ev_timer_start(rt.loop, &a->timer);
}

int chk_agent_start(struct server *s, double first)
{
	struct chk_agent *a;

	if (!s->agent_check || s->agent)
		return 0;
	if (!(a = calloc(1, sizeof(*a))))
		return -ENOMEM;
	a->srv = s;
	a->fd = -1;
	a->iweight = s->iweight;
	a->set_admin = -1;
	s->agent = a;
	ev_init(&a->timer, agent_timer);
	agent_schedule(a, first);
	return 0;
}

void chk_agent_stop(struct server *s)
{
	struct chk_agent *a = s->agent;

	if (!a)
		return;
	ev_io_stop(rt.loop, &a->io);
	ev_timer_stop(rt.loop, &a->timer);  /* pending too: see chk_stop() */
	selfconn_del(&a->own);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
	s->agent = NULL;
}
