/* udp.c — the UDP data path (see udp.h): receiving sockets, flows, the
 * sockets toward the servers, replies from the decoy address, and the
 * flow-end log line. Generations (apply/commit) are udp_gen.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/pp.h"
#include "log/evlog.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/conf.h"
#include "net/nscache.h"
#include "core/connect.h"
#include "core/loop.h"
#include "core/mirror.h"
#include "core/udp_int.h"

#ifndef IP_RECVORIGDSTADDR
#define IP_RECVORIGDSTADDR 20
#endif
#ifndef IP_ORIGDSTADDR
#define IP_ORIGDSTADDR 20
#endif
#ifndef IPV6_RECVORIGDSTADDR
#define IPV6_RECVORIGDSTADDR 74
#endif
#ifndef IPV6_ORIGDSTADDR
#define IPV6_ORIGDSTADDR 74
#endif

/* Datagrams read per wake-up of one socket: others get their turn. */
#define UDP_BATCH 64
/* Largest datagram: IPv6 jumbo payloads are not for decoys. */
#define UDP_MAX 65535

void (*udp_flow_end_hook)(const struct udp_lb *lb, const struct udp_flow_end *e);

static uint8_t rxbuf[UDP_MAX + 1];
static uint8_t txbuf[PP_V2_HDR_LEN + 216 + UDP_MAX];

static double now_s(void)
{
	return ev_now(rt.loop);
}

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static const char *log_tag(void)
{
	return rt.conf && rt.conf->g.log_tag ? rt.conf->g.log_tag : "decoyproxy";
}

/* ---- flow-end log -------------------------------------------------------------- */

const char *udp_end_str(enum udp_end why)
{
	switch (why) {
	case UDP_END_IDLE: return "idle";
	case UDP_END_STOP: return "stop";
	case UDP_END_RELOAD: return "reload";
	case UDP_END_ERROR: return "error";
	}
	return "?";
}

size_t udp_flow_end_format(const struct udp_flow_end *e, char *buf, size_t cap)
{
	char cli[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8], src[INET6_ADDRSTRLEN + 8];
	char srv[INET6_ADDRSTRLEN + 8], date[32];
	struct tm tm;
	time_t t = e->start.tv_sec;
	int n;

	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	n = snprintf(buf, cap, "%s [%s.%03d] %s %s/%s udp %s -> %s src=%s duration=%lld in=%llu/%llu "
		     "out=%llu/%llu dropped=%llu end=%s",
		     addr_str(&e->cli, cli, sizeof(cli)), date, (int)(e->start.tv_usec / 1000), e->lb, e->lb,
		     e->server, addr_str(&e->dst, dst, sizeof(dst)), addr_str(&e->srv, srv, sizeof(srv)),
		     e->src.ss_family ? addr_str(&e->src, src, sizeof(src)) : "-", e->duration_ms,
		     e->pkts_in, e->bytes_in, e->pkts_out, e->bytes_out, e->dropped, udp_end_str(e->why));
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The flow's "udp_flow" event for the JSON event log (doc/events.md);
 * nothing is built when no `event-log` is configured. */
static void udp_flow_event(const struct udp_flow_end *e)
{
	struct evlog_rec r;

	if (!evlog_enabled())
		return;
	evlog_begin(&r, "udp_flow");
	evlog_time(&r, "start", &e->start);
	evlog_addr(&r, "attacker", &e->cli);
	evlog_addr(&r, "decoy", &e->dst);
	evlog_str(&r, "frontend", e->lb);
	evlog_str(&r, "proto", "udp");
	if (e->server && strcmp(e->server, "-")) {
		evlog_str(&r, "server", e->server);
		evlog_addr(&r, "server", &e->srv);
	}
	evlog_addr(&r, "source", &e->src);
	evlog_uint(&r, "packets_from_attacker", e->pkts_in);
	evlog_uint(&r, "bytes_from_attacker", e->bytes_in);
	evlog_uint(&r, "packets_to_attacker", e->pkts_out);
	evlog_uint(&r, "bytes_to_attacker", e->bytes_out);
	evlog_uint(&r, "replies_dropped", e->dropped);
	evlog_int(&r, "duration_ms", e->duration_ms);
	evlog_str(&r, "end_reason", udp_end_str(e->why));
	evlog_emit(&r);
}

/* ---- reply sockets ---------------------------------------------------------------- */

static uint16_t ns_tag(const char *ns)
{
	uint16_t h = 0;

	for (; ns && *ns; ns++)
		h = (uint16_t)(h * 31 + (uint8_t)*ns);
	return ns ? (uint16_t)(h | 1) : 0;
}

static void sock_cb(struct ev_loop *loop, ev_io *w, int revents);

void udp_sock_start(struct udp_sock *s)
{
	ev_io_init(&s->io, sock_cb, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(rt.loop, &s->io);
}

void udp_sock_close(struct udp_sock *s)
{
	if (!s)
		return;
	if (rt.loop) {
		ev_io_stop(rt.loop, &s->io);
		ev_timer_stop(rt.loop, &s->tm);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->pprev) {
		*s->pprev = s->next;
		if (s->next)
			s->next->pprev = s->pprev;
	}
	free(s->netns);
	free(s);
}

static void reply_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct udp_sock *s = w->data;
	struct udp_rt *r = s->rt;
	double idle = now_s() - s->last, to = r->lb->timeout / 1000.0;

	(void)loop;
	(void)revents;
	if (s->refs || idle < to) {
		w->repeat = s->refs ? to : to - idle;
		ev_timer_again(rt.loop, w);
		return;
	}
	udp_ftab_del(&r->replies, &s->node);
	r->nreplies--;
	udp_sock_close(s);
}

/* Opens a transparent socket bound to decoy address dst in namespace ns:
 * replies to the attacker leave from it. */
static struct udp_sock *reply_open(struct udp_rt *r, const char *ns, const struct sockaddr_storage *dst,
				   char **err)
{
	int fam = dst->ss_family, fd;
	struct udp_sock *s;

	fd = ns_cache_socket(rt.conf->nscache, ns, fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, err);
	if (fd < 0)
		return NULL;
	if ((fam == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1) :
	     set_int(fd, IPPROTO_IP, IP_TRANSPARENT, 1)) < 0 ||
	    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0 ||
	    (fam == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, 1) :
	     set_int(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, 1)) < 0 ||
	    (fam == AF_INET6 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0) ||
	    bind(fd, (const struct sockaddr *)dst, addr_len(dst)) < 0) {
		char a[INET6_ADDRSTRLEN + 8];

		memprintf(err, "reply socket on %s: %s", addr_str(dst, a, sizeof(a)), strerror(errno));
		close(fd);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || (ns && !(s->netns = strdup(ns)))) {
		free(s);
		close(fd);
		memprintf(err, "out of memory");
		return NULL;
	}
	s->fd = fd;
	s->kind = UDP_SOCK_REPLY;
	s->rt = r;
	s->addr = *dst;
	s->last = now_s();
	return s;
}

/* The reply socket of decoy address dst in namespace ns, opened when
 * missing; its reference is the caller's. NULL with *err. */
static struct udp_sock *reply_get(struct udp_rt *r, const char *ns, const struct sockaddr_storage *dst,
				  char **err)
{
	struct udp_key k;
	struct udp_node *n;
	struct udp_sock *s;

	if (udp_key_make(&k, dst, NULL) < 0) {
		memprintf(err, "unsupported address family");
		return NULL;
	}
	k.port_b = ns_tag(ns);
	n = udp_ftab_get(&r->replies, &k, udp_ftab_hash(&r->replies, &k));
	if (n) {
		s = container_of(n, struct udp_sock, node);
		s->refs++;
		return s;
	}
	s = reply_open(r, ns, dst, err);
	if (!s)
		return NULL;
	s->node.key = k;
	s->node.hash = udp_ftab_hash(&r->replies, &k);
	if (udp_ftab_add(&r->replies, &s->node) < 0) {
		memprintf(err, "too many reply sockets");
		udp_sock_close(s);
		return NULL;
	}
	s->next = r->rhead;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &r->rhead;
	r->rhead = s;
	r->nreplies++;
	s->refs = 1;
	udp_sock_start(s);
	ev_init(&s->tm, reply_idle_cb);
	s->tm.data = s;
	s->tm.repeat = r->lb->timeout / 1000.0;
	ev_timer_again(rt.loop, &s->tm);
	return s;
}

static void reply_put(struct udp_sock *s)
{
	if (s && s->kind == UDP_SOCK_REPLY && s->refs) {
		s->refs--;
		s->last = now_s();
	}
}

/* ---- flows ------------------------------------------------------------------------------ */

void udp_flow_end(struct udp_flow *f, enum udp_end why)
{
	struct udp_rt *r = f->rt;
	struct udp_lb *lb = r->lb;
	struct udp_flow_end e = {
		.lb = lb->name, .server = f->srv_name, .cli = f->cli, .dst = f->dst, .src = f->src,
		.srv = f->srv_addr, .start = f->start, .pkts_in = f->pkts_in, .bytes_in = f->bytes_in,
		.pkts_out = f->pkts_out, .bytes_out = f->bytes_out, .dropped = f->dropped, .why = why,
	};
	char line[1024];
	size_t n;

	e.duration_ms = (long long)((f->last - f->first) * 1000.0);
	if (e.duration_ms < 0)
		e.duration_ms = 0;
	n = udp_flow_end_format(&e, line, sizeof(line));
	log_list_send(&lb->logs, why == UDP_END_ERROR ? 3 : 6, log_tag(), line, n);
	udp_flow_event(&e);
	if (udp_flow_end_hook)
		udp_flow_end_hook(lb, &e);

	mirror_udp_end(f->mirror);
	ev_io_stop(rt.loop, &f->io);
	ev_timer_stop(rt.loop, &f->tm);
	if (f->fd >= 0)
		close(f->fd);
	if (f->srv && f->srv->cur_flows)
		f->srv->cur_flows--;
	udp_ftab_del(&r->flows, &f->node);
	if (f->prev)
		f->prev->next = f->next;
	else
		r->fhead = f->next;
	if (f->next)
		f->next->prev = f->prev;
	r->nflows--;
	reply_put(f->reply);
	free(f);
}

static void flow_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct udp_flow *f = w->data;
	double to = f->rt->lb->timeout / 1000.0, idle = now_s() - f->last;

	(void)loop;
	(void)revents;
	if (idle < to) {
		w->repeat = to - idle;
		ev_timer_again(rt.loop, w);
		return;
	}
	udp_flow_end(f, UDP_END_IDLE);
}

static void count_error(struct udp_rt *r, const char *fmt, ...) DP_PRINTF(2, 3);
static void count_error(struct udp_rt *r, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	r->lb->cnt.errors++;
	if (!ha_ratelimit(&r->warn_err, 10.0))
		return;
	va_start(ap, fmt);
	vmemprintf(&msg, fmt, ap);
	va_end(ap);
	ha_warning("udp-lb '%s': %s (warned at most every 10 s)", r->lb->name, msg ? msg : "out of memory");
	free(msg);
}

/* Server replies: to the attacker, from the decoy address, within the
 * limits. */
static void flow_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct udp_flow *f = w->data;
	struct udp_rt *r = f->rt;
	struct udp_lb *lb = r->lb;

	(void)loop;
	(void)revents;
	for (int i = 0; i < UDP_BATCH; i++) {
		ssize_t len = recv(f->fd, rxbuf, sizeof(rxbuf), 0);
		enum udp_reply_verdict v;
		const struct sockaddr_storage *to = f->peer.ss_family ? &f->peer : &f->cli;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ICMP port unreachable from the server and the like */
			count_error(r, "server '%s': %s", f->srv_name, strerror(errno));
			return;
		}
		f->last = now_s();
		v = udp_reply_check(&lb->lim, f->bytes_in, f->bytes_out, (size_t)len);
		if (v == UDP_REPLY_OK && !udp_rlim_take(&r->rlim, &f->cli, f->last))
			v = UDP_REPLY_RATE;
		if (v != UDP_REPLY_OK) {
			f->dropped++;
			lb->cnt.replies_dropped++;
			continue;
		}
		if (sendto(f->reply->fd, rxbuf, (size_t)len, 0, (const struct sockaddr *)to, addr_len(to)) < 0) {
			count_error(r, "reply to the attacker: %s", strerror(errno));
			continue;
		}
		/* the copy holds what the attacker received: not the replies
		 * the limits dropped */
		mirror_udp_dgram(f->mirror, false, rxbuf, (size_t)len);
		f->pkts_out++;
		f->bytes_out += (size_t)len;
		lb->cnt.pkts_out++;
		lb->cnt.bytes_out += (size_t)len;
		if (f->srv) {
			f->srv->cnt.pkts_out++;
			f->srv->cnt.bytes_out += (size_t)len;
		}
		if (f->reply->kind == UDP_SOCK_REPLY)
			f->reply->last = f->last;
	}
}

static struct udp_server *pick_server(struct udp_rt *r, const struct sockaddr_storage *cli)
{
	struct udp_lb *lb = r->lb;
	unsigned n = 0, k;
	struct udp_server *s;
	/* spoofing the attacker needs a server of the attacker's family */
	int fam = !udplb_spoofs(lb) ? 0 : lb->source.usesrc == SRC_USESRC_ADDR ?
		  lb->source.usesrc_addr.ss_family : cli->ss_family;

	/* a server DOWN by its checks takes no new flow */
#define USABLE(s) (udplb_srv_usable(s) && (!fam || (s)->addr.ss_family == fam))
	for (s = lb->srv; s; s = s->next)
		n += USABLE(s);
	if (!n)
		return NULL;
	if (lb->balance == UDPLB_BALANCE_SOURCE) {
		struct udp_key key;

		if (udp_key_make(&key, cli, NULL) < 0)
			return NULL;
		key.port_a = 0;
		/* a fixed seed: the same attacker address meets the same
		 * server across reloads */
		{
			static const uint64_t seed[2] = { 0x5ca1ab1e, 0xdecaf };
			struct udp_ftab t = { .seed = { seed[0], seed[1] } };

			k = udp_ftab_hash(&t, &key) % n;
		}
	} else {
		k = r->rr++ % n;
	}
	for (s = lb->srv; s; s = s->next)
		if (USABLE(s) && !k--)
			return s;
#undef USABLE
	return NULL;
}

/* Sends one attacker datagram toward the server. */
static void flow_send(struct udp_flow *f, const uint8_t *p, size_t len)
{
	struct udp_rt *r = f->rt;
	const uint8_t *out = p;
	size_t olen = len;

	/* what the attacker sent, as it sent it (the PROXY header is ours) */
	mirror_udp_dgram(f->mirror, true, p, len);
	if (f->pp2) {
		struct pp_hdr h = { .cmd = PP_CMD_PROXY, .socktype = SOCK_DGRAM, .src = f->cli, .dst = f->dst };
		int n = pp_encode_v2(txbuf, sizeof(txbuf), &h, 0);

		if (n < 0 || (size_t)n + len > sizeof(txbuf)) {
			count_error(r, "cannot build the PROXY v2 header for server '%s'", f->srv_name);
			return;
		}
		memcpy(txbuf + n, p, len);
		out = txbuf;
		olen = (size_t)n + len;
	}
	if (send(f->fd, out, olen, 0) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			count_error(r, "server '%s': send: %s", f->srv_name, strerror(errno));
		return;
	}
	f->last = now_s();
	f->pkts_in++;
	f->bytes_in += len;
	r->lb->cnt.pkts_in++;
	r->lb->cnt.bytes_in += len;
	if (f->srv) {
		f->srv->cnt.pkts_in++;
		f->srv->cnt.bytes_in += len;
	}
}

/* A flow for (cli, dst), received on s (peer: who sent it, when that is
 * not cli: an agent speaking PROXY). NULL when refused (counted). */
static struct udp_flow *flow_new(struct udp_rt *r, struct udp_sock *s, const struct udp_key *k, uint32_t h,
				 const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				 const struct sockaddr_storage *peer)
{
	struct udp_lb *lb = r->lb;
	struct udp_server *srv;
	struct udp_flow *f;
	char *err = NULL;
	bool collided = false;
	int fd, fam;

	if (r->nflows >= lb->maxconn || r->flows.n >= r->flows.cap) {
		lb->cnt.flows_refused++;
		if (ha_ratelimit(&r->warn_full, 10.0))
			ha_warning("udp-lb '%s': %u flows (maxconn) reached: datagrams of new flows are "
				   "dropped until flows end (warned at most every 10 s)", lb->name, lb->maxconn);
		return NULL;
	}
	srv = pick_server(r, cli);
	if (!srv) {
		count_error(r, "no server available for a%s attacker", cli->ss_family == AF_INET6 ? "n IPv6" : "n IPv4");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		count_error(r, "out of memory");
		return NULL;
	}
	f->fd = -1;
	f->rt = r;
	f->cli = *cli;
	f->dst = *dst;
	f->srv = srv;
	f->pp2 = srv->send_pp2;
	snprintf(f->srv_name, sizeof(f->srv_name), "%s", srv->name);
	f->srv_addr = srv->addr;
	if (srv->no_port)
		addr_set_port(&f->srv_addr, addr_port(dst));
	fam = f->srv_addr.ss_family;
	fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		count_error(r, "server '%s': socket: %s", srv->name, strerror(errno));
		goto fail;
	}
	f->fd = fd;
	if (udplb_spoofs(lb)) {
		if (lb->source.usesrc != SRC_USESRC_ADDR && cli->ss_family != fam) {
			count_error(r, "server '%s': cannot spoof a %s attacker toward an %s server",
				    srv->name, cli->ss_family == AF_INET6 ? "IPv6" : "IPv4",
				    fam == AF_INET6 ? "IPv6" : "IPv4");
			goto fail;
		}
		if (src_apply(fd, fam, &lb->source, cli, false, &collided, &err) != SRC_OK) {
			count_error(r, "server '%s': %s", srv->name, err ? err : "source");
			goto fail;
		}
	} else if (lb->source.set && src_apply(fd, fam, &lb->source, cli, false, &collided, &err) != SRC_OK) {
		count_error(r, "server '%s': %s", srv->name, err ? err : "source");
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&f->srv_addr, addr_len(&f->srv_addr)) < 0) {
		count_error(r, "server '%s': connect: %s", srv->name, strerror(errno));
		goto fail;
	}
	{
		socklen_t sl = sizeof(f->src);

		if (getsockname(fd, (struct sockaddr *)&f->src, &sl) < 0)
			memset(&f->src, 0, sizeof(f->src));
		addr_unmap_v4(&f->src);
	}
	/* replies: from the decoy address when the datagram was diverted
	 * to us (its destination is not the address the socket is bound
	 * to), else back through the socket it came in on */
	if (peer) {
		f->peer = *peer;
		f->reply = s;
	} else if (s->kind == UDP_SOCK_REPLY) {
		f->reply = s;
		s->refs++;
	} else if (s->bind && s->bind->transparent && !addr_equal(&s->addr, dst)) {
		f->reply = reply_get(r, s->bind->netns, dst, &err);
		if (!f->reply) {
			count_error(r, "%s", err ? err : "reply socket");
			goto fail;
		}
	} else {
		f->reply = s;
	}
	f->node.key = *k;
	f->node.hash = h;
	if (udp_ftab_add(&r->flows, &f->node) < 0) {
		reply_put(f->reply);
		goto fail;
	}
	f->next = r->fhead;
	if (f->next)
		f->next->prev = f;
	r->fhead = f;
	r->nflows++;
	gettimeofday(&f->start, NULL);
	f->first = f->last = now_s();
	ev_io_init(&f->io, flow_cb, fd, EV_READ);
	f->io.data = f;
	ev_io_start(rt.loop, &f->io);
	ev_init(&f->tm, flow_idle_cb);
	f->tm.data = f;
	f->tm.repeat = lb->timeout / 1000.0;
	ev_timer_again(rt.loop, &f->tm);
	lb->cnt.flows++;
	srv->cnt.flows++;
	srv->cur_flows++;
	f->id = lb->cnt.flows;
	f->mirror = mirror_udp_start(lb, &f->cli, &f->dst, f->id);
	free(err);
	return f;
fail:
	free(err);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return NULL;
}

static void dispatch(struct udp_rt *r, struct udp_sock *s, struct sockaddr_storage *cli,
		     struct sockaddr_storage *dst, const struct sockaddr_storage *peer, const uint8_t *p,
		     size_t len)
{
	struct udp_key k;
	struct udp_node *n;
	struct udp_flow *f;
	uint32_t h;

	addr_unmap_v4(cli);
	addr_unmap_v4(dst);
	if (udp_key_make(&k, cli, dst) < 0) {
		count_error(r, "datagram of an unsupported address family");
		return;
	}
	h = udp_ftab_hash(&r->flows, &k);
	n = udp_ftab_get(&r->flows, &k, h);
	f = n ? container_of(n, struct udp_flow, node) : flow_new(r, s, &k, h, cli, dst, peer);
	if (f)
		flow_send(f, p, len);
}

static void sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct udp_sock *s = w->data;
	struct udp_rt *r = s->rt;

	(void)loop;
	(void)revents;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage from, dst;
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(struct sockaddr_in6)) + 64];
		} cbuf;
		struct iovec iov = { rxbuf, sizeof(rxbuf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			.msg_iovlen = 1, .msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b) };
		ssize_t len = recvmsg(s->fd, &mh, 0);
		bool have_dst = false;

		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				count_error(r, "receive: %s", strerror(errno));
			return;
		}
		if (s->kind == UDP_SOCK_REPLY)
			s->last = now_s();
		memset(&dst, 0, sizeof(dst));
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR)) {
				size_t l = c->cmsg_len - CMSG_LEN(0);

				memcpy(&dst, CMSG_DATA(c), l < sizeof(dst) ? l : sizeof(dst));
				have_dst = true;
			}
		}
		if (!have_dst)
			dst = s->addr;
		if (s->kind == UDP_SOCK_LISTEN && s->bind && s->bind->accept_proxy) {
			struct pp_hdr h;
			int n;

			memset(&h, 0, sizeof(h));
			n = pp_decode(rxbuf, (size_t)len, &h, NULL);
			if (n <= 0 || h.version != 2) {
				char a[INET6_ADDRSTRLEN + 8];

				addr_unmap_v4(&from);
				count_error(r, "datagram from %s without a valid PROXY v2 header on an "
					    "'accept-proxy' dgram-bind: %s", addr_str(&from, a, sizeof(a)),
					    n < 0 ? pp_strerror(n) : n == 0 ? "truncated header" : "PROXY v1");
				pp_hdr_clear(&h);
				continue;
			}
			if (h.cmd == PP_CMD_PROXY && (h.family == AF_INET || h.family == AF_INET6)) {
				struct sockaddr_storage c = h.src, d = h.dst;

				addr_unmap_v4(&from);
				dispatch(r, s, &c, &d, &from, rxbuf + n, (size_t)len - (size_t)n);
			} else {
				dispatch(r, s, &from, &dst, NULL, rxbuf + n, (size_t)len - (size_t)n);
			}
			pp_hdr_clear(&h);
			continue;
		}
		dispatch(r, s, &from, &dst, NULL, rxbuf, (size_t)len);
	}
}

/* ---- dgram-bind sockets -------------------------------------------------------- */

int udp_listen_open(struct dp_config *c, struct udp_rt *r, struct udp_bind *b, struct udp_sock **out,
		    char **err)
{
	int fam = b->addr.ss_family, fd;
	struct udp_sock *s;
	char a[INET6_ADDRSTRLEN + 8];

	fd = ns_cache_socket(c->nscache, b->netns, fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, err);
	if (fd < 0)
		return fd;
	if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0 ||
	    (fam == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, 1) :
	     set_int(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, 1)) < 0 ||
	    (fam == AF_INET6 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)) {
		memprintf(err, "dgram-bind %s: setsockopt: %s", addr_str(&b->addr, a, sizeof(a)), strerror(errno));
		close(fd);
		return -errno;
	}
	if (b->transparent && (fam == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1) :
			       set_int(fd, IPPROTO_IP, IP_TRANSPARENT, 1)) < 0) {
		int e = errno;

		memprintf(err, "dgram-bind %s transparent: %s (needs CAP_NET_ADMIN)",
			  addr_str(&b->addr, a, sizeof(a)), strerror(e));
		close(fd);
		return -e;
	}
	if (bind(fd, (const struct sockaddr *)&b->addr, addr_len(&b->addr)) < 0) {
		int e = errno;

		memprintf(err, "cannot bind UDP socket [%s]: %s", addr_str(&b->addr, a, sizeof(a)), strerror(e));
		close(fd);
		return -e;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	s->fd = fd;
	s->kind = UDP_SOCK_LISTEN;
	s->rt = r;
	s->bind = b;
	s->addr = b->addr;
	*out = s;
	return 0;
}
