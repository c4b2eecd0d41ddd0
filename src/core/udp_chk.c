/* udp_chk.c — health checks of `udp-lb` servers (`check`).
 *
 * UDP has no handshake, so a check is one datagram on a connected socket:
 * `udp-check-send hex ...` (the probe, e.g. a DNS query) or an empty
 * datagram, led by a PROXY v2 LOCAL header for a `send-proxy-v2` server
 * (as TCP checks do) so that a PROXY-aware decoy does not count it as a bad
 * datagram. The kernel reports an ICMP port (or host) unreachable answer
 * as an error on the connected socket:
 *   - a reply datagram                     passes (L7OK with a probe, else L4OK);
 *   - an ICMP error (ECONNREFUSED, ...)    fails: "Layer4 connection problem";
 *   - nothing within `timeout check`       with a probe fails ("Layer7 timeout");
 *                                          without one passes (L4OK: the port
 *                                          did not refuse — a UDP port that
 *                                          is open or filtered looks the same).
 * Health follows HAProxy's rules (rise, fall; a checked server starts UP
 * and a failure below full health takes it DOWN), state changes are logged
 * with HAProxy's lines, and flows are not sent to a DOWN server
 * (udplb_srv_usable()). The checks of a section live in its runtime state
 * (struct udp_rt): a reload restarts them for the new generation's servers,
 * whose health was carried over by name (udplb_carry()).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/pp.h"
#include "log/msg.h"
#include "model/conf.h"
#include "core/chk.h"
#include "core/loop.h"
#include "core/udp_int.h"

struct udp_chk {
	struct udp_rt *r;
	struct udp_server *srv;
	ev_timer tm;                    /* next check, or the running one's timeout */
	ev_io io;
	int fd;                         /* the running check's socket, -1: none */
	double started;
};

bool udp_chk_apply(struct udp_server *s, bool ok)
{
	return chk_health_step(&s->chk_health, &s->chk_up, s->chk_rise, s->chk_fall, ok, &s->cnt.chk_failed,
			       &s->cnt.chk_down);
}

int udp_chk_state_msg(char *buf, size_t cap, const char *lb, const struct udp_server *s, enum chk_status st,
		      const char *info, long ms, unsigned usable, unsigned flows)
{
	char inf[128] = "";

	if (info && *info)
		snprintf(inf, sizeof(inf), ", info: \"%s\"", info);
	if (s->chk_up)
		return snprintf(buf, cap, "Server %s/%s is UP, reason: %s%s, check duration: %ldms. "
				"%u active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
				lb, s->name, chk_status_str(st), inf, ms, usable);
	return snprintf(buf, cap, "Server %s/%s is DOWN, reason: %s%s, check duration: %ldms. "
			"%u active and 0 backup servers left. %u sessions active, 0 requeued, 0 remaining in queue.",
			lb, s->name, chk_status_str(st), inf, ms, usable, flows);
}

static void chk_schedule(struct udp_chk *c)
{
	const struct dp_config *conf = rt.conf;
	long long ms = chk_spread_ms(c->srv->chk_inter, conf ? conf->g.spread_checks : 0, (unsigned)random());

	ev_timer_stop(rt.loop, &c->tm);
	ev_timer_set(&c->tm, ms / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->tm);
}

static void chk_close(struct udp_chk *c)
{
	ev_io_stop(rt.loop, &c->io);
	ev_timer_stop(rt.loop, &c->tm);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void chk_end(struct udp_chk *c, bool ok, enum chk_status st, const char *info)
{
	struct udp_server *s = c->srv;
	struct udp_lb *lb = c->r->lb;
	long ms = (long)((ev_now(rt.loop) - c->started) * 1000.0 + 0.5);
	bool was_up = s->chk_up;
	char msg[512];

	chk_close(c);
	udp_chk_apply(s, ok);
	snprintf(s->chk_desc, sizeof(s->chk_desc), "%s", info && *info ? info : chk_status_str(st));
	snprintf(s->chk_st, sizeof(s->chk_st), "%s", chk_status_name(st));
	s->chk_dur = ms;
	if (was_up != s->chk_up) {
		unsigned usable = 0;

		for (const struct udp_server *o = lb->srv; o; o = o->next)
			usable += udplb_srv_usable(o);
		udp_chk_state_msg(msg, sizeof(msg), lb->name, s, st, info, ms, usable, s->cur_flows);
		ha_warning("%s", msg);
		if (!usable)
			ha_alert("udp-lb '%s' has no server available!", lb->name);
	}
	chk_schedule(c);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct udp_chk *c = w->data;
	uint8_t buf[512];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n >= 0)
		chk_end(c, true, c->r->lb->chk_probe ? CHK_ST_L7OK : CHK_ST_L4OK, NULL);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		chk_end(c, false, CHK_ST_L4CON, strerror(errno));   /* ICMP unreachable */
}

static void chk_run(struct udp_chk *c)
{
	const struct udp_server *s = c->srv;
	const struct udp_lb *lb = c->r->lb;
	struct sockaddr_storage dst = s->addr;
	uint8_t out[PP_V2_HDR_LEN + 64 + UDPLB_CHK_PROBE_MAX];
	size_t olen = 0;
	long long to;
	int fd;

	c->started = ev_now(rt.loop);
	if (s->chk_port)
		addr_set_port(&dst, s->chk_port);
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		chk_end(c, false, CHK_ST_SOCKERR, strerror(errno));
		return;
	}
	c->fd = fd;
	if (connect(fd, (const struct sockaddr *)&dst, addr_len(&dst)) < 0) {
		chk_end(c, false, CHK_ST_L4CON, strerror(errno));
		return;
	}
	if (s->send_pp2) {
		struct pp_hdr h;
		int n;

		memset(&h, 0, sizeof(h));
		h.cmd = PP_CMD_LOCAL;
		n = pp_encode_v2(out, sizeof(out), &h, 0);
		if (n > 0)
			olen = (size_t)n;
	}
	if (lb->chk_probe && olen + lb->chk_probe_len <= sizeof(out)) {
		memcpy(out + olen, lb->chk_probe, lb->chk_probe_len);
		olen += lb->chk_probe_len;
	}
	if (send(fd, out, olen, 0) < 0) {
		chk_end(c, false, CHK_ST_L4CON, strerror(errno));
		return;
	}
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(rt.loop, &c->io);
	to = lb->chk_timeout ? lb->chk_timeout : s->chk_inter;
	ev_timer_stop(rt.loop, &c->tm);
	ev_timer_set(&c->tm, to / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->tm);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct udp_chk *c = w->data;

	(void)loop;
	(void)revents;
	if (c->fd < 0)
		chk_run(c);
	else if (c->r->lb->chk_probe)
		chk_end(c, false, CHK_ST_L7TOUT, NULL);
	else
		chk_end(c, true, CHK_ST_L4OK, NULL);    /* no ICMP error: the port did not refuse */
}

void udp_chk_stop(struct udp_rt *r)
{
	for (size_t i = 0; i < r->nchk; i++)
		chk_close(&r->chk[i]);
	free(r->chk);
	r->chk = NULL;
	r->nchk = 0;
}

int udp_chk_start(struct udp_rt *r)
{
	size_t n = 0, i = 0;

	udp_chk_stop(r);
	for (struct udp_server *s = r->lb->srv; s; s = s->next)
		n += s->check;
	if (!n)
		return 0;
	r->chk = calloc(n, sizeof(*r->chk));
	if (!r->chk)
		return -ENOMEM;
	for (struct udp_server *s = r->lb->srv; s; s = s->next) {
		struct udp_chk *c;

		if (!s->check)
			continue;
		c = &r->chk[i];
		c->r = r;
		c->srv = s;
		c->fd = -1;
		ev_init(&c->tm, timer_cb);
		c->tm.data = c;
		/* the first checks spread over one interval, as TCP's are */
		ev_timer_set(&c->tm, (double)s->chk_inter * (double)i / (double)n / 1000.0 + 0.001, 0.0);
		ev_timer_start(rt.loop, &c->tm);
		i++;
	}
	r->nchk = n;
	return 0;
}
