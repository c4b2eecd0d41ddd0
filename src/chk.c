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
 * `downinter` while it is down. Transitions are logged as HAProxy does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decoyproxy/addr.h"
#include "decoyproxy/chk.h"
#include "decoyproxy/netseg.h"
#include "decoyproxy/pp.h"
#include "decoyproxy/proxy.h"
#include "decoyproxy/runtime.h"
#include "decoyproxy/server.h"
#include "decoyproxy/sess.h"

struct chk {
	struct server *srv;
	ev_timer timer;       /* next check, or the running check's timeout */
	ev_io io;
	int fd;
	ev_tstamp started;
};

static void chk_schedule(struct chk *c);

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

static void chk_result(struct chk *c, bool ok, const char *info)
{
	struct server *s = c->srv;
	long ms = (long)((ev_now(rt.loop) - c->started) * 1000.0 + 0.5);
	unsigned max = s->chk_rise + s->chk_fall - 1;
	bool was_up = s->chk_up;

	snprintf(s->chk_last, sizeof(s->chk_last), "%s", info);
	if (ok) {
		if (s->chk_health < max)
			s->chk_health++;
		if (!s->chk_up && s->chk_health >= s->chk_rise) {
			s->chk_up = true;
			s->chk_health = max;
		}
	} else {
		s->chk_failed++;
		if (s->chk_health > 0)
			s->chk_health--;
		if (s->chk_up && s->chk_health < s->chk_rise) {
			s->chk_up = false;
			s->chk_health = 0;
			s->chk_down_transitions++;
		}
	}
	if (was_up != s->chk_up) {
		if (s->chk_up)
			ha_warning("Server %s/%s is UP, reason: Layer4 check passed, check duration: %ldms. %u active and %u backup servers online. %u sessions requeued, %u total in queue.",
				   s->px->name, s->name, ms, count_usable(s->px, false), count_usable(s->px, true),
				   0u, s->px->nbpend);
		else
			ha_warning("Server %s/%s is DOWN, reason: Layer4 connection problem, info: \"%s\", check duration: %ldms. %u active and %u backup servers left. %u sessions active, %u requeued, %u remaining in queue.",
				   s->px->name, s->name, info, ms, count_usable(s->px, false), count_usable(s->px, true),
				   s->cur_conn, 0u, s->px->nbpend);
		if (!s->chk_up && !count_usable(s->px, false) && !count_usable(s->px, true))
			ha_alert("backend '%s' has no server available!", s->px->name);
		if (s->chk_up)
			sess_dequeue(s->px);
	}
}

static void chk_end(struct chk *c, bool ok, const char *info)
{
	if (ev_is_active(&c->io))
		ev_io_stop(rt.loop, &c->io);
	if (ev_is_active(&c->timer))
		ev_timer_stop(rt.loop, &c->timer);
	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
		c->fd = -1;
	}
	chk_result(c, ok, info);
	chk_schedule(c);
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

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err) {
		chk_end(c, false, strerror(err));
		return;
	}
	send_local_header(c);
	chk_end(c, true, "Layer4 check passed");
}

static long long chk_timeout_ms(const struct server *s)
{
	long long to = s->px->to.connect;

	return to && to < s->chk_inter ? to : s->chk_inter;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void chk_run(struct chk *c)
{
	struct server *s = c->srv;
	struct sockaddr_storage dst = chk_target(s);
	char *err = NULL;
	int fd, r;

	c->started = ev_now(rt.loop);
	fd = netseg_socket(s->px->conf, s->netns, dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &err);
	if (fd < 0) {
		char info[96];

		snprintf(info, sizeof(info), "%s", err ? err : "socket");
		free(err);
		c->fd = -1;
		chk_result(c, false, info);
		chk_schedule(c);
		return;
	}
	c->fd = fd;
	r = connect(fd, (struct sockaddr *)&dst, addr_len(&dst));
	if (r < 0 && errno != EINPROGRESS) {
		chk_end(c, false, strerror(errno));
		return;
	}
	ev_io_init(&c->io, io_cb, fd, EV_WRITE);
	ev_io_start(rt.loop, &c->io);
	ev_timer_set(&c->timer, chk_timeout_ms(s) / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chk *c = container_of(w, struct chk, timer);

	if (c->fd >= 0)
		chk_end(c, false, "Connection timeout");
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
	ev_timer_set(&c->timer, ms / 1000.0, 0.0);
	ev_timer_start(rt.loop, &c->timer);
}

int chk_start(struct dp_config *conf)
{
	unsigned n = 0, i = 0;

	for (struct proxy *px = conf->proxies; px; px = px->next)
		for (struct server *s = px->srv; s; s = s->next)
			n += s->check;
	for (struct proxy *px = conf->proxies; px; px = px->next) {
		for (struct server *s = px->srv; s; s = s->next) {
			struct chk *c;

			if (!s->check || s->chk)
				continue;
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->srv = s;
			c->fd = -1;
			s->chk = c;
			ev_init(&c->timer, timer_cb);
			/* spread the first checks over one interval, as HAProxy's
			 * default spreading does, instead of a burst */
			ev_timer_set(&c->timer, (double)s->chk_inter * i / n / 1000.0 + 0.001, 0.0);
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

			if (!c)
				continue;
			if (ev_is_active(&c->io))
				ev_io_stop(rt.loop, &c->io);
			if (ev_is_active(&c->timer))
				ev_timer_stop(rt.loop, &c->timer);
			if (c->fd >= 0)
				close(c->fd);
			free(c);
			s->chk = NULL;
		}
	}
}
