/* icmpans.c — answers of decoys that are not local: one NFLOG reader and
 * raw sockets per namespace, Linux's rate limits, the counters. See
 * icmpans.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ev.h>
#include <linux/netlink.h>

#include "lib/icmpans.h"
#include "log/msg.h"
#include "model/conf.h"
#include "net/nflog.h"
#include "net/nft.h"
#include "net/nscache.h"
#include "plumbing/icmpans.h"
#include "plumbing/tproxy.h"

_Static_assert(NFT_ANSWER_SNAPLEN == ICMPANS_SNAPLEN, "the rules copy what the builder expects");

#define READS_PER_WAKEUP 64

struct answerer {
	char *ns;                       /* NULL: the process's own namespace */
	uint16_t group;
	int nlfd, raw[2];               /* raw[0] IPv4, raw[1] IPv6 (-1: none) */
	ev_io io;
	bool keep, fresh;
	uint16_t ip_id;
	struct icmpans_limit *lim;
};

static struct {
	struct ev_loop *loop;
	struct answerer **v;
	size_t n;
	struct dp_config *conf;
	struct icmpans_counters cnt;
	double warned;
} A;

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t seed32(void)
{
	uint32_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint32_t)mono_ms() ^ (uint32_t)getpid();
	return s;
}

/* ---- answering ---------------------------------------------------------------------- */

/* A stable, non-zero flow label for (src, dst), as Linux's automatic flow
 * labels are (a hash of the flow). */
static uint32_t flow_label(const struct answerer *a, const struct icmpans_req *r)
{
	const uint8_t *p = (const uint8_t *)&r->src, *q = (const uint8_t *)&r->dst;
	uint32_t h = 2166136261u ^ a->lim->seed;

	for (int i = 0; i < 16; i++)
		h = ((h ^ p[i]) * 16777619u ^ q[i]) * 16777619u;
	h &= 0xfffff;
	return h ? h : 1;
}

static void send_answer(struct answerer *a, const struct icmpans_req *r, const uint8_t *pkt, size_t caplen)
{
	uint8_t out[ICMPANS_MAX];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint32_t ident;
	size_t len;
	int fd = a->raw[r->family == AF_INET6];

	memset(&ss, 0, sizeof(ss));
	if (r->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = r->src.v6;
		sl = sizeof(*s6);
		ident = flow_label(a, r);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr = r->src.v4;
		sl = sizeof(*s4);
		ident = a->ip_id++;
	}
	len = icmpans_build(pkt, caplen, r, ident, out, sizeof(out));
	if (!len || fd < 0) {
		A.cnt.ignored++;
		return;
	}
	if (sendto(fd, out, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0) {
		char ip[INET6_ADDRSTRLEN] = "?";

		A.cnt.failed++;
		if (ha_ratelimit(&A.warned, 10.0)) {
			inet_ntop(r->family, &r->src, ip, sizeof(ip));
			ha_warning("decoy answers%s%s: sending ICMP%s to %s: %s", a->ns ? " in namespace " : "",
				   a->ns ? a->ns : "", r->family == AF_INET6 ? "v6" : "", ip, strerror(errno));
		}
		return;
	}
	if (r->kind == ICMPANS_ECHO)
		A.cnt.echo++;
	else
		A.cnt.unreach++;
}

static void pkt_cb(void *ctx, const struct nflog_pkt *k)
{
	struct answerer *a = ctx;
	struct icmpans_req r;
	int kind;

	if (k->kind != NFT_PROBE_ANSWER || !k->payload) {
		A.cnt.ignored++;
		return;
	}
	kind = icmpans_classify(k->payload, k->paylen, &r);
	if (kind < 0) {
		A.cnt.ignored++;
		return;
	}
	/* errors are rate-limited like Linux's; echo replies are not */
	if (kind == ICMPANS_UNREACH && !icmpans_limit_allow(a->lim, r.family, &r.src, mono_ms(), NULL)) {
		A.cnt.limited++;
		return;
	}
	send_answer(a, &r, k->payload, k->paylen);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct answerer *a = w->data;
	char buf[65536];
	unsigned bad = 0;

	(void)loop;
	(void)revents;
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n = recv(a->nlfd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {         /* the kernel dropped some: go on */
				A.cnt.failed++;
				continue;
			}
			break;
		}
		if (nflog_parse(buf, (size_t)n, pkt_cb, a, &bad) < 0)
			bad++;
	}
	A.cnt.ignored += bad;
}

/* ---- sockets ------------------------------------------------------------------------ */

static void answerer_close(struct answerer *a)
{
	if (A.loop && ev_is_active(&a->io))
		ev_io_stop(A.loop, &a->io);
	if (a->nlfd >= 0)
		close(a->nlfd);
	for (int i = 0; i < 2; i++)
		if (a->raw[i] >= 0)
			close(a->raw[i]);
	free(a->lim);
	free(a->ns);
	free(a);
}

static struct answerer *answerer_find(const char *ns, uint16_t group)
{
	for (size_t i = 0; i < A.n; i++)
		if (str_eq(A.v[i]->ns, ns) && A.v[i]->group == group)
			return A.v[i];
	return NULL;
}

static const char *ns_words(const char *ns)
{
	return ns ? "namespace " : "the process's namespace";
}

/* The raw socket of family fi (0: IPv4, 1: IPv6) of a, opened when missing. */
static int raw_open(struct dp_config *c, struct answerer *a, int fi, char **err)
{
	char *e2 = NULL;
	int fd;

	if (a->raw[fi] >= 0)
		return 0;
	fd = ns_cache_socket(c->nscache, a->ns, fi ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			     IPPROTO_RAW, &e2);
	if (fd < 0) {
		memprintf(err, "decoy answers: raw IPv%c socket in %s%s: %s", fi ? '6' : '4', ns_words(a->ns),
			  a->ns ? a->ns : "", e2 ? e2 : strerror(-fd));
		free(e2);
		return -1;
	}
	a->raw[fi] = fd;
	return 0;
}

static struct answerer *answerer_open(struct dp_config *c, const char *ns, uint16_t group, char **err)
{
	struct answerer *a, **v;
	char *e2 = NULL;
	int ret;

	v = realloc(A.v, (A.n + 1) * sizeof(*v));
	if (!v)
		goto oom;
	A.v = v;
	a = calloc(1, sizeof(*a));
	if (!a)
		goto oom;
	a->nlfd = a->raw[0] = a->raw[1] = -1;
	a->group = group;
	if ((ns && !(a->ns = strdup(ns))) || !(a->lim = malloc(sizeof(*a->lim)))) {
		answerer_close(a);
		goto oom;
	}
	icmpans_limit_init(a->lim, seed32(), mono_ms());
	a->ip_id = (uint16_t)seed32();
	a->nlfd = ns_cache_socket(c->nscache, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER, &e2);
	if (a->nlfd < 0) {
		memprintf(err, "decoy answers: NFLOG socket in %s%s: %s", ns_words(ns), ns ? ns : "",
			  e2 ? e2 : strerror(-a->nlfd));
		free(e2);
		answerer_close(a);
		return NULL;
	}
	ret = nflog_bind_q(a->nlfd, group, NFT_ANSWER_SNAPLEN, 1, 1, &e2);
	if (ret < 0) {
		if (ret == -EBUSY)
			memprintf(err, "decoy answers in %s%s: NFLOG group %u is used by another program in this "
				  "namespace: choose another with 'decoy-answers group'", ns_words(ns), ns ? ns : "",
				  group);
		else
			memprintf(err, "decoy answers in %s%s: %s", ns_words(ns), ns ? ns : "",
				  e2 ? e2 : strerror(-ret));
		free(e2);
		answerer_close(a);
		return NULL;
	}
	a->keep = a->fresh = true;
	ev_io_init(&a->io, read_cb, a->nlfd, EV_READ);
	a->io.data = a;
	A.v[A.n++] = a;
	return a;
oom:
	memprintf(err, "out of memory");
	return NULL;
}

/* ---- generation hooks ------------------------------------------------------------------ */

static void answerers_drop(bool fresh_only)
{
	size_t w = 0;

	for (size_t i = 0; i < A.n; i++) {
		if (fresh_only ? A.v[i]->fresh : !A.v[i]->keep)
			answerer_close(A.v[i]);
		else
			A.v[w++] = A.v[i];
	}
	A.n = w;
}

int icmpans_apply(struct dp_config *c, struct dp_config *oldc, struct ev_loop *loop, char **err)
{
	size_t n;
	const struct tproxy_ns *p = tproxy_plan(c, &n);

	if (loop && !A.loop)
		A.loop = loop;
	for (size_t i = 0; i < A.n; i++)
		A.v[i]->keep = A.v[i]->fresh = false;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < p[i].nft.ndiv; k++) {
			const struct nft_divert *d = &p[i].nft.div[k];
			struct answerer *a;

			if (!d->dec.hosts || !d->dec.answer)
				continue;
			a = answerer_find(p[i].name, d->dec.answer_group);
			if (!a && !(a = answerer_open(c, p[i].name, d->dec.answer_group, err)))
				goto fail;
			a->keep = true;
			if (raw_open(c, a, d->family == AF_INET6, err) < 0)
				goto fail;
		}
	}
	/* watched only once everything opened: an undo leaves nothing behind */
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i]->fresh && A.loop && !ev_is_active(&A.v[i]->io))
			ev_io_start(A.loop, &A.v[i]->io);
	return 0;
fail:
	icmpans_undo(c, oldc);
	return -1;
}

void icmpans_undo(struct dp_config *c, struct dp_config *oldc)
{
	(void)c;
	(void)oldc;
	answerers_drop(true);
	for (size_t i = 0; i < A.n; i++)
		A.v[i]->keep = true;
}

void icmpans_commit(struct dp_config *c, struct dp_config *oldc)
{
	(void)oldc;
	answerers_drop(false);
	for (size_t i = 0; i < A.n; i++)
		A.v[i]->fresh = false;
	A.conf = c;
}

void icmpans_remove(struct dp_config *c)
{
	if (A.conf != c && A.conf)
		return;         /* a generation that never went in service */
	for (size_t i = 0; i < A.n; i++)
		A.v[i]->keep = false;
	answerers_drop(false);
	free(A.v);
	A.v = NULL;
	A.conf = NULL;
}

void icmpans_get_counters(struct icmpans_counters *out)
{
	*out = A.cnt;
}
