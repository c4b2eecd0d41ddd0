/* probe.c — probe events from the kernel: NFLOG sockets per namespace, the
 * probe table (lib/probe.h), scopes (frontend, namespace) and the output
 * (log line, JSON event, record hook). See probe.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <ev.h>
#include <linux/netlink.h>

#include "lib/addr.h"
#include "lib/probe.h"
#include "log/evlog.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "net/nflog.h"
#include "net/nscache.h"
#include "plumbing/decoy.h"
#include "plumbing/probe.h"
#include "plumbing/tproxy.h"

void (*probe_record_hook)(const struct probe_record *r);

/* The most scopes remembered (a scope is a frontend name and a namespace:
 * reloads that rename frontends add new ones). */
#define MAX_SCOPES 4096
#define READS_PER_WAKEUP 64

struct scope {
	char *fe, *ns;
	struct probe_params prm;
	const struct proxy *px;         /* in the generation in service; NULL: gone */
};

struct reader {
	char *ns;
	uint16_t group;
	int fd;
	ev_io io;
	bool keep;                      /* wanted by the generation being applied */
	bool fresh;                     /* opened by that generation */
};

static struct {
	struct ev_loop *loop;
	struct reader **rd;
	size_t nrd;
	struct probe_table *tab;
	ev_timer timer;
	struct scope *sc;
	size_t nsc;
	struct dp_config *conf;         /* the generation in service */
	struct probe_counters cnt;
} P;

/* ---- time ---------------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The wall clock time of monotonic time t (ms). */
static struct timeval wall_of(uint64_t t)
{
	struct timeval now, tv;
	uint64_t m = mono_ms();
	int64_t back, us;

	/* probe_table_free() emits what is pending with a time far in the
	 * future (UINT64_MAX / 2): that is now */
	if (t > m)
		t = m;
	back = (int64_t)(m - t);

	gettimeofday(&now, NULL);
	us = (int64_t)now.tv_sec * 1000000 + now.tv_usec - back * 1000;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

/* ---- scopes --------------------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void scope_params(struct scope *s, const struct dp_config *c, const struct proxy *px)
{
	struct decoy_settings ds;

	decoy_settings_of(c, px, &ds);
	s->prm.interval_ms = ds.scan_window_ms;
	s->prm.scan_decoys = ds.scan_decoys;
	s->prm.scan_ports = ds.scan_ports;
	s->px = px;
}

/* The scope of (frontend named like fe, ns), made when missing; -1 when
 * the table is full or the generation in service has no such frontend.
 * Only frontends of the generation in service are kept (an accept on a
 * listener of the previous one names its frontend by name). */
static long scope_of(const struct proxy *fe, const char *ns)
{
	const struct proxy *px;
	struct scope *v;

	if (!P.conf || !fe->name)
		return -1;
	for (size_t i = 0; i < P.nsc; i++)
		if (str_eq(P.sc[i].fe, fe->name) && str_eq(P.sc[i].ns, ns))
			return P.sc[i].px ? (long)i : -1;
	px = dp_config_find_proxy(P.conf, fe->name, PR_CAP_FE);
	if (!px)
		return -1;
	if (P.nsc >= MAX_SCOPES)
		return -1;
	v = realloc(P.sc, (P.nsc + 1) * sizeof(*v));
	if (!v)
		return -1;
	P.sc = v;
	memset(&v[P.nsc], 0, sizeof(v[0]));
	v[P.nsc].fe = strdup(px->name);
	v[P.nsc].ns = ns ? strdup(ns) : NULL;
	if (!v[P.nsc].fe || (ns && !v[P.nsc].ns)) {
		free(v[P.nsc].fe);
		free(v[P.nsc].ns);
		return -1;
	}
	scope_params(&v[P.nsc], P.conf, px);
	return (long)P.nsc++;
}

static const struct probe_params *params_cb(void *ctx, uint32_t scope)
{
	(void)ctx;
	return scope < P.nsc ? &P.sc[scope].prm : NULL;
}

/* ---- output --------------------------------------------------------------------- */

static void sa_of(struct sockaddr_storage *ss, int family, const union icpt_addr *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a->v6;
		s6->sin6_port = htons(port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_addr = a->v4;
		s4->sin_port = htons(port);
	}
}

static const char *ip_s(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]", ip);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s", ip);
	}
	return buf;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
		     ((const struct sockaddr_in *)ss)->sin_port);
}

size_t probe_record_line(const struct probe_record *r, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN + 2], d[INET6_ADDRSTRLEN + 2], h[INET6_ADDRSTRLEN + 2], date[64];
	struct tm tm;
	time_t sec = r->time.tv_sec;
	int n;

	if (!cap)
		return 0;
	localtime_r(&sec, &tm);
	n = (int)strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	snprintf(date + n, sizeof(date) - (size_t)n, ".%03d", (int)(r->time.tv_usec / 1000));
	if (r->type == PROBE_EV_PROBE)
		n = snprintf(buf, cap, "%s:%u [%s] %s %s probe %s %s:%u %s syn=%u rst=%u",
			     ip_s(&r->attacker, a, sizeof(a)), port_of(&r->attacker), date, r->frontend,
			     r->segment ? r->segment : "-", r->proto, ip_s(&r->decoy, d, sizeof(d)),
			     port_of(&r->decoy), r->verdict_name, r->syn, r->rst);
	else
		n = snprintf(buf, cap, "%s [%s] %s %s scan %s decoys=%u ports=%u probes=%u %s-%s %u-%u %ums%s",
			     ip_s(&r->attacker, a, sizeof(a)), date, r->frontend, r->segment ? r->segment : "-",
			     r->proto, r->ndecoys, r->nports, r->nprobes, ip_s(&r->decoy, d, sizeof(d)),
			     ip_s(&r->decoy_hi, h, sizeof(h)), r->port_lo, r->port_hi, r->window_ms,
			     r->partial ? " partial" : "");
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* "key":"<ip>" (no brackets, no port) */
static void ev_ip(struct evlog_rec *e, const char *key, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	const void *a = ss->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
						  : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family == AF_INET6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip)))
		evlog_str(e, key, ip);
}

/* r as a "probe" or "scan" event of the JSON event log (doc/events.md). */
static void record_event(const struct probe_record *r)
{
	struct evlog_rec e;

	if (!evlog_enabled())
		return;
	evlog_begin(&e, r->type == PROBE_EV_PROBE ? "probe" : "scan");
	evlog_time(&e, "start", &r->time);
	evlog_time(&e, "end", &r->end);
	if (r->type == PROBE_EV_PROBE) {
		evlog_addr(&e, "attacker", &r->attacker);
		evlog_addr(&e, "decoy", &r->decoy);
	} else {
		ev_ip(&e, "attacker_ip", &r->attacker);
	}
	evlog_str(&e, "segment", r->segment);
	evlog_str(&e, "frontend", r->frontend);
	evlog_str(&e, "proto", r->proto);
	if (r->type == PROBE_EV_PROBE) {
		evlog_str(&e, "verdict", r->verdict_name);
		evlog_uint(&e, "syn", r->syn);
		evlog_uint(&e, "rst", r->rst);
	} else {
		evlog_uint(&e, "decoys", r->ndecoys);
		evlog_uint(&e, "ports", r->nports);
		evlog_uint(&e, "probes", r->nprobes);
		ev_ip(&e, "decoy_ip_low", &r->decoy);
		ev_ip(&e, "decoy_ip_high", &r->decoy_hi);
		evlog_uint(&e, "decoy_port_low", r->port_lo);
		evlog_uint(&e, "decoy_port_high", r->port_hi);
		evlog_uint(&e, "window_ms", r->window_ms);
		evlog_bool(&e, "partial", r->partial);
	}
	evlog_emit(&e);
}

static void emit_cb(void *ctx, const struct probe_event *ev)
{
	const struct scope *s = ev->scope < P.nsc ? &P.sc[ev->scope] : NULL;
	struct probe_record r;
	char line[512];
	size_t n;

	(void)ctx;
	if (ev->type == PROBE_EV_PROBE && (unsigned)ev->verdict < ARRAY_SIZE(P.cnt.verdict))
		P.cnt.verdict[ev->verdict]++;
	if (!s)
		return;
	memset(&r, 0, sizeof(r));
	r.type = ev->type;
	r.time = wall_of(ev->time_ms);
	r.end = wall_of(ev->end_ms);
	r.frontend = s->fe;
	r.segment = s->ns;
	r.proto = ev->type == PROBE_EV_PROBE && ev->proto == IPPROTO_UDP ? "udp" : "tcp";
	sa_of(&r.attacker, ev->family, &ev->src, ev->sport);
	sa_of(&r.decoy, ev->family, &ev->dst, ev->type == PROBE_EV_PROBE ? ev->dport : 0);
	r.verdict = ev->verdict;
	r.verdict_name = probe_verdict_name(ev->verdict);
	r.syn = ev->syn;
	r.rst = ev->rst;
	if (ev->type == PROBE_EV_SCAN) {
		sa_of(&r.decoy_hi, ev->family, &ev->dst_hi, 0);
		r.port_lo = ev->dport;
		r.port_hi = ev->dport_hi;
		r.ndecoys = ev->ndecoys;
		r.nports = ev->nports;
		r.nprobes = ev->nprobes;
		r.window_ms = s->prm.interval_ms;
		r.partial = ev->partial;
	}
	if (probe_record_hook)
		probe_record_hook(&r);
	record_event(&r);
	n = probe_record_line(&r, line, sizeof(line));
	/* the frontend's targets while it is in service; after a reload that
	 * removed it, nothing (the record hook still saw the event) */
	if (s->px)
		log_list_send(&s->px->logs, 6 /* info */,
			      s->px->conf && s->px->conf->g.log_tag ? s->px->conf->g.log_tag : "decoyproxy",
			      line, n);
}

/* ---- the table and its timer ------------------------------------------------------ */

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void rearm(uint32_t delay)
{
	if (!P.loop)
		return;
	ev_timer_stop(P.loop, &P.timer);  /* active or expired-and-pending */
	if (delay == UINT32_MAX)
		return;
	ev_timer_set(&P.timer, (delay + 1) / 1000.0, 0.0);
	ev_timer_start(P.loop, &P.timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (P.tab)
		rearm(probe_tick(P.tab, mono_ms()));
}

static bool table_ready(void)
{
	if (!P.tab)
		P.tab = probe_table_new(PROBE_TABLE_SIZE, PROBE_SETTLE_MS, emit_cb, params_cb, NULL);
	return P.tab != NULL;
}

static void observe(const struct probe_obs *o)
{
	uint64_t now = mono_ms();

	if (!table_ready())
		return;
	probe_observe(P.tab, now, o);
	rearm(probe_tick(P.tab, now));
}

/* ---- NFLOG packets ---------------------------------------------------------------- */

/* The frontend whose set (in namespace ns) is named set, or NULL. */
static const struct proxy *fe_of_set(const char *ns, int family, const char *set, size_t setlen)
{
	size_t n;
	const struct tproxy_ns *p = P.conf ? tproxy_plan(P.conf, &n) : NULL;

	for (size_t i = 0; p && i < n; i++) {
		if (!str_eq(p[i].name, ns))
			continue;
		for (size_t k = 0; k < p[i].nft.ndiv; k++) {
			const char *s = p[i].nft.div[k].set;

			/* the prefix may have cut a long set name */
			if (p[i].nft.div[k].family == family && s && !strncmp(s, set, setlen) &&
			    (s[setlen] == '\0' || setlen >= NFT_LOG_PREFIX_MAX - 2))
				return p[i].fe[k];
		}
	}
	return NULL;
}

static void pkt_cb(void *ctx, const struct nflog_pkt *k)
{
	const struct reader *r = ctx;
	const struct proxy *px;
	struct probe_obs o;
	long sc;

	P.cnt.packets++;
	if (k->proto != IPPROTO_TCP && !(k->proto == IPPROTO_UDP && k->kind == NFT_PROBE_CLOSED)) {
		P.cnt.bad++;
		return;
	}
	px = fe_of_set(r->ns, k->family, k->set, k->setlen);
	sc = px ? scope_of(px, r->ns) : -1;
	if (sc < 0) {
		P.cnt.unknown++;
		return;
	}
	memset(&o, 0, sizeof(o));
	switch (k->kind) {
	case NFT_PROBE_OPEN: o.kind = PROBE_OBS_SYN; break;
	case NFT_PROBE_RESET: o.kind = PROBE_OBS_RST; break;
	case NFT_PROBE_CLOSED: o.kind = PROBE_OBS_CLOSED; break;
	default:
		P.cnt.unknown++;
		return;
	}
	o.family = k->family;
	o.proto = k->proto;
	o.src = k->src;
	o.dst = k->dst;
	o.sport = k->sport;
	o.dport = k->dport;
	o.scope = (uint32_t)sc;
	observe(&o);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct reader *r = w->data;
	char buf[65536];
	unsigned bad = 0;

	(void)loop;
	(void)revents;
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {         /* the kernel dropped some: go on */
				P.cnt.drops++;
				continue;
			}
			break;
		}
		if (nflog_parse(buf, (size_t)n, pkt_cb, r, &bad) < 0)
			bad++;
	}
	P.cnt.bad += bad;
}

/* ---- generation hooks ------------------------------------------------------------------ */

static void reader_close(struct reader *r)
{
	if (P.loop && ev_is_active(&r->io))
		ev_io_stop(P.loop, &r->io);
	if (r->fd >= 0)
		close(r->fd);
	free(r->ns);
	free(r);
}

static struct reader *reader_find(const char *ns, uint16_t group)
{
	for (size_t i = 0; i < P.nrd; i++)
		if (str_eq(P.rd[i]->ns, ns) && P.rd[i]->group == group)
			return P.rd[i];
	return NULL;
}

static int reader_open(struct dp_config *c, const char *ns, uint16_t group, char **err)
{
	struct reader *r, **v;
	char *e2 = NULL;
	int fd, ret;

	v = realloc(P.rd, (P.nrd + 1) * sizeof(*v));
	if (!v)
		goto oom;
	P.rd = v;
	r = calloc(1, sizeof(*r));
	if (!r || (ns && !(r->ns = strdup(ns)))) {
		free(r);
		goto oom;
	}
	fd = ns_cache_socket(c->nscache, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER, &e2);
	if (fd < 0) {
		memprintf(err, "probe events: NFLOG socket in %s%s: %s", ns ? "namespace " : "the process's namespace",
			  ns ? ns : "", e2 ? e2 : strerror(-fd));
		free(e2);
		free(r->ns);
		free(r);
		return -1;
	}
	ret = nflog_bind(fd, group, NFT_LOG_SNAPLEN, &e2);
	if (ret < 0) {
		memprintf(err, "probe events in %s%s: %s", ns ? "namespace " : "the process's namespace",
			  ns ? ns : "", e2 ? e2 : strerror(-ret));
		free(e2);
		close(fd);
		free(r->ns);
		free(r);
		return -1;
	}
	r->fd = fd;
	r->group = group;
	r->keep = r->fresh = true;
	ev_io_init(&r->io, read_cb, fd, EV_READ);
	r->io.data = r;
	if (P.loop)
		ev_io_start(P.loop, &r->io);
	P.rd[P.nrd++] = r;
	return 0;
oom:
	memprintf(err, "out of memory");
	return -1;
}

int probe_apply(struct dp_config *c, struct dp_config *oldc, struct ev_loop *loop, char **err)
{
	size_t n;
	const struct tproxy_ns *p = tproxy_plan(c, &n);

	(void)oldc;
	if (loop && !P.loop) {
		P.loop = loop;
		ev_timer_init(&P.timer, timer_cb, 1.0, 0.0);
	}
	for (size_t i = 0; i < P.nrd; i++)
		P.rd[i]->keep = P.rd[i]->fresh = false;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < p[i].nft.ndiv; k++) {
			const struct nft_decoy *d = &p[i].nft.div[k].dec;
			struct reader *r;

			if (!d->log)
				continue;
			r = reader_find(p[i].name, d->log_group);
			if (r) {
				r->keep = true;
				continue;
			}
			if (reader_open(c, p[i].name, d->log_group, err) < 0) {
				probe_undo(c, oldc);
				return -1;
			}
		}
	}
	return 0;
}

/* Closes the readers for which drop(r) holds. */
static void readers_drop(bool (*drop)(const struct reader *r))
{
	size_t w = 0;

	for (size_t i = 0; i < P.nrd; i++) {
		if (drop(P.rd[i]))
			reader_close(P.rd[i]);
		else
			P.rd[w++] = P.rd[i];
	}
	P.nrd = w;
}

static bool is_fresh(const struct reader *r)
{
	return r->fresh;
}

static bool not_kept(const struct reader *r)
{
	return !r->keep;
}

static bool any_reader(const struct reader *r)
{
	(void)r;
	return true;
}

void probe_undo(struct dp_config *c, struct dp_config *oldc)
{
	(void)c;
	(void)oldc;
	readers_drop(is_fresh);
	for (size_t i = 0; i < P.nrd; i++)
		P.rd[i]->keep = true;
}

void probe_commit(struct dp_config *c, struct dp_config *oldc)
{
	(void)oldc;
	readers_drop(not_kept);
	P.conf = c;
	/* scopes follow the frontends of the generation in service */
	for (size_t i = 0; i < P.nsc; i++) {
		const struct proxy *px = dp_config_find_proxy(c, P.sc[i].fe, PR_CAP_FE);

		if (px)
			scope_params(&P.sc[i], c, px);
		else
			P.sc[i].px = NULL;
	}
}

void probe_remove(struct dp_config *c)
{
	if (P.conf != c && P.conf)
		return;         /* a generation that never went in service */
	probe_table_free(P.tab);        /* emits what is pending */
	P.tab = NULL;
	readers_drop(any_reader);
	free(P.rd);
	P.rd = NULL;
	if (P.loop)
		ev_timer_stop(P.loop, &P.timer);
	for (size_t i = 0; i < P.nsc; i++) {
		free(P.sc[i].fe);
		free(P.sc[i].ns);
	}
	free(P.sc);
	P.sc = NULL;
	P.nsc = 0;
	P.conf = NULL;
}

void probe_note_accept(const struct proxy *fe, const char *ns, const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *local)
{
	struct probe_obs o;
	long sc;

	if (!fe || !(fe->options & PR_O_LOGPROBES) || !fe->tproxy || !P.conf ||
	    peer->ss_family != local->ss_family ||
	    (peer->ss_family != AF_INET && peer->ss_family != AF_INET6))
		return;
	sc = scope_of(fe, ns);
	if (sc < 0)
		return;
	memset(&o, 0, sizeof(o));
	o.kind = PROBE_OBS_ACCEPT;
	o.family = (uint8_t)peer->ss_family;
	o.proto = IPPROTO_TCP;
	if (peer->ss_family == AF_INET6) {
		o.src.v6 = ((const struct sockaddr_in6 *)peer)->sin6_addr;
		o.dst.v6 = ((const struct sockaddr_in6 *)local)->sin6_addr;
	} else {
		o.src.v4 = ((const struct sockaddr_in *)peer)->sin_addr;
		o.dst.v4 = ((const struct sockaddr_in *)local)->sin_addr;
	}
	o.sport = port_of(peer);
	o.dport = port_of(local);
	o.scope = (uint32_t)sc;
	observe(&o);
}

void probe_get_counters(struct probe_counters *out)
{
	*out = P.cnt;
	if (P.tab) {
		const struct probe_stats *s = probe_table_stats(P.tab);

		out->probes = s->probes;
		out->scans = s->scans;
		out->evictions = s->evictions;
		out->suppressed = s->suppressed;
	}
}
